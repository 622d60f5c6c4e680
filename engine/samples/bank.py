"""The samples a program uses, packed into flat arrays that a numba voice kernel can index directly.

Layout (attributes of `SampleBank`, always consistent with each other; n = number of sample ids):

    data      float32 [total_frames, 2], C-contiguous. Column 0 is left, 1 is right; a mono file is
              duplicated into both columns, so a kernel may read either (or one for both).
    offsets   int64   [n]  first frame of sample id i in `data`
    lengths   int64   [n]  its frame count (the frames are data[offsets[i] : offsets[i] + lengths[i]])
    peak      float64 [n]  its peak absolute value over both channels
    channels  int64   [n]  1 or 2: what the file had (the data is always 2 columns; a mono sample has both equal,
                           which the voice kernel relies on: it reads one column for both sides)
    sr        int          the engine rate every sample is already resampled to

Guard frames: frame 0 of `data` is zero and every sample is followed by one zero frame, so
`data[offsets[i] - 1]` and `data[offsets[i] + lengths[i]]` are always 0.0. A voice interpolating between
frames j and j + 1 (0 <= j < length), forwards or backwards, needs no bounds check beyond `0 <= j < length`
and fades into silence at either end. A sample with no frames has length 0 and still gets its guard.

Ids are dense (0, 1, 2, ...) in order of first use. `id_of(name, index)` returns the id of `name:index`
(the index wraps modulo the file count first, so `bd:0` and `bd:3` of a 3-file folder share an id) and adds
the sample on first use. The compiler registers every sample a pattern can trigger before rendering starts;
adding later (live reload, `add(sample)`) grows the arrays: the attributes are then replaced by new,
larger arrays, while arrays handed out earlier keep their contents (old ids stay valid in them). `version`
counts additions so a renderer can tell when to fetch the arrays again.
"""

from __future__ import annotations

import numpy as np

from phonon.engine.samples.library import Sample, SampleLibrary, parse_sample_name


class SampleBank:
    """Sample ids -> frames in one contiguous float32 [total_frames, 2] array (see the module docstring)."""

    def __init__(self, library: SampleLibrary | None = None, sr: int = 44100) -> None:
        self.library = library if library is not None else SampleLibrary(sr=sr)
        self.sr = self.library.sr
        self._frames = np.zeros((1024, 2), dtype=np.float32)  # capacity; rows past `total` are zero
        self._offsets = np.zeros(16, dtype=np.int64)
        self._lengths = np.zeros(16, dtype=np.int64)
        self._peak = np.zeros(16, dtype=np.float64)
        self._channels = np.zeros(16, dtype=np.int64)
        self.total = 1  # frames in use, including the leading guard frame
        self._samples: list[Sample] = []
        self._ids: dict[tuple[str, int], int] = {}  # (name, wrapped index) -> newest id
        self._asked: dict[tuple[str, int], int] = {}  # (name, index as asked) -> id, to skip re-resolving
        self.version = 0
        self._publish()

    # -- ids ---------------------------------------------------------------------------------------------

    def id_of(self, name: str, index: int = 0) -> int:
        """The id of `name:index`, loading and adding the sample on first use. Raises UnknownSample
        (a ValueError) for a name no folder has."""
        asked = (name, int(index))
        sid = self._asked.get(asked)
        if sid is None:
            wrapped, _ = self.library.resolve(name, index)
            sid = self._ids.get((name, wrapped))
            if sid is None:
                sid = self.add(self.library.get(name, wrapped))
            self._asked[asked] = sid
        return sid

    def id_of_spec(self, spec: str) -> int:
        """`id_of` for a `"bd:3"` string."""
        return self.id_of(*parse_sample_name(spec))

    def add(self, sample: Sample) -> int:
        """Append a loaded sample and return its new id (always a new id; `id_of(sample.name, sample.index)`
        returns it from now on, e.g. after a live reload re-read the file). Its rate must be the bank's."""
        if sample.sr != self.sr:
            raise ValueError(f"sample {sample.name}:{sample.index} is at {sample.sr} Hz, the bank at {self.sr} Hz")
        frames = sample.frames
        sid = len(self._samples)
        offset = self.total
        self._reserve(offset + frames + 1, sid + 1)
        src = sample.data
        self._frames[offset : offset + frames, 0] = src[:, 0]
        self._frames[offset : offset + frames, 1] = src[:, 1] if src.shape[1] > 1 else src[:, 0]
        self._frames[offset + frames] = 0.0  # guard
        self._offsets[sid] = offset
        self._lengths[sid] = frames
        self._peak[sid] = sample.peak
        self._channels[sid] = sample.channels
        self.total = offset + frames + 1
        self._samples.append(sample)
        self._ids[(sample.name, sample.index)] = sid
        self._asked = {k: v for k, v in self._asked.items() if k[0] != sample.name}  # re-resolve this name
        self.version += 1
        self._publish()
        return sid

    def _reserve(self, frames: int, ids: int) -> None:
        if frames > len(self._frames):
            grown = np.zeros((max(frames, 2 * len(self._frames)), 2), dtype=np.float32)
            grown[: self.total] = self._frames[: self.total]
            self._frames = grown
        if ids > len(self._offsets):
            size = max(ids, 2 * len(self._offsets))
            for attr in ("_offsets", "_lengths", "_peak", "_channels"):
                old = getattr(self, attr)
                new = np.zeros(size, dtype=old.dtype)
                new[: len(old)] = old
                setattr(self, attr, new)

    def _publish(self) -> None:
        """Expose exact-size views of the capacity buffers (leading rows of a C-contiguous array are
        C-contiguous). Rows beyond the old `total` are written only by later additions, so arrays fetched
        earlier never see their contents change."""
        n = len(self._samples)
        self.data = self._frames[: self.total]
        self.offsets = self._offsets[:n]
        self.lengths = self._lengths[:n]
        self.peak = self._peak[:n]
        self.channels = self._channels[:n]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()  # the public arrays are views; rebuild them instead of pickling copies
        for attr in ("data", "offsets", "lengths", "peak", "channels"):
            state.pop(attr, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._publish()

    # -- inspection --------------------------------------------------------------------------------------

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(data, offsets, lengths, peak), the arguments a voice kernel takes."""
        return self.data, self.offsets, self.lengths, self.peak

    def sample(self, sid: int) -> Sample:
        return self._samples[sid]

    def label(self, sid: int) -> str:
        """`"bd:3"` for an id."""
        s = self._samples[sid]
        return f"{s.name}:{s.index}"

    def frames_of(self, sid: int) -> np.ndarray:
        """The [length, 2] frames of an id (a view into `data`)."""
        off = int(self._offsets[sid])
        return self._frames[off : off + int(self._lengths[sid])]

    def __len__(self) -> int:
        return len(self._samples)

    def __repr__(self) -> str:
        return f"SampleBank({len(self)} samples, {self.total} frames @ {self.sr} Hz)"
