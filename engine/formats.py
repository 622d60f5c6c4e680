"""Sound file formats: which this machine's libsndfile writes, the file name suffix of each, and the format
and sample format of an output, checked before anything is rendered. One definition, derived from libsndfile,
that `phonon render`'s checks, its help texts and its --format read. Light to import (soundfile, not the
engine), so that `phonon render --help` can list the formats."""

from __future__ import annotations

import functools
import io
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from phonon.graph.errors import PhononError

SUBTYPES = ("PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE")  # what --subtype takes (a codec format has its own)
FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
STDOUT = "-"  # the output name that means standard output (`-o -`)
DEFAULT_FORMAT = "wav"  # of standard output, a batch's files and stems when no name says another
SUFFIX_ALIASES = {".aif": "AIFF", ".aiff": "AIFF", ".oga": "OGG", ".sf": "IRCAM"}  # usual names beside the formats'


@functools.cache
def writable_formats() -> list[str]:
    """The file formats this machine's libsndfile writes (soundfile.available_formats(), each tried): those
    it writes as a stereo 44.1 kHz file on a descriptor, as outputs are written, with a header (so not RAW,
    nor SD2, nor formats made for mono or for samplers). WAV, FLAC, AIFF, W64, RF64, CAF and Ogg Vorbis are
    everywhere; MP3 where libsndfile was built with it (1.1 and later)."""
    with tempfile.TemporaryFile() as probe:
        return [fmt for fmt in sf.available_formats() if _writes_stereo(fmt, probe)]


def _writes_stereo(fmt: str, probe: io.BufferedRandom) -> bool:
    if sf.default_subtype(fmt) is None:  # header-less (RAW): no player could tell what it holds
        return False
    probe.seek(0)
    probe.truncate()
    try:
        with sf.SoundFile(probe.fileno(), "w", 44100, 2, default_subtype(fmt), format=fmt, closefd=False) as f:
            f.write(np.zeros((64, 2)))
        return True
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError):
        return False


def default_subtype(fmt: str) -> str:
    """PCM_16 where the format holds it, else the format's own codec (Vorbis for Ogg, MPEG layer III for MP3)."""
    return "PCM_16" if sf.check_format(fmt, "PCM_16") else sf.default_subtype(fmt)


@functools.cache
def output_suffixes() -> dict[str, str]:
    """Output file name suffix -> the format written: each writable format under its name (`.wav`, `.flac`,
    `.mp3`, `.caf`), and the usual other names of some (`.aif`, `.oga`). What --format takes is these
    without the dot."""
    formats = writable_formats()
    table = {f".{fmt.lower()}": fmt for fmt in formats}
    table.update((suffix, fmt) for suffix, fmt in SUFFIX_ALIASES.items() if fmt in formats)
    return table


def format_names() -> list[str]:
    """The formats --format takes, by name, as help texts and errors list them: `wav` first, the rest sorted."""
    return sorted((fmt.lower() for fmt in writable_formats()), key=lambda name: (name != DEFAULT_FORMAT, name))


def format_suffix(name: str | None) -> str:
    """The file name suffix of a --format name (`flac` or `.flac`; None: the default format)."""
    return "." + (name or DEFAULT_FORMAT).lower().lstrip(".")


def output_format(path: Path, subtype: str | None, format: str | None = None) -> tuple[str, str]:
    """soundfile format and subtype for an output path (subtype None: `default_subtype`), or a PhononError
    saying what is supported. `format` (a --format name) is the format of standard output (`-`, default wav);
    given with a file name, it must be the name's."""
    table = output_suffixes()
    if format is not None and format_suffix(format) not in table:
        raise PhononError(f"unknown format '{format}'", hint="this machine writes " + ", ".join(format_names()))
    if str(path) == STDOUT:
        fmt = table[format_suffix(format)]
    else:
        fmt = table.get(path.suffix.lower())
        if fmt is None:
            raise PhononError(
                f"cannot tell the file format of '{path.name}'",
                hint="use a name ending in " + ", ".join(table) + " (or -o - with --format)",
            )
        if format is not None and table[format_suffix(format)] != fmt:
            raise PhononError(
                f"--format {format} and the name '{path.name}' ask for different formats",
                hint="a file's format comes from its name: leave out --format, or give the name its suffix",
            )
    return fmt, _subtype(fmt, subtype)


def _subtype(fmt: str, subtype: str | None) -> str:
    """The sample format of a `fmt` file: PCM_16 unless asked for another, or the codec of a codec format."""
    if not sf.check_format(fmt, "PCM_16"):  # a codec: Ogg Vorbis, MP3
        codecs = [s for s in sf.available_subtypes(fmt) if sf.check_format(fmt, s)]
        if subtype is not None and subtype.upper() not in codecs:
            raise PhononError(f"{fmt} files are encoded as {' or '.join(codecs)}, not {subtype}",
                              hint=f"leave out --subtype for {fmt} (default {default_subtype(fmt)})")
        return (subtype or default_subtype(fmt)).upper()
    subtype = (subtype or "PCM_16").upper()
    if subtype not in SUBTYPES:
        raise PhononError(f"unknown sample format {subtype}", hint="use one of " + ", ".join(SUBTYPES))
    if not sf.check_format(fmt, subtype):
        supported = [s for s in SUBTYPES if sf.check_format(fmt, s)]
        raise PhononError(f"{fmt} files cannot hold {subtype} samples", hint="use one of " + ", ".join(supported))
    return subtype
