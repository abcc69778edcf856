"""Discrete-time LIF family: :class:`LIF`, :class:`CubaLIF`, :class:`IF`, :class:`LI`.

All four are the IR node :class:`snnc.ir.nodes.DiscreteLIF` with ``input_gain = 1`` and
``current_gain = 1`` (no bias). Per step t, input ``x_t: float[B, *shape]`` (membrane units):

    i_t = alpha * i_{t-1} + x_t          (CubaLIF; LIF/IF/LI: i_t = x_t)
    h_t = beta * v_{t-1} + i_t
    h_t = max(h_t, v_min)                (if v_min is given)
    z_t = 1[h_t > theta]  ('>', default, NIR's strict test)  or  1[h_t >= theta] ('>=')
    v_t = v_reset if z_t else h_t        (reset 'zero', default)
          h_t - theta * z_t              (reset 'subtract')
          h_t                            (reset 'none')

``beta`` (voltage retention), ``alpha`` (current retention) and ``theta`` are dimensionless
factors / membrane-unit values; each may be a scalar (per layer) or a tensor that broadcasts
to the neuron shape (per channel ``(C, 1, 1)``, per neuron). With ``learn_beta`` /
``learn_alpha`` the decay is trained through a logit, ``beta = sigmoid(beta_logit)``, which
keeps it in (0, 1) (as PLIF and S5-RF's LI do). LI has no threshold and outputs ``v``.

Why DiscreteLIF and not NIR's ``LIF``/``CubaLIF``: the exporter writes the exact step
equations; NIR's continuous-time form with ``tau = dt / (1 - beta)`` would be read back by
Euler discretisation as ``1 - dt/tau``, which differs from ``beta`` by rounding, and NIR has no
subtractive reset or inclusive comparison. ``snnc.save`` writes DiscreteLIF into the
``.nir`` layout, which snnc reads back exactly; ``nir.read`` rejects this snnc node type.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError

from .neuron import SpikingNeuron, as_tensor, check_range, logit, param_array
from .surrogate import Surrogate, check_comparison, get_surrogate, spike

RESETS = ("zero", "subtract", "none")


class _DiscreteLIFLayer(SpikingNeuron):
    """Shared implementation of the DiscreteLIF family (see the module docstring)."""

    def __init__(self, *, beta, alpha=None, threshold=1.0, reset: str = "zero", v_reset=0.0,
                 comparison: str = ">", v_min=None, surrogate: str | Surrogate = "fast_sigmoid",
                 learn_beta: bool = False, learn_alpha: bool = False) -> None:
        super().__init__()
        if reset not in RESETS:
            raise ParameterError(f"reset {reset!r} not in {RESETS}", node=type(self).__name__, field="reset")
        layer = type(self).__name__
        check_range(beta, layer, "beta", low=0.0, high=1.0, low_open=learn_beta,
                    hint=f"beta is the voltage retention per step; {layer}'s first argument is beta, not the layer "
                         "size (torch layers infer their size from the input)" if layer in ("LIF", "LI") else
                         "beta is the voltage retention per step")
        if alpha is not None:
            check_range(alpha, layer, "alpha", low=0.0, high=1.0, low_open=learn_alpha,
                        hint="alpha is the current retention per step" +
                             ("; CubaLIF's first argument is alpha, not the layer size" if layer == "CubaLIF" else ""))
        if threshold is not None:
            check_range(threshold, layer, "threshold", low=0.0, low_open=True,
                        hint="IF's first argument is the threshold, not the layer size" if layer == "IF" and
                        float(np.max(np.asarray(threshold, np.float64))) > 1 else None)
        self.reset = reset
        self.comparison = check_comparison(comparison)
        self.surrogate = get_surrogate(surrogate)
        self._decay("beta", beta, learn_beta)
        self.has_current = alpha is not None
        if alpha is not None:
            self._decay("alpha", alpha, learn_alpha)
        self.spiking = threshold is not None
        if threshold is not None:
            self.register_buffer("threshold", as_tensor(threshold))
            self.register_buffer("v_reset", as_tensor(v_reset))
        self.register_buffer("v_min", None if v_min is None else as_tensor(v_min))
        self.state_names = ("i", "v") if self.has_current else ("v",)

    def _decay(self, name: str, value, learn: bool) -> None:
        if learn:
            self.register_parameter(f"{name}_logit", nn.Parameter(logit(as_tensor(value))))
        else:
            self.register_buffer(name, as_tensor(value))

    def decay(self, name: str) -> torch.Tensor:
        """The current value of decay ``name`` ('beta' or 'alpha')."""
        lg = getattr(self, f"{name}_logit", None)
        return torch.sigmoid(lg) if lg is not None else getattr(self, name)

    def prepare(self) -> dict:
        return {"beta": self.decay("beta"), "alpha": self.decay("alpha") if self.has_current else None}

    def step(self, x, state, p):
        i = x if p["alpha"] is None else p["alpha"] * state["i"] + x
        h = p["beta"] * state["v"] + i
        if self.v_min is not None:
            h = torch.maximum(h, self.v_min)
        new = {"i": i, "v": h} if self.has_current else {"v": h}
        if not self.spiking:
            return h, new
        z = spike(h - self.threshold, self.surrogate, self.comparison)
        if self.reset == "zero":
            new["v"] = h * (1.0 - z) + z * self.v_reset     # == where(z, v_reset, h), exactly
        elif self.reset == "subtract":
            new["v"] = h - z * self.threshold
        return z, new

    def export_nodes(self, shape):
        layer = type(self).__name__
        one = np.array(1.0)
        alpha = param_array(self.decay("alpha"), shape, layer, "alpha") if self.has_current else None
        kw = dict(shape=tuple(shape), voltage_decay=param_array(self.decay("beta"), shape, layer, "beta"),
                  current_gain=one, input_gain=one.copy(), current_decay=alpha,
                  v_min=None if self.v_min is None else param_array(self.v_min, shape, layer, "v_min"))
        if self.spiking:
            kw.update(v_threshold=param_array(self.threshold, shape, layer, "threshold"),
                      v_reset=param_array(self.v_reset, shape, layer, "v_reset"), reset=self.reset,
                      comparison=self.comparison)
        else:
            kw.update(reset="none")
        node = N.DiscreteLIF(**kw)
        node.metadata = {"torch_class": layer}
        if self.spiking:
            node.metadata["surrogate"] = self.surrogate.describe()
        return [("", node)]


class LIF(_DiscreteLIFLayer):
    """Leaky integrate-and-fire, ``h = beta * v + x`` (DiscreteLIF without current state).

    Args: ``beta`` voltage retention in [0, 1] (default 0.9); ``threshold`` (1.0); ``reset``
    'zero' | 'subtract' | 'none'; ``v_reset`` (0.0, for 'zero'); ``comparison`` '>' | '>=';
    ``v_min`` lower bound of h (None); ``surrogate`` (``'fast_sigmoid'``, see
    :mod:`.surrogate`); ``learn_beta`` trains beta through its logit.
    States: ``v`` (float[T, B, *shape]). Output: binary spikes."""

    def __init__(self, beta=0.9, threshold=1.0, *, reset: str = "zero", v_reset=0.0, comparison: str = ">",
                 v_min=None, surrogate: str | Surrogate = "fast_sigmoid", learn_beta: bool = False) -> None:
        super().__init__(beta=beta, threshold=threshold, reset=reset, v_reset=v_reset, comparison=comparison,
                         v_min=v_min, surrogate=surrogate, learn_beta=learn_beta)


class CubaLIF(_DiscreteLIFLayer):
    """Current-based LIF: ``i = alpha * i + x``, ``h = beta * v + i`` (then as :class:`LIF`).

    Args as :class:`LIF` plus ``alpha`` current retention in [0, 1] (default 0.5) and
    ``learn_alpha``. States: ``i``, ``v``. Output: binary spikes."""

    def __init__(self, alpha=0.5, beta=0.9, threshold=1.0, *, reset: str = "zero", v_reset=0.0,
                 comparison: str = ">", v_min=None, surrogate: str | Surrogate = "fast_sigmoid",
                 learn_alpha: bool = False, learn_beta: bool = False) -> None:
        super().__init__(alpha=alpha, beta=beta, threshold=threshold, reset=reset, v_reset=v_reset,
                         comparison=comparison, v_min=v_min, surrogate=surrogate, learn_alpha=learn_alpha,
                         learn_beta=learn_beta)


class IF(_DiscreteLIFLayer):
    """Integrate-and-fire, ``h = v + x`` (LIF with beta = 1, not trainable).

    Args as :class:`LIF` without ``beta``. State: ``v``. Output: binary spikes."""

    def __init__(self, threshold=1.0, *, reset: str = "zero", v_reset=0.0, comparison: str = ">", v_min=None,
                 surrogate: str | Surrogate = "fast_sigmoid") -> None:
        super().__init__(beta=1.0, threshold=threshold, reset=reset, v_reset=v_reset, comparison=comparison,
                         v_min=v_min, surrogate=surrogate)


class LI(_DiscreteLIFLayer):
    """Leaky integrator (non-spiking readout), ``v = beta * v + x``; output ``v``
    (float[T, B, *shape], analog). S5-RF's readout is ``LI(beta=0.8, learn_beta=True)``
    (``beta = sigmoid(tau)``, no (1 - beta) input factor)."""

    def __init__(self, beta=0.9, *, learn_beta: bool = False) -> None:
        super().__init__(beta=beta, threshold=None, reset="none", learn_beta=learn_beta)
