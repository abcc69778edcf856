"""Simulator kernels: one class per node type, each implementing the node's documented
equation (see :mod:`snnc.ir.nodes`) on arrays with a batch axis.

Interface (:class:`Kernel`):

* stateless kernels implement ``apply(x)`` for any leading axes (``[*lead, *in_shape]``);
* stateful kernels implement ``init_state(batch)`` and ``step(x, state, t)`` on one step
  (``x: [B, *in_shape]``), returning ``(output, new_state)``; states are dicts of arrays;
* ``run(x)`` processes a whole sequence ``x: [T, B, *in_shape]`` and returns
  ``(output [T, B, *out_shape], states {name: [T, B, *shape]} or {})``; ``run_block(x, state,
  t0, traces)`` processes one block of steps and returns the state to carry into the next block
  (time-blocked execution, :mod:`snnc.backends.sim.blocks`).

Kernels are built by :func:`make_kernel` from a registry keyed by node type, so integer node
kernels (``int_kernels``) register themselves the same way.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.registry import Registry
from snnc.ir.shapes import conv_padding, dims, pair

from . import ops


class Kernel:
    stateful = False
    whole_window = False
    state_names: tuple[str, ...] = ()
    #: a stateless kernel whose :meth:`apply_into` can write its result into a given array
    writes_into = False

    def __init__(self, node: N.Node, name: str, in_shape: tuple, out_shape: tuple, dtype):
        self.node, self.name = node, name
        self.in_shape, self.out_shape = tuple(in_shape or ()), tuple(out_shape)
        self.dtype = dtype

    # stateless
    def apply(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def apply_into(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``apply(x)``, written into ``out`` (``[*lead, *out_shape]`` of :attr:`block_dtype`)
        and returned, where the kernel computes that dtype; otherwise its own array (the caller
        copies it). Only kernels with :attr:`writes_into` are given an ``out``."""
        return self.apply(x)

    @property
    def block_dtype(self) -> np.dtype:
        """The dtype :meth:`apply_into` expects to write."""
        return np.dtype(self.dtype)

    # stateful
    def init_state(self, batch: int) -> dict:
        return {}

    def step(self, x: np.ndarray, state: dict, t: int):
        return self.apply(x), state

    def run(self, x: np.ndarray, record_states: bool = False):
        """All T steps of ``x: [T, B, *in_shape]`` from the initial state: ``(output [T, B,
        *out_shape], states {name: [T, B, *shape]} or {})`` (one block of :meth:`run_block`)."""
        T, B = x.shape[:2]
        traces = {k: StepStack(T, B) for k in self.state_names} if record_states and self.stateful else {}
        y, _ = self.run_block(x, None, 0, traces)
        if T == 0:
            return y, {k: np.zeros((0, B, *self.out_shape), self.dtype) for k in traces}
        return y, {k: v.array() for k, v in traces.items()}

    def run_block(self, x: np.ndarray, state, t0: int, traces: dict | None = None):
        """One block of steps ``t0 .. t0 + n - 1``: ``x: [n, B, *in_shape]``; ``state``: what the
        previous block returned (None: the initial state; opaque to the caller: one state dict
        per batch chunk); ``traces``: state name -> :class:`StepStack` ``(T, B)`` written at the
        global step ``t0 + t``. Returns ``(output [n, B, *out_shape], state after step
        t0 + n - 1)``. Blocks run one after the other give the results of one run over all
        steps, bit for bit: the state and the global step index carry over, samples are
        independent, and a stateless kernel maps each step on its own."""
        if not self.stateful:
            return self.apply(x), None
        n, B = x.shape[:2]
        chunks = batch_chunks(B, int(np.prod(self.out_shape, dtype=np.int64)))
        if state is None:
            state = [self.init_state(b1 - b0) for b0, b1 in chunks]
        if n == 0:
            return np.zeros((0, B, *self.out_shape), self.dtype), state
        out = StepStack(n, B)
        traces = traces or {}
        for c, (b0, b1) in enumerate(chunks):
            st = state[c]
            xc = x[:, b0:b1]
            for t in range(n):
                y, st = self.step(xc[t], st, t0 + t)
                out.put(t, y, b0)
                for k, stack in traces.items():
                    stack.put(t0 + t, st[k], b0)
            state[c] = st
        return out.array(), state


#: elements of one neuron-state array per batch chunk: a step's ~20 temporaries of this many
#: int64 values stay in a core's cache (L2 1 MiB, L3 shared) instead of streaming through memory
CHUNK_ELEMENTS = 1 << 15


def batch_chunks(batch: int, per_sample: int) -> list[tuple[int, int]]:
    """Split the batch into chunks of about :data:`CHUNK_ELEMENTS` state values each (at least one
    sample per chunk). A stateful kernel runs all T steps of one chunk before the next: samples
    are independent (no kernel couples them), so the results are those of one pass over the
    whole batch, bit for bit, while the working set stays in cache."""
    size = max(1, CHUNK_ELEMENTS // max(1, per_sample))
    return [(b, min(batch, b + size)) for b in range(0, batch, size)]


class StepStack:
    """``np.stack`` of T per-step arrays, written into one preallocated [T, ...] array as the
    steps come (no list of T arrays, no copy at the end). With ``B``, each put covers the batch
    rows ``b0 .. b0 + len(y)`` of a [T, B, ...] result (kernels run the batch in chunks). The
    result is exactly ``np.stack`` of the per-step arrays: a later step of another dtype
    promotes the whole array as ``np.stack`` would; a step of another shape is an error, as in
    ``np.stack``."""

    def __init__(self, T: int, B: int | None = None):
        self.T, self.B, self.buf = T, B, None

    def put(self, t: int, y, b0: int = 0) -> None:
        y = np.asarray(y)
        tail = y.shape if self.B is None else y.shape[1:]
        if self.buf is None:
            self.buf = np.empty((self.T, *(() if self.B is None else (self.B,)), *tail), y.dtype)
        elif tail != self.buf.shape[self.buf.ndim - len(tail):] or len(tail) + (1 if self.B is None else 2) != \
                self.buf.ndim:
            raise ValueError(f"all input arrays must have the same shape (step {t}: {y.shape})")
        elif y.dtype != self.buf.dtype:
            self.buf = self.buf.astype(np.result_type(self.buf.dtype, y.dtype))
        if self.B is None:
            self.buf[t] = y
        else:
            self.buf[t, b0:b0 + y.shape[0]] = y

    def array(self) -> np.ndarray:
        return self.buf


#: node type -> Kernel class
KERNELS: Registry = Registry("simulator kernels")
register = KERNELS.register


def make_kernel(node: N.Node, name: str, in_shape, out_shape, dtype) -> Kernel:
    cls = KERNELS.get(type(node))
    if cls is None:
        hint = ("run the discretize pass first (snnc.passes.discretize)"
                if isinstance(node, (N.I, N.IF, N.LI, N.LIF, N.CubaLI, N.CubaLIF, N.Delay))
                else "no simulator kernel for this node type")
        raise UnsupportedError(f"cannot simulate node type {node.type_name}", node=name, hint=hint)
    return cls(node, name, in_shape, out_shape, dtype)


def _p(x, dtype):
    """Parameter as array of the simulation dtype (complex kept complex)."""
    a = np.asarray(x)
    if np.iscomplexobj(a):
        return a.astype(np.complex128)
    return a.astype(dtype)


# ---------------------------------------------------------------------------------------
# stateless kernels
# ---------------------------------------------------------------------------------------


@register(N.Output)
class OutputKernel(Kernel):
    def apply(self, x):
        return x


@register(N.Affine)
@register(N.Linear)
class AffineKernel(Kernel):
    def __init__(self, *a):
        super().__init__(*a)
        self.w = _p(self.node.weight, self.dtype)
        self.b = _p(self.node.bias, self.dtype) if isinstance(self.node, N.Affine) else None

    def apply(self, x):
        y = x @ self.w.T
        return y + self.b if self.b is not None else y


@register(N.Scale)
class ScaleKernel(Kernel):
    def apply(self, x):
        return x * _p(self.node.scale, self.dtype)


@register(N.Conv2d)
@register(N.Conv1d)
class ConvKernel(Kernel):
    def __init__(self, *a):
        super().__init__(*a)
        node = self.node
        w = _p(node.weight, self.dtype)
        one_d = isinstance(node, N.Conv1d)
        nd = 1 if one_d else 2
        stride = dims(node.stride, nd, "stride", self.name)
        dil = dims(node.dilation, nd, "dilation", self.name)
        pad = conv_padding(node, self.in_shape[1:], self.name)
        if one_d:
            w = w[:, :, None, :]
            stride, dil, pad = (1, *stride), (1, *dil), (0, *pad)
        self.w, self.stride, self.dil, self.pad = w, stride, dil, pad
        self.one_d = one_d
        self.b = None if node.bias is None else _p(node.bias, self.dtype)

    def apply(self, x):
        shape = (self.in_shape[0], 1, self.in_shape[1]) if self.one_d else self.in_shape
        lead = x.shape[: x.ndim - len(self.in_shape)]
        x = x.reshape((*lead, *shape))
        y = ops.conv2d(x, self.w, self.stride, self.pad, self.dil, int(self.node.groups), shape)
        if self.one_d:
            y = y[..., 0, :]
        if self.b is not None:
            y = y + self.b.reshape((-1,) + (1,) * (len(self.out_shape) - 1))
        return y


@register(N.SumPool2d)
@register(N.AvgPool2d)
class PoolKernel(Kernel):
    #: integer inputs of any width sum in int64 (:func:`.ops.sum_pool2d`)
    takes_narrow_input = True

    def apply(self, x):
        k = pair(self.node.kernel_size, "kernel_size", self.name)
        s = pair(self.node.stride, "stride", self.name)
        p = pair(self.node.padding, "padding", self.name)
        y = ops.sum_pool2d(x, k, s, p, self.in_shape)
        if isinstance(self.node, N.AvgPool2d):
            y = y / (k[0] * k[1])
        return y


@register(N.Flatten)
class FlattenKernel(Kernel):
    def apply(self, x):
        lead = x.shape[: x.ndim - len(self.in_shape)]
        return x.reshape((*lead, *self.out_shape))


@register(N.Threshold)
class ThresholdKernel(Kernel):
    def apply(self, x):
        return (x > _p(self.node.threshold, self.dtype)).astype(self.dtype)


@register(N.BatchNorm)
class BatchNormKernel(Kernel):
    def apply(self, x):
        n = self.node
        c = np.asarray(n.mean).size
        bshape = (c,) + (1,) * (len(self.in_shape) - 1)
        scale = (_p(n.weight, self.dtype) / np.sqrt(_p(n.var, self.dtype) + n.eps)).reshape(bshape)
        shift = _p(n.bias, self.dtype).reshape(bshape) - _p(n.mean, self.dtype).reshape(bshape) * scale
        return x * scale + shift


@register(N.TimeMix)
class TimeMixKernel(Kernel):
    """Whole-window: y_t = sum_j c[t, j] x_j within each window of T_w steps."""

    whole_window = True

    def apply(self, x):
        c = _p(self.node.coefficients, self.dtype)
        tw = c.shape[0]
        T = x.shape[0]
        if T % tw:
            raise UnsupportedError(f"run length {T} is not a multiple of the TimeMix window {tw}",
                                   node=self.name, hint=f"use --steps {tw * max(1, T // tw)}")
        xw = x.reshape((T // tw, tw, *x.shape[1:]))
        y = np.einsum("tj,kj...->kt...", c, xw)
        return y.reshape(x.shape).astype(x.dtype, copy=False)

    def run_block(self, x, state, t0, traces=None):
        return self.apply(x), None


# ---------------------------------------------------------------------------------------
# neuron kernels (float, discrete time)
# ---------------------------------------------------------------------------------------


def _fire(h, thr, comparison):
    return (h > thr) if comparison == ">" else (h >= thr)


class NeuronKernel(Kernel):
    stateful = True

    def zeros(self, batch, dtype=None):
        return np.zeros((batch, *self.out_shape), dtype or self.dtype)


@register(N.DiscreteLIF)
class DiscreteLIFKernel(NeuronKernel):
    state_names = ("i", "v")

    def __init__(self, *a):
        super().__init__(*a)
        n, d = self.node, self.dtype
        self.alpha = None if n.current_decay is None else _p(n.current_decay, d)
        self.g_in, self.beta, self.g_v = _p(n.input_gain, d), _p(n.voltage_decay, d), _p(n.current_gain, d)
        self.bias = None if n.bias is None else _p(n.bias, d)
        self.thr = None if n.v_threshold is None else _p(n.v_threshold, d)
        self.v_reset = _p(0.0 if n.v_reset is None else n.v_reset, d)
        self.v_min = None if n.v_min is None else _p(n.v_min, d)

    def init_state(self, batch):
        return {"i": self.zeros(batch), "v": self.zeros(batch)}

    def step(self, x, state, t):
        i = self.g_in * x if self.alpha is None else self.alpha * state["i"] + self.g_in * x
        h = self.beta * state["v"] + self.g_v * i
        if self.bias is not None:
            h = h + self.bias
        if self.v_min is not None:
            h = np.maximum(h, self.v_min)
        if self.thr is None:
            return h, {"i": i, "v": h}
        z = _fire(h, self.thr, self.node.comparison)
        reset = self.node.reset
        if reset == "zero":
            v = np.where(z, self.v_reset, h)
        elif reset == "subtract":
            v = h - z * self.thr
        else:
            v = h
        return z.astype(self.dtype), {"i": i, "v": v}


@register(N.LIFB)
class LIFBKernel(NeuronKernel):
    state_names = ("v",)

    def __init__(self, *a):
        super().__init__(*a)
        n, d = self.node, self.dtype
        self.leak, self.thr = _p(n.leak, d), _p(n.v_threshold, d)
        self.step_ = self.thr if n.threshold_step is None else _p(n.threshold_step, d)
        self.g_in = _p(1.0 if n.input_gain is None else n.input_gain, d)
        amps = np.arange(n.max_burst + 1) if n.amplitudes is None else n.amplitudes
        self.amps = _p(amps, d)

    def init_state(self, batch):
        return {"v": self.zeros(batch)}

    def step(self, x, state, t):
        n = self.node
        h = self.leak * state["v"] + self.g_in * x
        count = np.zeros(h.shape, np.int64)
        for k in range(n.max_burst):
            count += _fire(h, self.thr + k * self.step_, n.comparison)
        if n.reset == "subtract":
            v = h - count * self.step_
        elif n.reset == "zero":
            v = np.where(count > 0, 0.0, h)
        else:  # multiplicative (BrainCog)
            v = h * (1 - count)
        if n.v_min is not None:
            v = np.maximum(v, _p(n.v_min, self.dtype))
        return self.amps[count], {"v": v.astype(self.dtype)}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@register(N.CLIF)
class CLIFKernel(NeuronKernel):
    state_names = ("u", "m")

    def init_state(self, batch):
        return {"u": self.zeros(batch), "m": self.zeros(batch)}

    def step(self, x, state, t):
        n = self.node
        tau, thr = n.tau, n.v_threshold
        u = (1.0 - 1.0 / tau) * state["u"] + x
        m = state["m"] * sigmoid(u / tau)
        s = _fire(u - thr, 0.0, n.comparison).astype(self.dtype)
        m = m + s
        u = u - s * thr - s * sigmoid(m)
        return s, {"u": u.astype(self.dtype), "m": m.astype(self.dtype)}


@register(N.RF)
class RFKernel(NeuronKernel):
    state_names = ("x",)

    def __init__(self, *a):
        super().__init__(*a)
        self.decay = np.asarray(self.node.decay, dtype=np.complex128)
        self.readout = None if self.node.readout is None else np.asarray(self.node.readout, np.complex128)

    def init_state(self, batch):
        return {"x": np.zeros((batch, *self.out_shape), np.complex128)}

    def step(self, u, state, t):
        x = self.decay * state["x"] + u
        y = x if self.readout is None else x @ self.readout.T
        s = _fire(y.real, self.node.v_threshold, self.node.comparison)
        return s.astype(self.dtype), {"x": x}


@register(N.LMHT)
class LMHTKernel(NeuronKernel):
    state_names = ("v",)

    def init_state(self, batch):
        return {"v": np.full((batch, *self.out_shape), self.node.v_init, self.dtype)}

    def step(self, x, state, t):
        n = self.node
        v = state["v"]
        if n.window and t % n.window == 0 and t > 0:
            v = np.full_like(v, n.v_init)
        h = n.leak * v + x
        k = np.clip(np.floor(h / n.v_threshold), 0, n.levels)
        out = k * n.v_threshold
        return out.astype(self.dtype), {"v": (h - out).astype(self.dtype)}


@register(N.LNM)
class LNMKernel(NeuronKernel):
    state_names = ("v",)

    def init_state(self, batch):
        return {"v": self.zeros(batch)}

    def step(self, x, state, t):
        n = self.node
        v = state["v"]
        c = np.asarray(n.coefficients, dtype=self.dtype)
        f = np.zeros_like(v) + c[-1]
        for ck in c[-2::-1]:          # Horner: f = c0 + v (c1 + v (c2 + v c3))
            f = f * v + ck
        h = (v + f + x) if n.form == "increment" else (f + x)
        h = np.clip(h, n.v_min, n.v_max)
        s = _fire(h, n.v_threshold, n.comparison)
        v = np.where(s, n.v_reset, h) if n.reset == "zero" else h - s * n.v_threshold
        return s.astype(self.dtype), {"v": v.astype(self.dtype)}
