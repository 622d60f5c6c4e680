"""Rendering on Dask (engine/cluster): a real LocalCluster of 2 worker processes on loopback, shared by the
module and always closed. Renders there are bit-identical to local ones (float and 16-bit, with and without
samples, the sample folder gone before the job runs); a job of another version is refused naming both; a
worker killed mid-job costs nothing but time; Ctrl-C cancels the rest and leaves no partial file; nothing is
left behind (worker processes, job folders)."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("distributed")

from benchmarks.workloads import voices_program  # noqa: E402
from phonon.engine.cluster import Batch, ClusterError, build_job, connect, project_version, render_jobs, run_job  # noqa: E402
from phonon.engine.cluster.task import JOB_FOLDER_PREFIX  # noqa: E402
from phonon.engine.render import RenderSettings, render_to_file  # noqa: E402
from phonon.graph.compiler import compile_program  # noqa: E402
from phonon.graph.errors import PhononError  # noqa: E402
from tests.processes import alive, children, is_resource_tracker  # noqa: E402

SR = 44100
GUARD = 120.0  # seconds: only keeps a broken test from hanging the suite (never a speed requirement)
SYNTH = 'tempo: 1\n~a: saw "55 82.5 110" # lpf (sine 0.5 * 600 + 900) 0.7\nout: ~a * 0.3 + ~a * 0.2 # delay 0.25 0.4\n'
DRUMS = (
    'tempo: 1\nout: s "tone*4 [noise:1 bd:3] <tone:2 sn hh:7 noise>" # n "<0 1 2>" # gain 0.7 # pan "-0.5 0.5"\n'
)


@pytest.fixture(scope="module")
def tmp_env(tmp_path_factory):
    """A temporary folder the workers use (TMPDIR: their job folders go there)."""
    root = tmp_path_factory.mktemp("cluster")
    (root / "tmp").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TMPDIR", str(root / "tmp"))
        mp.delenv("PHONON_SAMPLES", raising=False)
        mp.setattr(tempfile, "tempdir", None)  # this process too
        yield root


@pytest.fixture(scope="module")
def client(tmp_env):
    before = _descendants(os.getpid())
    client = connect("local:2")
    try:
        yield client
    finally:
        started = {pid for pid in _descendants(os.getpid()) - before if not is_resource_tracker(pid)}
        client.close()
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started and not [pid for pid in started if alive(pid)], "worker processes outlived the cluster"
        assert not _job_folders(tmp_env), "a job folder was left behind"


def _descendants(pid: int) -> set[int]:
    """Every process below `pid`: the workers, and whatever they started (a render's compiler)."""
    found = set(children(pid))
    for child in list(found):
        found |= _descendants(child)
    return found


def _job_folders(root: Path) -> list[str]:
    return [name for name in os.listdir(root / "tmp") if name.startswith(JOB_FOLDER_PREFIX)]


def _wav(path: Path, data: np.ndarray, sr: int = SR) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, sr, subtype="FLOAT")


@pytest.fixture
def sample_folder(tmp_path) -> Path:
    """`tone` (3 files, one at another rate: resampled) and `noise` (2 stereo files); bd, sn and hh from the kit."""
    folder = tmp_path / "mine"
    t = np.arange(4000) / SR
    for i, freq in enumerate((220.0, 330.0, 440.0)):
        _wav(folder / "tone" / f"t{i}.wav", 0.5 * np.sin(2 * np.pi * freq * t), 48000 if i == 1 else SR)
    rng = np.random.default_rng(7)
    for i in range(2):
        _wav(folder / "noise" / f"n{i}.wav", 0.2 * rng.standard_normal((3000, 2)))
    return folder


def _local(text: str, path: Path, settings: RenderSettings, seconds: float, subtype: str) -> bytes:
    graph = compile_program(text, "song.phonon")
    frames = int(round(seconds * settings.sr))
    render_to_file(graph, path, frames, settings, subtype=subtype)
    return path.read_bytes()


def _same(a: bytes, b: bytes) -> bool:
    """Equal files, but for the time a float WAV's PEAK chunk records (libsndfile writes the clock time there,
    so even two local renders differ in those 4 bytes)."""
    return _without_peak_time(a) == _without_peak_time(b)


def _without_peak_time(data: bytes) -> bytes:
    at = data.find(b"PEAK", 0, 200)
    if at < 0:
        return data
    return data[: at + 12] + bytes(4) + data[at + 16 :]


@pytest.mark.parametrize("subtype", ["FLOAT", "PCM_16"])
def test_cluster_render_is_bit_identical_to_a_local_render(client, tmp_path, subtype):
    settings = RenderSettings()
    local = _local(SYNTH, tmp_path / "local.wav", settings, 2.0, subtype)
    job = build_job(compile_program(SYNTH, "song.phonon"), "song.wav", settings, seconds=2.0, subtype=subtype)
    (result,) = render_jobs(client, [job])
    assert result.worker.startswith("tcp://127.0.0.1:")
    assert _same(result.audio, local)
    result.write(tmp_path / "remote.wav")
    assert _same((tmp_path / "remote.wav").read_bytes(), local)
    assert result.report.frames == 2 * SR and result.report.peak > 0.05


@pytest.mark.parametrize("subtype", ["FLOAT", "PCM_16"])
def test_samples_travel_with_the_job(client, tmp_path, sample_folder, subtype):
    settings = RenderSettings(samples=(str(sample_folder),))
    local = _local(DRUMS, tmp_path / "local.wav", settings, 4.0, subtype)
    job = build_job(DRUMS, "song.wav", settings, filename="song.phonon", seconds=4.0, subtype=subtype)
    sample_folder.rename(tmp_path / "gone")  # the workers cannot read the client's folder: it is not there
    (result,) = render_jobs(client, [job])
    assert _same(result.audio, local)
    assert result.report.peak > 0.1


def test_a_job_holds_the_files_the_render_plays_and_placeholders(tmp_env, tmp_path, sample_folder):
    settings = RenderSettings(samples=(str(sample_folder),))
    # 12 cycles at tempo 1: the probe's 8 cycles are always read (as a render reads them), `<...>` plays
    # tone:0, tone:1, ... one per cycle, and the index wraps by the folder's count (3).
    job = build_job('tempo: 1\nout: s "<tone tone:1 tone:2 tone:4>"\n', "p.wav", settings, filename="p", seconds=2.0)
    assert {k: bool(v) for k, v in job.samples.items()} == {f"tone/t{i}.wav": True for i in range(3)}
    job = build_job('tempo: 1\nout: s "tone noise:1"\n', "p.wav", settings, filename="p", seconds=1.0)
    assert {k: bool(v) for k, v in job.samples.items()} == {
        "tone/t0.wav": True, "tone/t1.wav": False, "tone/t2.wav": False, "noise/n0.wav": False, "noise/n1.wav": True,
    }
    long = 'tempo: 1\nout: s "<tone:0 tone:0 tone:0 tone:0 tone:0 tone:0 tone:0 tone:0 tone:0 tone:2>"\n'
    assert not build_job(long, "p.wav", settings, filename="p", seconds=9.0).samples["tone/t2.wav"]  # not cycle 9
    assert build_job(long, "p.wav", settings, filename="p", seconds=9.5).samples["tone/t2.wav"]
    with pytest.raises(PhononError, match="unknown sample 'tonee'") as e:
        build_job('out: s "tone tonee"\n', "p.wav", settings, filename="p", seconds=1.0)
    assert "p:1:" in str(e.value)  # located in the program


def test_run_job_needs_nothing_but_the_job(tmp_env, tmp_path, sample_folder):
    """The task itself, in this process: the folder renamed away, the output still the local render's."""
    settings = RenderSettings(samples=(str(sample_folder),))
    local = _local(DRUMS, tmp_path / "local.wav", settings, 1.0, "PCM_24")
    job = build_job(DRUMS, "song.wav", settings, filename="song.phonon", seconds=1.0, subtype="PCM_24")
    sample_folder.rename(tmp_path / "gone")
    result = run_job(job)
    assert result.audio == local and result.worker == ""
    assert not _job_folders(tmp_env)


def test_a_bad_sample_file_is_named_as_the_user_knows_it(tmp_env, tmp_path, sample_folder):
    (sample_folder / "tone" / "t0.wav").write_bytes(b"not a sound")
    job = build_job('out: s "tone"\n', "p.wav", RenderSettings(samples=(str(sample_folder),)), seconds=0.5)
    with pytest.raises(PhononError, match="cannot read sample file 'tone/t0.wav'") as e:
        run_job(job)
    assert JOB_FOLDER_PREFIX not in str(e.value)
    assert not _job_folders(tmp_env)


def test_another_version_is_refused_naming_both(client):
    job = build_job(SYNTH, "song.wav", RenderSettings(), filename="song.phonon", seconds=0.5)
    with pytest.raises(PhononError) as e:
        render_jobs(client, [dataclasses.replace(job, version="0.0.0+elsewhere")])
    assert "0.0.0+elsewhere" in str(e.value) and project_version() in str(e.value)
    assert "same Phonon version" in str(e.value)


def test_an_unreachable_scheduler_fails_in_time_naming_it():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    started = time.monotonic()
    with pytest.raises(ClusterError) as e:
        connect(address, timeout=3.0)
    # Asked for 3 s, allowed 10: a generous margin over the timeout for a slow machine.
    assert time.monotonic() - started < 10.0
    assert address in str(e.value) and "dask scheduler" in str(e.value)


def test_connects_to_a_running_scheduler_by_its_address(client):
    other = connect(client.scheduler.address)
    try:
        job = build_job(SYNTH, "song.wav", RenderSettings(), filename="song.phonon", seconds=0.25, subtype="PCM_16")
        (result,) = render_jobs(other, [job])
        assert result.report.frames == job.frames
    finally:
        other.close()
    assert len(client.run(os.getpid)) == 2  # closing a client that connected leaves the cluster running


def test_a_scheduler_without_workers_is_an_error():
    import distributed

    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=":0") as empty:
        with pytest.raises(ClusterError, match="has no workers") as e:
            connect(empty.scheduler_address, timeout=1.0)
    assert empty.scheduler_address in str(e.value)


def test_jobs_are_built_and_run_without_dask():
    """Dask is the `cluster` extra: jobs, and rendering them, do not import it."""
    code = (
        "import sys\n"
        "from engine.cluster import build_job, run_job\n"
        "from engine.render import RenderSettings\n"
        "run_job(build_job('out: sine 440 * 0.1', 'p.wav', RenderSettings(), filename='p', seconds=0.1))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("address", ["local:0", "local:x", "127.0.0.1:8786", "tcp://host"])
def test_bad_addresses_say_what_to_give(address):
    with pytest.raises(ClusterError, match="local:N"):
        connect(address)


def test_a_worker_killed_mid_job_is_replaced_and_the_job_still_completes(client, tmp_env, tmp_path):
    text = voices_program(500)  # the `extreme` workload: a few seconds of rendering per job
    settings = RenderSettings()
    local = _local(text, tmp_path / "local.wav", settings, 8.0, "PCM_16")
    job = build_job(text, "extreme.wav", settings, filename="extreme.phonon", seconds=8.0, subtype="PCM_16")
    pids = client.run(os.getpid)
    with Batch(client, [job]) as batch:
        killed = _wait_for_a_job_folder(tmp_env, set(pids.values()))
        time.sleep(0.3)  # well into rendering
        os.kill(killed, signal.SIGKILL)
        ((_, result),) = list(batch)
    assert result.worker != next(a for a, pid in pids.items() if pid == killed)
    assert result.audio == local
    assert not [f for f in _job_folders(tmp_env) if f.startswith(f"{JOB_FOLDER_PREFIX}{killed}@")]  # swept
    client.wait_for_workers(2, timeout=GUARD)  # the nanny replaced it


def _wait_for_a_job_folder(root: Path, pids: set[int]) -> int:
    """The pid of the worker whose job folder appears first (it is rendering)."""
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        for name in _job_folders(root):
            pid = int(name.removeprefix(JOB_FOLDER_PREFIX).partition("@")[0])
            if pid in pids:
                return pid
        time.sleep(0.02)
    raise AssertionError("no worker started the job")


def test_ctrl_c_cancels_the_rest_and_leaves_no_partial_file(client, tmp_env, tmp_path):
    short = build_job(SYNTH, "short.wav", RenderSettings(), filename="short.phonon", seconds=0.5)
    long = build_job(voices_program(500), "long.wav", RenderSettings(), filename="long.phonon", seconds=120.0)
    out = tmp_path / "out"
    out.mkdir()

    def progress(index, result):
        result.write(out / result.output)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render_jobs(client, [long, short], progress=progress)
    assert sorted(os.listdir(out)) == ["short.wav"]  # the one written, whole; nothing else, hidden or not
    assert sf.info(str(out / "short.wav")).frames == short.frames
    deadline = time.monotonic() + GUARD  # the long job stops at its next chunk and its folder goes
    while (_job_folders(tmp_env) or _scheduler_tasks(client)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _job_folders(tmp_env) and not _scheduler_tasks(client)


def _scheduler_tasks(client) -> list[str]:
    return client.run_on_scheduler(lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks])


# ------------------------------------------------------------------------------- the command line (--cluster)

STEMS_PROGRAM = """tempo: 1
~shared: sine 2 * 0.5 + 0.5
o1: saw 110 * 0.3 * ~shared # pan 0.2 # reverb 0.5 0.5 0.3
d2: sine 330 * 0.2 * ~shared
out: s "bd*4 hh*8" # gain 0.8
"""


def test_stems_on_the_cluster_are_the_local_stems_bit_for_bit(client, tmp_path):
    from phonon.engine.cli import main

    prog = tmp_path / "song.phonon"
    prog.write_text(STEMS_PROGRAM)
    local, remote = tmp_path / "local", tmp_path / "remote"
    local.mkdir()
    remote.mkdir()
    common = ["-d", "1", "--subtype", "DOUBLE", "-q"]
    assert main(["render", str(prog), "--stems", str(local), *common]) == 0
    assert main(["render", str(prog), "--stems", str(remote), *common, "--cluster", client.scheduler.address]) == 0
    names = sorted(p.name for p in local.iterdir())
    assert names == ["d2.wav", "master.wav", "o1.wav", "out.wav"] == sorted(p.name for p in remote.iterdir())
    for name in names:  # each stem a task of its own, evaluating only what its output reaches
        assert (local / name).read_bytes() == (remote / name).read_bytes(), name


def test_a_batch_on_the_cluster_writes_the_others_when_one_fails(client, tmp_path, capsys):
    from phonon.engine.cli import main

    programs = {"a": "out: sine 440 * 0.1\n", "b": "out: sinee 440\n", "c": "out: saw 110 * 0.1 # lpf 800\n"}
    for name, text in programs.items():
        (tmp_path / f"{name}.phonon").write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    files = [str(tmp_path / f"{n}.phonon") for n in programs]
    code = main(["render", *files, "-o", str(out), "-d", "0.5", "--cluster", client.scheduler.address])
    err = capsys.readouterr().err
    assert code == 1 and "rendered 2 of 3 files" in err and "unknown function 'sinee'" in err
    assert sorted(p.name for p in out.iterdir()) == ["a.wav", "c.wav"]
    local = tmp_path / "local.wav"
    assert main(["render", files[2], "-o", str(local), "-d", "0.5", "-q"]) == 0
    assert local.read_bytes() == (out / "c.wav").read_bytes()


def test_a_missing_folder_is_refused_before_anything_is_sent(tmp_path, capsys):
    """Checked here, as a local render checks it: no job is built, no cluster started (an address that
    answers nothing would otherwise fail after 10 s), and nothing is written."""
    from phonon.engine.cli import main

    prog = tmp_path / "song.phonon"
    prog.write_text(STEMS_PROGRAM)
    nowhere = "tcp://127.0.0.1:9"  # the discard port: nothing to connect to, so a connection would fail
    assert main(["render", str(prog), "--stems", str(tmp_path / "none"), "-d", "0.5", "--cluster", nowhere]) == 1
    assert "cannot write stems into" in capsys.readouterr().err
    assert main(["render", str(prog), "-o", str(tmp_path / "none" / "x.wav"), "-d", "0.5", "--cluster", nowhere]) == 1
    err = capsys.readouterr().err
    assert "the folder" in err and "does not exist" in err and "rendered 0 of 1 files" in err
    assert "cannot reach" not in err and sorted(p.name for p in tmp_path.iterdir()) == ["song.phonon"]
