"""backends/lava/resources.estimate_cores: the Loihi 2 core estimate's stated rules."""

from __future__ import annotations

import numpy as np

from snnc.backends.lava.resources import NEURONS_PER_CORE, SYNAPSES_PER_CORE, estimate_cores
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.ir.intnodes import IntConv2d, IntCubaLIF, IntDense


def _lif(shape):
    return IntCubaLIF(shape=shape, current_mult=np.asarray(4000), voltage_mult=np.asarray(4000),
                      threshold=np.asarray(640))


def _graph() -> Graph:
    """input (1, 4, 4) -> conv 2x1x3x3 -> lif1 (2, 2, 2) -> flatten -> dense 5x8 -> lif2 (5)."""
    g = Graph(metadata={"level": "integer", "target": "loihi2"})
    g.add_node("input", N.Input(shape=(1, 4, 4)))
    g.add_node("conv", IntConv2d(input_shape=(4, 4), weight=np.ones((2, 1, 3, 3), np.int64), out_bits=24))
    g.add_node("lif1", _lif((2, 2, 2)))
    g.add_node("flat", N.Flatten(input_shape=(2, 2, 2)))
    g.add_node("fc", IntDense(weight=np.ones((5, 8), np.int64)))
    g.add_node("lif2", _lif((5,)))
    g.add_node("output", N.Output(shape=(5,)))
    for a, b, d in [("input", "conv", 0), ("conv", "lif1", 1), ("lif1", "flat", 0), ("flat", "fc", 0),
                    ("fc", "lif2", 1), ("lif2", "output", 0)]:
        g.add_edge(a, b, d)
    return g


def test_populations_own_the_synapses_that_feed_them():
    est = estimate_cores(_graph())
    assert est["populations"] == {"lif1": {"neurons": 8, "synapses_in": 8 * 9, "cores": 1},
                                  "lif2": {"neurons": 5, "synapses_in": 40, "cores": 1}}
    assert est["total"] == {"neurons": 13, "synapses": 112, "cores": 2, "chips": 1}
    assert est["limits"] == {"neurons_per_core": NEURONS_PER_CORE, "synapses_per_core": SYNAPSES_PER_CORE,
                             "cores_per_chip": 128}


def test_limits_split_a_population_over_cores():
    assert estimate_cores(_graph(), synapses_per_core=50)["total"]["cores"] == 2 + 1   # 72 -> 2, 40 -> 1
    assert estimate_cores(_graph(), neurons_per_core=4)["total"]["cores"] == 2 + 2     # 8 -> 2, 5 -> 2
