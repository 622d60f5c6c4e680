"""Evaluate a schedule block by block over an arena it is handed (a numpy array; the parallel runtime hands
it one that lives in shared memory). Python touches each batch once per block; nothing is allocated per
block once running."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numba
import numpy as np

from phonon.engine.binding import bind
from phonon.engine.controls import SteppedControl
from phonon.engine.fused import part_runner
from phonon.engine.master import RUNAWAY_LEVEL, copy_rows, mute_runaway, nonfinite_rows, silence_nonfinite
from phonon.engine.samples import SampleBank, SampleError, SampleLibrary
from phonon.engine.voices import SampleVoices, SynthVoices
from phonon.graph.errors import PhononError
from phonon.graph.plan.schedule import Batch, ChainStage, LoopStage, Schedule
from phonon.graph.signal_graph import Node

_NO_STATE = np.zeros((1, 1))


def _load(fn: Callable, call: tuple) -> None:
    """Compile (or load from the cache) the overload of a jitted function for this call's argument types (a
    plain Python function has nothing to load)."""
    if isinstance(fn, numba.core.registry.CPUDispatcher):
        fn.compile(tuple(numba.typeof(a) for a in call))


@dataclass
class Incident:
    """Something a part contained: a node whose output went non-finite (its samples were silenced and its
    state reset), or a feedback loop that ran away (`kind` "runaway": silenced for the rest of the render)."""

    node: int
    where: str
    sample: int
    kind: str = "nonfinite"

    def warning(self, sr: int) -> str:
        """What the user is told about it."""
        at = f"{self.sample / sr:.3f} s"
        if self.kind == "runaway":
            return (
                f"warning: {self.where} ran away at {at} (its level passed {RUNAWAY_LEVEL:g}, far above any "
                "musical level); the loop was silenced for the rest of the render"
            )
        return f"warning: {self.where} produced NaN/inf at {at}; its output was silenced and its state reset"


def log_incident(log: np.ndarray, incident: Incident) -> None:
    """Append an incident to a part's shared log (int64: [count, code, sample, code, sample, ...]; the code is
    the node, or -1 - node for a runaway loop), so the master can report what happened in a worker."""
    k = int(log[0])
    if 2 * k + 2 < len(log):
        log[1 + 2 * k] = incident.node if incident.kind == "nonfinite" else -1 - incident.node
        log[2 + 2 * k] = incident.sample
        log[0] += 1


def logged_incidents(log: np.ndarray, schedule: Schedule) -> list[Incident]:
    """The incidents `log_incident` wrote into `log`, described from `schedule`."""
    found = []
    for k in range(min(int(log[0]), (len(log) - 1) // 2)):
        code, sample = int(log[1 + 2 * k]), int(log[2 + 2 * k])
        node, kind = (code, "nonfinite") if code >= 0 else (-1 - code, "runaway")
        where = schedule.graph.nodes[node].where() + schedule.loop_description(node)
        found.append(Incident(node, where, sample, kind))
    return found


@dataclass
class BlockEvaluator:
    """Runs one schedule (a whole program, or one part of it) in `arena` ([rows, block]).

    In a parts runtime the part also has `ring` ([slots, handoff rows, span]): what crosses between parts
    and to the master. `imports` ([2, n]: arena rows, slot rows) are copied in before each block, `exports`
    (the same shape) copied out after it; the rows that never leave the part stay in the arena, which stays
    in the cache. Exports (or, standalone, the outputs) are checked after every block, and if one went
    non-finite the part contains it before anyone reads it. Incidents are also written to `log` (int64:
    [count, node, sample, node, sample, ...]) when given, so a master can report what happened in a worker
    process."""

    schedule: Schedule
    arena: np.ndarray
    samples: Callable[[], SampleBank] | SampleBank | None = None  # the sample bank, or what makes it
    exports: np.ndarray | None = None
    log: np.ndarray | None = None
    ring: np.ndarray | None = None
    imports: np.ndarray | None = None
    incidents: list[Incident] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.schedule
        if self.arena.shape != s.arena_shape():
            raise ValueError(f"arena shape {self.arena.shape} does not match the schedule's {s.arena_shape()}")
        s.fill_constants(self.arena)
        none = np.zeros((2, 0), dtype=np.int64)
        self.imports = none if self.imports is None else self.imports
        self.exports = none if self.exports is None else self.exports
        # The rows checked for non-finite samples after every block: what leaves the part (standalone: the
        # outputs). Standalone, the "ring" is an empty slot: nothing is copied in or out.
        outputs = np.unique(np.array(list(s.output_rows.values()), dtype=np.int64))
        self._checked = self.exports[0] if self.ring is not None else outputs
        self._found_checked = np.zeros(len(self._checked), dtype=np.int64)
        self._no_ring = np.zeros((0, s.block))
        # Nodes the host fills from pattern events: (filler, its first arena row). Those that read no signal
        # (all of them today) are filled a whole runtime step ahead, into `_ahead`, and copied into the arena
        # block by block: one Python call per node and step instead of per block (their output does not
        # depend on how the timeline is split: invariant 2).
        self._hosts: list[tuple[SteppedControl | SampleVoices | SynthVoices, int]] = []
        self._ahead_hosts: list[tuple[SteppedControl | SampleVoices | SynthVoices, int]] = []  # row in _ahead
        self._block_hosts: list[tuple[SteppedControl | SampleVoices | SynthVoices, int]] = []  # the others
        self._signal_rows: dict[int, np.ndarray] = {}  # id of a block host -> the arena rows of its inputs
        self._first = 0  # the absolute sample of the block being computed (for the block hosts)
        ahead_rows: list[int] = []
        for stage in s.stages:
            if isinstance(stage, Batch) and stage.host_filled:
                for i, n in enumerate(stage.nodes):
                    node, row = s.graph.nodes[n], int(stage.wiring[i, 0])
                    host = self._host_for(node)
                    self._hosts.append((host, row))
                    if not node.inputs:
                        self._ahead_hosts.append((host, len(ahead_rows)))
                        ahead_rows += range(row, row + node.rows)
                    else:  # it reads signals (`# gain ~lfo`): filled in its stage's place, block by block
                        self._block_hosts.append((host, row))
                        self._signal_rows[id(host)] = stage.wiring[i, 1 : 1 + len(node.inputs)].copy()
        self._ahead_rows = np.array([ahead_rows, range(len(ahead_rows))], dtype=np.int64).reshape(2, -1)
        step = self.ring.shape[-1] if self.ring is not None else s.block
        self._ahead = np.zeros((len(ahead_rows), step if ahead_rows else 0))
        self._guards: dict[int, list[int]] = {}  # stage index -> rows silenced where non-finite after it
        self._prepare_loop_guards()
        self._bound = [bind(stage) for stage in s.stages]  # each stage's code and arrays (a chain's scratch)
        self._version = -1  # of the segments: `_build_segments` counts up
        self._build_segments()
        self._order_rows = np.array([s.node_row[n] for n in s.order], dtype=np.int64)
        self._found = np.zeros(len(s.order), dtype=np.int64)
        self._reported: set[object] = set()  # units (a node, or a loop) already reported
        self._chain_of = {id(b): c for c in s.stages if isinstance(c, ChainStage) for b in c.links}

    def _prepare_loop_guards(self) -> None:
        """Every feedback loop of the part gets a guard (engine.master.mute_runaway) run right after it, so a
        loop that runs away is silenced before anything reads it, in whichever part and tier it runs."""
        s = self.schedule
        loop_stages = [(i, st) for i, st in enumerate(s.stages) if isinstance(st, LoopStage)]
        self._runaway = np.zeros((len(loop_stages), 3))  # per loop guard: [muted, row index, column]
        self._runaway_count = np.zeros(1, dtype=np.int64)  # loops muted so far (written by the guards)
        self._runaway_seen = 0
        self._loop_guards: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # stage index -> (rows, state)
        self._loop_guard_nodes: list[list[int]] = []  # per loop guard: the node of each of its rows
        for g, (index, stage) in enumerate(loop_stages):
            outputs = {n: s.graph.nodes[n].rows for n in stage.loop.nodes}
            owned = [(n, s.node_row[n] + k) for n in stage.loop.nodes for k in range(outputs[n])]
            rows = np.array([row for _, row in owned], dtype=np.int64).reshape(-1, 1)
            self._loop_guards[index] = (rows, self._runaway[g : g + 1])
            self._loop_guard_nodes.append([n for n, _ in owned])

    def _host_for(self, node: Node) -> SteppedControl | SampleVoices | SynthVoices:
        cps, sr = self.schedule.graph.cps, self.schedule.sr
        if node.kind == "pattern":
            return SteppedControl(node.pattern, cps, sr)
        if node.kind == "synth":
            return SynthVoices(node, cps, sr)
        if self.samples is None:
            self.samples = default_samples(sr)
        if not isinstance(self.samples, SampleBank):
            self.samples = self.samples()
        return SampleVoices(node, cps, sr, self.samples)

    def voice_stats(self) -> tuple[int, int]:
        """(voices stolen, most voices playing at once in one node) so far."""
        pools = [h for h, _ in self._hosts if not isinstance(h, SteppedControl)]
        return sum(int(h.stats[0]) for h in pools), max((int(h.stats[1]) for h in pools), default=0)

    def _build_segments(self) -> None:
        """Runs of batch calls (kernel, arrays), each followed by a loop (runner, arrays, step) or None."""
        self._segments: list[tuple[list, tuple | None]] = []
        calls: list[tuple[Callable, tuple]] = []  # (kernel, its arrays after the arena)
        for index, bound in enumerate(self._bound):
            stage = self.schedule.stages[index]
            hosts = [(h, r) for h, r in self._block_hosts if isinstance(stage, Batch) and r in stage.wiring[:, 0]]
            if hosts:  # after the stages that compute what it reads
                calls.append((self._filler(hosts), ()))
            if bound is not None and bound.step is not None:
                self._segments.append((calls, (bound.fn, bound.arrays, bound.step)))
                calls = []
            elif bound is not None:
                calls.append((bound.fn, bound.arrays))
            if index in self._loop_guards:
                calls.append((mute_runaway, (*self._loop_guards[index], self._runaway_count)))
            if index in self._guards:
                rows = np.array(self._guards[index], dtype=np.int64).reshape(-1, 1)
                calls.append((silence_nonfinite, (rows, _NO_STATE)))
        self._segments.append((calls, None))
        self._runner = None  # the fused part runner, once installed (see `fused_runner`)
        self._version += 1  # a runner made for older segments is never installed

    def _filler(self, hosts: list) -> Callable:
        """A call in the segments that fills host nodes reading signals, in their stage's place."""

        def fill(arena: np.ndarray, start: int, stop: int) -> None:
            for host, row in hosts:
                host.fill(arena, row, self._first + start, stop - start, self._signal_rows[id(host)])

        return fill

    def fused_runner(self) -> tuple[Callable, tuple, int] | None:
        """This schedule's part runner (engine/fused.py, not yet compiled), its arguments after (arena, ring,
        ..., block), and the version of the segments it runs; None when a host fills a node between blocks
        (one that reads a signal), which a compiled step cannot call, and for a part with nothing to compute."""
        if self._block_hosts or not (self.schedule.stages or self._ahead_hosts):  # (or nothing to compute)
            return None
        items, args, steps = [], [], []
        for calls, loop in self._segments:
            for fn, arrays in calls:
                items.append((fn, len(arrays), False))
                args += arrays
            if loop is not None:
                runner, loop_args, step = loop
                items.append((runner, len(loop_args), True))
                args += loop_args
                steps.append(step)
        return part_runner(items), (np.array(steps, dtype=np.int64), *args), self._version

    def runner_call(self, args: tuple) -> tuple:
        """A whole call of the part runner with its arguments `args`, as `process` makes it (for its types)."""
        return (*self._runner_head(self._no_ring), 0, 0, 0, self.schedule.block, *args)

    def _runner_head(self, ring: np.ndarray) -> tuple:
        return (self.arena, ring, self.imports, self.exports, self._checked, self._ahead, self._ahead_rows,
                self._found_checked, self._runaway_count)

    def install(self, runner: Callable, args: tuple, version: int) -> bool:
        """Run each step as one call of `runner` from now on, unless the segments changed since it was made
        (a node got guarded after going non-finite). Same kernels, same order: the same samples."""
        if version != self._version:
            return False
        self._runner_args, self._runner = args, runner
        return True

    def fuse(self) -> None:
        """Use the part runner from now on (numba compiles it, or loads it from its cache, at the first block)."""
        fused = self.fused_runner()
        if fused is not None:
            self.install(*fused)

    def load_code(self) -> None:
        """Compile, or load from numba's disk cache, everything this part calls, without computing anything:
        the master does it before the workers fork, so they inherit the code instead of each compiling or
        loading its own copy."""
        arena = self.arena
        for calls, loop in self._segments:
            for fn, arrays in calls:
                _load(fn, (arena, *arrays, 0, 0))
            if loop is not None:
                runner, args, step = loop
                _load(runner, (arena, 0, 0, step, *args))
        _load(copy_rows, (arena, self.imports[0], 0, self._no_ring, self.imports[1], 0, 0))
        _load(nonfinite_rows, (arena, self._checked, 0, self._found_checked))
        for host, row in self._ahead_hosts:  # an empty fill: the kernel is typed and loaded, no event is taken
            host.fill(self._ahead, row, 0, 0)
        for host, row in self._block_hosts:
            host.fill(arena, row, 0, 0, self._signal_rows[id(host)])

    def process(self, first_sample: int, n: int, slot: int = 0) -> None:
        """Compute absolute samples [first_sample, first_sample + n), a block at a time, into ring slot
        `slot`'s columns [0, n) (standalone, without a ring: into the arena's columns [0, n), n at most a
        block). With a part runner installed, its one call computes the step; Python steps in only where a
        guard fired, to contain what went wrong before the block leaves the part."""
        ring = self.ring[slot] if self.ring is not None else self._no_ring
        arena, imports, exports = self.arena, self.imports, self.exports
        ahead, ahead_rows = self._ahead, self._ahead_rows
        for host, row in self._ahead_hosts:
            host.fill(ahead, row, first_sample, n)
        block, offset = self.schedule.block, 0
        while offset < n:
            m = min(block, n - offset)
            if self._runner is not None:
                head = self._runner_head(ring)
                offset = self._runner(*head, self._runaway_seen, offset, n, block, *self._runner_args)
                if offset >= n:
                    break
                m = min(block, n - offset)
                self._attend(first_sample + offset, m)  # the runner stopped at this block: a guard fired
            else:
                copy_rows(arena, imports[0], 0, ring, imports[1], offset, m)
                copy_rows(arena, ahead_rows[0], 0, ahead, ahead_rows[1], offset, m)
                self._block(first_sample + offset, m)
            copy_rows(ring, exports[1], offset, arena, exports[0], 0, m)
            offset += m

    def _block(self, first_sample: int, n: int) -> None:
        """One block on the batched kernels (the host-filled nodes that read no signal are already filled; the
        others fill in their stage's place)."""
        arena, self._first = self.arena, first_sample
        for calls, loop in self._segments:
            for fn, arrays in calls:
                fn(arena, *arrays, 0, n)
            if loop is not None:
                runner, args, step = loop
                runner(arena, 0, n, step, *args)
        self._attend(first_sample, n)

    def _attend(self, first_sample: int, n: int) -> None:
        """After a block: report a loop that ran away, and contain non-finite samples before they leave."""
        if self._runaway_count[0] != self._runaway_seen:
            self._report_runaway(first_sample)
        if nonfinite_rows(self.arena, self._checked, n, self._found_checked):
            self.contain_nonfinite(first_sample, n)

    def _report_runaway(self, first_sample: int) -> None:
        """Report each loop its guard muted in this block, once (the guard keeps it silent from then on)."""
        s = self.schedule
        for g, nodes in enumerate(self._loop_guard_nodes):
            muted, which, offset = self._runaway[g]
            node = nodes[int(which)]
            unit = s.unit_of(node)
            if muted and unit not in self._reported:
                self._reported.add(unit)
                where = s.graph.nodes[node].where() + s.loop_description(node)
                self._record(Incident(node, where, first_sample + int(offset), "runaway"))
        self._runaway_seen = int(self._runaway_count[0])

    def _record(self, incident: Incident) -> None:
        if self.log is not None:
            log_incident(self.log, incident)
        self.incidents.append(incident)

    def contain_nonfinite(self, first_sample: int, n: int) -> list[Incident]:
        """Silence every node whose block went non-finite and reset its state, so one bad block cannot poison
        filters and delays forever; the node where it started is guarded from then on (its non-finite samples
        are silenced before anything reads them), so the rest of the program keeps playing. Returns new
        incidents, each node (or loop) reported once."""
        arena = self.arena
        if nonfinite_rows(arena, self._order_rows, n, self._found) == 0:
            return []
        s = self.schedule
        found = {s.order[i] for i in np.flatnonzero(self._found)}
        bad = set(found)
        for loop in s.feedback.loops:  # a loop is reset as a whole: its delays already stored the bad values
            if bad.intersection(loop.nodes):
                bad.update(loop.nodes)
        new = []
        for node_id in s.order:
            if node_id not in bad:
                continue
            unit = s.unit_of(node_id)
            batch, i = s.node_batch[node_id]
            chain = self._chain_of.get(id(batch))
            links = chain.links if chain is not None else [batch]  # a chain's links go wrong (and restart) together
            partners = [b.nodes[i] for b in links]
            inputs = (s.feedback.resolve(x) for n in partners for x in s.graph.nodes[n].inputs)
            from_outside_bad = any(
                isinstance(x, int) and x in bad and s.unit_of(x) != unit and x not in partners for x in inputs
            )
            row = arena[s.node_row[node_id], :n]
            if node_id in found and not from_outside_bad and unit not in self._reported:
                self._reported.add(unit)
                if not isinstance(unit, tuple):  # from now on, silence it before anything downstream reads it
                    self._guards.setdefault(s.stage_of(node_id), []).append(s.node_row[node_id])
                    if chain is not None:
                        chain.guarded[i] = True  # inside the lane kernel: before its sums read it
                at = first_sample + int(np.flatnonzero(~np.isfinite(row))[0])
                where = s.graph.nodes[node_id].where() + s.loop_description(node_id)
                new.append(Incident(node_id, where, at))
            row[~np.isfinite(row)] = 0.0
            for b in links:
                b.state[i, b.first_mutable :] = 0.0
        if new:
            self._build_segments()
        for incident in new:
            self._record(incident)
        return new


def default_samples(sr: int, folders: list | None = None) -> SampleBank:
    """The sample bank over the standard search path (and `folders` first)."""
    try:
        return SampleBank(SampleLibrary(folders, sr=sr), sr=sr)
    except SampleError as e:
        raise PhononError(e.message, hint=e.hint) from None
