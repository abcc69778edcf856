"""CLIF: complementary leaky integrate-and-fire (Huang et al., ICML 2024; docs/neurons.md#clif).

As the authors' ``CLIFSpike`` / ``ComplementaryLIFNeuron`` (spikingjelly LIF with tau = 2,
``decay_input=False``, soft reset, inclusive heaviside) and the IR node
:class:`snnc.ir.nodes.CLIF`. States u (membrane) and m (complementary potential), both 0 at
t = 0. Per step t, input ``x_t: float[B, *shape]``:

    u <- (1 - 1/tau) * u + x_t          charge
    m <- m * sigmoid(u / tau)           forming (u after charging, before firing)
    s_t = 1[u - theta >= 0]             binary spike, inclusive
    m <- m + s_t                        strengthen
    u <- u - s_t * theta - s_t * sigmoid(m)    soft reset plus the complementary reset

No learnable parameters (tau = 2, theta = 1 by default). Surrogate: the authors' default
``Rectangle`` with alpha = 1 (ds/dz = 1 for |u - theta| <= 1/2); the reset is not detached
(spikingjelly ``detach_reset=False``).
"""

from __future__ import annotations

import torch

from snnc.ir import nodes as N

from .neuron import SpikingNeuron, check_range
from .surrogate import Surrogate, get_surrogate, spike


class CLIF(SpikingNeuron):
    """Multi-step CLIF layer: ``float[T, B, *shape] -> float[T, B, *shape]`` binary spikes.
    ``tau`` (steps, > 1) and ``threshold`` are per-layer constants. States: ``u``, ``m``."""

    state_names = ("u", "m")

    def __init__(self, tau: float = 2.0, threshold: float = 1.0, *,
                 surrogate: str | Surrogate = "rectangle") -> None:
        super().__init__()
        check_range(tau, "CLIF", "tau", low=1.0, low_open=True, hint="tau is in steps and must exceed 1")
        check_range(threshold, "CLIF", "threshold", low=0.0, low_open=True)
        self.tau = float(tau)
        self.threshold = float(threshold)
        self.surrogate = get_surrogate(surrogate)

    def step(self, x, state, p):
        tau, thr = self.tau, self.threshold
        u = (1.0 - 1.0 / tau) * state["u"] + x
        m = state["m"] * torch.sigmoid(u / tau)
        s = spike(u - thr, self.surrogate, ">=")
        m = m + s
        u = u - s * thr - s * torch.sigmoid(m)
        return s, {"u": u, "m": m}

    def export_nodes(self, shape):
        node = N.CLIF(shape=tuple(shape), tau=self.tau, v_threshold=self.threshold, comparison=">=")
        node.metadata = {"torch_class": "CLIF", "surrogate": self.surrogate.describe()}
        return [("", node)]
