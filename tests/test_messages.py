"""Messages that teach: an unknown name lists the closest ones and the command that shows them all; `phonon
samples`, `phonon functions` and `phonon help NAME` show what there is, read from the registries and the sample
search path; a constant beyond its parameter's range is clamped with a warning at its line and column; every
option of every subcommand says what it does and what its default is."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from phonon.engine.cli import build_parser, subcommands
from phonon.engine.render import render_array
from phonon.engine.samples import kit
from phonon.graph.compiler import compile_program
from phonon.graph.kinds import FUNCTIONS
from phonon.graph.patterns.registry import TRANSFORMS
from tests.test_cli import ROOT, phonon, write


def test_an_unknown_sample_names_the_closest_and_how_to_see_them_all(tmp_path):
    r = phonon("render", write(tmp_path, 'out: s "bd hhh"\n'), "-o", tmp_path / "x.wav", "-d", "0.5")
    assert r.returncode == 1
    assert "unknown sample 'hhh'" in r.stderr and "did you mean 'hh'?" in r.stderr
    assert "`phonon samples` lists all" in r.stderr


def test_an_unknown_function_names_the_closest_and_how_to_see_them_all(tmp_path):
    r = phonon("render", write(tmp_path, "out: saw 55 # lpff 300\n"), "-o", tmp_path / "x.wav", "-d", "0.5")
    assert r.returncode == 1
    assert "unknown function 'lpff'" in r.stderr and "'lpf'" in r.stderr
    assert "`phonon functions` lists every function; `phonon help NAME` explains one" in r.stderr


REGISTRY_NAMES = """
from phonon.graph.kinds import FUNCTIONS
from phonon.graph.patterns.constructors import CONSTRUCTORS
from phonon.graph.patterns.registry import TRANSFORMS
from phonon.graph.values import CONTROL_NAMES
print(" ".join(sorted(set(FUNCTIONS) | set(TRANSFORMS) | set(CONSTRUCTORS) | set(CONTROL_NAMES))))
"""


def test_phonon_functions_lists_everything_a_program_can_call():
    r = phonon("functions")
    assert r.returncode == 0, r.stderr
    listed = {line.split()[0] for line in r.stdout.splitlines() if line.startswith("  ")}
    # the registries as a fresh process has them (this one's hold the kinds other tests define)
    registry = subprocess.run([sys.executable, "-c", REGISTRY_NAMES], capture_output=True, text=True, cwd=ROOT,
                              timeout=120)
    names = set(registry.stdout.split())
    assert len(names) > 150 and names <= listed, names - listed
    assert "lpf input cutoff [q=1]" in r.stdout  # with its signature


def test_phonon_help_shows_a_functions_defaults_and_ranges():
    r = phonon("help", "lpf")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(FUNCTIONS["lpf"].signature())
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if line.startswith("    ")}
    for p in FUNCTIONS["lpf"].params:
        assert ("required" if p.required else f"default {p.default_text()}") in rows[p.name]
    assert "range 0.5..20" in rows["q"] and "range 20.." in rows["cutoff"]
    assert "voice control, the same as cutoff" in r.stdout  # `lpf` is a voice control too


def test_phonon_help_explains_transforms_and_commands_and_names_the_closest():
    assert TRANSFORMS["every"].doc in phonon("help", "every").stdout
    assert "usage: phonon render" in phonon("help", "render").stdout
    unknown = phonon("help", "evry")
    assert unknown.returncode == 1 and "'every'" in unknown.stderr and "phonon functions" in unknown.stderr


def test_phonon_samples_lists_names_their_files_and_where_they_come_from(tmp_path):
    folder = tmp_path / "mine"
    for name, count in (("kick", 2), ("bd", 1)):  # bd: a folder's bd comes before the kit's
        (folder / name).mkdir(parents=True)
        for i in range(count):
            sf.write(folder / name / f"{i}.wav", np.zeros(100), 44100)
    r = phonon("samples", "--samples", folder)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in r.stdout.splitlines()
            if re.match(r"\S+\s+\d+\s", line)}
    assert rows["kick"] == ["2", str(folder)] and rows["bd"] == ["1", str(folder)]
    assert rows["sn"] == [str(kit.variant_count("sn")), "<built-in kit>"]
    assert set(kit.names()) | {"kick"} <= set(rows)
    assert r.stdout.index(str(folder)) < r.stdout.index("<built-in kit> (")  # the search order, first


def test_phonon_samples_names_a_missing_folder(tmp_path):
    r = phonon("samples", "--samples", tmp_path / "nowhere")
    assert r.returncode == 1 and "does not exist" in r.stderr


CLAMPED = [
    # (program, the argument as written, function, parameter, the value it plays with)
    ("out: saw 55 # delay 3 0.5\n", "3", "delay", "time", 2.0),
    ("out: saw 55 # reverb 2 0.5\n", "2", "reverb", "room", 1.0),
    ("out: saw 55 # dist 500\n", "500", "dist", "drive", 100.0),
    ("out: saw 55 # lpf 300 :q 0.1\n", "0.1", "lpf", "q", 0.5),
]


@pytest.mark.parametrize("program, written, function, param, bound", CLAMPED, ids=[c[0].strip() for c in CLAMPED])
def test_a_constant_out_of_range_is_clamped_with_a_warning_at_it(program, written, function, param, bound):
    graph = compile_program(program, "x.phonon")
    col = program.index(f" {written}", program.index(function)) + 2
    (warning,) = graph.notes
    side = "above its maximum" if float(written) > bound else "below its minimum"
    assert warning == (f"x.phonon:1:{col}: warning: {function}'s {param} {written} is {side} {bound:g}: clamped "
                       f"to {bound:g} (see `phonon help {function}`)")
    as_bound = program.replace(f" {written}", f" {bound:g}", 1)
    assert compile_program(as_bound).notes == []
    assert np.array_equal(render_array(program, seconds=0.05), render_array(as_bound, seconds=0.05))


def test_the_clamp_warning_is_on_standard_error_of_render(tmp_path):
    prog = write(tmp_path, "~fx: saw 55\nout: ~fx # delay 3\n")
    r = phonon("render", prog, "-o", tmp_path / "x.wav", "-d", "0.2")
    assert r.returncode == 0, r.stderr
    assert f"{prog}:2:18: warning: delay's time 3 is above its maximum 2: clamped to 2" in r.stderr


def test_values_in_range_and_patterns_are_not_warned_about():
    assert compile_program('out: saw 55 # delay 2 # lpf "300 30000" 20\n').notes == []


def _options() -> list[tuple[str, argparse.Action]]:
    return [(name, action) for name, parser in subcommands(build_parser()).items() for action in parser._actions
            if not isinstance(action, argparse._HelpAction)]


@pytest.mark.parametrize("command, action", _options(), ids=[f"{c} {'/'.join(a.option_strings) or a.dest}"
                                                             for c, a in _options()])
def test_every_option_says_what_it_does_and_its_default(command, action):
    assert action.help, f"phonon {command} {action.option_strings or action.dest} has no help text"
    if action.default not in (None, False, [], argparse.SUPPRESS):
        assert "default" in action.help, f"phonon {command} {action.option_strings}: its default is not stated"


def test_the_readme_synopsis_has_every_command():
    readme = (ROOT / "README.md").read_text()
    synopsis = readme[readme.index("## Commands"):].split("```")[1]
    for command in subcommands(build_parser()):
        assert f"phonon {command}" in synopsis
    assert "-o OUT.wav|- [--format wav|flac|mp3|...]" in synopsis  # standard output, in any format
