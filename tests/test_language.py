"""The language front end: grammar, positions, name resolution, folding, and every compile error path."""

from __future__ import annotations

from fractions import Fraction

import pytest

from phonon.graph import ast
from phonon.graph.analysis import reachable
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from phonon.graph.parser import parse
from tests.compiling import compile_error


def error_of(text: str) -> PhononError:
    with pytest.raises(PhononError) as info:
        compile_program(text, "prog.phonon")
    return info.value


def live_kinds(text: str) -> list[str]:
    g = compile_program(text)
    return sorted(g.nodes[n].kind for n in reachable(g))


# ---- grammar ----------------------------------------------------------------------------------------------


def test_statement_forms_and_targets():
    p = parse("tempo: 0.5\n~a: sine 1\n~b $ saw 2\nout: ~a\no2 $ ~b\nd3: ~a\nout4: ~b\noutmix: sqrt\n")
    assert [s.target for s in p.statements] == ["tempo", "~a", "~b", "out", "o2", "d3", "out4", "outmix"]


def test_numbers_in_every_form():
    p = parse("out: mix 440 0.5 .5 -3 1e3 2.\n")
    values = [a.value for a in p.statements[0].expr.args]
    assert values == [440, Fraction(1, 2), Fraction(1, 2), -3, 1000, 2]


def test_negative_number_argument_versus_subtraction():
    (st,) = parse("out: comp -20 4 0.01 0.1 6\n").statements
    assert st.expr.args[0].value == -20
    (st,) = parse("out: 55-3\n").statements
    assert isinstance(st.expr, ast.BinOp) and st.expr.op == "-"


def test_chain_binds_loosest_and_arithmetic_precedence():
    (st,) = parse("out: saw 110 # lpf 800 0.7 * 0.5 + 1\n").statements
    chain = st.expr
    assert isinstance(chain, ast.Chain)
    assert isinstance(chain.right, ast.BinOp) and chain.right.op == "+"
    assert chain.right.left.op == "*" and chain.right.left.left.name == "lpf"


def test_calls_take_atoms_and_keywords():
    (st,) = parse('out: reverb (sine 2 * 3) 0.5 :mix 0.2 # lpf "300 3000"\n').statements
    call = st.expr.left
    assert call.name == "reverb" and isinstance(call.args[0], ast.BinOp)
    assert call.keywords[0].name == "mix" and call.keywords[0].value.value == Fraction(1, 5)
    assert st.expr.right.args[0] == ast.String("300 3000", ast.Pos(1, 45))


def test_comments_and_continuation_lines():
    text = """-- a comment
~bass: saw 55   -- trailing comment
    # lpf 800 0.7
-- a comment line between a statement and its continuation

    * 0.5
out: ~bass
+ 0
"""
    p = parse(text)
    assert [s.target for s in p.statements] == ["~bass", "out"]
    bass = p.statements[0].expr
    assert isinstance(bass, ast.Chain) and bass.right.op == "*"
    assert p.statements[1].expr.op == "+"


def test_positions_are_kept():
    (st,) = parse("\n\nout:   sine   440\n").statements
    assert st.pos == ast.Pos(3, 1)
    assert st.expr.pos == ast.Pos(3, 8)
    assert st.expr.args[0].pos == ast.Pos(3, 15)


def test_long_sums_do_not_recurse():
    text = "out: " + " + ".join(f"sine {i + 1}" for i in range(3000)) + "\n"
    g = compile_program(text)
    sines = {n.id for n in g.nodes if n.kind == "sine"}
    mixes = [n for n in g.nodes if n.kind == "mix"]
    assert len(sines) == 3000 and all(len(m.inputs) <= 16 for m in mixes)
    assert sorted(i for m in mixes for i in m.inputs if i in sines) == sorted(sines)  # each summed once


def test_wide_sums_split_into_fixed_chunks():
    g = compile_program("out: (" + " + ".join(f"sine {i + 1}" for i in range(40)) + ") * 0.5 + 1\n")
    top = g.nodes[g.outputs[0][0]]
    assert top.consts == (1.0, 1.0, 1.0, 1.0) and len(top.inputs) == 3
    assert [len(g.nodes[c].inputs) for c in top.inputs] == [16, 16, 8]
    assert all(g.nodes[c].consts[1:] == (0.5,) * len(g.nodes[c].inputs) for c in top.inputs)


# ---- resolution and folding --------------------------------------------------------------------------------


def test_forward_reference_resolves():
    g = compile_program("out: ~later * 0.3\n~later: sine 440\n")
    (sine,) = [n for n in g.nodes if n.kind == "sine"]
    assert g.buses["later"] == sine.id
    assert live_kinds("out: ~later * 0.3\n~later: sine 440\n") == ["mix", "sine"]


def test_bus_is_shared_not_reinstantiated():
    kinds = live_kinds("~s: saw 55\no1: ~s # lpf 300\no2: ~s # hpf 300\n")
    assert kinds.count("saw") == 1 and kinds.count("svf") == 2


def test_constants_fold_and_linear_forms_become_one_node():
    assert live_kinds("out: sine (55 * (1 + 3 / 12)) * 0.5 + 0.25\n") == ["mix", "sine"]
    g = compile_program("~a: sine 1\n~b: sine 2\n~c: sine 3\nout: (~a + ~b - ~c) * 0.5 + 1\n")
    (mix,) = [n for n in g.nodes if n.kind == "mix"]
    assert mix.consts == (1.0, 0.5, 0.5, -0.5)
    g = compile_program("out: 2 * 3 + 4\n")
    assert g.outputs[0] == (10.0, 10.0)


def test_gain_amp_mix_stack_fold_into_arithmetic():
    assert live_kinds("out: sine 1 # gain 0.5 # amp 2\n") == ["sine"]
    assert live_kinds("out: mix (sine 1) (saw 2) (tri 3)\n") == ["mix", "saw", "sine", "tri"]
    assert live_kinds("out: stack [sine 1, saw 2]\n") == ["mix", "saw", "sine"]


def test_signal_times_signal_and_division():
    assert live_kinds("out: sine 1 * saw 2\n") == ["mul", "saw", "sine"]
    assert live_kinds("out: sine 1 / (saw 2 + 3)\n") == ["div", "mix", "saw", "sine"]
    assert live_kinds("out: sine 1 / 0\n") == []  # division by zero is 0, folded away


def test_envelopes_multiply_the_chained_signal():
    assert live_kinds("out: sine 440 # adsr 0.01 0.1 0.5 0.2\n") == ["adsr", "mul", "sine"]


def test_dollar_application_injects_into_the_function():
    a = compile_program("out: lpf 2000 0.8 $ saw 440\n")
    (svf,) = [n for n in a.nodes if n.kind == "svf"]
    assert a.nodes[svf.inputs[0]].kind == "saw" and svf.inputs[1:] == (2000.0, 0.8)


def test_defaults_and_keywords():
    g = compile_program("out: saw 110 # delay 0.25 :mix 0.8\n")
    (d,) = [n for n in g.nodes if n.kind == "delay"]
    assert d.inputs[1:] == (0.25, 0.5, 0.8)
    assert compile_program("out: sine\n").nodes[0].inputs == (1.0,)  # a bare oscillator is a 1 Hz LFO


def test_tempo_bpm_and_outmix():
    assert compile_program("out: sine 1\n").cps == Fraction(1, 2)
    assert compile_program("tempo: 0.75\nout: sine 1\n").cps == Fraction(3, 4)
    assert compile_program("cps: 2\nout: sine 1\n").cps == 2
    assert compile_program("bpm: 120\nout: sine 1\n").cps == 2
    assert compile_program("outmix: sqrt\nout: sine 1\n").outmix == "sqrt"


@pytest.mark.parametrize(
    "line, cps",
    [
        ("cps: 130/60/4", Fraction(13, 24)),  # arithmetic, exact
        ("cps: (1 + 1) / 4", Fraction(1, 2)),
        ("cpm: 30", Fraction(1, 2)),  # Strudel's setcpm
        ('bpm: 130 "4/4"', Fraction(13, 24)),  # Tidal and Strudel: four beats per cycle
        ('bpm: 90 "3/4"', Fraction(1, 2)),
        ('bpm: 140 "7/8"', Fraction(1, 3)),
        ("bpm: 130", Fraction(13, 6)),  # the original Phonon: one beat per cycle
    ],
)
def test_tempo_lines_as_tidal_and_strudel_users_write_them(line, cps):
    graph = compile_program(f"{line}\nout: sine 1\n")
    assert graph.cps == cps
    if line == "bpm: 130":  # and `phonon graph` says what plain bpm means
        assert "one beat per cycle" in graph.tempo and 'bpm: 130 "4/4"' in graph.tempo


@pytest.mark.parametrize(
    "line, col, message",
    [
        ('tempo: 0.5 "4/4"', 12, "only bpm takes a time signature"),
        ('bpm: 120 "x/4"', 10, "is not a time signature"),
        ("cps: 1/0", 1, "takes a positive number, or arithmetic of numbers"),
        ("cps: saw 3", 1, "takes a positive number"),
        ('o1: (sine 2 # lpf 300 0.5) "x"', 28, "only `bpm: N \"4/4\"` takes one"),
    ],
)
def test_bad_tempo_lines_are_located_errors(line, col, message):
    e = compile_error(f"{line}\nout: sine 1\n")
    assert (e.line, e.col) == (1, col) and message in e.message, e


def test_outputs_by_channel():
    g = compile_program("out: sine 1\no1: sine 2\nd2: sine 3\nout3: sine 4\n")
    assert sorted(g.outputs) == [0, 1, 2, 3]


def test_auto_routing_without_outputs():
    g = compile_program("~a: sine 440\n")
    (mix,) = [n for n in g.nodes if n.kind == "mix"]
    assert mix.consts == (0.0, 0.25) and g.notes
    g = compile_program("~x: saw 1\n~master: sine 440\n")
    assert g.outputs[0] == (g.buses["master"],) * 2
    g = compile_program("~d1: sine 1\n~d2: sine 2\n~other: saw 3\n")
    (mix,) = [n for n in g.nodes if n.kind == "mix"]
    assert mix.consts == (0.0, 1.0, 1.0)


def test_unused_buses_are_compiled_but_not_evaluated():
    g = compile_program("~unused: saw 3\nout: sine 1\n")
    assert [g.nodes[n].kind for n in reachable(g)] == ["sine"]
    assert error_of("~unused: sawx 3\nout: sine 1\n").line == 1


# ---- errors ----------------------------------------------------------------------------------------------


def test_parse_error_names_position_shows_caret_and_expectation():
    e = error_of("out: sine 440 +\n")
    assert (e.line, e.col) == (1, 16)
    text = str(e)
    assert text.startswith("prog.phonon:1:16: error: unexpected end of line")
    assert "out: sine 440 +\n" + " " * 17 + "^" in text
    assert "a number" in text


def test_parenthesised_call_syntax_is_explained():
    e = error_of("out: lpf(800, 0.7)\n")
    assert (e.line, e.col) == (1, 13)
    assert "space-separated" in str(e)


def test_single_quotes_and_hash_comments_are_explained():
    assert "double quotes" in str(error_of("out: s 'bd'\n"))
    e = error_of("# a comment\nout: sine 1\n")
    assert e.line == 1


def test_unknown_function_suggests():
    e = error_of("~a: sine 1\nout: sinee 440\n")
    assert (e.line, e.col, e.message) == (2, 6, "unknown function 'sinee'")
    assert "did you mean 'sine'" in str(e)


def test_unknown_bus_suggests_and_lists():
    e = error_of("~bass: saw 55\nout: ~bas\n")
    assert (e.line, e.col) == (2, 6) and "did you mean '~bass'" in str(e)
    assert "defined buses: ~bass" in str(error_of("~bass: saw 55\nout: ~zzzz\n"))


def test_argument_count_errors_name_the_signature():
    e = error_of("out: lpf 1 2 3 4 5\n")
    assert "lpf takes at most 3 arguments, got 5" in e.message and "usage: lpf input cutoff [q=1]" in str(e)
    e = error_of("out: saw 55 # lpf\n")
    assert "lpf needs its 'cutoff' argument" in e.message and "usage: lpf input cutoff [q=1]" in str(e)
    e = error_of("out: saw 55 # comp -20 4 0.01\n")
    assert "comp needs its 'release' argument" in e.message


def test_keyword_errors():
    e = error_of("out: saw 55 # reverb 0.5 0.5 :mixx 0.2\n")
    assert (e.line, e.col) == (1, 30) and "did you mean ':mix'" in str(e)
    assert "given twice" in error_of("out: saw 55 # reverb 0.5 0.5 0.2 :mix 0.2\n").message


def test_loop_closing_references_become_feedback_nodes():
    g = compile_program("~a: ~b + 1\n~b: ~c * 2\n~c: ~a\nout: ~a\n")
    (fb,) = [n for n in g.nodes if n.kind == "feedback"]
    assert (fb.pos.line, fb.pos.col) == (3, 5) and fb.text == "~a -> ~b -> ~c -> ~a"
    assert fb.inputs == (g.buses["a"],)
    (fb,) = [n for n in compile_program("~fb: ~fb * 0.5 + sine 1\nout: ~fb\n").nodes if n.kind == "feedback"]
    assert fb.text == "~fb -> ~fb"


def test_statement_errors():
    assert "defined twice" in error_of("~a: sine 1\n~a: sine 2\nout: ~a\n").message
    assert "defined twice" in error_of("o1: sine 1\no1: sine 2\n").message
    assert "tempo takes a positive number" in error_of("tempo: ~x\nout: sine 1\n").message
    assert "outmix takes one of" in error_of("outmix: loud\nout: sine 1\n").message
    e = error_of("bass: saw 55\nout: sine 1\n")
    assert "unknown statement 'bass'" in e.message and "~bass" in str(e)
    assert "nothing to play" in error_of("tempo: 1\n").message


def test_chain_needs_a_function():
    e = error_of("out: sine 1 # 0.5\n")
    assert "needs a function on its right" in e.message and e.col == 15
