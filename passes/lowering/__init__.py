"""The integer lowering (pass ``lower_integer``): one small handler per float node type,
registered with ``@lowers(Type)`` in :mod:`.context`, which also holds the walk over the graph.

=====================  ======================================================================
module                 lowers
=====================  ======================================================================
:mod:`.structure`      Input, Output, Flatten, SumPool2d, AvgPool2d (as a sum), TimeMix
:mod:`.synapses`       Linear / Affine / Conv2d: quantization, state scale choice, bias
                       columns, readouts into an Output
:mod:`.lif`            DiscreteLIF -> IntCubaLIF
:mod:`.seed_neurons`   LIFB, LMHT, CLIF, LNM -> IntLIFB, IntLMHT (+ IntTimeMix), IntCLIF, IntLNM
:mod:`.rf`             RF -> IntComplexDense + IntRF, or the readout form (IntDense + IntCubaLIF)
=====================  ======================================================================

Every other float node kind raises UnsupportedError naming the node.
"""

from . import lif, rf, seed_neurons, structure, synapses  # noqa: F401  (register the handlers)
from .context import HANDLERS, LoweringContext, NodeLowering, lowers

__all__ = ["HANDLERS", "LoweringContext", "NodeLowering", "lowers"]
