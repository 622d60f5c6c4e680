"""Orbits (graph/orbits.py): voices send to their orbit's reverb (`room`) and delay (`delay`); each orbit's effects
are one chain of ordinary nodes, an output of its own (`orbitN`), with settings from the latest event on the orbit.

Test sounds (a Dirt-Samples style folder, `PHONON_SAMPLES`): `click` 10 frames of 0.5, `noise` 0.2 s of white noise
in +-0.25 (seeded). `# attack -1 # release -1` plays a sample without ramps, so a click is ten samples of 0.5 times
the centre pan gain. Tempo 1: a cycle is 44100 samples.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from phonon.engine.render import render_array
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from phonon.graph.orbits import ORBIT_OUTPUT
from tests.audio import assert_same_for_every_split, render_stereo

SR = 44100
CLICK = 10
FLAT = "# attack -1 # release -1"


@pytest.fixture(scope="module", autouse=True)
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("orbits") / "samples"
    noise = np.random.default_rng(3).uniform(-0.25, 0.25, SR // 5)
    for name, data in (("click", np.full(CLICK, 0.5)), ("noise", noise)):
        (folder / name).mkdir(parents=True)
        sf.write(str(folder / name / "00.wav"), data.astype(np.float32), SR, subtype="FLOAT")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHONON_SAMPLES", str(folder))
        yield folder


def stem(program: str, name: str, cycles: float = 1, **kw) -> np.ndarray:
    """One output of `tempo: 1` + program, as it enters the master (what `render --stems` writes)."""
    graph = compile_program(f"tempo: 1\n{program}\n")
    return render_array(graph.only_output(name), cycles=cycles, **kw)


def kinds(program: str) -> list[str]:
    return [n.kind for n in compile_program(f"tempo: 1\n{program}\n").nodes]


def test_two_orbits_reverbs_are_independent():
    wet = 'out: s "noise" # room 0.6 # size 0.9\no1: s "noise" # orbit 1 # room 0.3 # size 0.2'
    other = 'out: s "noise" # room 0.2 # size 0.1\no1: s "noise" # orbit 1 # room 0.3 # size 0.2'
    graph = compile_program(f"tempo: 1\n{wet}\n")
    assert [graph.output_name(c) for c in sorted(graph.outputs)] == ["out", "o1", "orbit0", "orbit1"]
    tail = slice(SR // 5 + 2000, SR // 2)  # after the noise (0.2 s) has ended
    big, small = stem(wet, "orbit0"), stem(wet, "orbit1")
    assert np.sqrt(np.mean(big[tail] ** 2)) > 3 * np.sqrt(np.mean(small[tail] ** 2)) > 0  # size 0.9: a longer tail
    for name in ("o1", "orbit1"):  # orbit 0's room and size change nothing of orbit 1
        assert np.array_equal(stem(wet, name), stem(other, name))
    assert not np.any(stem(wet, "o1")[SR // 5 + 200 :])  # a voice's own output is dry: no tail


def test_an_orbit_without_sends_has_no_reverb():
    program = 'out: s "noise" # room 0.5\no1: s "noise" # orbit 1'
    graph = compile_program(f"tempo: 1\n{program}\n")
    assert ORBIT_OUTPUT + 1 not in graph.outputs and ORBIT_OUTPUT in graph.outputs
    assert np.array_equal(stem(program, "o1"), stem('out: s "noise"\no1: s "noise" # orbit 1', "o1"))


def test_the_echo_comes_at_delaytime_and_decays_by_delayfeedback():
    program = f'out: s "click" {FLAT} # delay 0.5 # delaytime 0.1 # delayfeedback 0.5'
    dry, echoes = stem(program, "out")[:, 0], stem(program, "orbit0")[:, 0]
    d = round(0.1 * SR)
    assert not np.any(echoes[:d])
    np.testing.assert_array_equal(echoes[d : d + CLICK], 0.5 * dry[:CLICK])  # the send level, exactly
    for k in (2, 3, 4):  # each repeat delayfeedback times the one before
        np.testing.assert_allclose(echoes[k * d : k * d + CLICK], 0.5 ** k * dry[:CLICK], rtol=1e-12)
        assert not np.any(echoes[(k - 1) * d + CLICK : k * d])


def test_delaysync_counts_cycles():
    program = f'tempo: 2\nout: s "click" {FLAT} # delay 1 # delaysync 0.5 # delaytime 0.4 # delayfeedback 0'
    graph = compile_program(program)
    echoes = render_array(graph.only_output("orbit0"), cycles=1)[:, 0]
    at = np.flatnonzero(echoes)
    assert at[0] == round(0.5 / 2 * SR) and len(at) == CLICK  # half a cycle at 2 cycles per second; one echo


def test_the_latest_event_on_the_orbit_sets_the_delay_time_at_its_onset():
    program = f'out: s "click click" {FLAT} # delay 1 # delaytime "0.1 0.2" # delayfeedback 0'
    echoes = stem(program, "orbit0")[:, 0]
    at = np.flatnonzero(echoes)
    assert list(at[::CLICK]) == [round(0.1 * SR), SR // 2 + round(0.2 * SR)]


def test_settings_come_from_any_voices_on_the_orbit():
    sender = f's "click" {FLAT} # delay 1 # delayfeedback 0'
    program = f'out: {sender}\no1: s "~ click" {FLAT} # delaytime 0.05 # gain 0'  # sets orbit 0's time at 0.5 s
    echoes = stem(program, "orbit0", cycles=2)[:, 0]
    assert list(np.flatnonzero(echoes)[::CLICK]) == [round(0.25 * SR), SR + round(0.05 * SR)]


def test_the_send_is_per_voice():
    program = f'out: s "click*2" {FLAT} # delay "1 0" # delaytime 0.1 # delayfeedback 0'
    at = np.flatnonzero(stem(program, "orbit0")[:, 0])
    assert list(at[::CLICK]) == [round(0.1 * SR)]  # only the first click echoes


def test_dry_scales_the_reverb_return_as_superdirt():
    base = 'out: s "noise" # room 0.5 # size 0.5'
    full, half = stem(base, "orbit0"), stem(base + " # dry 0.5", "orbit0")
    np.testing.assert_allclose(half, 0.5 * full, rtol=1e-12, atol=1e-15)
    assert not np.any(stem(base + " # dry 1", "orbit0"))
    assert np.array_equal(stem(base + " # dry 1", "out"), stem(base, "out"))  # the dry sound is the voice's own


def test_synth_voices_send_too():
    program = 'out: saw "c3" # delay 0.5 # delaytime 0.1 # delayfeedback 0'
    dry, echoes = stem(program, "out")[:, 0], stem(program, "orbit0")[:, 0]
    d = round(0.1 * SR)
    np.testing.assert_array_equal(echoes[d : 2 * d], 0.5 * dry[:d])


def test_no_send_costs_nothing():
    plain = 's "noise click" # gain 0.8'
    assert kinds(f"out: {plain} # room 0 # delay 0 # size 0.9") == kinds(f"out: {plain}")
    assert "reverb" not in kinds(f'out: {plain} # room "0 0"') and "delay" not in kinds(f"out: {plain} # delay 0")
    assert np.array_equal(render_array(f"tempo: 1\nout: {plain} # room 0", cycles=1),
                          render_array(f"tempo: 1\nout: {plain}", cycles=1))


def test_delay_with_more_arguments_is_still_the_function_on_the_sum():
    graph = compile_program('tempo: 1\nout: s "noise" # delay 0.25 0.5\n')
    assert "delay" in [n.kind for n in graph.nodes] and list(graph.outputs) == [0]


def test_a_send_level_from_a_signal_makes_the_bus():
    assert "reverb" in kinds('~r: "0.4 0"\nout: s "noise*2" # room ~r')


def test_the_master_mixes_the_orbits_in():
    program = 'out: s "noise" # room 0.4'
    master = render_array(f"tempo: 1\n{program}\n", cycles=1)
    np.testing.assert_allclose(master, stem(program, "out") + stem(program, "orbit0"), rtol=0, atol=1e-15)


@pytest.mark.parametrize("orbit, fragment", [("99", "orbit 99"), ('"<0 1.5>"', "orbit 1.5"), ("-1", "orbit -1")])
def test_an_orbit_out_of_range_is_an_error_at_its_place(orbit, fragment):
    with pytest.raises(PhononError) as e:
        compile_program(f'tempo: 1\nout: s "click" # room 0.3 # orbit {orbit}\n')
    assert fragment in e.value.message and e.value.line == 2 and e.value.col > 20


def test_orbit_takes_no_signal():
    with pytest.raises(PhononError) as e:
        compile_program('tempo: 1\n~o: sine 1\nout: s "click" # room 0.3 # orbit ~o\n')
    assert "orbit takes a number or a pattern" in e.value.message and e.value.line == 3


PROGRAM = """tempo: 1.3
out: s "noise click*3" # room "0.6 0 0.3" # size "<0.4 0.9>" # dry "0 0.2" # delay "0 0.4" # delaytime "0.11 0.2"
o1: s "click*4 noise" # orbit "1 0" # delay 0.5 # delaysync "0.125 0.25" # delayfeedback "<0.3 0.7>" # room 0.2
o2: saw "c3 e3" # orbit 1 # room "0.5 0.1" # size 0.3 # gain 0.5
"""


def test_every_case_renders_the_same_for_every_block_size_and_worker_count():
    assert_same_for_every_split(PROGRAM, cycles=2.5)


def test_a_render_does_not_depend_on_what_the_process_compiled_before():
    """The compiler knew pattern nodes by the id of a pattern object that could die while it compiled; another
    pattern could then take its id, and its control played the first one's. A render then depended on the heap
    (on what the process had rendered before: `phonon play` compiles every reload in one process)."""
    program = (
        'tempo: 1.3\nout: s "noise click*3" # room "0.6 0 0.3" # size "<0.4 0.9>" # dry "0 0.2" # delay "0 0.4"'
        ' # delaytime "0.11 0.2"\no2: saw "c3 e3" # orbit 1 # room "0.5 0.1" # size 0.3 # gain 0.5\n'
    )
    first = render_stereo(program, cycles=2.5)
    render_stereo("o1: sine 440", seconds=0.3, block=256)
    again = render_stereo(program, cycles=2.5)
    assert np.array_equal(first, again)
