"""The Tidal/Strudel vocabulary in programs (issue 11 parts 3 and 5): continuous patterns as voice controls,
scales and arpeggios, Tidal's prefix application. Each asserts the controls the voices get at their onsets
(engine/clock.py, the same path a render takes)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from phonon.engine.clock import EventClock
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from tests.compiling import compile_error


def _controls(text: str, cycle: int = 0) -> list[tuple[Fraction, dict]]:
    graph = compile_program(text)
    (node,) = [n for n in graph.nodes if n.kind in ("sampler", "synth")]
    return [(t, c) for t, _, c in EventClock(node.pattern, node.params, graph.cps, 44100).onsets(cycle)]


def test_a_continuous_control_takes_its_value_over_each_event():
    """Tidal's `#` queries the signal over the event, and a signal answers with its middle value."""
    events = _controls('out: s "bd*4" # pan sine # gain (range 0.2 0.8 saw)\n')
    middles = [Fraction(2 * k + 1, 8) for k in range(4)]
    assert [c["pan"] for _, c in events] == pytest.approx([0.5 + 0.5 * math.sin(2 * math.pi * m) for m in middles])
    assert [c["gain"] for _, c in events] == pytest.approx([0.2 + 0.6 * m for m in middles])


def test_random_values_are_deterministic_and_in_range():
    first = _controls('out: s "bd*8" # n (segment 8 $ irand 8) # speed (rand + 0.5)\n', 3)
    assert first == _controls('out: s "bd*8" # n (segment 8 $ irand 8) # speed (rand + 0.5)\n', 3)
    assert all(c["n"] in range(8) and 0.5 <= c["speed"] < 1.5 for _, c in first)
    assert len({c["n"] for _, c in first}) > 2


def test_scales_turn_degrees_into_notes():
    tidal = _controls('out: s "arpy*8" # note (scale "major" "0 .. 7")\n')
    assert [c["note"] for _, c in tidal] == [0, 2, 4, 5, 7, 9, 11, 12]  # semitones from c4, as Tidal
    strudel = _controls('out: s "arpy*4" # note ("0 2 4 -1" $ scale "C:minor")\n')
    assert [c["note"] for _, c in strudel] == [-12, -9, -5, -14]  # C3 minor, as Strudel roots a bare C


def test_arpeggios_play_chords_one_note_after_another():
    events = _controls("out: s \"arpy*4\" # note (arp \"updown\" \"c'maj\")\n")  # the voices' structure
    assert [t for t, _ in events] == [0, Fraction(1, 4), Fraction(1, 2), Fraction(3, 4)]
    assert [c["note"] for _, c in events] == [0, 4, 7, 4]  # c4 e4 g4 e4: Tidal's 0 4 7 4 (updown drops the top)


def test_a_transform_given_its_pattern_applies_to_it():
    """Tidal's prefix application: `fast 2 "bd sn"` is `"bd sn" $ fast 2`."""
    assert _controls('out: s (fast 2 "bd sn")\n') == _controls('out: s "bd sn" $ fast 2\n')


def test_a_signal_where_a_signal_goes_is_still_an_oscillator():
    graph = compile_program("out: sine 440 * 0.1 + saw * 0.01\n")
    assert {"sine", "saw"} <= {n.kind for n in graph.nodes}
    with pytest.raises(PhononError, match="sets a parameter"):
        compile_program("out: pan sine\n")


def test_note_and_n_may_come_first_and_s_names_their_sound():
    """Tidal's `note "0 4 7" # s "arpy"`: the notes are the structure, `# s` names the sound at each of them."""
    events = _controls('out: note "0 4 7" # s "<arpy bd>"\n', 1)
    assert [(t, c) for t, c in events] == [
        (1, {"note": 0, "s": "bd"}), (Fraction(4, 3), {"note": 4, "s": "bd"}), (Fraction(5, 3), {"note": 7, "s": "bd"})]
    assert [c["n"] for _, c in _controls('out: n "0 .. 3" # s "arpy"\n')] == [0, 1, 2, 3]
    e = compile_error('out: note "0 4 7"\n')
    assert (e.line, e.col) == (1, 6) and '# s "arpy"' in e.hint


def test_events_lists_any_pattern_expression(tmp_path):
    """`phonon events EXPR`: mini-notation as before, or any pattern expression of the language; a map of one
    control shows as its value, of more as the map; any failure makes the exit status non-zero."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    def events(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "phonon", "events", *args], input=stdin, text=True,
                              capture_output=True, cwd=Path(__file__).resolve().parents[1], timeout=120)

    lines = ['"0 2 4" $ scale "C:major"', 'n "0 .. 1" # s "arpy"', "bd*2 sn", 's "bd sn" $ fast', 'sine 440 # lpf 300']
    result = events("--json", stdin="\n".join(lines) + "\n")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1 and [r["pattern"] for r in records] == lines
    assert [e["value"] for e in records[0]["events"]] == [48, 52, 55]
    assert [e["value"] for e in records[1]["events"]] == [{"n": 0, "s": "arpy"}, {"n": 1, "s": "arpy"}]
    assert [e["value"] for e in records[2]["events"]] == ["bd", "bd", "sn"]
    assert records[3]["error"].startswith("column 13: fast takes 1 argument")
    assert "a signal, not a pattern" in records[4]["error"]
    ok = events('s "bd*2" # speed (range 1 2 saw)', "--cycles", "2")
    assert ok.returncode == 0 and "(2 cycles, 4 events)" in ok.stdout
    assert events("bd", "--cycles", "0").returncode == 2  # cycles must be positive


def test_the_readme_pattern_table_is_the_registry():
    """Every transform, constructor and continuous pattern is defined once; the README's table derives from
    the registries (a new transform cannot go undocumented)."""
    from pathlib import Path

    from phonon.graph.patterns.reference import pattern_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert pattern_table() in readme, "README's pattern table is stale: paste `python -m phonon.graph.patterns.reference`"


def test_to_scale_takes_its_steps_as_a_list():
    from phonon.graph.compiler import compile_pattern

    def values(text: str) -> list:
        return [h.value for h in compile_pattern(text).onsets(0, 1)]

    assert values('"0 1 2 3" $ toScale [0, 4, 7]') == [0, 4, 7, 12] == values('toScale [0, 4, 7] "0 .. 3"')
    with pytest.raises(PhononError, match="a list of numbers"):
        compile_pattern('"0 1" $ toScale [0, sine]')


SIGNAL_CONTROLLED = "tempo: 1\n~lfo: sine 0.5 * 0.25 + 0.5\n~p: saw 0.25\nout: s \"bd*16 hh*8\" # gain ~lfo # pan ~p\n"


def test_a_signal_as_a_voice_control_is_read_at_each_onset_sample():
    """`# gain ~lfo`: every voice starts with the LFO's value at its own onset sample, whatever the block."""
    import numpy as np

    from phonon.engine.executor import BlockEvaluator
    from phonon.engine.kernels import voices as vk
    from phonon.engine.voices import SampleVoices
    from phonon.graph.plan.schedule import build_schedule

    for block in (64, 512, 4096):
        schedule = build_schedule(compile_program(SIGNAL_CONTROLLED), 44100, block)
        evaluator = BlockEvaluator(schedule, np.zeros(schedule.arena_shape()))
        (host,) = [h for h, _ in evaluator._hosts if isinstance(h, SampleVoices)]
        started, read = [], host.read_signals

        def spy(arena, rows, count, read=read, host=host, evaluator=evaluator):
            read(arena, rows, count)
            started.extend((evaluator._first + int(t[vk.T_OFFSET]), t[vk.T_GAIN]) for t in host.triggers[:count])

        host.read_signals = spy
        for k in range(2 * 44100 // block):
            evaluator.process(k * block, block)
        assert len(started) > 40
        for at, gain in started:
            assert gain == pytest.approx(0.5 + 0.25 * math.sin(2 * math.pi * 0.5 * at / 44100), abs=1e-9)


def test_signal_controlled_voices_render_the_same_at_every_worker_count_and_block():
    import numpy as np

    from phonon.engine.render import render_array

    serial = render_array(SIGNAL_CONTROLLED, seconds=2.0)
    assert np.abs(serial).max() > 0.05
    for workers in (2, 3):
        np.testing.assert_array_equal(render_array(SIGNAL_CONTROLLED, seconds=2.0, workers=workers), serial)
    for block in (64, 2048):
        np.testing.assert_allclose(render_array(SIGNAL_CONTROLLED, seconds=2.0, block=block), serial, atol=1e-6)


def test_only_some_controls_take_signals():
    e = compile_error('~x: sine 1\nout: s "bd" # n ~x\n')
    assert (e.line, e.col) == (2, 15) and "every voice control but n" in e.hint
    compile_program('~x: sine 1\nout: s "bd" # speed ~x # cutoff (~x * 1000 + 2000)\n')  # every other control may


def test_every_signal_control_has_a_trigger_field():
    """The controls the compiler lets a signal give (graph.values) are the ones the voices read from signals."""
    from phonon.engine.voices import SampleVoices, SynthVoices
    from phonon.graph.values import SIGNAL_CONTROLS

    assert set(SampleVoices.SIGNAL_FIELDS) == set(SIGNAL_CONTROLS)
    assert set(SynthVoices.SIGNAL_FIELDS) < set(SIGNAL_CONTROLS)
