"""LM-HT: learnable multi-hierarchical threshold neuron (Hao et al., NeurIPS 2024; docs/neurons.md#lm-ht).

As the authors' ``LMHTNeuron(L, T, theta, init_mem)`` and the IR pair
:class:`snnc.ir.nodes.TimeMix` + :class:`snnc.ir.nodes.LMHT`. The layer processes whole windows
of ``T`` steps (the T x T temporal-global information matrix is non-causal). For each window
of inputs ``x_0 .. x_{T-1}: float[B, *shape]``, with V = v_init at the window start:

    I_t = sum_j C[t, j] x_j,      C = 2 * sigmoid(M) / T          (TimeMix; C = 1/T at init)
    H   = lambda * V + I_t,       lambda = sigmoid(alpha) + 0.5   (in (0.5, 1.5); 1 at init)
    k_t = clip(floor(H / theta), 0, L)                            (levels crossed, inclusive)
    o_t = k_t * theta                                             (graded output)
    V   = H - o_t                                                 (soft reset by the emitted amount)

Parameters (per layer): ``alpha`` scalar and ``M: float[T, T]``, learnable, both 0 at init;
``theta`` fixed (default 2 / L, the authors' ``main.py``); ``v_init`` fixed (0; 0.5 theta in the
authors' hybrid pipeline). An input of T' = n*T steps is processed as n independent windows
(the state restarts at ``v_init``), as the IR node's ``window``.

Gradient: straight-through, do/dH = 1 for 0.5 theta <= H <= (L + 0.5) theta, else 0. As the
authors, the leak multiplies ``V.detach()`` in training (``detach_leak=True``); forward values
are unaffected.
"""

from __future__ import annotations

import torch
from torch import nn

from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError, ShapeError

from .neuron import SpikingNeuron, check_sequence, to_numpy


class _LevelFunction(torch.autograd.Function):
    """Forward: clip(floor(h / theta), 0, L) * theta. Backward: straight-through window."""

    @staticmethod
    def forward(ctx, h, theta, levels):
        ctx.save_for_backward(h)
        ctx.theta, ctx.levels = theta, levels
        return torch.clamp(torch.floor(h / theta), 0, levels) * theta

    @staticmethod
    def backward(ctx, grad_out):
        (h,) = ctx.saved_tensors
        window = (h >= 0.5 * ctx.theta) & (h <= (ctx.levels + 0.5) * ctx.theta)
        return grad_out * window.to(grad_out.dtype), None, None


class LMHT(SpikingNeuron):
    """Multi-step LM-HT layer: ``float[T', B, *shape] -> float[T', B, *shape]`` graded values
    k * theta, k in 0..L; T' must be a multiple of the window ``T``. State: ``v``."""

    state_names = ("v",)
    whole_window = True

    def __init__(self, T: int, levels: int = 2, threshold: float | None = None, *, v_init: float = 0.0,
                 detach_leak: bool = True) -> None:
        super().__init__()
        if int(T) < 1 or int(levels) < 1:
            raise ParameterError(f"T = {T} and levels = {levels} must be >= 1", node="LMHT")
        self.T, self.levels = int(T), int(levels)
        self.threshold = float(2.0 / self.levels if threshold is None else threshold)
        if not self.threshold > 0:
            raise ParameterError("must be > 0", node="LMHT", field="threshold")
        self.v_init = float(v_init)
        self.detach_leak = detach_leak
        self.alpha = nn.Parameter(torch.zeros(()))
        self.M = nn.Parameter(torch.zeros(self.T, self.T))

    def leak(self) -> torch.Tensor:
        """lambda = sigmoid(alpha) + 0.5 (0-d tensor)."""
        return torch.sigmoid(self.alpha) + 0.5

    def coefficients(self) -> torch.Tensor:
        """The time-mixing matrix C = 2 sigmoid(M) / T, ``float[T, T]`` (row t: output step)."""
        return 2.0 * torch.sigmoid(self.M) / self.T

    def mix(self, x: torch.Tensor) -> torch.Tensor:
        """I = C x per window: ``x: float[n*T, B, *shape]`` -> same shape."""
        Tn = x.shape[0]
        if Tn % self.T:
            raise ShapeError(f"LMHT with window T = {self.T} got a sequence of {Tn} steps; use a multiple "
                             "of T", node="LMHT")
        xw = x.reshape(Tn // self.T, self.T, *x.shape[1:])
        return torch.einsum("tj,kj...->kt...", self.coefficients().to(x.dtype), xw).reshape(x.shape)

    def step(self, x, state, p):
        v = state["v"].detach() if (self.detach_leak and self.training) else state["v"]
        h = p["leak"] * v + x
        out = _LevelFunction.apply(h, self.threshold, self.levels)
        return out, {"v": h - out}

    def prepare(self) -> dict:
        return {"leak": self.leak()}

    def init_state(self, x0, p):
        return {"v": torch.full_like(x0, self.v_init)}

    def run(self, x, recurrent=None):
        if recurrent is not None:
            raise ShapeError("LMHT needs the whole window before it fires: it cannot sit on a recurrent loop",
                             node="LMHT")
        check_sequence(x, "LMHT")
        current = self.mix(x)
        p = self.prepare()
        outs, vs = [], []
        state = None
        for t in range(x.shape[0]):
            if t % self.T == 0:
                state = self.init_state(current[t], p)
            out, state = self.step(current[t], state, p)
            outs.append(out)
            vs.append(state["v"].detach())
        y = torch.stack(outs)
        if self.record_states:
            self.states = {"v": torch.stack(vs)}
            self.mixed = current.detach()
            self.output = y.detach()
        return y

    def export_nodes(self, shape):
        mix = N.TimeMix(coefficients=to_numpy(self.coefficients()))
        mix.metadata = {"torch_class": "LMHT", "part": "time_mixing"}
        node = N.LMHT(shape=tuple(shape), leak=float(self.leak()), v_threshold=self.threshold,
                      levels=self.levels, v_init=self.v_init, window=self.T, comparison=">=")
        node.metadata = {"torch_class": "LMHT",
                         "surrogate": "straight_through(0.5 theta <= H <= (L+0.5) theta)"}
        return [("_mix", mix), ("", node)]
