"""Lava LIF layers with Loihi 2's quantization in the loop, for hardware-aware fine-tuning.

:class:`ChipLIF` is the chip-native neuron (Lava ``LIF``,
docs/netx_format.md#what-runs-on-a-loihi-2-chip) in float: per step t,
input ``x_t: float[B, n]`` (membrane units)::

    i_t = alpha * i_{t-1} + x_t          (alpha None: i_t = x_t, Lava du = 4095)
    h_t = beta * v_{t-1} + i_t + bias
    z_t = 1[h_t > theta]                 (strict, Lava's v > vth << 6)
    v_t = 0 where z_t, else h_t          (hard reset; u is not reset)

with ``theta`` None for a non-spiking readout (outputs h_t, a Lava LIF that never fires). It
exports to :class:`snnc.ir.nodes.DiscreteLIF` (``reset='zero'``, ``comparison='>'``,
per-layer decays and threshold, neuron ``bias``), which the loihi2 lowering turns into a plain
``IntCubaLIF``.

:class:`ChipBlock` is one layer ``nn.Linear(bias=False) -> ChipLIF`` trained with the integer
formats of snnc's ``loihi2`` lowering (passes/lower_integer.py) applied in the forward pass,
straight-through in the backward pass (round(x) passes the gradient of x):

* state scale ``S = qmax * 2**6 * sigma / max|W|`` (integer state units per membrane unit;
  ``qmax`` = 127 for 8-bit weights, ``sigma`` the input's integer scale: 1 for spikes, 127 for
  8-bit analog inputs);
* weights ``w_int = 2 * round(W * qmax / (2 max|W|))`` (even values, which Lava's 8-bit mixed-sign
  Dense keeps), real value ``w_int * max|W| / qmax``;
* threshold ``round(theta * S / 64) * 64 / S`` (Lava's ``vth << 6``); bias on the same grid
  (netx's ``bias_mant << 6``);
* decays ``round(beta * 2**12) / 2**12`` (12-bit), likewise alpha.

With ``lava_timing`` the block also adds Lava's one step of synapse latency (a zero step in
front of its output sequence), so a chain of k blocks returns T + k steps whose last T are what
the compiled ``loihi2`` graph outputs (the first k carry only bias-driven activity, as in Lava).
The master weights stay float: the exported graph holds them unquantized and the lowering
quantizes them exactly as the loop did (up to Lava's round-toward-zero decay and saturation).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from snnc.ir import nodes as N

from .neuron import SpikingNeuron, as_tensor, param_array
from .surrogate import Surrogate, get_surrogate, spike

#: Lava's activation / threshold shift (a_in << 6, vth << 6)
ACT_SHIFT = 6
DECAY_BITS = 12


def ste_round(x: torch.Tensor) -> torch.Tensor:
    """round(x) forward, identity gradient."""
    return x + (torch.round(x) - x).detach()


def quantize_decay(value: torch.Tensor, bits: int = DECAY_BITS) -> torch.Tensor:
    return torch.round(value * 2 ** bits) / 2 ** bits


class ChipLIF(SpikingNeuron):
    """The chip-native neuron (module docstring). Args: ``n`` neurons; ``beta`` voltage decay
    (retention) in [0, 1]; ``threshold`` (None: non-spiking readout); ``alpha`` current decay
    (None: no current state); ``bias`` float[n] (trainable); ``surrogate``.

    ``grid`` (set by :class:`ChipBlock` before each call; None = float) is the state scale S of
    the quantized loop: threshold and bias are rounded onto multiples of 64 / S."""

    def __init__(self, n: int, beta=0.9, threshold=1.0, *, alpha=None, bias=None,
                 surrogate: str | Surrogate = "fast_sigmoid") -> None:
        super().__init__()
        self.n = int(n)
        self.register_buffer("beta", as_tensor(beta))
        self.register_buffer("alpha", None if alpha is None else as_tensor(alpha))
        self.register_buffer("threshold", None if threshold is None else as_tensor(threshold))
        self.bias = nn.Parameter(torch.zeros(self.n) if bias is None else as_tensor(bias).reshape(self.n))
        self.surrogate = get_surrogate(surrogate)
        self.state_names = ("i", "v") if alpha is not None else ("v",)
        self.grid: torch.Tensor | None = None

    def prepare(self) -> dict:
        beta, alpha, thr, bias = self.beta, self.alpha, self.threshold, self.bias
        if self.grid is not None:
            unit = 2 ** ACT_SHIFT / self.grid                   # 64 state units, in membrane units
            beta = quantize_decay(beta)
            alpha = None if alpha is None else quantize_decay(alpha)
            thr = None if thr is None else torch.round(thr / unit) * unit
            bias = ste_round(bias / unit) * unit
        return {"beta": beta, "alpha": alpha, "threshold": thr, "bias": bias}

    def step(self, x, state, p):
        i = x if p["alpha"] is None else p["alpha"] * state["i"] + x
        h = p["beta"] * state["v"] + i + p["bias"]
        new = {"i": i, "v": h} if p["alpha"] is not None else {"v": h}
        if p["threshold"] is None:
            return h, new
        z = spike(h - p["threshold"], self.surrogate, ">")
        new["v"] = h * (1.0 - z)
        return z, new

    def export_nodes(self, shape):
        shape = tuple(shape)
        one = np.array(1.0)
        p = {k: param_array(getattr(self, k), shape if k == "bias" else (), "ChipLIF", k)
             for k in ("beta", "bias")}
        kw = dict(shape=shape, voltage_decay=p["beta"], current_gain=one, input_gain=one.copy(),
                  current_decay=None if self.alpha is None else param_array(self.alpha, (), "ChipLIF", "alpha"),
                  bias=p["bias"] if np.any(p["bias"]) else None)
        if self.threshold is None:
            kw.update(reset="none")
        else:
            kw.update(v_threshold=param_array(self.threshold, (), "ChipLIF", "threshold"), v_reset=np.array(0.0),
                      reset="zero", comparison=">")
        node = N.DiscreteLIF(**kw)
        node.metadata = {"torch_class": "ChipLIF", "surrogate": self.surrogate.describe()}
        return [("", node)]


class ChipBlock(nn.Module):
    """``fc`` (``nn.Linear(n_in, n_out, bias=False)``) then ``neuron`` (:class:`ChipLIF`), on
    ``[T, B, n_in] -> [T (+1 with lava_timing), B, n_out]``. ``input_scale`` (sigma): the integer
    scale of this block's input (1: spikes; 127: 8-bit analog in [-1, 1]); ``weight_bits``: 8 on
    Loihi 2. ``quantize`` / ``lava_timing`` switch the loop's integer formats and Lava's synapse
    latency (both on by default)."""

    def __init__(self, fc: nn.Linear, neuron: ChipLIF, *, input_scale: float = 1.0, weight_bits: int = 8,
                 quantize: bool = True, lava_timing: bool = True) -> None:
        super().__init__()
        self.fc, self.neuron = fc, neuron
        self.input_scale = float(input_scale)
        self.qmax = (1 << (weight_bits - 1)) - 1
        self.quantize, self.lava_timing = quantize, lava_timing

    def quantized_weight(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(weight used in the forward pass, state scale S or None when not quantizing)."""
        w = self.fc.weight
        if not self.quantize:
            return w, None
        m = w.detach().abs().max().clamp_min(1e-12)
        k = ste_round(w * (self.qmax / (2 * m))).clamp(-self.qmax - 1, self.qmax)
        return 2 * k * m / self.qmax, self.qmax * 2 ** ACT_SHIFT * self.input_scale / m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, grid = self.quantized_weight()
        current = torch.nn.functional.linear(x, w)
        if self.lava_timing:
            current = torch.cat([torch.zeros_like(current[:1]), current])
        self.neuron.grid = grid
        try:
            return self.neuron(current)
        finally:
            self.neuron.grid = None
