"""The benchmark workloads of DESIGN.md, defined once. `python -m benchmarks.workloads` (re)writes them to
examples/bench/*.phonon.

Voice i (0-based): `saw (55 * (1 + (i % 24) / 12)) # lpf (1000 + 10 * i) 0.7`, summed, times 0.005.
"""

from __future__ import annotations

from pathlib import Path

VOICE_COUNTS = {"simple": 4, "moderate": 20, "heavy": 100, "extreme": 500}
BUS8X_OUTPUTS, BUS8X_VOICES = 8, 25


def voice(i: int) -> str:
    return f"saw (55 * (1 + {i % 24} / 12)) # lpf (1000 + 10 * {i}) 0.7"


def voices_program(n: int) -> str:
    lines = [f"-- {n} saw->lpf voices summed into out: (benchmarks/workloads.py)"]
    lines += [f"~v{i}: {voice(i)}" for i in range(n)]
    lines.append("out: (" + " + ".join(f"~v{i}" for i in range(n)) + ") * 0.005")
    return "\n".join(lines) + "\n"


def bus8x_program(feedback: bool = False) -> str:
    """8 outputs of 25 voices, each through `delay 0.25 0.5`; with `feedback`, each output's delay (wet
    only, a pure delay: steps of 0.25 s) feeds back into that output's own input."""
    what = "fed back into its input" if feedback else "each through a delay"
    lines = [f"-- {BUS8X_OUTPUTS} outputs of {BUS8X_VOICES} voices, {what} (benchmarks/workloads.py)"]
    for o in range(BUS8X_OUTPUTS):
        first = o * BUS8X_VOICES
        lines += [f"~v{i}: {voice(i)}" for i in range(first, first + BUS8X_VOICES)]
        total = " + ".join(f"~v{i}" for i in range(first, first + BUS8X_VOICES))
        if feedback:
            lines += [f"~mix{o}: ({total}) * 0.005 + ~echo{o} * 0.5", f"~echo{o}: ~mix{o} # delay 0.25 0.5 1"]
            lines.append(f"o{o + 1}: ~mix{o}")
        else:
            lines.append(f"o{o + 1}: ({total}) * 0.005 # delay 0.25 0.5")
    return "\n".join(lines) + "\n"


def three_node_programs(copies: int = 20) -> tuple[str, str]:
    """`copies` three-node chains (mix -> lpf -> dist), with and without a one-sample feedback loop."""
    looped, acyclic = ["-- one-sample loops"], ["-- the same nodes without the loops"]
    for i in range(copies):
        looped.append(f"~x{i}: (saw {55 + i} + ~x{i} * 0.5) # lpf {800 + 10 * i} # dist 2")
        acyclic.append(f"~x{i}: (saw {55 + i} + tri {55 + i} * 0.5) # lpf {800 + 10 * i} # dist 2")
    for lines in (looped, acyclic):
        lines.append("out: (" + " + ".join(f"~x{i}" for i in range(copies)) + ") * 0.01")
    return "\n".join(looped) + "\n", "\n".join(acyclic) + "\n"


def dispatch_program(n: int = 1000) -> str:
    """n trivial nodes in a chain that nothing can fold or batch: one kernel call per node per block."""
    lines = ["-- dispatch overhead: a chain of nodes that cannot be folded or batched", "~n0: sine 1"]
    for i in range(1, n):
        lines.append(f"~n{i}: ~n{i - 1} * ~n0" if i % 2 else f"~n{i}: ~n{i - 1} / (~n0 + 2)")
    lines.append(f"out: ~n{n - 1} * 0.1")
    return "\n".join(lines) + "\n"


def all_workloads() -> dict[str, str]:
    programs = {name: voices_program(n) for name, n in VOICE_COUNTS.items()}
    programs["bus8x"] = bus8x_program()
    programs["bus8x_feedback"] = bus8x_program(feedback=True)
    from benchmarks.drums import drum_program

    programs["drums"] = drum_program()
    return programs


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in all_workloads().items():
        path = folder / f"{name}.phonon"
        path.write_text(text)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write(Path(__file__).resolve().parent.parent / "examples" / "bench"):
        print(p)
