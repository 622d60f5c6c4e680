"""The per-voice state-variable filters, many lanes at once, written in LLVM IR (numba's `intrinsic`).

A voice's filter is a recursion along time (each sample's state is the last sample's, changed), and the voices
are independent of each other. So 4 lanes ride in one vector of 4 doubles, a pass runs up to 4 such vectors
(16 lanes) side by side, each one's recursion filling the others' wait on their last sample, and the state
stays in registers from the chunk's first sample to its last. The lanes are stored lane-major (a voice's
samples contiguous, as the raw lanes are written and mixed), so 4 samples of 4 lanes come in as 4 vector
loads, are transposed in registers into 4 time steps, filtered, transposed back and stored; a count that is
not a multiple of 4 ends with its last samples one at a time.

LLVM finds none of this in a scalar loop: with the lanes innermost (vectorised) the state goes through memory
on every sample, and with time innermost one lane runs at a time, waiting on itself. The arithmetic is
`engine.kernels.filters.svf_step`'s, operation for operation (fused multiply-adds only where the product is
exact, so they round as the two operations do), so a lane's samples are the same to the bit as that scalar
step's, whichever lanes share its pass.
"""

from __future__ import annotations

import numba as nb
from llvmlite import binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.extending import intrinsic

from phonon.engine.kernels import FLUSH  # a state below it (or NaN) is 0 on every sample: no denormals, no NaN kept

LOW, HIGH, BAND = 0, 1, 2  # the filter's output: lowpass v2, highpass v0 - k v1 - v2, bandpass g v1
MAX_GROUPS = 4  # vectors of 4 lanes in one pass: 16 lanes interleave enough to hide the recursion's latency
WORK_ROWS = 7  # a filter's work array: rows a1 a2 a3 (coefficients), g0 g1 (output gains), s1 s2 (state)

_HAS_FMA = "+fma" in llvm.get_host_cpu_features().flatten().split(",")  # else llvm.fma is a library call
_I32, _I64, _DOUBLE = ir.IntType(32), ir.IntType(64), ir.DoubleType()
_QUAD = ir.VectorType(_DOUBLE, 4)
_PAIRS = ((0, 4, 2, 6), (1, 5, 3, 7))  # (a0 b0 a2 b2) and (a1 b1 a3 b3) from vectors a and b
_HALVES = ((0, 1, 4, 5), (2, 3, 6, 7))  # (p0 p1 q0 q1) and (p2 p3 q2 q3) from pair vectors p and q


def _mask(lanes: tuple) -> ir.Constant:
    return ir.Constant(ir.VectorType(_I32, len(lanes)), [ir.Constant(_I32, k) for k in lanes])


def _splat(x: float) -> ir.Constant:
    return ir.Constant(_QUAD, [ir.Constant(_DOUBLE, x)] * 4)


def _transpose(builder: ir.IRBuilder, a, b, c, d) -> tuple:
    """The 4x4 block whose rows are a, b, c, d, transposed: its columns (eight shuffles)."""
    ab = [builder.shuffle_vector(a, b, _mask(p)) for p in _PAIRS]
    cd = [builder.shuffle_vector(c, d, _mask(p)) for p in _PAIRS]
    return tuple(builder.shuffle_vector(ab[k], cd[k], _mask(h)) for h in _HALVES for k in (0, 1))


class _Codegen:
    """The IR of one pass: `groups` vectors of 4 lanes, output `out`; the coefficients from work, or sample by
    sample from a coefficient array when the pass has one (`varying`)."""

    def __init__(self, context, builder: ir.IRBuilder, signature, args, groups: int, out: int, varying: bool):
        x_arg, lane0, col0, count, work_arg, coefficients_arg = args[:6]
        self.builder, self.groups, self.out, self.count = builder, groups, out, count
        x = context.make_array(signature.args[0])(context, builder, x_arg)
        work = context.make_array(signature.args[4])(context, builder, work_arg)
        self.x, self.work = x.data, work.data
        x_row = cgutils.unpack_tuple(builder, x.shape)[1]
        work_row = cgutils.unpack_tuple(builder, work.shape)[1]
        # where lane lane0 + i's samples begin in x
        self.rows = [builder.add(builder.mul(x_row, builder.add(lane0, self.const(i))), col0)
                     for i in range(4 * groups)]
        self.work_at = lambda k, g: builder.add(builder.mul(work_row, self.const(k)),
                                                builder.add(lane0, self.const(4 * g)))
        self.varying = None
        if varying:  # coefficient k of lane lane0 + 4 g + i at sample q: data[(k samples + q) lanes + lane0 + 4 g + i]
            table = context.make_array(signature.args[5])(context, builder, coefficients_arg)
            _, samples, lanes = cgutils.unpack_tuple(builder, table.shape)
            self.varying = (table.data, samples, lanes, lane0)
        fabs_type = ir.FunctionType(_QUAD, [_QUAD])
        self.fabs = cgutils.get_or_insert_function(builder.module, fabs_type, "llvm.fabs.v4f64")
        fma_type = ir.FunctionType(_QUAD, [_QUAD] * 3)
        self.fma = cgutils.get_or_insert_function(builder.module, fma_type, "llvm.fma.v4f64") if _HAS_FMA else None

    def const(self, k: int) -> ir.Constant:
        return ir.Constant(_I64, k)

    def quad_pointer(self, data, index):
        return self.builder.bitcast(self.builder.gep(data, [index]), _QUAD.as_pointer())

    def load_work(self, k: int, g: int):
        return self.builder.load(self.quad_pointer(self.work, self.work_at(k, g)), align=8)

    def at(self, constant: list, g: int, q) -> tuple:
        """Group g's (a1, a2, a3, g0, g1) at sample q: the pass's constants, or a1 a2 a3 of that sample."""
        if self.varying is None:
            return constant[g]
        b = self.builder
        data, samples, lanes, lane0 = self.varying
        lane = b.add(lane0, self.const(4 * g))
        loaded = [b.load(self.quad_pointer(data, b.add(b.mul(b.add(b.mul(samples, self.const(k)), q), lanes), lane)),
                         align=8) for k in range(3)]
        return (*loaded, *constant[g][3:])

    def flushed(self, v):
        b = self.builder
        return b.select(b.fcmp_ordered(">", b.call(self.fabs, [v]), _splat(FLUSH)), v, _splat(0.0))

    def exact_product_plus(self, a, b, c):
        """a b + c where the product a b is exact (a is 2, or g0 = 0 or 1): one rounding either way, so a fused
        multiply-add gives the same bits as the two operations, in one instruction."""
        if self.fma is None:
            return self.builder.fadd(self.builder.fmul(a, b), c)
        return self.builder.call(self.fma, [a, b, c])

    def step(self, v0, s1, s2, coefficients: tuple) -> tuple:
        """`svf_step` on 4 lanes, then the output: (y, new s1, new s2)."""
        b = self.builder
        a1, a2, a3, g0, g1 = coefficients
        v3 = b.fsub(v0, s2)
        v1 = b.fadd(b.fmul(a1, s1), b.fmul(a2, v3))
        v2 = b.fadd(b.fadd(s2, b.fmul(a2, s1)), b.fmul(a3, v3))
        n1 = self.exact_product_plus(_splat(2.0), v1, b.fneg(s1))
        n2 = self.exact_product_plus(_splat(2.0), v2, b.fneg(s2))
        if self.out == LOW:
            y = self.exact_product_plus(g0, v0, v2)
        elif self.out == HIGH:
            y = b.fsub(b.fadd(v0, b.fmul(g1, v1)), v2)
        else:
            y = b.fadd(b.fmul(g0, v0), b.fmul(g1, v1))
        return y, self.flushed(n1), self.flushed(n2)

    def emit(self) -> None:
        b, groups = self.builder, self.groups
        coefficients = [tuple(self.load_work(k, g) for k in range(5)) for g in range(groups)]
        state = [(self.load_work(5, g), self.load_work(6, g)) for g in range(groups)]
        entry = b.block
        blocks_head, block = b.append_basic_block("svf.blocks"), b.append_basic_block("svf.block")
        tail_head, tail = b.append_basic_block("svf.tail"), b.append_basic_block("svf.tail_sample")
        done = b.append_basic_block("svf.done")
        whole = b.and_(self.count, self.const(~3))
        b.branch(blocks_head)

        # 4 samples of every lane per iteration, the groups' steps interleaved
        b.position_at_end(blocks_head)
        j, state = self.loop_head(entry, state)
        b.cbranch(b.icmp_signed("<", j, whole), block, tail_head)
        b.position_at_end(block)
        steps = []
        for g in range(groups):
            rows = [b.load(self.quad_pointer(self.x, b.add(self.rows[4 * g + i], j)), align=8) for i in range(4)]
            steps.append(_transpose(b, *rows))
        new, outputs = [list(s) for s in state], [[] for _ in range(groups)]
        for k in range(4):
            for g in range(groups):
                y, new[g][0], new[g][1] = self.step(steps[g][k], new[g][0], new[g][1],
                                                    self.at(coefficients, g, b.add(j, self.const(k))))
                outputs[g].append(y)
        for g in range(groups):
            for i, row in enumerate(_transpose(b, *outputs[g])):
                b.store(row, self.quad_pointer(self.x, b.add(self.rows[4 * g + i], j)), align=8)
        self.loop_latch(j, 4, state, new)
        b.branch(blocks_head)

        # the last count % 4 samples one at a time
        b.position_at_end(tail_head)
        jt, tail_state = self.loop_head(blocks_head, state, start=j)
        b.cbranch(b.icmp_signed("<", jt, self.count), tail, done)
        b.position_at_end(tail)
        new = []
        for g in range(groups):
            pointers = [b.gep(self.x, [b.add(self.rows[4 * g + i], jt)]) for i in range(4)]
            v0 = ir.Constant(_QUAD, ir.Undefined)
            for i, p in enumerate(pointers):
                v0 = b.insert_element(v0, b.load(p, align=8), ir.Constant(_I32, i))
            y, s1, s2 = self.step(v0, *tail_state[g], self.at(coefficients, g, jt))
            for i, p in enumerate(pointers):
                b.store(b.extract_element(y, ir.Constant(_I32, i)), p, align=8)
            new.append((s1, s2))
        self.loop_latch(jt, 1, tail_state, new)
        b.branch(tail_head)

        b.position_at_end(done)
        for g in range(groups):
            for k, s in zip((5, 6), tail_state[g]):
                b.store(s, self.quad_pointer(self.work, self.work_at(k, g)), align=8)

    def loop_head(self, before, state: list, start=None) -> tuple:
        """A loop's counter and state (phis), entered from block `before` with `start` (0) and `state`."""
        b = self.builder
        j = b.phi(_I64)
        j.add_incoming(self.const(0) if start is None else start, before)
        phis = []
        for s in state:
            pair = (b.phi(_QUAD), b.phi(_QUAD))
            for phi, value in zip(pair, s):
                phi.add_incoming(value, before)
            phis.append(pair)
        return j, phis

    def loop_latch(self, j, step: int, phis: list, new: list) -> None:
        b = self.builder
        j.add_incoming(b.add(j, self.const(step)), b.block)
        for pair, values in zip(phis, new):
            for phi, value in zip(pair, values):
                phi.add_incoming(value, b.block)


@intrinsic
def _svf_pass(typingctx, x, lane0, col0, count, work, coefficients, groups, out):
    if not (isinstance(groups, types.IntegerLiteral) and isinstance(out, types.IntegerLiteral)):
        return None  # both pick the IR: literals only
    varying = not isinstance(coefficients, types.NoneType)
    arrays = (x, work, coefficients) if varying else (x, work)
    if not all(isinstance(a, types.Array) and a.ndim == (3 if a is coefficients else 2) and a.layout == "C"
               and a.dtype == types.float64 for a in arrays):
        return None
    sig = types.void(x, types.int64, types.int64, types.int64, work, coefficients, groups, out)

    def codegen(context, builder, signature, args):
        _Codegen(context, builder, signature, args, groups.literal_value, out.literal_value, varying).emit()
        return context.get_dummy_value()

    return sig, codegen


@nb.njit(cache=True, inline="always")
def filter_lanes(x, lane0: int, col0: int, count: int, work, coefficients, groups: int, out: int) -> None:
    """Lanes lane0 .. lane0 + 4 groups - 1 (rows of x, C-contiguous float64), samples col0 .. col0 + count - 1,
    through their SVFs in place. Lane i's coefficients a1 a2 a3, output gains g0 g1 and state s1 s2 are in
    column i of work's WORK_ROWS rows (the state is written back), or, with a coefficient table (float64
    [3, >= count, lanes]; None: work's), its a1 a2 a3 at the pass's sample q in coefficients[0:3, q, i]. The
    output: low g0 v0 + v2, high v0 + g1 v1 - v2, band g0 v0 + g1 v1, with g0 0 or 1 (1 and zero coefficients
    and state pass a lane through unchanged). `groups` (1..MAX_GROUPS) and `out` are literals."""
    if lane0 < 0 or lane0 + 4 * groups > min(x.shape[0], work.shape[1]) or col0 < 0 or count < 0:
        raise IndexError("filter_lanes: lanes or samples outside x or work")
    if col0 + count > x.shape[1] or work.shape[0] < WORK_ROWS:
        raise IndexError("filter_lanes: lanes or samples outside x or work")
    if coefficients is not None:
        if coefficients.shape[0] < 3 or count > coefficients.shape[1] or lane0 + 4 * groups > coefficients.shape[2]:
            raise IndexError("filter_lanes: lanes or samples outside the coefficients")
    _svf_pass(x, lane0, col0, count, work, coefficients, groups, out)


@nb.njit(cache=True, inline="always")
def filter_rows(x, col0: int, count: int, work, coefficients, out: int) -> None:
    """Every row of x (a multiple of 4 of them) through `filter_lanes`, 16 lanes to a pass, the last one 4, 8
    or 12."""
    rows = x.shape[0]
    lane0 = 0
    while rows - lane0 >= 4 * MAX_GROUPS:
        filter_lanes(x, lane0, col0, count, work, coefficients, MAX_GROUPS, out)
        lane0 += 4 * MAX_GROUPS
    rest = (rows - lane0) // 4
    if rest == 3:
        filter_lanes(x, lane0, col0, count, work, coefficients, 3, out)
    elif rest == 2:
        filter_lanes(x, lane0, col0, count, work, coefficients, 2, out)
    elif rest == 1:
        filter_lanes(x, lane0, col0, count, work, coefficients, 1, out)
