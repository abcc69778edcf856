"""Base class of the multi-step spiking layers.

Every layer maps an input sequence ``x: float[T, B, *shape]`` (time first, then batch, then
the per-sample neuron shape) to an output sequence ``float[T, B, *shape]``, starting from the
zero state (or the node's documented initial state) for every call. One call is one run of
the matching IR node over T steps; the step equations are those of the node in
:mod:`snnc.ir.nodes`, in the same order, with the same comparison and reset, so that
:func:`snnc.frontend.torch.export` produces a graph whose simulation reproduces the layer.

Subclasses implement :meth:`SpikingNeuron.prepare` (per-call parameter transforms, e.g. a
sigmoid-parameterised decay, computed once per call), :meth:`SpikingNeuron.init_state`,
:meth:`SpikingNeuron.step` and :meth:`SpikingNeuron.export_nodes`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError, ShapeError


def to_numpy(x) -> np.ndarray:
    """A tensor (or number) as a float64/complex128 numpy array (exact for float32/64 values)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return x.numpy().astype(np.complex128 if x.is_complex() else np.float64)
    return np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64)


def as_tensor(value) -> torch.Tensor:
    """A real parameter value (number, sequence or tensor) as a new float tensor (a tensor
    keeps its floating dtype; anything else gets torch's default dtype)."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().clone()
    return torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=torch.get_default_dtype()).clone()


def logit(p) -> torch.Tensor:
    p = torch.as_tensor(p, dtype=torch.get_default_dtype())
    return torch.log(p) - torch.log1p(-p)


class SpikingNeuron(nn.Module):
    """Multi-step spiking layer: ``forward(x: float[T, B, *shape]) -> float[T, B, *shape]``.

    Set ``record_states = True`` to keep, after each call, ``self.states`` (state name ->
    ``[T, B, *shape]``, the state after each step, detached; names as the simulator's
    ``'<node>.<state>'`` traces) and ``self.output`` (the detached output)."""

    #: names of the state variables, as the simulator kernel of the IR node calls them
    state_names: ClassVar[tuple[str, ...]] = ("v",)
    #: True for layers that need the whole window of T inputs before the first output (LM-HT)
    whole_window: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self.record_states = False
        self.states: dict[str, torch.Tensor] = {}
        self.output: torch.Tensor | None = None

    # -- to implement -------------------------------------------------------------------------

    def prepare(self) -> dict:
        """Per-call derived parameters (e.g. decays from their logits), passed to :meth:`step`."""
        return {}

    def init_state(self, x0: torch.Tensor, p: dict) -> dict[str, torch.Tensor]:
        """The state before step 0 for a step input like ``x0: [B, *shape]``."""
        return {name: torch.zeros_like(x0) for name in self.state_names}

    def step(self, x: torch.Tensor, state: dict, p: dict) -> tuple[torch.Tensor, dict]:
        """One time step: input ``x: [B, *shape]`` -> (output ``[B, *shape]``, new state)."""
        raise NotImplementedError

    def export_nodes(self, shape: tuple[int, ...]) -> list[tuple[str, N.Node]]:
        """IR nodes equivalent to this layer for per-sample ``shape``: a chain ``[(suffix, node),
        ...]`` whose first node receives the layer's input and whose last node is the neuron."""
        raise NotImplementedError

    # -- multi-step driver ----------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x)

    def run(self, x: torch.Tensor,
            recurrent: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """Run over ``x: [T, B, *shape]``. With ``recurrent``, the input of step t is
        ``x[t] + recurrent(out[t-1])`` (``out[-1] = 0``): a recurrent synapse with one step of delay."""
        check_sequence(x, type(self).__name__)
        p = self.prepare()
        state = self.init_state(x[0], p)
        outs = []
        trace: dict[str, list] | None = {k: [] for k in self.state_names} if self.record_states else None
        prev = None
        for t in range(x.shape[0]):
            xt = x[t]
            if recurrent is not None:
                if prev is None:
                    prev = torch.zeros(xt.shape, dtype=xt.real.dtype if xt.is_complex() else xt.dtype,
                                       device=xt.device)
                xt = xt + recurrent(prev)
            prev, state = self.step(xt, state, p)
            outs.append(prev)
            if trace is not None:
                for k in trace:
                    trace[k].append(state[k].detach())
        y = torch.stack(outs)
        if trace is not None:
            self.states = {k: torch.stack(v) for k, v in trace.items()}
            self.output = y.detach()
        return y


def check_sequence(x: torch.Tensor, layer: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise ShapeError(f"{layer} expects a tensor [T, B, *shape] (time first), got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    if x.shape[0] == 0:
        raise ShapeError(f"{layer} got an empty sequence (T = 0)")


def param_array(value, shape: tuple[int, ...], layer: str, field: str) -> np.ndarray:
    """A parameter as a numpy array that broadcasts to the per-sample neuron ``shape`` (a
    scalar is per layer, ``(C, 1, 1)`` per channel, ``shape`` per neuron)."""
    arr = to_numpy(value)
    try:
        ok = np.broadcast_shapes(arr.shape, tuple(shape)) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"parameter of shape {arr.shape} does not broadcast to the neuron shape "
                         f"{tuple(shape)}", node=layer, field=field,
                         hint="use a scalar, a per-channel (C, 1, 1) or a per-neuron tensor")
    return arr


def check_range(value, layer: str, name: str, *, low=None, high=None, low_open: bool = False,
                hint: str | None = None) -> None:
    """Raise ParameterError naming ``name`` (the argument as the user wrote it) when ``value``
    (number or tensor) leaves [low, high] (``low_open``: (low, high])."""
    arr = to_numpy(value)
    bad = np.zeros(arr.shape, bool)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= arr > high
    if bad.any():
        found = arr[bad].reshape(-1)[0]
        rng = f"{'(' if low_open else '['}{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ParameterError(f"{name} = {found:g} is outside {rng}", node=layer, field=name, hint=hint)
