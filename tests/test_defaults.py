"""The README's tables of defaults (engine/defaults.py) are what the code does: they are regenerated from the
constants and the parsers, every "(default X)" a help states is the parser's default, and the command line's
defaults are the renderer's."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from phonon.engine.cli import RENDER_SECONDS, build_parser, subcommands
from phonon.engine.defaults import THEIRS_OPTIONS, levels_table, option_default, options_table
from phonon.engine.render import RenderSettings, render_array

ROOT = Path(__file__).resolve().parent.parent
STALE = "README's {} table is stale: paste `python -m phonon.engine.defaults`"


def _options() -> list[tuple[str, argparse.Action]]:
    return [(command, a) for command, sub in subcommands(build_parser()).items() for a in sub._actions
            if a.option_strings and not isinstance(a, argparse._HelpAction)]


def test_the_readme_holds_the_tables():
    readme = (ROOT / "README.md").read_text()
    assert levels_table() in readme, STALE.format("levels")
    assert options_table() in readme, STALE.format("options")


def test_a_default_a_help_states_is_the_parsers():
    for command, action in _options():
        if action.default in (None, [], False) or "(default" not in (action.help or ""):
            continue
        stated = (action.help or "").split("(default", 1)[1].lstrip(": ").split(")")[0].split(";")[0].strip()
        assert option_default(action) == stated or float(stated) == action.default, (command, action.dest)


def test_the_command_lines_defaults_are_the_renderers():
    render = {a.dest: a.default for command, a in _options() if command == "render"}
    settings = RenderSettings()
    for name in ("sr", "block", "gain", "ceiling", "limit", "fade_in", "fade_out"):
        assert render[name] == getattr(settings, name), name
    durations = {command: option_default(a) for command, a in _options() if a.dest == "duration"}
    assert durations["render"] == f"{RENDER_SECONDS:g}"


def test_every_comparison_names_an_option_there_is():
    options = {(command, a.option_strings[-1]) for command, a in _options()}
    assert set(THEIRS_OPTIONS) <= options


@pytest.mark.parametrize("program, left", [
    ('out: sine "a4"', np.sin(np.pi / 4)),  # a synth voice at the centre: constant power
    ("out: sine 440", 1.0),  # a mono signal: the same on both channels
])
def test_the_levels_the_table_states(program, left):
    """A synth note peaks at the pan law's centre (0.707); a plain signal at full scale on each channel."""
    out = render_array(program, seconds=0.5)
    assert np.abs(out[:, 0]).max() == pytest.approx(left, abs=0.01)
    assert np.array_equal(out[:, 0], out[:, 1])
