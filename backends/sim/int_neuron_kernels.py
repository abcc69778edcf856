"""Simulator kernels for the fixed-point seed-neuron nodes of :mod:`snnc.ir.intneurons`.
All arithmetic goes through :mod:`snnc.ir.intops` (the one definition of rounding, shifts and
overflow shared with the C and Lava emitters); arrays are int64."""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as IN
from snnc.ir import intops as ops

from .kernels import Kernel, NeuronKernel, register


def _i(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def _overflow(x, bits: int, mode: str) -> np.ndarray:
    return ops.saturate_sym(x, bits) if mode == "saturate" else ops.wrap(x, bits)


def _fire(h, thr, comparison):
    return (h > thr) if comparison == ">" else (h >= thr)


@register(IN.IntComplexDense)
class IntComplexDenseKernel(Kernel):
    """Output: complex128 whose real/imag parts are the exact int64 accumulators (|acc| < 2**53
    is guaranteed by the lowering's range analysis)."""

    def __init__(self, *a):
        super().__init__(*a)
        self.w_re = np.ascontiguousarray(_i(self.node.weight_real).T)
        self.w_im = np.ascontiguousarray(_i(self.node.weight_imag).T)

    def apply(self, x):
        x = _i(x)
        if self.node.input_kind == "binary":
            x = x != 0
        # ops.matmul: exact integer sums (float BLAS only where its bound proves exactness)
        re = ops.shl(ops.matmul(x, self.w_re), self.node.weight_exp)
        im = ops.shl(ops.matmul(x, self.w_im), self.node.weight_exp)
        out = np.empty(re.shape, np.complex128)
        out.real, out.imag = re, im
        return out


@register(IN.IntLIFB)
class IntLIFBKernel(NeuronKernel):
    state_names = ("v",)

    def init_state(self, batch):
        return {"v": self.zeros(batch, np.int64)}

    def step(self, x, state, t):
        n = self.node
        h = ops.rtz_shift(state["v"] * _i(n.leak_mult), n.decay_bits) + _i(x)
        count = np.zeros(h.shape, np.int64)
        thr, stp = _i(n.threshold), _i(n.threshold_step)
        for k in range(n.max_burst):
            count += _fire(h, thr + k * stp, n.comparison)
        if n.reset == "subtract":
            v = h - count * stp
        elif n.reset == "zero":
            v = np.where(count > 0, 0, h)
        else:
            v = h * (1 - count)
        if n.v_min is not None:
            v = np.maximum(v, _i(n.v_min))
        v = _overflow(v, n.state_bits, n.overflow)
        return _i(n.amplitudes)[count], {"v": v}


def lut_index(x, shift: int, offset: int, size: int) -> np.ndarray:
    """clip(floor_shift(x, shift) - offset, 0, size - 1): the clamped table index."""
    return np.clip(ops.asr(x, shift) - offset, 0, size - 1)


@register(IN.IntCLIF)
class IntCLIFKernel(NeuronKernel):
    state_names = ("u", "m")

    def init_state(self, batch):
        return {"u": self.zeros(batch, np.int64), "m": self.zeros(batch, np.int64)}

    def step(self, x, state, t):
        n = self.node
        lut_u, lut_m = _i(n.lut_u), _i(n.lut_m)
        u = ops.rtz_shift(state["u"] * n.decay_mult, n.decay_bits) + _i(x)
        u = _overflow(u, n.state_bits, n.overflow)
        m = ops.rtz_shift(state["m"] * lut_u[lut_index(u, n.u_shift, n.u_offset, lut_u.size)], n.lut_frac_bits)
        s = _fire(u, n.threshold, n.comparison).astype(np.int64)
        m = m + s * (1 << n.m_frac_bits)
        sig_m = lut_m[lut_index(m, n.m_shift, 0, lut_m.size)]
        u = u - s * (n.threshold + ops.rtz_shift(sig_m * n.reset_scale, n.lut_frac_bits))
        u = _overflow(u, n.state_bits, n.overflow)
        m = _overflow(m, n.state_bits, n.overflow)
        return s, {"u": u, "m": m}


@register(IN.IntRF)
class IntRFKernel(NeuronKernel):
    state_names = ("re", "im")

    def init_state(self, batch):
        return {"re": self.zeros(batch, np.int64), "im": self.zeros(batch, np.int64)}

    def step(self, x, state, t):
        n = self.node
        dr, di, D = _i(n.decay_real), _i(n.decay_imag), n.decay_bits
        re, im = state["re"], state["im"]
        in_re = np.rint(np.real(x)).astype(np.int64)
        in_im = np.rint(np.imag(x)).astype(np.int64)
        re2 = ops.rtz_shift(dr * re, D) - ops.rtz_shift(di * im, D) + in_re
        im2 = ops.rtz_shift(di * re, D) + ops.rtz_shift(dr * im, D) + in_im
        re2 = _overflow(re2, n.state_bits, n.overflow)
        im2 = _overflow(im2, n.state_bits, n.overflow)
        if n.spike_rule == "iz":
            s = _fire(im2, n.threshold, n.comparison)
            re2 = np.where(s, 0, re2)
            im2 = np.where(s, n.threshold - 1, im2)
            return s.astype(np.int64), {"re": re2, "im": im2}
        s = _fire(re2, n.threshold, n.comparison)
        if n.spike_rule == "phase":
            s = s & (im2 >= 0) & (im < 0)
        return s.astype(np.int64), {"re": re2, "im": im2}


@register(IN.IntTimeMix)
class IntTimeMixKernel(Kernel):
    """Latency 0: whole-window (all T steps at once, T a multiple of the window). Latency W:
    streaming, a stateful per-step node (states ``buffer``, ``mixed``: [B, W, *shape])."""

    state_names = ("buffer", "mixed")

    def __init__(self, *a):
        super().__init__(*a)
        self.node.validate(self.name)
        self.whole_window = not self.node.streaming
        self.stateful = self.node.streaming
        if self.whole_window:
            self.state_names = ()

    def apply(self, x):
        from snnc.ir.errors import UnsupportedError

        c = _i(self.node.coefficients)
        tw, T = c.shape[0], x.shape[0]
        if T % tw:
            raise UnsupportedError(f"run length {T} is not a multiple of the TimeMix window {tw}",
                                   node=self.name, hint=f"use --steps {tw * max(1, T // tw)}")
        xw = _i(x).reshape((T // tw, tw, *x.shape[1:]))
        acc = np.einsum("tj,kj...->kt...", c, xw)
        return ops.rtz_shift(acc, self.node.frac_bits).reshape(x.shape)

    def run_block(self, x, state, t0, traces=None):
        if self.whole_window:
            return self.apply(x), None
        return super().run_block(x, state, t0, traces)

    def init_state(self, batch):
        w = self.node.window
        return {"buffer": np.zeros((batch, w, *self.out_shape), np.int64),
                "mixed": np.zeros((batch, w, *self.out_shape), np.int64)}

    def step(self, x, state, t):
        n = self.node
        if t < n.phase:
            return np.zeros((x.shape[0], *self.out_shape), np.int64), state
        i = (t - n.phase) % n.window
        y = state["mixed"][:, i].copy()
        buffer = state["buffer"].copy()
        buffer[:, i] = _i(x)
        mixed = state["mixed"]
        if i == n.window - 1:
            acc = np.einsum("rj,bj...->br...", _i(n.coefficients), buffer)
            mixed = ops.rtz_shift(acc, n.frac_bits)
        return y, {"buffer": buffer, "mixed": mixed}


@register(IN.IntLMHT)
class IntLMHTKernel(NeuronKernel):
    state_names = ("v",)

    def init_state(self, batch):
        return {"v": np.full((batch, *self.out_shape), self.node.v_init, np.int64)}

    def step(self, x, state, t):
        n = self.node
        v = state["v"]
        if t < n.phase:             # idle pre-roll of a streaming target: no input has arrived yet
            return np.zeros_like(v), state
        if n.window and (t - n.phase) % n.window == 0 and t > n.phase:
            v = np.full_like(v, n.v_init)
        h = ops.rtz_shift(v * n.leak_mult, n.decay_bits) + _i(x)
        k = np.clip(np.floor_divide(h, n.threshold), 0, n.levels)
        v = _overflow(h - k * n.threshold, n.state_bits, n.overflow)
        return k, {"v": v}


@register(IN.IntBinaryLMHT)
class IntBinaryLMHTKernel(NeuronKernel):
    state_names = ("v",)

    def init_state(self, batch):
        return {"v": np.full((batch, *self.out_shape), self.node.v_init, np.int64)}

    def step(self, x, state, t):
        n = self.node
        v = state["v"]
        if n.window and t % n.window == 0 and t > 0:
            v = np.full_like(v, n.v_init)
        leak = ops.rtz_shift(v * n.leak_mult, n.decay_bits) if t % n.substeps == 0 else v
        h = leak + _i(x)
        s = (h >= n.threshold).astype(np.int64)
        return s, {"v": _overflow(h - s * n.threshold, n.state_bits, n.overflow)}


@register(IN.IntLNM)
class IntLNMKernel(NeuronKernel):
    state_names = ("v",)

    def init_state(self, batch):
        return {"v": self.zeros(batch, np.int64)}

    def step(self, x, state, t):
        n = self.node
        v = state["v"]
        c = _i(n.coefficients)
        f = np.full_like(v, c[-1])
        for ck in c[-2::-1]:
            f = ops.rtz_shift(f * v, n.frac_bits) + ck
        h = (v + f + _i(x)) if n.form == "increment" else (f + _i(x))
        h = np.clip(h, n.v_min, n.v_max)
        s = _fire(h, n.threshold, n.comparison).astype(np.int64)
        v = np.where(s > 0, n.v_reset, h) if n.reset == "zero" else h - s * n.threshold
        return s, {"v": v}


@register(IN.ConstantSource)
class ConstantSourceKernel(Kernel):
    """Emits the constant every step; ``run`` receives only the (T, B) time/batch frame."""

    source = True

    def apply(self, x):
        lead = x.shape[:2]
        return np.broadcast_to(_i(self.node.value), (*lead, *self.out_shape)).copy()
