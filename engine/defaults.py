"""The defaults a user meets, as the README's two tables, each default beside Tidal's or SuperDirt's where
they differ: the levels of what sounds (the tempo, sample and synth voices, the master), read from the
constants the code uses, and every option of the command line, read from its parsers (engine/cli.py
build_parser; an option whose parser default is None gives its default in its help, "(default X)").
`python -m phonon.engine.defaults` prints both; tests/test_defaults.py checks the README holds them and that
each help's "(default X)" is the parser's default. The voice controls' defaults are graph/values.py's table."""

from __future__ import annotations

import argparse
import math
import re
from fractions import Fraction

# Tidal's and SuperDirt's defaults where ours differ, by (command, option). Tidal: Sound.Tidal.Config and
# its SuperDirt target; SuperDirt: DirtOrbit's default event.
THEIRS_OPTIONS: dict[tuple[str, str], str] = {
    ("render", "--gain"): "SuperDirt: no master gain; each orbit's `amp` is 0.4",
    ("render", "--ceiling"): "SuperDirt: no ceiling of its own (the sound card clips at full scale)",
    ("render", "--limit"): "SuperDirt: no limiter",
    ("play", "--gain"): "SuperDirt: no master gain; each orbit's `amp` is 0.4",
    ("play", "--ceiling"): "SuperDirt: no ceiling of its own (the sound card clips at full scale)",
    ("play", "--limit"): "SuperDirt: no limiter",
    ("play", "--latency"): "Tidal: 0.2 s (its SuperDirt target's `oLatency`)",
}

_DEFAULT_IN_HELP = re.compile(r"\(default:? ([^;)]+)")


def _number(x: float | Fraction) -> str:
    return f"{float(x):g}"


def level_rows() -> list[tuple[str, str, str]]:
    """(what, its default here, Tidal's or SuperDirt's), from the constants the code uses."""
    from phonon.engine.kernels import voices as vk
    from phonon.engine.render import RenderSettings
    from phonon.graph.compiler import AUTO_ROUTE_GAIN, DEFAULT_CPS
    from phonon.graph.signal_graph import SignalGraph
    from phonon.graph.values import VOICE_CONTROL

    amp, velocity, gain = (VOICE_CONTROL[name].default for name in ("amp", "velocity", "gain"))
    level = amp * velocity * gain**4
    attack, decay, sustain, release = vk.SYNTH_DEFAULTS
    pan = VOICE_CONTROL["pan"].default
    settings = RenderSettings()
    return [
        ("tempo", f"{_number(DEFAULT_CPS)} cycles per second (`tempo:` not given)",
         "Tidal: 0.5625 (135 bpm at 4 beats a cycle); Strudel: 0.5"),
        ("a sample voice (`s \"bd\"`)", f"its file's own level: amp {amp:g} * velocity {velocity:g} * gain {gain:g}^4 "
         f"= {level:g}", "SuperDirt: the orbit's amp 0.4, so 0.4 of the file's level (-8 dB); the same gain curve"),
        ("a sample's length", f"the whole file, with a {vk.DEFAULT_RELEASE * 1000:g} ms release at its end and a "
         f"{vk.DEFAULT_ATTACK * 1000:g} ms attack; `legato`, `release` or `cut` shorten it",
         "SuperDirt: the whole file, with a 1 ms fade at the end (`fadeTime` 0.001)"),
        ("a synth note (`saw \"c3 e3\"`)", f"an oscillator of peak 1 at the sample voice's level, through Strudel's "
         f"envelope (attack {attack:g} s, decay {decay:g} s, sustain {sustain:g}, release {release:g} s): it holds "
         f"at {sustain:g}; it lasts its event (legato 1)", "SuperDirt: each synth's own envelope, times the orbit's "
         "amp 0.4"),
        ("pan of a voice", f"{pan:g}, the centre, constant power: {math.sin(pan * math.pi / 2):.3f} on each side",
         "SuperDirt: the same"),
        ("a mono signal (`out: sine 440`)", "the same on both channels (1.0 each at full scale, not 0.707)",
         "(SuperDirt pans every sound)"),
        ("outputs", f"summed as they are (`outmix: {SignalGraph.outmix}`)", "SuperDirt: orbits summed, the same"),
        ("no output statement", f"`~master`, else `~out`, else the `~dN` buses, else every bus at "
         f"{AUTO_ROUTE_GAIN:g}", ""),
        ("master", f"gain {settings.gain:g}, then a hard clip at the ceiling {settings.ceiling:g} (counted and "
         "reported); `--limit` soft-limits instead", "SuperDirt: no master stage"),
        ("16-bit files", "TPDF dither of +-1 step (`--no-dither` rounds without it); 24-bit, 32-bit and float "
         "files none", ""),
    ]


def _row(cells: tuple[str, ...]) -> str:
    """A markdown table row (a `|` inside a cell escaped)."""
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def levels_table() -> str:
    """The README's table of default levels."""
    rows = ["| what | default | Tidal / SuperDirt |", "|---|---|---|"]
    rows += [_row(cells) for cells in level_rows()]
    return "\n".join(rows)


def option_default(action: argparse.Action) -> str:
    """An option's default as the README says it: the parser's, else the one its help states, else none."""
    if isinstance(action, argparse._StoreTrueAction):
        return "off"
    value = action.default
    if value in (None, []):
        found = _DEFAULT_IN_HELP.search(action.help or "")
        return found.group(1).strip() if found else "none"
    if action.type is not None and getattr(action.type, "__name__", "") in ("_workers", "_worker_list"):
        values = value if isinstance(value, list) else [value]
        return ",".join("auto" if v == 0 else str(v) for v in values)
    return f"{value:g}" if isinstance(value, float) else str(value)


class _Unexpanded(dict):
    """Help texts' {placeholders} (what this machine's libsndfile writes) as words, so the table is the same
    on every machine."""

    def __missing__(self, key: str) -> str:
        return f"the {key} `--help` lists"


def option_rows(parser: argparse.ArgumentParser) -> list[tuple[str, str, str, str, str]]:
    """(command, option, default, Tidal / SuperDirt, what it does) for every option of every subcommand."""
    from phonon.engine.cli import subcommands

    rows = []
    for command, sub in subcommands(parser).items():
        for action in sub._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            option = " ".join(f"`{s}`" for s in action.option_strings)
            what = (action.help or "").format_map(_Unexpanded())
            theirs = THEIRS_OPTIONS.get((command, action.option_strings[-1]), "")
            rows.append((command, option, option_default(action), theirs, what))
    return rows


def options_table() -> str:
    """The README's table of every command-line option and its default."""
    from phonon.engine.cli import build_parser

    rows = ["| command | option | default | Tidal / SuperDirt | what it does |", "|---|---|---|---|---|"]
    rows += [_row(cells) for cells in option_rows(build_parser())]
    return "\n".join(rows)


if __name__ == "__main__":
    print(levels_table())
    print()
    print(options_table())
