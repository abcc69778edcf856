"""PyTorch frontend (needs the ``torch`` extra): multi-step spiking layers that train with
surrogate gradients, and :func:`export` to an snnc IR graph.

Every layer maps ``[T, B, *shape]`` (time first) to ``[T, B, *shape]`` and computes exactly
the per-step equation of its IR node (:mod:`snnc.ir.nodes`)::

    import torch
    from torch import nn
    from snnc.frontend.torch import LIF, TimeDistributed, export

    model = nn.Sequential(TimeDistributed(nn.Conv2d(2, 8, 3), nn.BatchNorm2d(8)), LIF(beta=0.9),
                          nn.Flatten(start_dim=2), nn.Linear(8 * 30 * 30, 10), LIF())
    graph = export(model, torch.zeros(20, 1, 2, 32, 32))      # -> snnc.ir.Graph

=================  ========================  ====================================
layer              IR node(s)                source of the equations
=================  ========================  ====================================
LIF, CubaLIF, IF   DiscreteLIF               snnc.ir.nodes.DiscreteLIF
LI                 DiscreteLIF (no spikes)   S5-RF readout / NIR LI
LIFB               LIFB                      docs/neurons.md#lifb (family; presets)
CLIF               CLIF                      docs/neurons.md#clif (authors' code)
RFDense + RF       complex Linear + RF       docs/neurons.md#s5-rf (authors' code)
LMHT               TimeMix + LMHT            docs/neurons.md#lm-ht (authors' code)
LNM                LNM                       docs/neurons.md#lnm (reconstructed)
ChipLIF            DiscreteLIF (hard reset)  Lava LIF; .finetune trains it with Loihi 2's
                                             quantization in the loop
=================  ========================  ====================================
"""

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("snnc.frontend.torch needs PyTorch: pip install 'snnc[torch]'") from exc

from .chip_lif import ChipBlock, ChipLIF
from .clif import CLIF
from .containers import Recurrent, SumPool2d, TimeDistributed
from .export import export
from .lif import IF, LI, LIF, CubaLIF
from .lifb import LIFB
from .lmht import LMHT
from .lnm import LNM
from .neuron import SpikingNeuron
from .rf import RF, RFDense, hippo_legs_init
from .surrogate import ATan, FastSigmoid, MultiGaussian, Rectangle, Surrogate, spike

__all__ = [
    "ATan", "CLIF", "ChipBlock", "ChipLIF", "CubaLIF", "FastSigmoid", "IF", "LI", "LIF", "LIFB", "LMHT", "LNM",
    "MultiGaussian", "RF", "RFDense", "Rectangle", "Recurrent", "SpikingNeuron", "SumPool2d", "Surrogate",
    "TimeDistributed", "export", "hippo_legs_init", "spike",
]
