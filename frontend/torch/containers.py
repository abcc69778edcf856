"""Multi-step containers and the sum-pooling layer.

* :class:`TimeDistributed` applies stateless per-step modules (conv, batch norm, pooling, ...)
  to every time step of a ``[T, B, *shape]`` sequence by merging time into the batch axis (as
  spikingjelly's ``SeqToANNContainer``). ``nn.Linear`` and :class:`SumPool2d` act on the
  trailing axes and need no wrapper.
* :class:`Recurrent` closes a recurrent loop around a spiking layer with one step of delay.
* :class:`SumPool2d` sums each pooling window (the IR's ``SumPool2d``).

Time convention of the exported graph: within a step, a spike propagates through every
feed-forward layer (edges with delay 0); a recurrent edge carries the previous step's output
(delay 1), as snnTorch/nirtorch do (``metadata['time_convention'] = 'nirtorch'``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from snnc.ir.errors import ParameterError, ShapeError

from .neuron import SpikingNeuron, check_sequence


class TimeDistributed(nn.Module):
    """``TimeDistributed(*modules)``: ``x: [T, B, *in] -> module(x.reshape(T*B, *in)).reshape(T, B, *out)``.

    The wrapped modules see ordinary batched tensors ``[N, *in]`` (N = T*B), so ``nn.Flatten()``
    with its default ``start_dim=1`` flattens each sample. Several modules are chained as an
    ``nn.Sequential`` (``self.module``). Spiking layers may not be wrapped: they need time."""

    def __init__(self, *modules: nn.Module) -> None:
        super().__init__()
        if not modules:
            raise ParameterError("TimeDistributed needs at least one module", node="TimeDistributed")
        self.module = modules[0] if len(modules) == 1 else nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_sequence(x, "TimeDistributed")
        T, B = x.shape[:2]
        y = self.module(x.reshape(T * B, *x.shape[2:]))
        return y.reshape(T, B, *y.shape[1:])


class Recurrent(nn.Module):
    """``Recurrent(neuron, recurrent)``: a spiking layer with a recurrent synapse.

    Per step t: ``out_t = neuron.step(x_t + recurrent(out_{t-1}))`` with ``out_{-1} = 0``
    (so a bias of ``recurrent`` already enters at t = 0). ``recurrent`` maps one step of the
    neuron's output ``[B, *shape]`` to its input ``[B, *shape]`` (e.g. ``nn.Linear(n, n)``, or
    :class:`~snnc.frontend.torch.rf.RFDense` for RF neurons). Exported as the edges
    ``neuron -> recurrent`` (delay 1) and ``recurrent -> neuron`` (delay 0)."""

    def __init__(self, neuron: SpikingNeuron, recurrent: nn.Module) -> None:
        super().__init__()
        if not isinstance(neuron, SpikingNeuron):
            raise ParameterError(f"Recurrent needs a snnc spiking layer, got {type(neuron).__name__}",
                                 node="Recurrent", field="neuron")
        if neuron.whole_window:
            raise ParameterError(f"{type(neuron).__name__} needs whole windows and cannot be recurrent",
                                 node="Recurrent", field="neuron")
        self.neuron = neuron
        self.recurrent = recurrent

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.neuron.run(x, recurrent=self.recurrent)


class SumPool2d(nn.Module):
    """Sum over each ``kernel_size`` window (zero padding): ``float[*, C, H, W] -> float[*, C, H', W']``
    for any leading axes (so it works on ``[T, B, C, H, W]`` and inside :class:`TimeDistributed`).
    ``stride`` defaults to ``kernel_size``. H' = floor((H + 2 p - k) / s) + 1."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size)
        self.stride = self.kernel_size if stride is None else _pair(stride)
        self.padding = _pair(padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < 3:
            raise ShapeError(f"SumPool2d expects [*, C, H, W], got {tuple(x.shape)}", node="SumPool2d")
        lead = x.shape[:-3]
        y = F.avg_pool2d(x.reshape(-1, *x.shape[-3:]), self.kernel_size, self.stride, self.padding,
                         ceil_mode=False, count_include_pad=True, divisor_override=1)
        return y.reshape(*lead, *y.shape[1:])

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _pair(v) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    t = tuple(int(a) for a in v)
    if len(t) != 2:
        raise ParameterError(f"expected an int or a pair, got {v!r}", node="SumPool2d")
    return t
