"""Sample library: the built-in kit (sound, timing, cache), folder search order, file order and wrapping,
resampling, channels, errors, and the packed SampleBank arrays."""

from __future__ import annotations

import os
import pickle
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from phonon.engine.samples import SampleBank, SampleError, SampleLibrary, UnknownSample, parse_sample_name
from phonon.engine.samples import kit
from phonon.engine.samples.library import resample, resample_sinc

SR = 44100


def _isolate(mp: pytest.MonkeyPatch, root: Path) -> None:
    """No sample folder or cache outside `root` can leak into a test."""
    for sub in ("cache", "home", "cwd"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    mp.setenv("PHONON_CACHE_DIR", str(root / "cache"))
    mp.setenv("HOME", str(root / "home"))
    mp.delenv("XDG_CACHE_HOME", raising=False)
    mp.delenv("PHONON_SAMPLES", raising=False)
    mp.chdir(root / "cwd")


@pytest.fixture
def env(tmp_path, monkeypatch) -> Path:
    _isolate(monkeypatch, tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def kit_lib(tmp_path_factory) -> SampleLibrary:
    """One library over the kit only, shared by the tests that just listen to the kit."""
    root = tmp_path_factory.mktemp("kit")
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, root)
        return SampleLibrary(include_defaults=False)


def _write(path: Path, data, sr: int = SR, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(data, dtype=np.float32), sr, **kw)
    return path


def _tone(freq: float, seconds: float, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(round(seconds * sr))) / sr)


def _spectrum(x: np.ndarray, sr: int = SR, pad: int = 1 << 19):
    mag = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64), max(pad, len(x))))
    return np.fft.rfftfreq(max(pad, len(x)), 1.0 / sr), mag


def _dominant(x: np.ndarray, sr: int = SR) -> float:
    """Frequency of the largest spectral peak, refined by parabolic interpolation."""
    f, mag = _spectrum(x, sr)
    k = int(np.argmax(mag[1:-1])) + 1
    a, b, c = np.log(mag[k - 1 : k + 2] + 1e-30)
    return float(f[k] + 0.5 * (a - c) / (a - 2 * b + c) * (f[1] - f[0]))


def _centroid(x: np.ndarray, sr: int = SR) -> float:
    f, mag = _spectrum(x, sr, pad=0)
    power = mag**2
    return float((f * power).sum() / power.sum())


def _zc_rate(x: np.ndarray, a: float, b: float) -> float:
    s = x[int(a * SR) : int(b * SR)]
    return float(np.sum(np.diff(np.signbit(s)) != 0) / 2 / (b - a))


# ---------------------------------------------------------------------------------------------------------
# The built-in kit


REQUIRED = ["bd", "sn", "hh", "oh", "cp", "rim", "lt", "mt", "ht", "cb", "cr", "arpy"]


def test_kit_has_every_required_name_with_several_variants(kit_lib):
    assert set(REQUIRED) <= set(kit.names())
    assert set(REQUIRED) <= set(kit_lib.names())
    for name in REQUIRED:
        assert kit_lib.count(name) >= 4, name
        assert kit_lib.where(name) == "<built-in kit>"


@pytest.mark.parametrize("name", REQUIRED)
def test_kit_sounds_are_clean_one_shots(kit_lib, name):
    variants = []
    for i in range(kit_lib.count(name)):
        s = kit_lib.get(name, i)
        x = s.data
        assert s.sr == SR and s.source_sr == SR and x.dtype == np.float32 and s.channels == 1
        x = x[:, 0]
        assert np.all(np.isfinite(x)), f"{name}:{i}"
        peak = float(np.max(np.abs(x)))
        assert 0.89 <= peak <= 0.901, f"{name}:{i} peak {peak}"  # normalised to 0.9, never above 1
        first = int(np.argmax(np.abs(x) > 0.01 * peak))
        assert first < 44, f"{name}:{i} attack at sample {first}"  # within 1 ms of sample 0
        assert x[-1] == 0.0 and np.max(np.abs(x[-44:])) < 1e-3, f"{name}:{i} does not end in silence"
        assert len(x) > 0.02 * SR
        variants.append(x)
    for i in range(len(variants)):
        for j in range(i):
            same = len(variants[i]) == len(variants[j]) and np.allclose(variants[i], variants[j])
            assert not same, f"{name}:{i} and {name}:{j} are identical"


def test_kit_is_deterministic():
    for name in ("bd", "hh", "cp", "arpy"):
        np.testing.assert_array_equal(kit.render(name, 1), kit.render(name, 1))
    np.testing.assert_array_equal(kit.render("sn", 2), kit.render("sn", 2 + kit.variant_count("sn")))


def test_kick_is_low_and_drops_in_pitch(kit_lib):
    for i in range(kit_lib.count("bd")):
        x = kit_lib.get("bd", i).data[:, 0]
        assert _dominant(x) < 120.0, f"bd:{i}"
        early, late = _zc_rate(x, 0.002, 0.02), _zc_rate(x, 0.1, 0.25)
        assert early > 1.5 * late and 35.0 < late < 75.0, f"bd:{i}: {early} Hz -> {late} Hz"


def test_hats_and_crash_are_bright_and_open_hat_is_longer(kit_lib):
    for name in ("hh", "oh", "cr"):
        for i in range(kit_lib.count(name)):
            assert _centroid(kit_lib.get(name, i).data[:, 0]) > 5000.0, f"{name}:{i}"
    closed = max(kit_lib.get("hh", i).duration for i in range(kit_lib.count("hh")))
    opened = min(kit_lib.get("oh", i).duration for i in range(kit_lib.count("oh")))
    assert closed < 0.2 < 0.4 < opened
    assert min(kit_lib.get("cr", i).duration for i in range(kit_lib.count("cr"))) > 1.0


def test_arpy_is_c4(kit_lib):
    assert kit.ARPY_HZ == pytest.approx(261.6256, abs=1e-3)
    for i in range(kit_lib.count("arpy")):
        assert _dominant(kit_lib.get("arpy", i).data[:, 0]) == pytest.approx(kit.ARPY_HZ, rel=0.01), f"arpy:{i}"


def test_snare_is_tone_plus_noise(kit_lib):
    for i in range(kit_lib.count("sn")):
        f, mag = _spectrum(kit_lib.get("sn", i).data[:, 0], pad=0)
        power = mag**2 / np.sum(mag**2)
        assert power[(f >= 120) & (f < 400)].sum() > 0.1, f"sn:{i} has no drum tone"
        assert power[f >= 1000].sum() > 0.1, f"sn:{i} has no noise"


def test_clap_has_several_bursts(kit_lib):
    for i in range(kit_lib.count("cp")):
        x = kit_lib.get("cp", i).data[:60 * 44, 0].astype(np.float64)
        env = np.sqrt((x.reshape(60, 44) ** 2).mean(axis=1))  # 1 ms RMS
        onsets = [k for k in range(1, 60) if env[k] > 2 * env[k - 1]]
        assert len(onsets) >= 2, f"cp:{i}: bursts at {onsets} ms plus 0"  # the first burst is at 0


def test_toms_cowbell_and_rim_are_tuned(kit_lib):
    for i in range(4):
        low, mid, high = (_dominant(kit_lib.get(t, i).data[:, 0]) for t in ("lt", "mt", "ht"))
        assert 60 < low < mid < high < 260, (i, low, mid, high)
    for i in range(kit_lib.count("cb")):
        f = _dominant(kit_lib.get("cb", i).data[:, 0])
        assert min(abs(f / 540 - 1), abs(f / 800 - 1)) < 0.05, f"cb:{i} at {f} Hz"
    for i in range(kit_lib.count("rim")):
        assert kit_lib.get("rim", i).duration < 0.1


def test_kit_cache_files_are_wavs_and_reused(env):
    root = env / "cache" / "kit" / kit.KIT_VERSION
    lib = SampleLibrary(include_defaults=False)
    assert lib.kit_root == root
    first = lib.get("bd", 2)
    files = sorted((root / "bd").iterdir())
    assert [p.name for p in files] == [f"{i:02d}.wav" for i in range(lib.count("bd"))]
    for p in files:
        info = sf.info(str(p))
        assert info.format == "WAV" and info.samplerate == SR and info.channels == 1
    np.testing.assert_array_equal(sf.read(str(files[2]), dtype="float32")[0], first.data[:, 0])
    assert not (root / "sn").exists()  # rendered lazily, per name
    mtimes = {p: p.stat().st_mtime_ns for p in files}

    again = SampleLibrary(include_defaults=False).get("bd", 2)
    np.testing.assert_array_equal(again.data, first.data)
    assert {p: p.stat().st_mtime_ns for p in files} == mtimes

    files[0].unlink()  # a missing file is rendered again; the others are left alone
    files[1].write_bytes(b"damaged")  # a damaged one is rendered again when read
    lib3 = SampleLibrary(include_defaults=False)
    np.testing.assert_array_equal(lib3.get("bd", 0).data[:, 0], kit.render("bd", 0))
    np.testing.assert_array_equal(lib3.get("bd", 1).data[:, 0], kit.render("bd", 1))
    assert all(files[i].stat().st_mtime_ns == mtimes[files[i]] for i in range(2, len(files)))
    assert not [p for p in (root / "bd").iterdir() if p.suffix != ".wav"]  # no temporary files left


def test_kit_concurrent_writers_leave_a_valid_file(env):
    threads = [threading.Thread(target=kit.write_variant, args=("cp", 1)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    path = kit.variant_path("cp", 1)
    np.testing.assert_array_equal(sf.read(str(path), dtype="float32")[0], kit.render("cp", 1))
    assert [p.name for p in path.parent.iterdir()] == ["01.wav"]


def test_cache_root_rule(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PHONON_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert kit.cache_root() == tmp_path / "home" / ".cache" / "phonon"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kit.cache_root() == tmp_path / "xdg" / "phonon"
    monkeypatch.setenv("PHONON_CACHE_DIR", str(tmp_path / "mine"))
    assert kit.cache_root() == tmp_path / "mine"
    assert kit.kit_dir() == tmp_path / "mine" / "kit" / kit.KIT_VERSION


def test_unwritable_cache_falls_back_to_memory(env, monkeypatch):
    blocker = env / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("PHONON_CACHE_DIR", str(blocker))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = SampleLibrary(include_defaults=False).get("sn", 1)
    assert s.path is None and any("kept in memory" in str(w.message) for w in caught)
    np.testing.assert_array_equal(s.data[:, 0], kit.render("sn", 1))


# ---------------------------------------------------------------------------------------------------------
# Folders, order, wrapping


def _bd_folder(root: Path) -> Path:
    """bd/ with three files written in an order that differs from their name order, plus files to ignore.
    Name order is plain string order: a.flac, b10.wav, b2.wav (so 'b10' before 'b2')."""
    _write(root / "bd" / "b2.wav", np.full(300, 0.3))
    _write(root / "bd" / "b10.wav", np.full(200, 0.2))
    _write(root / "bd" / "a.flac", np.full(100, 0.1), format="FLAC", subtype="PCM_24")
    (root / "bd" / "notes.txt").write_text("not audio")
    _write(root / "bd" / ".hidden.wav", np.full(50, 0.9))
    _write(root / "superkick" / "x.wav", np.full(10, 0.5))
    return root


def test_folder_overrides_kit_in_name_order_with_wrap(env):
    folder = _bd_folder(env / "mine")
    lib = SampleLibrary([folder], include_defaults=False)
    assert lib.where("bd") == str(folder)
    assert [p.name for p in lib.files("bd")] == ["a.flac", "b10.wav", "b2.wav"]
    assert [lib.get("bd", i).frames for i in range(3)] == [100, 200, 300]
    assert lib.get("bd", 4).frames == 200  # 4 % 3 = 1
    assert lib.get("bd", 4) is lib.get("bd", 1)  # cached in memory
    assert lib.get("bd", -1).frames == 300
    assert lib.get_spec("bd:5").frames == 300
    assert lib.get("bd", 0).data[0, 0] == pytest.approx(0.1, abs=1e-6)
    assert lib.where("sn") == "<built-in kit>"  # names the folder lacks still come from the kit
    assert "superkick" in lib.names() and "sn" in lib.names() and lib.names() == sorted(lib.names())


def test_found_via_env_and_search_order(env, monkeypatch):
    empty_first = env / "empty"
    (empty_first / "bd").mkdir(parents=True)  # a bd/ without audio shadows nothing
    three = _bd_folder(env / "three")
    monkeypatch.setenv("PHONON_SAMPLES", os.pathsep.join([str(empty_first), str(env / "missing"), str(three)]))
    lib = SampleLibrary()
    assert lib.where("bd") == str(three) and lib.count("bd") == 3

    one = env / "one"
    _write(one / "bd" / "only.wav", np.full(7, 0.5))
    explicit = SampleLibrary([one])  # explicit folders come before PHONON_SAMPLES
    assert explicit.where("bd") == str(one) and explicit.get("bd", 2).frames == 7
    assert explicit.where("superkick") == str(three)

    monkeypatch.delenv("PHONON_SAMPLES")
    _write(env / "cwd" / "samples" / "bd" / "local.wav", np.full(9, 0.5))
    assert SampleLibrary().get("bd").frames == 9  # ./samples
    assert SampleLibrary(include_defaults=False).where("bd") == "<built-in kit>"

    quark = env / "home" / ".local" / "share" / "SuperCollider" / "downloaded-quarks" / "Dirt-Samples"
    _write(quark / "arpy" / "arpy01.wav", np.full(11, 0.5))
    lib = SampleLibrary()
    assert lib.where("arpy") == str(quark) and lib.where("bd") == str(env / "cwd" / "samples")

    with pytest.raises(SampleError, match="does not exist"):
        SampleLibrary([env / "nowhere"])


def test_parse_sample_name():
    assert parse_sample_name("bd:3") == ("bd", 3)
    assert parse_sample_name("bd") == ("bd", 0)
    assert parse_sample_name("808bd:12") == ("808bd", 12)
    for bad in ("bd:x", ":3", ""):
        with pytest.raises(ValueError, match="bad sample name"):
            parse_sample_name(bad)


# ---------------------------------------------------------------------------------------------------------
# Rates and channels


@pytest.mark.parametrize("file_sr", [22050, 48000])
def test_other_rates_are_resampled(env, file_sr):
    _write(env / "s" / "sine" / "a.wav", _tone(441.0, 0.5, file_sr), file_sr)
    s = SampleLibrary([env / "s"], include_defaults=False).get("sine")
    assert s.sr == SR and s.source_sr == file_sr
    assert abs(s.frames - 0.5 * SR) <= 1
    assert _dominant(s.data[:, 0]) == pytest.approx(441.0, abs=1.0)
    mid = s.data[2000:-2000, 0]
    assert np.max(np.abs(mid)) == pytest.approx(0.5, abs=0.005)


def test_fallback_sinc_resampler_is_accurate():
    for sr_in, sr_out in ((22050, 44100), (48000, 44100), (44100, 48000)):
        x = _tone(441.0, 0.25, sr_in)[:, None]
        y = resample_sinc(x, sr_in, sr_out)
        assert y.shape == (round(len(x) * sr_out / sr_in), 1) and y.dtype == np.float32
        ref = _tone(441.0, len(y) / sr_out, sr_out)[: len(y)]
        assert np.max(np.abs(y[500:-500, 0] - ref[500:-500])) < 1e-4
    above = np.sin(2 * np.pi * 23000 * np.arange(9600) / 48000)[:, None]  # above the new Nyquist
    assert np.sqrt(np.mean(resample_sinc(above, 48000, 44100)[500:-500] ** 2)) < 1e-3
    assert resample(x, 44100, 44100) is x


def test_engine_rate_applies_to_the_kit(env):
    s = SampleLibrary(include_defaults=False, sr=48000).get("arpy", 0)
    assert s.sr == 48000 and s.source_sr == SR
    assert abs(s.frames - len(kit.render("arpy", 0)) * 48000 / SR) <= 1
    assert _dominant(s.data[:, 0], 48000) == pytest.approx(kit.ARPY_HZ, rel=0.002)


def test_channels(env):
    stereo = np.stack([_tone(441.0, 0.1), _tone(882.0, 0.1, amp=0.25)], axis=1)
    _write(env / "s" / "st" / "a.wav", stereo)
    _write(env / "s" / "st22" / "a.flac", stereo[::2], 22050, format="FLAC")
    _write(env / "s" / "mono" / "a.wav", _tone(441.0, 0.1))
    _write(env / "s" / "quad" / "a.wav", np.stack([np.full(64, v) for v in (0.1, 0.2, 0.3, 0.4)], axis=1))
    lib = SampleLibrary([env / "s"], include_defaults=False)
    st = lib.get("st")
    assert st.channels == 2
    np.testing.assert_allclose(st.data, stereo, atol=1e-4)  # PCM_16
    st22 = lib.get("st22")
    assert st22.channels == 2
    assert _dominant(st22.data[:, 0]) == pytest.approx(441, abs=1)
    assert _dominant(st22.data[:, 1]) == pytest.approx(882, abs=1)
    assert lib.get("mono").channels == 1 and lib.get("mono").data.shape == (4410, 1)
    quad = lib.get("quad")
    assert quad.channels == 2 and np.allclose(quad.data[0], [0.1, 0.2], atol=1e-4)
    assert not st.data.flags.writeable


# ---------------------------------------------------------------------------------------------------------
# Errors


def test_unknown_sample_did_you_mean(kit_lib):
    with pytest.raises(UnknownSample) as err:
        kit_lib.get("bdd")
    assert isinstance(err.value, ValueError)
    assert err.value.message == "unknown sample 'bdd'" and "did you mean 'bd'" in err.value.hint
    assert str(err.value).startswith("unknown sample 'bdd'") and "did you mean 'bd'" in str(err.value)
    with pytest.raises(UnknownSample) as err:
        kit_lib.get("zzzzzz", 1)
    assert "did you mean" not in err.value.hint and "`phonon samples` lists all" in err.value.hint  # how to see them
    assert str(err.value).startswith("unknown sample 'zzzzzz' (")
    for weird in ("../bd", ".", ""):
        with pytest.raises(UnknownSample):
            kit_lib.get(weird)
    assert "bd" in kit_lib and "bdd" not in kit_lib


def test_unreadable_file_names_the_file(env):
    bad = env / "s" / "broken" / "x.wav"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"RIFF this is not really a wave file")
    lib = SampleLibrary([env / "s"], include_defaults=False)
    with pytest.raises(SampleError, match="cannot read sample file") as err:
        lib.get("broken")
    assert str(bad) in str(err.value) and not isinstance(err.value, UnknownSample)


# ---------------------------------------------------------------------------------------------------------
# SampleBank


def test_bank_packs_samples(env):
    mono = _tone(441.0, 0.01)  # 441 frames
    stereo = np.stack([np.full(50, 0.25), np.full(50, -0.5)], axis=1)
    _write(env / "s" / "m" / "a.wav", mono)
    _write(env / "s" / "st" / "a.wav", stereo)
    _write(env / "s" / "st" / "b.wav", stereo[:20] * 0.5)
    bank = SampleBank(SampleLibrary([env / "s"], include_defaults=False))
    assert len(bank) == 0 and bank.data.shape == (1, 2) and bank.offsets.shape == (0,)

    m, st = bank.id_of("m"), bank.id_of_spec("st:0")
    assert (m, st) == (0, 1)
    assert bank.id_of("st", 2) == st  # 2 % 2 files = 0: the same sample, the same id
    assert bank.id_of("m", 0) == m and len(bank) == 2
    st1 = bank.id_of("st", 1)
    assert st1 == 2 and bank.label(st1) == "st:1"

    assert bank.data.dtype == np.float32 and bank.data.flags.c_contiguous and bank.data.shape == (1 + 442 + 51 + 21, 2)
    assert bank.offsets.dtype == np.int64 and bank.lengths.dtype == np.int64 and bank.peak.dtype == np.float64
    assert bank.offsets.tolist() == [1, 443, 494] and bank.lengths.tolist() == [441, 50, 20]
    assert bank.channels.tolist() == [1, 2, 2]
    np.testing.assert_allclose(bank.peak, [np.max(np.abs(mono)), 0.5, 0.25], atol=1e-4)
    for sid in range(3):  # zero guards on both sides
        off, n = bank.offsets[sid], bank.lengths[sid]
        assert np.all(bank.data[off - 1] == 0) and np.all(bank.data[off + n] == 0)
    block = bank.data[1:442]
    np.testing.assert_allclose(block[:, 0], mono, atol=1e-4)  # PCM_16
    np.testing.assert_array_equal(block[:, 0], block[:, 1])  # mono duplicated
    np.testing.assert_allclose(bank.frames_of(st), stereo, atol=1e-4)

    # Growing later (live reload): new ids, bigger arrays; arrays fetched before keep their contents.
    before = [a.copy() for a in bank.arrays()]
    held = bank.arrays()
    version = bank.version
    kick = bank.id_of("bd", 0)  # from the kit: far more frames than the initial capacity
    assert kick == 3 and bank.version > version
    assert bank.lengths[kick] == bank.library.get("bd").frames and bank.offsets[kick] == 1 + 442 + 51 + 21
    np.testing.assert_array_equal(bank.frames_of(kick)[:, 1], bank.library.get("bd").data[:, 0])
    for old, new, copy in zip(held, bank.arrays(), before):
        np.testing.assert_array_equal(old, copy)
        np.testing.assert_array_equal(new[: len(copy)], copy)

    clone = pickle.loads(pickle.dumps(bank))  # for spawned workers: arrays come back as views of one buffer
    np.testing.assert_array_equal(clone.data, bank.data)
    assert clone.id_of("bd", 6) == kick and np.shares_memory(clone.data, clone._frames)

    reloaded = bank.add(bank.library.get("m"))
    assert reloaded == 4 and bank.id_of("m") == 4 and bank.offsets[4] == bank.offsets[3] + bank.lengths[3] + 1


def test_bank_unknown_sample_raises(env):
    bank = SampleBank(SampleLibrary(include_defaults=False))
    with pytest.raises(UnknownSample, match="unknown sample 'snn'"):
        bank.id_of("snn")
    assert len(bank) == 0


def test_bank_arrays_work_in_a_numba_kernel(env):
    import numba as nb

    @nb.njit(cache=False)
    def play(data, offsets, lengths, sid, pos):  # linear interpolation, guard frames make j + 1 safe
        j = int(pos)
        if j < 0 or j >= lengths[sid]:
            return 0.0
        a = data[offsets[sid] + j, 1]
        b = data[offsets[sid] + j + 1, 1]
        return a + (b - a) * (pos - j)

    bank = SampleBank(SampleLibrary(include_defaults=False))
    sid = bank.id_of("rim", 1)
    data, offsets, lengths, _ = bank.arrays()
    x = bank.library.get("rim", 1).data[:, 0]
    assert play(data, offsets, lengths, sid, 10.5) == pytest.approx(0.5 * (x[10] + x[11]), abs=1e-7)
    assert play(data, offsets, lengths, sid, len(x) - 0.5) == pytest.approx(0.5 * x[-1], abs=1e-7)
