"""LNM: learnable-neuron-model polynomial integrate-and-fire (Jahns, Moreno, Kinsy,
arXiv:2510.07341; docs/neurons.md#lnm).

Only the abstract of the paper is available; this is the reconstructed family of the IR node
:class:`snnc.ir.nodes.LNM`. A per-layer polynomial ``f(v) = c_0 + c_1 v + ... + c_d v^d`` of
degree d in 1..3, evaluated in Horner form ``f = c_0 + v (c_1 + v (c_2 + v c_3))``. Per step t,
input ``x_t: float[B, *shape]`` (membrane units), v_{-1} = 0:

    h_t = v_{t-1} + f(v_{t-1}) + x_t      (form 'increment', default: Euler step of
                                           tau dv/dt = f(v) + R I with tau absorbed in c)
    h_t = f(v_{t-1}) + x_t                (form 'map')
    h_t = clip(h_t, v_min, v_max)         (stability clamp; even-degree terms diverge otherwise)
    s_t = 1[h_t >= theta]                 (comparison '>=' default, or '>')
    v_t = v_reset if s_t else h_t         (reset 'zero', default)
          h_t - theta * s_t               (reset 'subtract')

Learnable: the coefficients ``c: float[d+1]`` (per layer). Default initialisation is a LIF
with tau = 2: c_1 = -1/2 (``v + f(v) = v/2``), other c = 0. theta, v_reset, v_min, v_max are
fixed per-layer constants. Surrogate: ``fast_sigmoid`` by default (selectable); the clamp
passes gradients only inside [v_min, v_max].
"""

from __future__ import annotations

import torch
from torch import nn

from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError

from .neuron import SpikingNeuron, as_tensor, to_numpy
from .surrogate import Surrogate, check_comparison, get_surrogate, spike

FORMS = ("increment", "map")
RESETS = ("zero", "subtract")


class LNM(SpikingNeuron):
    """Multi-step LNM layer: ``float[T, B, *shape] -> float[T, B, *shape]`` binary spikes.
    State: ``v``. ``coefficients`` (float[d+1], c_0 first) overrides ``degree``."""

    state_names = ("v",)

    def __init__(self, degree: int = 2, coefficients=None, threshold: float = 1.0, *, v_reset: float = 0.0,
                 reset: str = "zero", comparison: str = ">=", form: str = "increment", v_min: float = -4.0,
                 v_max: float = 4.0, surrogate: str | Surrogate = "fast_sigmoid",
                 learn_coefficients: bool = True) -> None:
        super().__init__()
        if coefficients is None:
            if not 1 <= int(degree) <= 3:
                raise ParameterError(f"degree {degree} not in 1..3", node="LNM", field="degree")
            coefficients = [0.0, -0.5, 0.0, 0.0][: int(degree) + 1]
        c = as_tensor(coefficients)
        if c.ndim != 1 or not 2 <= c.numel() <= 4:
            raise ParameterError(f"coefficients must be float[d+1] with d in 1..3, got shape "
                                 f"{tuple(c.shape)}", node="LNM", field="coefficients")
        if reset not in RESETS:
            raise ParameterError(f"reset {reset!r} not in {RESETS}", node="LNM", field="reset")
        if form not in FORMS:
            raise ParameterError(f"form {form!r} not in {FORMS}", node="LNM", field="form")
        if not v_min < v_max:
            raise ParameterError(f"v_min {v_min} must be below v_max {v_max}", node="LNM", field="v_min")
        if learn_coefficients:
            self.coefficients = nn.Parameter(c)
        else:
            self.register_buffer("coefficients", c)
        self.threshold, self.v_reset = float(threshold), float(v_reset)
        self.v_min, self.v_max = float(v_min), float(v_max)
        self.reset, self.form = reset, form
        self.comparison = check_comparison(comparison)
        self.surrogate = get_surrogate(surrogate)

    @property
    def degree(self) -> int:
        return self.coefficients.numel() - 1

    def polynomial(self, v: torch.Tensor) -> torch.Tensor:
        """f(v) in Horner form, ``v: float[*]`` -> ``float[*]``."""
        c = self.coefficients
        f = torch.zeros_like(v) + c[-1]
        for k in range(c.numel() - 2, -1, -1):
            f = f * v + c[k]
        return f

    def step(self, x, state, p):
        v = state["v"]
        f = self.polynomial(v)
        h = (v + f + x) if self.form == "increment" else (f + x)
        h = torch.clamp(h, self.v_min, self.v_max)
        s = spike(h - self.threshold, self.surrogate, self.comparison)
        if self.reset == "zero":
            v = h * (1.0 - s) + s * self.v_reset       # == where(s, v_reset, h), exactly
        else:
            v = h - s * self.threshold
        return s, {"v": v}

    def export_nodes(self, shape):
        node = N.LNM(shape=tuple(shape), coefficients=to_numpy(self.coefficients), v_threshold=self.threshold,
                     v_reset=self.v_reset, reset=self.reset, comparison=self.comparison, form=self.form,
                     v_min=self.v_min, v_max=self.v_max)
        node.metadata = {"torch_class": "LNM", "surrogate": self.surrogate.describe()}
        return [("", node)]
