"""Fuzzing (issue 10): mutated programs and mini-notation never get a traceback, a hang, a leak or a
non-finite sample, whatever the input.

Seeded, so every run tries the same cases. Each case mutates a valid program or pattern (characters and
tokens inserted, deleted or replaced; numbers swapped for extreme values such as 1e308, -0, nan, 1e-320 or
400-digit strings; spans wrapped in deep brackets), compiles it in process, and renders what compiles
(50 ms, into a real file; every tenth program on two workers). What must hold:

- compiling and rendering either succeed or raise a PhononError with a message, a line and a column; a
  pattern's events are listed or answered with an error record (`phonon events --json`): never another
  exception (a traceback);
- a render that fails leaves no file and no `.partial` behind; one that succeeds writes finite samples;
- no case runs past its time limit (SIGALRM; a kernel that never returns to Python is caught by
  faulthandler, which ends the process with every thread's traceback instead of stalling CI);
- no shared memory in /dev/shm and no child process outlives the cases.

The counts are printed (`pytest -s tests/test_fuzz.py`, or `python tests/test_fuzz.py`) and recorded as
the test's `fuzz` property (junit XML), so a note can cite them.
"""

from __future__ import annotations

import faulthandler
import json
import os
import random
import signal
import sys
import tempfile
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python tests/test_fuzz.py`
    sys.path.insert(0, str(ROOT))

from phonon.graph.errors import PhononError  # noqa: E402

SEED = 10
PROGRAM_CASES = 400
PATTERN_CASES = 200
CASE_LIMIT = 20  # seconds: a hang guard per case (the first renders load many kernels; a case takes ~50 ms)
HARD_LIMIT = 90  # seconds: past this a case is stuck where SIGALRM cannot reach (compiled code)
RENDER_SECONDS = 0.05
SR = 11025

PROGRAMS = [
    "out: sine 440 * 0.2\n",
    "tempo: 0.5\n~lfo: sine 0.25 * 0.5 + 0.5\nout: saw \"55 82.5\" # lpf (~lfo * 2000 + 300) 0.8 * 0.3\n",
    'out: s "bd*2 [sn cp] hh*4" # gain 0.9\n',
    'tempo: 2\no1: saw "c3 e3 g3" 0.01 0.2 0.5 0.3 * 0.2\no2: s "bd(3,8)" $ every 3 (fast 2) # pan "-0.3 0.3"\n',
    "~echo: (~in * 0.4 + ~echo * 0.45) # delay 0.25 0 1 # lpf 2500\n~in: impulse 2\nout: ~echo * 0.5\n",
    "~fb: (~fb * 0.7 + saw 110 * 0.3) # lpf 2000 0.7\nout: ~fb * 0.3 # reverb 0.7 0.5 0.25\n",
    'out: pulse "<440 392> 523.3" 0.3 # adsr 0.01 0.2 0.3 0.3 # delay 0.375 0.45 0.35 * 0.2\n',
    "out: (tri 220 + tri 277.2 + square 329.6) * 0.1 # chorus 0.7 0.5 0.4 # hpf 100 1.5\n",
    'out: s "bd sn" $ fast 2 $ rev # speed "1 2" # note "0 12"\n',
    "bpm: 120\nout: noise # bpf 1000 4 # distortion 3 0.5 # bitcrush 8 1 * 0.1\n",
    "~a: ~b * 0.5 + sine 220 * 0.1\n~b: ~a # delay 0.01 0.2 1\nout: ~a + ~b\noutmix: sqrt\n",
    'out: sine ("100 200" + "10 20 30") * 0.1 # comp -20 4 0.01 0.1 0\n',
    'out: s "[bd sn]*2 <hh [hh hh]>" $ ply 2 $ chop 2 # legato 0.5 # cut 1\n',
    "out: sine (440 + sine 5 * 10) * 0.2 # lpf 2000 :q 0.7\n",
    'out: s "bd*4" # n "0 1 2" # begin 0.25 # end 0.75 # attack 0.01 # release 0.1\n',
    "~x: ~x * 0.99 + sine 3 * 0.01\nout: saw (~x * 100 + 110) * 0.2 # notch 600 2 # hpf 40\n",
]

PATTERNS = [
    "bd sn", "bd*2 [sn cp]", "<a b c>", "bd(3,8,2)", "a . b c", "{a b, c d e}%4", "bd? sn?0.3", "a@3 b _ _",
    "bd:3 sn!2", "0 .. 3", "c4'maj e4", "[a | b | c]", "a*<2 3> b/2", "~ bd - sn", "a, b c",
]

EXTREMES = [
    "1e308", "-1e308", "1e309", "-0", "0", "nan", "inf", "-inf", "1e-320", "4.9e-324", "1e-9", "1e30", "-1",
    "9" * 400, "0." + "0" * 300 + "1", "1e99999", "2147483648", "9223372036854775808", "0.5", "-0.0",
    "1e-" + "9" * 40, "9e" + "9" * 40, "0x10", "1_000",
]
SYNTAX = list("~:$#+-*/|()[],\"' .0123456789eE\n\t_@!?<>{}%") + ["--", "\n  ", "$ ", " # ", "(", ")"]
LETTERS = list("abcdefghijklmnopqrstuvwxyz") + ["sine", "saw", "lpf", "delay", "fast", "s", "out", "~x", "every"]
UNICODE = ["\u0664", "\u00e9", "\u00a0", "\u200b", "\U0001f3b5", "\x00", "\ufeff", "\u2212", "\uff14", "\r"]
MINI_SYNTAX = list("*/!@?_.,<>[]{}()%:~|- ") + ["..", "'maj", "(3,8)", "*1e308", "!100000", "(100000,200000)"]


@dataclass
class Tally:
    """What the cases did. `failures` holds (kind, input, detail) for every case that broke a rule."""

    counts: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    def fail(self, kind: str, text: str, detail: str) -> None:
        self.counts[kind] += 1
        self.failures.append((kind, text, detail))

    def summary(self) -> dict[str, int]:
        keys = ["tries", "compile errors", "render errors", "pattern errors", "renders", "patterns listed",
                "tracebacks", "unlocated errors", "hangs", "files left", "NaN escapes", "leaks"]
        return {k: self.counts[k] for k in keys}


class CaseTimeout(BaseException):  # a BaseException: no `except Exception` in the code under test can swallow it
    pass


def _alarm(signum, frame):
    raise CaseTimeout


# ------------------------------------------------------------------------------------------------ mutation


def _insert(rng: random.Random, text: str, piece: str) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + piece + text[i:]


def _delete(rng: random.Random, text: str) -> str:
    if not text:
        return text
    i = rng.randrange(len(text))
    return text[:i] + text[i + rng.randint(1, 3) :]


def _replace_number(rng: random.Random, text: str) -> str:
    import re

    numbers = list(re.finditer(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text))
    if not numbers:
        return _insert(rng, text, rng.choice(EXTREMES))
    m = rng.choice(numbers)
    return text[: m.start()] + rng.choice(EXTREMES) + text[m.end() :]


def _wrap_deep(rng: random.Random, text: str, brackets: list[tuple[str, str]]) -> str:
    """Wrap a span in 1..200 levels of brackets (past the nesting limit, sometimes)."""
    if not text:
        return text
    i = rng.randrange(len(text))
    j = rng.randint(i, min(len(text), i + 12))
    opening, closing = rng.choice(brackets)
    depth = rng.choice([1, 2, 5, 30, 63, 64, 65, 200])
    return text[:i] + opening * depth + text[i:j] + closing * depth + text[j:]


def _token_edit(rng: random.Random, text: str) -> str:
    tokens = text.split(" ")
    if len(tokens) < 2:
        return text
    i = rng.randrange(len(tokens))
    choice = rng.random()
    if choice < 0.4:
        del tokens[i]
    elif choice < 0.7:
        tokens.insert(i, tokens[rng.randrange(len(tokens))])
    else:
        j = rng.randrange(len(tokens))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    return " ".join(tokens)


def mutate_pattern(rng: random.Random, pattern: str) -> str:
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.3:
            pattern = _insert(rng, pattern, rng.choice(MINI_SYNTAX + LETTERS[:8]))
        elif r < 0.45:
            pattern = _delete(rng, pattern)
        elif r < 0.65:
            pattern = _replace_number(rng, pattern)
        elif r < 0.75:
            pattern = _wrap_deep(rng, pattern, [("[", "]"), ("<", ">"), ("{", "}")])
        elif r < 0.85:
            pattern = _token_edit(rng, pattern)
        else:
            pattern = _insert(rng, pattern, rng.choice(UNICODE + ["\u0662"]))
    return pattern.replace('"', "").replace("\n", " ")


def mutate_program(rng: random.Random, program: str) -> str:
    """Half the cases change only values (numbers and patterns): those mostly compile, and test the engine
    with extreme values; the other half change the text anywhere, and mostly test the error messages."""
    values_only = rng.random() < 0.5
    for _ in range(rng.randint(1, 3)):
        r = 0.32 + 0.6 * rng.random() if values_only else rng.random()
        if values_only and 0.55 <= r < 0.82:
            r = 0.45
        if r < 0.2:
            program = _insert(rng, program, rng.choice(SYNTAX + LETTERS))
        elif r < 0.32:
            program = _delete(rng, program)
        elif r < 0.55:
            program = _replace_number(rng, program)
        elif r < 0.65:
            program = _wrap_deep(rng, program, [("(", ")"), ("[", "]")])
        elif r < 0.75:
            program = _token_edit(rng, program)
        elif r < 0.82:
            program = _insert(rng, program, rng.choice(UNICODE))
        elif r < 0.92:  # a mutated pattern in place of a string, or a new one
            start = program.find('"')
            end = program.find('"', start + 1)
            if start >= 0 and end > start:
                inner = mutate_pattern(rng, program[start + 1 : end])
                program = program[: start + 1] + inner + program[end:]
            else:
                program += f'o9: s "{mutate_pattern(rng, rng.choice(PATTERNS))}"\n'
        else:  # a line of extremes
            program += f"o8: sine {rng.choice(EXTREMES)} # lpf {rng.choice(EXTREMES)} {rng.choice(EXTREMES)}\n"
    return program


# ---------------------------------------------------------------------------------------------------- cases


def _is_located(error: PhononError) -> bool:
    return bool(error.message) and error.line is not None and error.col is not None


def _shm() -> set[str]:
    return {n for n in os.listdir("/dev/shm") if not n.startswith("jack")}


def _children() -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                found.add(int(entry))
    return found


def run_program(text: str, folder: Path, workers: int, tally: Tally) -> None:
    """Compile a program and render 50 ms of it to a file in `folder` (emptied afterwards)."""
    from phonon.engine.render import RenderSettings, duration_frames, render_to_file
    from phonon.graph.compiler import compile_program

    try:
        graph = compile_program(text, "fuzz.phonon")
    except PhononError as e:
        tally.counts["compile errors"] += 1
        if not _is_located(e):
            tally.fail("unlocated errors", text, str(e))
        return
    out = folder / "out.wav"
    try:
        frames = duration_frames(graph, SR, RENDER_SECONDS, None)
        render_to_file(graph, out, frames, RenderSettings(sr=SR), subtype="FLOAT", workers=workers, tiered=False)
    except PhononError as e:
        tally.counts["render errors"] += 1
        if not _is_located(e):
            tally.fail("unlocated errors", text, str(e))
        if os.listdir(folder):
            tally.fail("files left", text, ", ".join(os.listdir(folder)))
        return
    tally.counts["renders"] += 1
    data, _ = sf.read(out)
    if not np.isfinite(data).all():
        tally.fail("NaN escapes", text, f"{int((~np.isfinite(data)).sum())} non-finite samples")
    for name in os.listdir(folder):
        os.unlink(folder / name)


def run_pattern(pattern: str, tally: Tally) -> None:
    """List a pattern's events as `phonon events --json` does: its events, or an error record with a message
    (a syntax error names its column), never an exception."""
    from phonon.graph.patterns import events_record

    record = events_record(pattern, 2)
    if "error" not in record:
        tally.counts["patterns listed"] += 1
        return
    tally.counts["pattern errors"] += 1
    if not record["error"]:
        tally.fail("unlocated errors", pattern, repr(record))


def guarded(tally: Tally, text: str, case) -> None:
    """Run one case under the time limits; anything but a clean outcome is a failure with its traceback."""
    signal.setitimer(signal.ITIMER_REAL, CASE_LIMIT)
    faulthandler.dump_traceback_later(HARD_LIMIT, exit=True)
    try:
        case()
    except CaseTimeout:
        tally.fail("hangs", text, f"still running after {CASE_LIMIT} s")
    except Exception:
        tally.fail("tracebacks", text, traceback.format_exc())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()


def fuzz(seed: int = SEED, programs: int = PROGRAM_CASES, patterns: int = PATTERN_CASES) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    shm, children = _shm(), _children()
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        with tempfile.TemporaryDirectory(prefix="phonon-fuzz-") as tmp:
            folder = Path(tmp)
            for case in range(programs):
                text = mutate_program(rng, rng.choice(PROGRAMS))
                workers = 2 if case % 10 == 9 else 1
                tally.counts["tries"] += 1
                guarded(tally, text, lambda: run_program(text, folder, workers, tally))
            for _ in range(patterns):
                pattern = mutate_pattern(rng, rng.choice(PATTERNS))
                tally.counts["tries"] += 1
                guarded(tally, pattern, lambda: run_pattern(pattern, tally))
    finally:
        signal.signal(signal.SIGALRM, previous)
    if _shm() - shm:
        tally.fail("leaks", "(all cases)", f"/dev/shm entries left: {sorted(_shm() - shm)}")
    if _children() - children:
        tally.fail("leaks", "(all cases)", f"child processes left: {sorted(_children() - children)}")
    return tally


def test_mutated_programs_and_patterns_never_break_the_rules(record_property):
    tally = fuzz()
    summary = tally.summary()
    record_property("fuzz", json.dumps(summary))
    print("\nfuzz:", json.dumps(summary))
    report = "\n\n".join(f"[{kind}] {text!r}\n{detail}" for kind, text, detail in tally.failures[:10])
    assert not tally.failures, f"{summary}\n\n{report}"
    assert summary["renders"] > 50 and summary["compile errors"] > 20 and summary["patterns listed"] > 20


if __name__ == "__main__":
    result = fuzz()
    print(json.dumps(result.summary()))
    for kind, text, detail in result.failures:
        print(f"\n[{kind}] {text!r}\n{detail}")
