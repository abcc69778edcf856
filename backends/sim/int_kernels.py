"""Simulator kernels of the integer nodes (:mod:`snnc.ir.intnodes`).

All arrays are int64. Every shift, wrap, saturation, decay and threshold test is a function
of :mod:`snnc.ir.intops` (the same definitions the C emitter writes), so the simulator cannot
drift from the other backends; the kernels only add, select and call those functions.
Additions are plain int64 additions; with the widths of real targets (Lava: 32-bit sums of
24-bit states) they cannot overflow.

Sums of products (dense matmul, convolution) are exact: :func:`snnc.ir.intops.matmul` and the
convolution below use float32 BLAS when every product and partial sum is an integer below 2**23
in magnitude, float64 BLAS below 2**52 (bound = max over outputs of sum |w| times max |input|;
then float arithmetic is exact in any summation order), and int64 arithmetic otherwise. A wrap
to a width that holds the same bound is the identity and is skipped.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intnodes as IN
from snnc.ir import intops as O
from snnc.ir.shapes import conv_padding, dims

from . import events, ops
from .kernels import Kernel, NeuronKernel, batch_chunks, register
from .narrow_lif import NarrowCubaLIF


def _shift_exp(acc, e: int):
    """:func:`snnc.ir.intops.shift_exp` for a scalar exponent ``e != 0``: by its definition
    ``shl(acc, e)`` if e > 0 else ``asr(acc, -e)`` (one shift instead of both and a select)."""
    return O.shl(acc, e) if e > 0 else O.asr(acc, -e)


def _binary(node) -> bool:
    return node.input_kind == "binary"


def _spikes(x) -> np.ndarray:
    """= :func:`snnc.ir.intops.binarize`, kept as bool (1 byte per value); bool input as it is."""
    x = np.asarray(x)
    return x if x.dtype == np.bool_ else np.not_equal(x, 0)


#: a binary synapse reads only x != 0: any integer dtype in gives the same result
_READS_SPIKES = property(lambda kernel: _binary(kernel.node))


@register(IN.IntDense)
class IntDenseKernel(Kernel):
    """``IntDense``: binarize (binary input) -> exact sum -> wrap(acc_bits) -> shift_exp ->
    wrap(out_bits). ``x: int64[*lead, n_in]`` -> ``int64[*lead, n_out]``."""

    def __init__(self, *a):
        super().__init__(*a)
        self.node.validate(self.name)
        self.w_t = np.ascontiguousarray(np.asarray(self.node.weight, np.int64).T)
        self.w_t_float = self.w_t.astype(np.float64)
        self.w_t_float32 = self.w_t.astype(np.float32)
        self.w_bound = O.column_abs_sum_max(self.w_t_float)
        # event sums accumulate in int32 when no subset sum of a column can leave int32
        self.w_t_events = self.w_t.astype(np.int32) if self.w_bound < 2.0 ** 31 - 1 else self.w_t
        #: event-driven execution of binary inputs: 'auto' (per call, from the measured
        #: activity), 'events' or 'dense' (forced; :mod:`.events`)
        self.event_mode = "auto"
        #: the way the last call took ('events' | 'columns' | 'dense'), for tests and benches
        self.last_way = None

    takes_narrow_input = _READS_SPIKES

    def apply(self, x):
        n = self.node
        if _binary(n):
            x = _spikes(x)
        xmax = 1 if _binary(n) else (int(np.abs(x).max()) if x.size else 0)
        acc = self._sum(x, xmax) if _binary(n) else self._dense(x, xmax)
        # |acc| <= w_bound * xmax: a wrap to a width that holds that bound is the identity, skip it
        bound = self.w_bound * xmax
        if n.acc_bits < 64 and bound >= 2.0 ** (n.acc_bits - 1) - 1:
            acc = O.wrap(acc, n.acc_bits)
            bound = 2.0 ** (n.acc_bits - 1)
        if n.weight_exp:
            acc = _shift_exp(acc, int(n.weight_exp))
            bound = bound * 2.0 ** n.weight_exp + 1
        if n.out_bits < 64 and bound >= 2.0 ** (n.out_bits - 1) - 1:
            acc = O.wrap(acc, n.out_bits)
        return acc

    def _dense(self, x, xmax, w_t=None):
        full = w_t is None
        return O.matmul(x, self.w_t if full else w_t, max_abs_x=xmax,
                        w_t_float=self.w_t_float if full else None, w_bound=self.w_bound,
                        w_t_float32=self.w_t_float32 if full else None)

    def _sum(self, s, xmax):
        """Exact ``s @ w_t`` for spikes ``s: bool[*lead, n_in]``: dense, active columns only, or
        events (:mod:`.events`), chosen from the activity; identical results every way."""
        lead = s.shape[:-1]
        s2 = s.reshape(-1, s.shape[-1])
        way, live = events.choose(s2, self.event_mode)
        self.last_way = way
        if way == "events":
            acc = events.event_sum(s2, self.w_t_events)
        elif way == "columns":
            # w_bound of the full matrix still bounds every partial sum of the smaller product
            acc = self._dense(s2[:, live], xmax, self.w_t[live])
        else:
            acc = self._dense(s2, xmax)
        return acc.reshape(*lead, acc.shape[-1])


@register(IN.IntConv2d)
class IntConv2dKernel(Kernel):
    """``IntConv2d``: binarize -> exact cross-correlation (+ bias) -> shift_exp -> wrap(out_bits).
    ``x: int64[*lead, C_in, H, W]`` -> ``int64[*lead, C_out, Ho, Wo]``, or int32 when
    :attr:`narrow_output` is set and the float32 path ran (every value then below 2**23 before
    the bias; the bias is added in int32 only when the bound proves it stays inside int32)."""

    #: True when every consumer of this kernel accepts a narrower integer dtype (set by the
    #: simulator): the float32 path then writes int32 (half the bytes) instead of int64
    narrow_output = False
    #: pack several output channels into one float matmul row when the bound allows
    #: (:meth:`_packing`; False: never, for tests and benches)
    pack_channels = True
    #: most output channels packed into one matmul row (each more digit costs unpacking passes)
    max_pack = 4
    #: products per output (C_in/groups * kH * kW) from which packing pays: measured at batch 32
    #: on PilotNet-like shapes, 2 channels per row: k = 27 1.02-1.11x slower, k = 36 even,
    #: k = 54..216 0.83-0.93x (float32, 1 BLAS thread)
    pack_min_k = 48

    #: bytes per value of the narrow output (int32)
    narrow_itemsize = 4
    takes_narrow_input = _READS_SPIKES
    #: the float paths write their sums straight into a given array (a delayed edge's history)
    writes_into = True

    def __init__(self, *a):
        super().__init__(*a)
        node = self.node
        node.validate(self.name)
        self.w = np.asarray(node.weight, np.int64)
        self.w_bound = O.column_abs_sum_max(self.w.reshape(self.w.shape[0], -1).T)
        # exact when w_bound < 2**23, which the float32 path needs unless the input is all 0
        self.w_float32 = self.w.astype(np.float32)
        self.stride = dims(node.stride, 2, "stride", self.name)
        self.dil = dims(node.dilation, 2, "dilation", self.name)
        self.pad = conv_padding(node, self.in_shape[1:], self.name)
        self.bias = None if node.bias is None else np.asarray(node.bias, np.int64).reshape(-1, 1, 1)
        self.bias_bound = 0.0 if node.bias is None else float(np.abs(self.bias.astype(np.float64)).max(initial=0))

    def _packing(self, xmax: float, exact: int) -> tuple[int, int] | None:
        """``(p, m)`` for :func:`ops.conv2d`'s ``pack``: p output channels per matmul row as
        base-2**m digits, the most that the bound proves exact, or None (p = 1). With S =
        w_bound * max(xmax, 1) >= |every partial sum of one channel| (and >= every |w|):
        m = bits of S + 1 so that S < 2**(m-1); p the largest with S * (1 + 2**m + ... +
        2**(m*(p-1))) < exact / 2 (the same margin as the float paths), at most
        :attr:`max_pack` and at most the channels of one group; None for fewer than
        :attr:`pack_min_k` products per output (there the columns, not the multiply-adds, bound
        the matmul, and unpacking costs more than it saves)."""
        if not self.pack_channels or self.w[0].size < self.pack_min_k:
            return None
        s = int(np.ceil(self.w_bound * max(xmax, 1.0)))
        m = max(1, s.bit_length()) + 1
        p = 1
        while (p < min(self.max_pack, self.w.shape[0] // int(self.node.groups))
               and s * sum(2.0 ** (m * i) for i in range(p + 1)) < exact / 2):
            p += 1
        return (p, m) if p > 1 else None

    @property
    def block_dtype(self) -> np.dtype:
        """int32 with :attr:`narrow_output` (the float32 path's output then), else int64."""
        return np.dtype(np.int32 if self.narrow_output else np.int64)

    def apply_into(self, x, out):
        return self.apply(x, out)

    def apply(self, x, out=None):
        """The layer's output; written into ``out`` (``[*lead, *out_shape]``) when given and of
        the dtype the path taken computes (int32 or int64; :meth:`.Kernel.apply_into`)."""
        n = self.node
        if _binary(n):
            x = _spikes(x)
            xmax = 1.0
        else:
            x = np.asarray(x, np.int64)
            xmax = float(max(-int(x.min()), int(x.max()))) if x.size else 0.0
        args = (self.stride, self.pad, self.dil, int(n.groups), self.in_shape)
        bound = self.w_bound * xmax           # |every partial sum| <= bound (see intops.matmul)
        out_bound = bound + self.bias_bound   # after the bias and the weight exponent's shift
        if n.weight_exp:
            out_bound = out_bound * 2.0 ** n.weight_exp + 1
        # a wrap to a width that holds the proven bound is the identity: skip it
        wraps = n.out_bits < 64 and out_bound >= 2.0 ** (n.out_bits - 1) - 1
        # the sums go straight into ``out`` (when of the dtype the path computes) only when no
        # step after them makes a new array (the weight exponent's shift, the wrap)
        into = out if out is not None and not n.weight_exp and not wraps else None

        def given(dtype):
            return into if into is not None and into.dtype == dtype else None

        if bound < O.FLOAT32_EXACT / 2:
            od = np.dtype(np.int32 if self.narrow_output else np.int64)
            if od != np.int64 and bound + self.bias_bound >= 2.0 ** 31 - 1:
                od = np.dtype(np.int64)
            acc = ops.conv2d(x, self.w_float32, *args, compute_dtype=np.float32, out_dtype=od,
                             pack=self._packing(xmax, O.FLOAT32_EXACT), out=given(od))
        elif bound < O.FLOAT64_EXACT / 2:
            acc = ops.conv2d(x, self.w, *args, compute_dtype=np.float64, out_dtype=np.int64,
                             pack=self._packing(xmax, O.FLOAT64_EXACT), out=given(np.int64))
        else:
            acc = ops.conv2d(np.asarray(x, np.int64), self.w, *args)
        if self.bias is not None:
            acc += self.bias
        if n.weight_exp:
            acc = _shift_exp(acc, int(n.weight_exp))
        if wraps:
            acc = O.wrap(acc, n.out_bits)
        return acc


@register(IN.IntCubaLIF)
class IntCubaLIFKernel(NeuronKernel):
    """``IntCubaLIF`` step by step (equation in the node's docstring); states ``u``, ``v``.

    ``run_block`` (a block of steps of a node-major schedule) first bounds its input, max |x|
    over the block's steps, and skips each ``arith_bits`` wrap that the bound proves to be the identity (see
    :meth:`_identities`); a current decay whose multiplier is 0 everywhere (Lava du = 4095) is 0
    without computing it. Results are those of the full equation, bit for bit."""

    state_names = ("u", "v")
    #: any integer dtype in, same values (the int32 path casts, the int64 steps widen)
    takes_narrow_input = True

    def __init__(self, *a):
        super().__init__(*a)
        n = self.node
        n.validate(self.name)
        self.cm = np.asarray(n.current_mult, np.int64)
        self.vm = np.asarray(n.voltage_mult, np.int64)
        self.bias = None if n.bias is None else np.asarray(n.bias, np.int64)
        self.thr = None if n.threshold is None else np.asarray(n.threshold, np.int64)
        self.cm_zero = not np.any(self.cm)          # decay(u, 0) = 0 for every int64 u
        self.skip: frozenset[str] = frozenset()
        #: the int32 form (:mod:`.narrow_lif`), None when no block could use it
        self.narrow = NarrowCubaLIF.build(n)
        #: False forces the int64 steps (tests compare both)
        self.narrow_enabled = True
        #: set by the simulator when every reader of this node takes any integer dtype: spikes
        #: are then written as bool (values 0/1, the same numbers; a reader that takes narrow
        #: input reads this node over its only edge, so no sum ever adds two bool arrays)
        self.narrow_output = False
        #: the way the last block took ('int32' | 'int64'), for tests and benches
        self.last_way = None
        #: max |summed input| proven from the graph (set by the simulator; inf: measure per block)
        self.input_bound = float("inf")

    @property
    def narrow_itemsize(self) -> int:
        """Bytes per value of the narrow output: bool spikes, or int64 (no threshold)."""
        return 1 if self.node.threshold is not None else 8

    def init_state(self, batch):
        """u = v = 0: int32 states for the int32 form (no copy at its first block), else int64."""
        if self.narrow is not None and self.narrow_enabled:
            return {"u": self.zeros(batch, np.int32), "v": self.zeros(batch, np.int32), "narrow": True}
        return {"u": self.zeros(batch, np.int64), "v": self.zeros(batch, np.int64)}

    def run_block(self, x, state, t0, traces=None):
        if not traces and self.narrow is not None and self.narrow_enabled:
            done = self._run_narrow(x, state, t0)
            if done is not None:
                self.last_way = "int32"
                return done
        self.last_way = "int64"
        if state is not None:                         # int32 states of earlier blocks as {u, v}
            state = [{"u": self.narrow.materialize(s), "v": s["v"]} if s.get("narrow") else s for s in state]
        self.skip = self._identities(x)
        try:
            return super().run_block(x, state, t0, traces)
        finally:
            self.skip = frozenset()

    def _run_narrow(self, x, state, t0):
        """The block in int32 (:class:`.narrow_lif.NarrowCubaLIF`): ``(output, state)`` as
        :meth:`run_block`, or None when the block's bounds do not allow it (nothing computed).
        The input bound is :attr:`input_bound` (proven from the graph by the simulator), or
        the block's measured max |x| when that one is infinite or too loose."""
        n_steps, B = x.shape[:2]
        if n_steps == 0 or x.size == 0 or x.dtype.kind not in "biu":
            return None
        rules = self.narrow.plan(self.input_bound) if np.isfinite(self.input_bound) else None
        if rules is None:                             # the graph's bound is too loose: measure
            rules = self.narrow.plan(float(max(-int(x.min()), int(x.max()))))
        neurons = int(np.prod(self.out_shape, dtype=np.int64))
        chunks = batch_chunks(B, neurons)
        if state is None:
            state = [self.init_state(b1 - b0) for b0, b1 in chunks]
        if rules is None or not all(self.narrow.states_in_range(s) for s in state):
            return None
        spikes = self.node.threshold is not None
        out = np.empty((n_steps, B, neurons), np.bool_ if spikes and self.narrow_output else np.int64)
        xf = x.reshape(n_steps, B, -1)
        state = [self.narrow.run(xf[:, b0:b1], state[c], t0, rules, out[:, b0:b1])
                 for c, (b0, b1) in enumerate(chunks)]
        return out.reshape(n_steps, B, *self.out_shape), state

    def _identities(self, x) -> frozenset[str]:
        """The ``arith_bits`` wraps ('a', 'u', 'h') that cannot change a value for inputs with
        max |x| of this x. With X = max |x|, s = input_shift, A = arith_bits:
        'a' if X * 2**s < 2**(A-1). u after its overflow rule stays within U = 2**(u_bits-1)
        (wrap, saturate; Lava's one-step wrap too when |a| <= U: |decay(u) + a| <= 2U, and one
        correction brings that back within U); 'u' if U + X * 2**s < 2**(A-1). v after
        overflow and reset stays within V = 2**(v_bits-1) (reset 'subtract' only with
        thresholds >= 0: 0 <= h - threshold <= h); 'h' if V + U + max |bias| < 2**(A-1).
        Decays only shrink magnitudes (multipliers in [0, 2**decay_bits], rounding to zero)."""
        n = self.node
        if n.arith_bits >= 64 or x.size == 0:
            return frozenset()
        lim = 2.0 ** (n.arith_bits - 1)
        xmax = float(max(-int(x.min()), int(x.max())))
        a = xmax * 2.0 ** n.input_shift
        skip = set()
        if a < lim:
            skip.add("a")
        U = 2.0 ** (n.u_bits - 1)
        if n.u_overflow == "lava" and a > U:
            return frozenset(skip)
        if U + a < lim:
            skip.add("u")
        if n.reset == "subtract" and self.thr is not None and int(self.thr.min()) < 0:
            return frozenset(skip)
        V = 2.0 ** (n.v_bits - 1)
        b = 0.0 if self.bias is None else float(np.abs(self.bias.astype(np.float64)).max(initial=0))
        if V + U + b < lim:
            skip.add("h")
        return frozenset(skip)

    def _arith(self, x, key=None):
        if self.node.arith_bits == 64 or key in self.skip:
            return x
        return O.wrap(x, self.node.arith_bits)

    def _u_overflow(self, u):
        n = self.node
        if n.u_overflow == "lava":
            return O.lava_wrap(u, n.u_bits)
        if n.u_overflow == "wrap":
            return O.wrap(u, n.u_bits)
        return O.saturate(u, n.u_bits)

    def _v_overflow(self, h):
        n = self.node
        if n.v_overflow == "saturate_sym":
            return O.saturate_sym(h, n.v_bits)
        if n.v_overflow == "saturate":
            return O.saturate(h, n.v_bits)
        return O.wrap(h, n.v_bits)

    def step(self, x, state, t):
        n = self.node
        u, v = state["u"], state["v"]
        if n.state_reset_interval is not None and t % n.state_reset_interval == n.state_reset_phase:
            u, v = np.zeros_like(u), np.zeros_like(v)
        a = self._arith(O.shl(x, n.input_shift), "a")
        u = self._u_overflow(self._arith(a if self.cm_zero else O.decay(u, self.cm, n.decay_bits) + a, "u"))
        h = O.decay(v, self.vm, n.decay_bits) + u
        if self.bias is not None:
            h = h + self.bias
        h = self._v_overflow(self._arith(h, "h"))
        if self.thr is None:
            return h, {"u": u, "v": h}
        z = O.fire(h, self.thr, n.comparison)
        if n.reset == "zero":
            v = np.where(z == 1, 0, h)
        elif n.reset == "subtract":
            v = np.where(z == 1, h - self.thr, h)
        else:
            v = h
        return z, {"u": u, "v": v}
