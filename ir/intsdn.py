"""Integer sigma-delta (SDNN) nodes: Lava's ``Sigma``, ``Delta`` and ``SigmaDelta`` processes
(``lava.proc.sdn``, fixed-point models), as lava-dl netx builds them from SDNN layers.

Every state is int32 and wraps like Lava's numpy int32 arrays (``wrap32``: two's complement
modulo 2**32); ``abs32(x) = wrap32(|x|)`` is numpy's ``np.abs`` on int32 (|-2**31| stays
-2**31). ``asr`` is the arithmetic (floor) right shift. Messages are graded int32 payloads.
Field values are the process model's variables *after* the process constructor's pre-scaling
(Lava multiplies ``vth`` and ``bias`` by 2**(spike_exp + state_exp)): what the model computes
with. Reference: docs/numeric_semantics.md#sigma-delta-nodes.

Delta thresholding (shared by IntDelta and IntSigmaDelta), for the new activation ``a``:

    delta = wrap32(a - act + residue)
    cum_error False:  s = delta where abs32(delta) >= vth else 0
    cum_error True:   error = wrap32(error + delta); s = delta where abs32(error) >= vth else 0;
                      error = 0 where s != 0
    residue = wrap32(delta - s);  act = a;  out = asr(s, state_exp)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import ParameterError
from .nodes import Node, register_node_type

ACT_MODES = ("relu", "unit")


def _check_exps(node: Node, name: str) -> None:
    for f in ("spike_exp", "state_exp"):
        v = getattr(node, f)
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= int(v) <= 16:
            raise ParameterError(f"must be an integer in [0, 16], got {v!r}", node=name, field=f)
    vth = np.asarray(node.vth)
    if vth.dtype.kind not in "iu" or np.any(vth < 0) or np.any(vth >= 2 ** 31):
        raise ParameterError("must be integers in [0, 2**31)", node=name, field="vth")


@register_node_type
@dataclass(eq=False)
class IntSigma(Node):
    """Lava ``Sigma`` (``PySigmaModelFixed``): state sigma int32[shape]; per step
    ``sigma = wrap32(sigma + x)``, out = sigma (graded)."""

    shape: tuple
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "graded"
    is_neuron: ClassVar[bool] = True

    def validate(self, name: str) -> None:
        pass


@register_node_type
@dataclass(eq=False)
class IntDelta(Node):
    """Lava ``Delta`` (``PyDeltaModelFixed``), the SDNN input layer: states act, residue, error
    int32[shape]; per step ``a = wrap32(x << (spike_exp + state_exp))``, then the delta
    thresholding of the module docstring; out graded."""

    shape: tuple
    vth: np.ndarray
    spike_exp: int = 0
    state_exp: int = 0
    cum_error: bool = False
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "graded"
    is_neuron: ClassVar[bool] = True

    def validate(self, name: str) -> None:
        _check_exps(self, name)


@register_node_type
@dataclass(eq=False)
class IntSigmaDelta(Node):
    """Lava ``SigmaDelta`` (``PySigmaDeltaModelFixed``), an SDNN hidden layer: states sigma, act,
    residue, error int32[shape]; per step ``sigma = wrap32(sigma + x)`` (x is not shifted),
    ``a = wrap32(sigma + bias)``, ``a = max(a, 0)`` for act_mode 'relu' ('unit': no clamp), then
    the delta thresholding of the module docstring; out graded."""

    shape: tuple
    vth: np.ndarray
    bias: np.ndarray
    spike_exp: int = 0
    state_exp: int = 0
    act_mode: str = "relu"
    cum_error: bool = False
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "graded"
    is_neuron: ClassVar[bool] = True

    def validate(self, name: str) -> None:
        _check_exps(self, name)
        if self.act_mode not in ACT_MODES:
            raise ParameterError(f"must be one of {ACT_MODES}, got {self.act_mode!r}", node=name, field="act_mode")
        b = np.asarray(self.bias)
        if b.dtype.kind not in "iu" or np.any(np.abs(b.astype(np.float64)) >= 2 ** 31):
            raise ParameterError("must be int32 integers", node=name, field="bias")
