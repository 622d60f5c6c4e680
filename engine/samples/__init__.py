"""Samples for `s "bd:3 sn"`: finding and loading files (`library`), the built-in synthesised drum kit
(`kit`), and the packed arrays a voice kernel reads (`bank`)."""

from phonon.engine.samples.bank import SampleBank
from phonon.engine.samples.library import (
    AUDIO_EXTENSIONS,
    Sample,
    SampleError,
    SampleLibrary,
    UnknownSample,
    parse_sample_name,
    resample,
)

__all__ = [
    "AUDIO_EXTENSIONS",
    "Sample",
    "SampleBank",
    "SampleError",
    "SampleLibrary",
    "UnknownSample",
    "parse_sample_name",
    "resample",
]
