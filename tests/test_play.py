"""`phonon play` through a real PortAudio stream, paced in real time by a JACK server with the dummy backend
(tests/jack.py; CI installs jackd2 and libportaudio2). What the callback delivered to the device is captured
with the test hook `PHONON_PLAY_CAPTURE=path.wav` (plus `path.wav.json`: start time, reloads, underruns) and
compared with `phonon render` of the same program.

Skipped, with the reason, where jackd or PortAudio is missing."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.jack import JackServer, jack_available, shm_entries

ROOT = Path(__file__).resolve().parent.parent
SR = 48000
BLOCK = 512
SUMMARY = re.compile(r"^underruns: (\d+), blocks: (\d+), max render ms: (\d+\.\d+)$", re.M)
PLAYED = re.compile(r"played (\d+\.\d+) s of audio in (\d+\.\d+) s")

COUNT_OUTPUTS = "import sounddevice as sd; print(sum(d['max_output_channels'] > 0 for d in sd.query_devices()))"

_why = jack_available()
needs_jack = pytest.mark.skipif(_why is not None, reason=f"no real-time audio path here: {_why}")

# Two output buses, so --workers 2 runs a part in a forked worker; patterns, a filter, a delay.
PROGRAM = """tempo: 1
~lfo: sine 0.5 * 0.5 + 0.5
~bass: saw "55 82.5 110" # lpf (~lfo * 2000 + 300) 0.8
~lead: sine "440 660 550 [880 990]" * 0.1 # delay 0.125 0.4 0.3
o1: ~bass * 0.2
o2: ~lead + tri 220 * 0.05
"""


@pytest.fixture(scope="module")
def jack():
    with JackServer(rate=SR, period=256) as server:  # jackd is installed: failing to start it is an error
        yield server


def _env(jack: JackServer | None, capture: Path | None = None, **extra: str) -> dict[str, str]:
    env = jack.env() if jack is not None else dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PHONON_PLAY_CAPTURE", None)
    if capture is not None:
        env["PHONON_PLAY_CAPTURE"] = str(capture)
    env.update(extra)
    return env


def phonon(env: dict[str, str], *args: str | os.PathLike, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "phonon", *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=timeout,
    )


class Playing:
    """`phonon play` in the background; its stderr is collected line by line as it comes."""

    def __init__(self, env: dict[str, str], *args: str | os.PathLike) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "phonon", "play", *map(str, args)], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self.out: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stderr, self.lines), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
        ]
        for t in self._readers:
            t.start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.stderr:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"'{text}' never came; stderr:\n{self.stderr}")
            time.sleep(0.02)

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        for t in self._readers:
            t.join(5)
        return self.proc.returncode, "".join(self.out), self.stderr

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _summary(stderr: str) -> tuple[int, int, float]:
    m = SUMMARY.search(stderr)
    assert m, f"no summary line in:\n{stderr}"
    return int(m.group(1)), int(m.group(2)), float(m.group(3))


def _freq(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum)) * SR / len(x)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


# ---------------------------------------------------------------------------------------------------------


@needs_jack
def test_list_devices_shows_the_jack_device(jack):
    r = phonon(_env(jack), "play", "--list-devices")
    assert r.returncode == 0, r.stderr
    assert "system" in r.stdout and "JACK Audio Connection Kit" in r.stdout
    r = phonon(_env(jack), "play", "--list-devices", "--json")
    devices = json.loads(r.stdout)
    assert any(d["name"] == "system" and d["channels"] >= 2 and d["samplerate"] == SR for d in devices)


@needs_jack
def test_unknown_device_lists_the_devices(jack, tmp_path):
    prog = tmp_path / "prog.phonon"
    prog.write_text(PROGRAM)
    r = phonon(_env(jack), "play", prog, "--device", "no-such-card", "--duration", "1")
    assert r.returncode != 0
    assert "no output device matches 'no-such-card'" in r.stderr
    assert "system (JACK Audio Connection Kit" in r.stderr
    assert "Traceback" not in r.stderr


@needs_jack
def test_no_sound_card_is_a_clear_error(tmp_path):
    env = _env(None, JACK_DEFAULT_SERVER=f"phonon-absent-{os.getpid()}", JACK_NO_START_SERVER="1")
    probe = subprocess.run(
        [sys.executable, "-c", COUNT_OUTPUTS], env=env, capture_output=True, text=True, timeout=60,
    )
    if probe.returncode != 0 or probe.stdout.strip() != "0":
        pytest.skip("this machine has a sound card")
    prog = tmp_path / "prog.phonon"
    prog.write_text(PROGRAM)
    r = phonon(env, "play", prog, "--duration", "1")
    assert r.returncode == 1
    assert "no audio output device found" in r.stderr
    assert "PortAudio found no output devices (host APIs:" in r.stderr
    assert "Traceback" not in r.stderr


@needs_jack
@pytest.mark.parametrize("workers", [1, 2])
def test_plays_in_real_time_exactly_what_render_renders(jack, tmp_path, workers):
    prog = tmp_path / "prog.phonon"
    prog.write_text(PROGRAM)
    capture = tmp_path / "delivered.wav"
    args = ["play", prog, "--duration", "3", "--workers", str(workers), "--block", str(BLOCK), "--latency", "0.2"]
    r = phonon(_env(jack, capture), *args, *(["--json"] if workers == 2 else []))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    played = PLAYED.search(r.stderr)
    assert played, r.stderr
    assert float(played.group(1)) == 3.0
    assert 2.5 <= float(played.group(2)) <= 5.0  # 3 s of audio took about 3 s: the device paces it
    if workers == 2:
        summary = json.loads(r.stdout)
        assert set(summary) == {"underruns", "blocks", "max_render_ms", "underrun_times"}
        underruns, blocks = summary["underruns"], summary["blocks"]
        assert len(summary["underrun_times"]) == min(underruns, 16)
    else:
        underruns, blocks, _ = _summary(r.stderr)
    assert blocks == -(-3 * SR // BLOCK)
    assert underruns == 0, r.stderr  # else the capture holds gaps of silence and cannot match

    reference = tmp_path / "render.wav"
    rr = phonon(
        _env(None), "render", prog, "-o", reference, "--sr", str(SR), "--block", str(BLOCK), "-d", "3",
        "--subtype", "FLOAT", "--workers", str(workers),
    )
    assert rr.returncode == 0, rr.stderr
    delivered, sr = sf.read(capture, dtype="float32")
    expected, _ = sf.read(reference, dtype="float32")
    assert sr == SR and delivered.shape == expected.shape == (3 * SR, 2)
    assert np.max(np.abs(expected)) > 0.05
    np.testing.assert_allclose(delivered, expected, rtol=0, atol=1e-6)


@needs_jack
def test_watch_swaps_on_save_and_keeps_playing_through_errors(jack, tmp_path):
    # Two outputs: two parts, so the reloaded program forks a worker while the stream plays.
    prog = tmp_path / "live.phonon"
    prog.write_text("tempo: 1\no1: sine 440 * 0.1\no2: sine 440 * 0.1\n")
    capture = tmp_path / "delivered.wav"
    player = Playing(_env(jack, capture), prog, "--watch", "--duration", "5", "--workers", "2")
    player.wait_for("playing")
    time.sleep(1.0)
    saved = time.time()
    prog.write_text("tempo: 1\no1: sine 660 * 0.1\no2: sine 660 * 0.1\n")
    player.wait_for("reloaded", timeout=10)
    time.sleep(0.5)
    prog.write_text("tempo: 1\no1: sine 880 * (0.1\no2: sine 880 * 0.1\n")  # an unclosed parenthesis
    player.wait_for("still playing the previous version", timeout=10)
    code, _, stderr = player.finish()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert re.search(r"live\.phonon:2:\d+: error: ", stderr), stderr  # the error names line and column
    underruns, _, _ = _summary(stderr)
    assert underruns == 0, stderr

    delivered, _ = sf.read(capture, dtype="float32")
    info = json.loads(Path(str(capture) + ".json").read_text())
    assert len(info["reloads"]) == 1  # the broken version never replaced the working one
    swap = info["reloads"][0]["frame"]
    assert info["reloads"][0]["position"] == swap  # the new program continues on the same clock
    heard = info["start_unix"] + swap / SR  # when the new version reached the device
    assert 0 < heard - saved < 1.0, heard - saved
    x = delivered[:, 0]
    window = 4800
    assert _freq(x[swap - window : swap]) == pytest.approx(440, abs=5)
    after = swap + round(0.015 * SR) + 2 * BLOCK  # the crossfade, then within a few blocks
    assert _freq(x[after : after + window]) == pytest.approx(660, abs=5)
    assert _freq(x[-window:]) == pytest.approx(660, abs=5)  # still the old sound after the broken save
    assert np.max(np.abs(np.diff(x[swap - BLOCK : after]))) < 0.1  # a crossfade, not a click


@needs_jack
def test_saving_a_program_that_is_only_hush_fades_everything_out(jack, tmp_path):
    prog = tmp_path / "live.phonon"
    prog.write_text("tempo: 1\no1: sine 440 * 0.1\no2: sine 220 * 0.05\n")
    capture = tmp_path / "delivered.wav"
    player = Playing(_env(jack, capture), prog, "--watch", "--duration", "4")
    player.wait_for("playing")
    time.sleep(1.0)
    prog.write_text("hush\n")
    player.wait_for("reloaded", timeout=10)
    code, _, stderr = player.finish()
    assert code == 0 and "Traceback" not in stderr, stderr
    underruns, _, _ = _summary(stderr)
    assert underruns == 0, stderr
    delivered, _ = sf.read(capture, dtype="float32")
    swap = json.loads(Path(str(capture) + ".json").read_text())["reloads"][0]["frame"]
    assert np.abs(delivered[swap - 4800 : swap, 0]).max() > 0.1  # it was playing
    fade = round(0.015 * SR) + 2 * BLOCK  # the crossfade, then within a few blocks
    assert np.abs(delivered[swap + fade :]).max() == 0.0  # then silence, to the end
    assert np.abs(np.diff(delivered[swap - 64 : swap + fade, 0])).max() < 0.05  # faded, not cut: no click


@needs_jack
def test_ctrl_c_fades_out_and_leaves_nothing_behind(jack, tmp_path):
    prog = tmp_path / "prog.phonon"
    prog.write_text(PROGRAM)
    capture = tmp_path / "delivered.wav"
    shm_before = shm_entries()
    player = Playing(_env(jack, capture), prog, "--workers", "2")
    player.wait_for("playing")
    workers = _children(player.proc.pid)
    assert workers, "no worker process was forked"
    time.sleep(0.5)
    player.proc.send_signal(signal.SIGINT)
    code, _, stderr = player.finish(timeout=20)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    _summary(stderr)
    assert not [pid for pid in workers if _alive(pid)]
    assert shm_entries() - shm_before == set()
    delivered, _ = sf.read(capture, dtype="float32")
    assert np.max(np.abs(delivered)) > 0.05
    assert np.max(np.abs(delivered[-48:])) < 0.01  # faded out, no click


@needs_jack
def test_a_device_that_goes_away_is_an_error_not_a_hang(tmp_path):
    prog = tmp_path / "prog.phonon"
    prog.write_text(PROGRAM)
    with JackServer(rate=SR, period=256) as server:
        player = Playing(_env(server), prog, "--workers", "2")
        player.wait_for("playing")
        workers = _children(player.proc.pid)
        time.sleep(0.5)
        server.stop()  # the JACK server quits under the stream
        code, _, stderr = player.finish(timeout=20)
    assert code == 1, stderr
    assert "the audio device stopped" in stderr
    assert "Traceback" not in stderr
    assert not [pid for pid in workers if _alive(pid)]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_program_can_start_mid_song_on_the_pattern_clock(workers):
    """What live reloading relies on: a Renderer started at absolute sample P renders what a render from 0
    renders from P on (for pattern-driven values, which have no state of their own)."""
    from phonon.engine.render import Renderer, RenderSettings, render_array
    from phonon.graph.compiler import compile_program

    graph = compile_program('tempo: 1.5\n~a: "0.1 0.2 [0.3 0.35] 0.4"\nout: ~a * 0.5 + "<0.01 0.02>"\n')
    reference = render_array(graph, seconds=3, sr=SR, block=BLOCK, workers=workers)
    for start in (12345, 2 * SR - 7):
        with Renderer(graph, RenderSettings(sr=SR, block=BLOCK), frames=SR // 2, workers=workers) as r:
            r.start_at(start)
            out = np.zeros((SR // 2, 2))
            r.render_into(out, SR // 2)
        assert r.position == start + SR // 2
        np.testing.assert_array_equal(out, reference[start : start + SR // 2])


@needs_jack
def test_play_reports_what_the_containment_did(jack, tmp_path):
    """A node that goes non-finite while playing is named at the end, as `phonon render` names it."""
    prog = tmp_path / "bad.phonon"
    prog.write_text("~big: sine 440 * 1e200\n~inf: ~big * ~big\nout: sine 220 * 0.1 + ~inf\n")
    r = phonon(_env(jack), "play", prog, "--duration", "1")
    assert r.returncode == 0, r.stderr
    assert "warning: * (line 2 col 12) in ~inf produced NaN/inf at" in r.stderr, r.stderr


@needs_jack
def test_play_channels_outputs_sends_each_output_to_its_own_channels(tmp_path):
    """`play --channels outputs` on a card with 8 output ports: o1 (stereo) on channels 1-2, o2 (mono) on 3,
    the same samples `render --channels outputs` writes."""
    prog = tmp_path / "prog.phonon"
    prog.write_text("tempo: 1\no1: saw \"55 110\" * 0.2 # pan 0.3\no2: sine \"440 660\" * 0.1\n")
    capture = tmp_path / "delivered.wav"
    with JackServer(rate=SR, period=256, playback=8) as server:
        r = phonon(_env(server, capture), "play", prog, "--duration", "1", "--block", str(BLOCK), "--latency", "0.2",
                   "--channels", "outputs")
        assert r.returncode == 0, r.stderr
        underruns, _, _ = _summary(r.stderr)
        assert underruns == 0, r.stderr
        tight = JackServer(rate=SR, period=256)  # 2 ports: too few for 3 channels, a clear error
        with tight:
            r2 = phonon(_env(tight), "play", prog, "--duration", "1", "--channels", "outputs")
        assert r2.returncode == 1 and "make 3 channels" in r2.stderr and "Traceback" not in r2.stderr
    reference = tmp_path / "render.wav"
    rr = phonon(_env(None), "render", prog, "-o", reference, "--sr", str(SR), "--block", str(BLOCK), "-d", "1",
                "--subtype", "FLOAT", "--channels", "outputs")
    assert rr.returncode == 0, rr.stderr
    delivered, _ = sf.read(capture, dtype="float32")
    expected, _ = sf.read(reference, dtype="float32")
    assert delivered.shape == expected.shape == (SR, 3)
    assert np.max(np.abs(expected[:, 2])) > 0.05 and not np.array_equal(expected[:, 0], expected[:, 1])
    np.testing.assert_allclose(delivered, expected, rtol=0, atol=1e-6)

