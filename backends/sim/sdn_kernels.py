"""Simulator kernels for the sigma-delta nodes of :mod:`snnc.ir.intsdn` (Lava's Sigma, Delta,
SigmaDelta fixed-point models). int64 arrays holding int32 values; every update is wrapped to 32
bits with :func:`snnc.ir.intops.wrap`, as Lava's numpy int32 arithmetic wraps."""

from __future__ import annotations

import numpy as np

from snnc.ir import intops as ops
from snnc.ir import intsdn as SD

from .kernels import NeuronKernel, register


def _w32(x) -> np.ndarray:
    return ops.wrap(np.asarray(x, np.int64), 32)


def delta_threshold(node, a, state) -> tuple[np.ndarray, dict]:
    """The delta thresholding of :mod:`snnc.ir.intsdn` for the new activation ``a``: returns
    (out, {act, residue, error})."""
    vth = np.asarray(node.vth, np.int64)
    delta = _w32(a - state["act"] + state["residue"])
    error = state["error"]
    if node.cum_error:
        error = _w32(error + delta)
        s = np.where(_w32(np.abs(error)) >= vth, delta, 0)
        error = np.where(s != 0, 0, error)
    else:
        s = np.where(_w32(np.abs(delta)) >= vth, delta, 0)
    residue = _w32(delta - s)
    return ops.asr(s, int(node.state_exp)), {"act": a, "residue": residue, "error": error}


@register(SD.IntSigma)
class IntSigmaKernel(NeuronKernel):
    state_names = ("sigma",)

    def init_state(self, batch):
        return {"sigma": self.zeros(batch, np.int64)}

    def step(self, x, state, t):
        sigma = _w32(state["sigma"] + np.asarray(x, np.int64))
        return sigma, {"sigma": sigma}


@register(SD.IntDelta)
class IntDeltaKernel(NeuronKernel):
    state_names = ("act", "residue", "error")

    def init_state(self, batch):
        return {k: self.zeros(batch, np.int64) for k in self.state_names}

    def step(self, x, state, t):
        a = _w32(ops.shl(np.asarray(x, np.int64), int(self.node.spike_exp) + int(self.node.state_exp)))
        return delta_threshold(self.node, a, state)


@register(SD.IntSigmaDelta)
class IntSigmaDeltaKernel(NeuronKernel):
    state_names = ("sigma", "act", "residue", "error")

    def init_state(self, batch):
        return {k: self.zeros(batch, np.int64) for k in self.state_names}

    def step(self, x, state, t):
        n = self.node
        sigma = _w32(state["sigma"] + np.asarray(x, np.int64))
        a = _w32(sigma + np.asarray(n.bias, np.int64))
        if n.act_mode == "relu":
            a = np.maximum(a, 0)
        out, new = delta_threshold(n, a, state)
        return out, {"sigma": sigma, **new}
