"""Simulator kernels of the integer nodes (:mod:`snnc.ir.intnodes`).

All arrays are int64. Every shift, wrap, saturation, decay and threshold test is a function
of :mod:`snnc.ir.intops` (the same definitions the C emitter writes), so the simulator cannot
drift from the other backends; the kernels only add, select and call those functions.
Additions are plain int64 additions; with the widths of real targets (Lava: 32-bit sums of
24-bit states) they cannot overflow.

Sums of products (dense matmul, convolution) are exact: :func:`snnc.ir.intops.matmul` and the
convolution below use float64 BLAS only when every product and partial sum is an integer below
2**52 in magnitude (bound = max over outputs of sum |w| times max |input|; then float64
arithmetic is exact in any summation order), and int64 arithmetic otherwise.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intnodes as IN
from snnc.ir import intops as O
from snnc.ir.shapes import conv_padding, dims

from . import ops
from .kernels import Kernel, NeuronKernel, register


def _binary(node) -> bool:
    return node.input_kind == "binary"


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

    def apply(self, x):
        n = self.node
        if _binary(n):
            x = np.not_equal(x, 0)          # = O.binarize(x), kept as bool (1 byte per value)
        xmax = 1 if _binary(n) else (int(np.abs(x).max()) if x.size else 0)
        acc = O.matmul(x, self.w_t, max_abs_x=xmax, w_t_float=self.w_t_float,
                       w_bound=self.w_bound, w_t_float32=self.w_t_float32)
        # |acc| <= w_bound * xmax: a wrap to a width that holds that bound is the identity, skip it
        bound = self.w_bound * xmax
        if n.acc_bits < 64 and bound >= 2.0 ** (n.acc_bits - 1) - 1:
            acc = O.wrap(acc, n.acc_bits)
            bound = 2.0 ** (n.acc_bits - 1)
        if n.weight_exp:
            acc = O.shift_exp(acc, n.weight_exp)
            bound = bound * 2.0 ** n.weight_exp + 1
        if n.out_bits < 64 and bound >= 2.0 ** (n.out_bits - 1) - 1:
            acc = O.wrap(acc, n.out_bits)
        return acc


@register(IN.IntConv2d)
class IntConv2dKernel(Kernel):
    """``IntConv2d``: binarize -> exact cross-correlation (+ bias) -> shift_exp -> wrap(out_bits).
    ``x: int64[*lead, C_in, H, W]``."""

    def __init__(self, *a):
        super().__init__(*a)
        node = self.node
        node.validate(self.name)
        self.w = np.asarray(node.weight, np.int64)
        self.w_float = self.w.astype(np.float64)
        self.w_bound = O.column_abs_sum_max(self.w.reshape(self.w.shape[0], -1).T)
        self.stride = dims(node.stride, 2, "stride", self.name)
        self.dil = dims(node.dilation, 2, "dilation", self.name)
        self.pad = conv_padding(node, self.in_shape[1:], self.name)
        self.bias = None if node.bias is None else np.asarray(node.bias, np.int64).reshape(-1, 1, 1)

    def apply(self, x):
        n = self.node
        if _binary(n):
            x = O.binarize(x)
        xmax = 1.0 if _binary(n) else (float(np.abs(x.astype(np.float64)).max()) if x.size else 0.0)
        args = (self.stride, self.pad, self.dil, int(n.groups), self.in_shape)
        if self.w_bound * xmax < O.FLOAT64_EXACT / 2:       # exact in float64 (see intops.matmul)
            acc = ops.conv2d(x.astype(np.float64), self.w_float, *args).astype(np.int64)
        else:
            acc = ops.conv2d(np.asarray(x, np.int64), self.w, *args)
        if self.bias is not None:
            acc = acc + self.bias
        if n.weight_exp:
            acc = O.shift_exp(acc, n.weight_exp)
        if n.out_bits < 64:
            acc = O.wrap(acc, n.out_bits)
        return acc


@register(IN.IntCubaLIF)
class IntCubaLIFKernel(NeuronKernel):
    """``IntCubaLIF`` step by step (equation in the node's docstring); states ``u``, ``v``."""

    state_names = ("u", "v")

    def __init__(self, *a):
        super().__init__(*a)
        n = self.node
        n.validate(self.name)
        self.cm = np.asarray(n.current_mult, np.int64)
        self.vm = np.asarray(n.voltage_mult, np.int64)
        self.bias = None if n.bias is None else np.asarray(n.bias, np.int64)
        self.thr = None if n.threshold is None else np.asarray(n.threshold, np.int64)

    def init_state(self, batch):
        return {"u": self.zeros(batch, np.int64), "v": self.zeros(batch, np.int64)}

    def _arith(self, x):
        return x if self.node.arith_bits == 64 else O.wrap(x, self.node.arith_bits)

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
        a = self._arith(O.shl(x, n.input_shift))
        u = self._u_overflow(self._arith(O.decay(u, self.cm, n.decay_bits) + a))
        h = O.decay(v, self.vm, n.decay_bits) + u
        if self.bias is not None:
            h = h + self.bias
        h = self._v_overflow(self._arith(h))
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
