"""LIFB: leaky integrate-and-fire-or-burst (Shen, Zhao, Zeng, arXiv:2301.12356; docs/neurons.md#lifb).

The paper's equations are not public; this layer implements the family of the IR node
:class:`snnc.ir.nodes.LIFB`, which covers the soft-reset count neuron (docs/neurons.md#lifb)
and BrainCog's ``BurstLIFNode`` as written (BrainCog ``node.py``). Per step t, input ``x_t: float[B, *shape]``:

    h_t   = leak * v_{t-1} + input_gain * x_t
    n_t   = #{k in 0..N-1 : h_t (comparison) theta + k * theta_step}      burst count in 0..N
    out_t = A[n_t]                    (graded spike value; A[0] = 0, default A[n] = n)
    v_t   = h_t - n_t * theta_step    (reset 'subtract': soft reset by the emitted amount)
            0 if n_t > 0 else h_t     (reset 'zero')
            h_t * (1 - n_t)           (reset 'multiplicative': BrainCog's V <- H (1 - n))
    v_t   = max(v_t, v_min)           (if v_min is given)

Modes: rest (n = 0), regular spike (n = 1), burst (n >= 2). Variant choices are constructor
parameters: ``max_burst`` N, ``threshold`` theta, ``threshold_step`` (None = theta: the count
neuron n = clip(floor(h / theta), 0, N) for '>='), ``amplitudes`` A (float[N+1]), ``reset``,
``comparison`` ('>=' default; BrainCog's ceil is strict '>'), ``input_gain``, ``v_min``.
Presets: :meth:`LIFB.count_neuron` and :meth:`LIFB.braincog`.

Gradients: each level k contributes the surrogate ``g(h - theta_k)``: dn/dh = sum_k g_k and
d out/dh = sum_k (A[k+1] - A[k]) g_k. With ``Rectangle(width=theta_step)`` this is the
straight-through gradient of BrainCog's ``RoundGrad`` (1 on the window of the staircase).
``detach_reset`` stops gradients through n in the reset (BrainCog detaches it).
``learn_leak`` trains ``leak`` directly (it may be >= 1 for IF-like bursts; no transform).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError

from .neuron import SpikingNeuron, as_tensor, check_range, param_array
from .surrogate import Rectangle, Surrogate, check_comparison, get_surrogate, spike

RESETS = ("subtract", "zero", "multiplicative")


class LIFB(SpikingNeuron):
    """Multi-step LIFB layer: ``float[T, B, *shape] -> float[T, B, *shape]`` (graded values
    A[n]). State: ``v`` (membrane after reset). See the module docstring for the equations."""

    state_names = ("v",)

    def __init__(self, leak=1.0, threshold=1.0, max_burst: int = 4, *, threshold_step=None, input_gain=1.0,
                 amplitudes=None, reset: str = "subtract", comparison: str = ">=", v_min=None,
                 surrogate: str | Surrogate = "fast_sigmoid", learn_leak: bool = False,
                 detach_reset: bool = False) -> None:
        super().__init__()
        if int(max_burst) < 1:
            raise ParameterError("must be >= 1", node="LIFB", field="max_burst")
        if reset not in RESETS:
            raise ParameterError(f"reset {reset!r} not in {RESETS}", node="LIFB", field="reset")
        check_range(leak, "LIFB", "leak", low=0.0, high=1.0, hint="leak is the membrane retention per step")
        check_range(threshold, "LIFB", "threshold", low=0.0, low_open=True)
        if threshold_step is not None:
            check_range(threshold_step, "LIFB", "threshold_step", low=0.0, low_open=True)
        self.max_burst = int(max_burst)
        self.reset = reset
        self.comparison = check_comparison(comparison)
        self.surrogate = get_surrogate(surrogate)
        self.detach_reset = detach_reset
        if learn_leak:
            self.leak = nn.Parameter(as_tensor(leak))
        else:
            self.register_buffer("leak", as_tensor(leak))
        self.register_buffer("threshold", as_tensor(threshold))
        step = threshold if threshold_step is None else threshold_step
        self.register_buffer("threshold_step", as_tensor(step))
        self.register_buffer("input_gain", as_tensor(input_gain))
        amps = as_tensor(np.arange(self.max_burst + 1) if amplitudes is None else amplitudes)
        if amps.shape != (self.max_burst + 1,) or float(amps[0]) != 0.0:
            raise ParameterError(f"amplitudes must be float[max_burst + 1] = float[{self.max_burst + 1}] "
                                 f"with amplitudes[0] = 0, got shape {tuple(amps.shape)}", node="LIFB",
                                 field="amplitudes")
        self.register_buffer("amplitudes", amps)
        self.register_buffer("v_min", None if v_min is None else as_tensor(v_min))

    @classmethod
    def count_neuron(cls, leak=1.0, threshold=1.0, max_burst: int = 4, **kw) -> LIFB:
        """The soft-reset count neuron of docs/neurons.md#lifb: n = clip(floor(h / theta), 0, N)
        (inclusive), v = h - n * theta, out = n. Exactly decouplable into a LIF population."""
        return cls(leak, threshold, max_burst, threshold_step=threshold, reset="subtract", comparison=">=",
                   **kw)

    @classmethod
    def braincog(cls, tau: float = 2.0, threshold: float = 0.5, max_burst: int = 5, burst_factor: float = 1.5,
                 **kw) -> LIFB:
        """BrainCog's ``BurstLIFNode`` as written (docs/neurons.md#lifb): h = (1 - 1/tau) v + x / tau
        (its H = V + (x - V)/tau), n = clip(ceil(h - theta), 0, N) i.e. strict thresholds
        theta + k, out = n for n <= 1 else burst_factor * n, v = h (1 - n) with n detached,
        straight-through gradient (Rectangle of width 1 per level)."""
        amps = [0.0, 1.0] + [burst_factor * n for n in range(2, max_burst + 1)]
        kw.setdefault("surrogate", Rectangle(1.0))
        kw.setdefault("detach_reset", True)
        return cls(1.0 - 1.0 / tau, threshold, max_burst, threshold_step=1.0, input_gain=1.0 / tau,
                   amplitudes=amps[: max_burst + 1], reset="multiplicative", comparison=">", **kw)

    def step(self, x, state, p):
        h = self.leak * state["v"] + self.input_gain * x
        count = torch.zeros_like(h)
        smooth = torch.zeros_like(h)
        for k in range(self.max_burst):
            b = spike(h - (self.threshold + k * self.threshold_step), self.surrogate, self.comparison)
            count = count + b
            smooth = smooth + (self.amplitudes[k + 1] - self.amplitudes[k]) * b
        # forward value A[n] exactly; gradient of the smooth staircase sum_k (A[k+1] - A[k]) b_k
        out = self.amplitudes[count.detach().long()] + (smooth - smooth.detach())
        n = count.detach() if self.detach_reset else count
        if self.reset == "subtract":
            v = h - n * self.threshold_step
        elif self.reset == "zero":
            v = h * (1.0 - torch.clamp(n, max=1.0))          # == where(n > 0, 0, h)
        else:
            v = h * (1.0 - n)
        if self.v_min is not None:
            v = torch.maximum(v, self.v_min)
        return out, {"v": v}

    def export_nodes(self, shape):
        node = N.LIFB(shape=tuple(shape), leak=param_array(self.leak, shape, "LIFB", "leak"),
                      v_threshold=param_array(self.threshold, shape, "LIFB", "threshold"),
                      max_burst=self.max_burst,
                      threshold_step=param_array(self.threshold_step, shape, "LIFB", "threshold_step"),
                      input_gain=param_array(self.input_gain, shape, "LIFB", "input_gain"),
                      amplitudes=param_array(self.amplitudes, (self.max_burst + 1,), "LIFB", "amplitudes"),
                      reset=self.reset, comparison=self.comparison,
                      v_min=None if self.v_min is None else param_array(self.v_min, shape, "LIFB", "v_min"))
        node.metadata = {"torch_class": "LIFB", "surrogate": self.surrogate.describe()}
        return [("", node)]
