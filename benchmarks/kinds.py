"""What each node kind costs, in ns per sample per node, beside the cost its definition declares (`cost_ns`,
which the partitioner and the cost model plan with).

    python -m benchmarks.kinds                 every kind with code
    python -m benchmarks.kinds ladder vowel    some

Each kind runs as a batch of 8 nodes over blocks of 512 samples, its inputs a signal and parameters held at
the middle of their range (the common case: coefficients computed once); the time is the best of 7 rounds of
50 blocks, every kind measured in turn in each round, so drifts of the machine's speed fall on all alike
(benchmarks/contention.py: the speed of one vCPU here varies by tens of percent). The ratio measured/declared
tells where `cost_ns` is stale.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from phonon.engine.kernels import KERNELS, load_all
from phonon.graph.kinds import KINDS, Kind, Param

SR, BLOCK, BLOCKS, ROUNDS, BATCH = 44100, 512, 50, 7, 8


def _held(p: Param | None) -> float:
    lo = p.lo if p is not None and p.lo is not None else 0.0
    hi = p.hi if p is not None and p.hi is not None else 1.0
    if p is not None and p.default is not None:
        return p.default
    return lo + 0.5 * (min(hi, lo + 1000.0) - lo)


def batch(kind: Kind) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arena, wiring and state of BATCH nodes of the kind: a 220 Hz sine as the signal, parameters held."""
    params = {p.name: p for f in kind.functions[:1] for p in f.params}
    fixed = kind.functions[0].fixed if kind.functions else {}
    signal = 0.5 * np.sin(2 * np.pi * 220 * np.arange(BLOCK) / SR)
    rows = [np.zeros(BLOCK) for _ in range(BATCH * kind.outputs)]
    wiring = np.full((BATCH, 1 + len(kind.inputs)), -1, dtype=np.int64)
    for i in range(BATCH):
        wiring[i, 0] = i * kind.outputs
        for j, name in enumerate(kind.inputs):
            wiring[i, 1 + j] = len(rows)
            is_signal = name in ("input", "other", "a", "b") or (name not in params and not kind.variadic)
            rows.append(signal.copy() if is_signal else np.full(BLOCK, _held(params.get(name))))
    state = np.zeros((BATCH, 1 + len(kind.consts) + kind.state_size(SR)))
    state[:, 0] = SR
    for c, name in enumerate(kind.consts):
        state[:, 1 + c] = fixed.get(name, 0.0)
    return np.array(rows), wiring, state


def measure(names: list[str]) -> dict[str, float]:
    """ns per sample per node, best of ROUNDS, the kinds interleaved."""
    runs = {}
    for name in names:
        arena, wiring, state = batch(KINDS[name])
        kernel = KERNELS[name]
        kernel(arena, wiring, state, 0, BLOCK)  # compiled (or loaded) before timing
        runs[name] = (kernel, arena, wiring, state)
    best = {name: float("inf") for name in names}
    for _ in range(ROUNDS):
        for name, (kernel, arena, wiring, state) in runs.items():
            t0 = time.perf_counter()
            for _ in range(BLOCKS):
                kernel(arena, wiring, state, 0, BLOCK)
            best[name] = min(best[name], (time.perf_counter() - t0) / (BLOCKS * BLOCK * BATCH) * 1e9)
    return best


def main(argv: list[str]) -> None:
    load_all()
    known = sorted(k for k in KERNELS if KINDS[k].functions and not KINDS[k].variadic)
    names = argv or known
    unknown = [n for n in names if n not in known]
    if unknown:
        sys.exit(f"no kernel kind {', '.join(unknown)}; the kinds: {' '.join(known)}")
    costs = measure(names)
    print(f"{'kind':<22} {'ns/sample':>10} {'declared':>9} {'ratio':>6}")
    for name in names:
        declared = KINDS[name].cost_ns
        print(f"{name:<22} {costs[name]:>10.1f} {declared:>9.1f} {costs[name] / declared:>6.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
