"""Finding and loading sample files: `s "bd:3"` -> folder `bd/`, file 3 (modulo the count), at the engine rate.

Search order (the first folder that has a `NAME/` subfolder with at least one audio file wins):

1. the explicit folders given to `SampleLibrary(search_paths=...)` (`--samples DIR`, may repeat), in order;
2. `$PHONON_SAMPLES`, an `os.pathsep`-separated list of folders;
3. `./samples` (relative to the working directory when the library is created);
4. the folders the original Phonon searched: `~/phonon/samples`, `~/phonon/dirt-samples`, `~/dirt-samples`,
   `./dirt-samples` (where its `get-samples.sh` clones Dirt-Samples);
5. SuperCollider's Dirt-Samples quark (`~/.local/share/SuperCollider/downloaded-quarks/Dirt-Samples`, and
   `~/Library/Application Support/SuperCollider/downloaded-quarks/Dirt-Samples` on macOS);
6. the built-in kit (`engine.samples.kit`), rendered into the cache on first use of each name.

A folder has the Dirt-Samples layout: `NAME/*.wav|flac|aiff|aif|ogg`. Files are sorted by file name
(hidden files ignored) and `NAME:i` picks file `i % count`. Folders in 2-5 that do not exist are skipped;
an explicit folder that does not exist is an error.

Loading is lazy and cached in memory: the file is read with soundfile as float32, kept mono (1 channel) or
stereo (2 channels; more channels keep the first two), non-finite values become 0, and a file whose rate
differs from the engine rate is resampled with soxr ("HQ"), or, when soxr is not installed, with the
windowed-sinc resampler below (Kaiser window, 32 zero crossings, anti-aliased when downsampling).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from phonon.engine.samples import kit as _kit
from phonon.graph.errors import did_you_mean
from phonon.graph.limits import MAX_SAMPLE_FILE_RATE, MIN_SAMPLE_FILE_RATE

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".aiff", ".aif", ".ogg"})
KIT_SOURCE = "<built-in kit>"


class SampleError(ValueError):
    """A sample that cannot be found or read. `message` is the problem; `hint`, when not empty, the fix."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message} ({hint})" if hint else message)
        self.message = message
        self.hint = hint


LIST_COMMAND = "phonon samples"  # what lists every name, and where each comes from (engine/cli.py)


class UnknownSample(SampleError):
    """No search folder has `NAME/`. The message is "unknown sample 'NAME'", the hint the closest names and the
    command that lists them all."""

    def __init__(self, name: str, choices: Iterable[str] = ()) -> None:
        choices = sorted(set(choices))
        every = (f"`{LIST_COMMAND}` lists all {len(choices)} names and where each comes from (--samples DIR adds a "
                 "folder)")
        close = did_you_mean(name, choices)
        super().__init__(f"unknown sample '{name}'", f"{close} {every}" if close else every)
        self.name = name


def parse_sample_name(spec: str) -> tuple[str, int]:
    """`"bd:3"` -> `("bd", 3)`, `"bd"` -> `("bd", 0)`; the index may be negative (it wraps)."""
    name, colon, index = spec.strip().rpartition(":")
    if not colon:
        name, index = index, "0"
    try:
        number = int(index)
    except ValueError:
        raise SampleError(f"bad sample name '{spec}'", "write NAME or NAME:INDEX, e.g. bd or bd:3") from None
    if not name:
        raise SampleError(f"bad sample name '{spec}'", "write NAME or NAME:INDEX, e.g. bd or bd:3")
    return name, number


@dataclass(frozen=True, eq=False)
class Sample:
    """One loaded sample at the engine rate. `data` is float32 [frames, channels] (channels 1 or 2),
    C-contiguous and read-only (it is shared by everyone who asks for the same file)."""

    name: str
    index: int  # the file index after wrapping, 0 <= index < count
    path: Path | None  # None only for a kit sound rendered in memory (unwritable cache)
    data: np.ndarray
    sr: int  # the engine rate the data is at
    source_sr: int  # the rate of the file
    peak: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "peak", float(np.max(np.abs(self.data))) if self.data.size else 0.0)

    @property
    def frames(self) -> int:
        return int(self.data.shape[0])

    @property
    def channels(self) -> int:
        return int(self.data.shape[1])

    @property
    def duration(self) -> float:
        return self.frames / self.sr

    def __repr__(self) -> str:
        return f"Sample({self.name}:{self.index}, {self.frames} frames x {self.channels} ch @ {self.sr} Hz)"


@dataclass
class _Entry:
    """Where a name resolved: its folder (or KIT_SOURCE) and its files in play order."""

    source: str
    paths: list[Path] | None  # None: kit sounds rendered in memory because the cache cannot be written
    count: int


def default_folders() -> list[Path]:
    """Folders 2-5 of the search order, whether or not they exist."""
    folders = [Path(p).expanduser() for p in os.environ.get("PHONON_SAMPLES", "").split(os.pathsep) if p.strip()]
    home = Path.home()
    cwd = Path.cwd()
    folders += [
        cwd / "samples",
        home / "phonon" / "samples",
        home / "phonon" / "dirt-samples",
        home / "dirt-samples",
        cwd / "dirt-samples",
        home / ".local" / "share" / "SuperCollider" / "downloaded-quarks" / "Dirt-Samples",
        home / "Library" / "Application Support" / "SuperCollider" / "downloaded-quarks" / "Dirt-Samples",
    ]
    return folders


def _is_audio(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS


class UnreadableFolder(SampleError):
    """A sample folder that exists but cannot be listed. Taken for a missing one, its samples would be called
    unknown, or a sample of the same name from a later folder would play instead."""

    def __init__(self, folder: Path, error: OSError) -> None:
        super().__init__(
            f"the sample folder '{folder}' cannot be read ({error.strerror or error})",
            f"make it readable (e.g. chmod -R a+rX '{folder}'), or take it out of the sample search path",
        )
        self.folder = folder


def _audio_files(folder: Path) -> list[Path]:
    """The audio files in `folder`, sorted by name: [] when it does not exist; an UnreadableFolder (naming it,
    or the folder above it when that is what cannot be read) when it cannot be listed."""
    try:
        entries = [e for e in os.scandir(folder) if _is_audio(e.name) and e.is_file()]
    except PermissionError as e:
        _check_readable(folder.parent)
        raise UnreadableFolder(folder, e) from None
    except OSError:  # missing, or not a folder
        return []
    return [Path(e.path) for e in sorted(entries, key=lambda e: e.name)]


def _check_readable(folder: Path) -> None:
    """Raise UnreadableFolder when `folder` cannot be listed."""
    try:
        os.scandir(folder).close()
    except PermissionError as e:
        raise UnreadableFolder(folder, e) from None


def _has_audio(folder: Path) -> bool:
    """Whether `folder` holds audio files (False when it cannot be read: for listing names only)."""
    try:
        return bool(_audio_files(folder))
    except UnreadableFolder:
        return False


def _valid_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and os.sep not in name and "\0" not in name


class SampleLibrary:
    """Sample folders in search order, with lazy, memory-cached loading at the engine rate `sr`."""

    def __init__(
        self,
        search_paths: list[Path] | None = None,
        sr: int = 44100,
        *,
        include_defaults: bool = True,
        include_kit: bool = True,
    ) -> None:
        self.sr = int(sr)
        explicit = [Path(p).expanduser() for p in (search_paths or [])]
        for p in explicit:
            if not p.is_dir():
                raise SampleError(f"sample folder '{p}' does not exist", "give a folder holding NAME/*.wav")
            _check_readable(p)
        folders = explicit + ([p for p in default_folders() if p.is_dir()] if include_defaults else [])
        seen: set[str] = set()
        self.folders: list[Path] = []  # the real folders searched, in order (the kit comes after them)
        for p in folders:
            key = os.path.realpath(p)
            if key not in seen:
                seen.add(key)
                self.folders.append(p)
        self.include_kit = include_kit
        self.cache_root = _kit.cache_root()
        self.kit_root = _kit.kit_dir(self.cache_root)  # <cache root>/kit/<version>
        self._entries: dict[str, _Entry] = {}
        self._samples: dict[tuple[str, int], Sample] = {}
        self._names: list[str] | None = None

    # -- discovery -------------------------------------------------------------------------------------

    def search_order(self) -> list[str]:
        """The searched folders as text, kit last (for messages and `phonon` listings)."""
        return [str(p) for p in self.folders] + ([f"{KIT_SOURCE} ({self.kit_root})"] if self.include_kit else [])

    def names(self) -> list[str]:
        """Every available sample name, sorted."""
        if self._names is None:
            found: set[str] = set(_kit.names()) if self.include_kit else set()
            for folder in self.folders:
                try:
                    subdirs = [e for e in os.scandir(folder) if not e.name.startswith(".") and e.is_dir()]
                except OSError:
                    continue
                found.update(e.name for e in subdirs if _has_audio(Path(e.path)))
            self._names = sorted(found)
        return list(self._names)

    def listing(self) -> list[tuple[str, int, str]]:
        """(name, files, where it comes from: a folder or KIT_SOURCE) for every name, as a program resolves it:
        the first folder in the search order that has it. Counted without rendering the kit."""
        rows = []
        for name in self.names():
            found = self._in_folders(name)
            if found is not None:
                rows.append((name, len(found[1]), str(found[0])))
            else:
                rows.append((name, _kit.variant_count(name), KIT_SOURCE))
        return rows

    def _in_folders(self, name: str) -> tuple[Path, list[Path]] | None:
        """The first search folder with audio files in NAME/, and those files; None when none has it."""
        if _valid_name(name):
            for folder in self.folders:
                files = _audio_files(folder / name)
                if files:
                    return folder, files
        return None

    def __contains__(self, name: str) -> bool:
        try:
            self._entry(name)
        except UnknownSample:
            return False
        return True

    def _entry(self, name: str) -> _Entry:
        entry = self._entries.get(name)
        if entry is not None:
            return entry
        found = self._in_folders(name)
        if found is not None:
            entry = _Entry(str(found[0]), found[1], len(found[1]))
        elif self.include_kit and name in _kit.KIT:
            try:
                paths: list[Path] | None = _kit.ensure(name, self.cache_root)
            except OSError as exc:
                warnings.warn(f"cannot write the sample kit cache {self.kit_root} ({exc}); kept in memory")
                paths = None
            entry = _Entry(KIT_SOURCE, paths, _kit.variant_count(name))
        if entry is None:
            raise UnknownSample(name, self.names())
        self._entries[name] = entry
        return entry

    def where(self, name: str) -> str:
        """The folder `name` comes from, or KIT_SOURCE."""
        return self._entry(name).source

    def count(self, name: str) -> int:
        """How many files (variants) `name` has."""
        return self._entry(name).count

    def files(self, name: str) -> list[Path]:
        """The files of `name` in play order (`name:i` is files[i % count])."""
        entry = self._entry(name)
        if entry.paths is None:
            return []
        return list(entry.paths)

    def resolve(self, name: str, index: int = 0) -> tuple[int, Path | None]:
        """(wrapped index, file path) for `name:index`."""
        entry = self._entry(name)
        i = int(index) % entry.count
        return i, (entry.paths[i] if entry.paths is not None else None)

    # -- loading ---------------------------------------------------------------------------------------

    def get(self, name: str, index: int = 0) -> Sample:
        """`name:index` (index wraps modulo the file count) at the engine rate, loaded on first use."""
        i, path = self.resolve(name, index)
        sample = self._samples.get((name, i))
        if sample is None:
            sample = self._load(name, i, path)
            self._samples[(name, i)] = sample
        return sample

    def get_spec(self, spec: str) -> Sample:
        """`get` for a `"bd:3"` string."""
        return self.get(*parse_sample_name(spec))

    def _load(self, name: str, i: int, path: Path | None) -> Sample:
        from_kit = self._entry(name).source == KIT_SOURCE
        if path is None:
            data, file_sr = _kit.render(name, i)[:, None], _kit.KIT_SR
        else:
            try:
                data, file_sr = read_audio(path)
            except SampleError:
                if not from_kit:
                    raise
                try:  # a damaged kit cache file: render it again
                    _kit.write_variant(name, i, self.cache_root)
                    data, file_sr = read_audio(path)
                except OSError:
                    data, file_sr = _kit.render(name, i)[:, None], _kit.KIT_SR
        if file_sr != self.sr:
            data = resample(data, file_sr, self.sr)
        data = np.ascontiguousarray(data, dtype=np.float32)
        data.setflags(write=False)
        return Sample(name, i, path, data, self.sr, file_sr)

    def refresh(self) -> None:
        """Forget folder listings and loaded samples (after files changed on disk, e.g. on live reload)."""
        self._entries.clear()
        self._samples.clear()
        self._names = None


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Read a file as float32 [frames, 1 or 2] and its rate; any failure is a SampleError naming the file."""
    import soundfile as sf

    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile errors, unreadable or missing files
        raise SampleError(f"cannot read sample file '{path}': {exc}") from exc
    if not MIN_SAMPLE_FILE_RATE <= file_sr <= MAX_SAMPLE_FILE_RATE:
        raise SampleError(
            f"sample file '{path}' claims a sample rate of {file_sr} Hz, outside "
            f"{MIN_SAMPLE_FILE_RATE:,} .. {MAX_SAMPLE_FILE_RATE:,} Hz: its header is damaged",
            "re-export the file as an ordinary WAV or FLAC (44.1 or 48 kHz), or remove it from the sample folder",
        )
    if data.shape[1] > 2:
        data = data[:, :2]
    if data.shape[1] == 0:
        raise SampleError(f"cannot read sample file '{path}': it has no channels")
    if not np.all(np.isfinite(data)):
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    return np.ascontiguousarray(data, dtype=np.float32), int(file_sr)


# ---------------------------------------------------------------------------------------------------------
# Resampling


def resample(data: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """float32 [frames, channels] from sr_in to sr_out; output length round(frames * sr_out / sr_in)."""
    if sr_in == sr_out:
        return data
    try:
        import soxr
    except ImportError:
        return resample_sinc(data, sr_in, sr_out)
    return np.ascontiguousarray(soxr.resample(np.ascontiguousarray(data), sr_in, sr_out, quality="HQ"))


def resample_sinc(data: np.ndarray, sr_in: int, sr_out: int, zeros: int = 32, beta: float = 9.0) -> np.ndarray:
    """Band-limited resampling by a Kaiser-windowed sinc (the fallback when soxr is not installed).

    Output frame m sits at input position m * sr_in / sr_out (exact rational arithmetic). The kernel's
    cutoff is 0.94 * min(sr_in, sr_out) / 2, so downsampling is anti-aliased; it spans `zeros` zero
    crossings of the cutoff sinc on each side. Each phase's taps are normalised to a DC gain of exactly 1."""
    x = np.asarray(data, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    n_in = x.shape[0]
    n_out = int(round(n_in * sr_out / sr_in))
    if n_in == 0 or n_out == 0:
        return np.zeros((n_out, x.shape[1]), dtype=np.float32)
    g = math.gcd(int(sr_in), int(sr_out))
    step, div = int(sr_in) // g, int(sr_out) // g  # input advances step/div per output frame
    cutoff = 0.94 * min(1.0, sr_out / sr_in)  # as a fraction of the input Nyquist
    half = int(math.ceil(zeros / cutoff))  # taps each side, in input samples
    offsets = np.arange(-half + 1, half + 1)  # taps at floor(pos) + offsets

    def taps(frac: np.ndarray) -> np.ndarray:
        d = offsets[None, :] - frac[:, None]  # distance of each tap from the output position
        w = cutoff * np.sinc(cutoff * d) * np.i0(beta * np.sqrt(np.clip(1.0 - (d / half) ** 2, 0.0, 1.0)))
        return w / w.sum(axis=1, keepdims=True)

    table = taps(np.arange(div) / div) if div <= 4096 else None
    padded = np.concatenate([np.zeros((half, x.shape[1])), x, np.zeros((half + 1, x.shape[1]))])
    out = np.empty((n_out, x.shape[1]))
    chunk = max(1, (1 << 20) // (2 * half))
    for m0 in range(0, n_out, chunk):
        m = np.arange(m0, min(m0 + chunk, n_out), dtype=np.int64)
        base, phase = np.divmod(m * step, div)
        w = table[phase] if table is not None else taps(phase / div)
        idx = base[:, None] + offsets[None, :] + half
        out[m0 : m0 + len(m)] = np.einsum("mt,mtc->mc", w, padded[idx])
    return out.astype(np.float32)
