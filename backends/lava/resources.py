"""Loihi 2 neuron-core estimate of a loihi2-lowered integer graph (next to the FPGA back end's
:mod:`snnc.backends.fpga.resources`).

Rules (simple, stated; the real packing is decided by Lava's closed Loihi compiler):

* one neuron population (a neuron node: one Lava process) occupies its own cores; populations
  do not share cores;
* a synapse node's synapses (``snnc.ir.counts``: dense out x in, conv output x C_in/groups x
  kernel, ...) belong to the neuron populations it feeds, directly or through nodes without
  synapses (Flatten, delays);
* a population takes ``max(1, ceil(neurons / NEURONS_PER_CORE), ceil(synapses in /
  SYNAPSES_PER_CORE))`` cores; the total is the sum.

The per-core limits are ASSUMED, not measured and not from this project's docs (which give
none): Loihi 2 has 128 neuron cores per chip with up to 1 M neurons and 120 M synapses per chip
(Intel's Loihi 2 brief, 2021; also open-neuromorphic.org/neuromorphic-computing/hardware/loihi-2-intel/),
so ``NEURONS_PER_CORE = 8192`` (the usually quoted per-core maximum; 1 M / 128 = 7812 on average)
and ``SYNAPSES_PER_CORE = 120 M / 128 = 937,500``. The real packing depends on the synapse
encoding, weight width and compartment configuration; the shipped digits models' populations (at
most 256 neurons and about 82 k synapses each) fit one core under any of these limits, so for
them the figure is the number of populations.
"""

from __future__ import annotations

import math

from snnc.ir.counts import node_counts
from snnc.ir.graph import Graph

#: ASSUMED Loihi 2 per-core limits (module docstring: source and caveats)
NEURONS_PER_CORE = 8192
SYNAPSES_PER_CORE = 937_500
CORES_PER_CHIP = 128


def estimate_cores(lowered: Graph, *, neurons_per_core: int = NEURONS_PER_CORE,
                   synapses_per_core: int = SYNAPSES_PER_CORE) -> dict:
    """Cores by the assumed per-core limits (module docstring). Returns ``{'populations':
    {node: {'neurons', 'synapses_in', 'cores'}}, 'total': {'neurons', 'synapses', 'cores',
    'chips'}, 'limits': {'neurons_per_core', 'synapses_per_core', 'cores_per_chip'}}``;
    ``chips`` = ceil(cores / 128)."""
    counts = node_counts(lowered)
    synapses_in = {name: 0 for name, (neurons, _) in counts.items() if neurons}
    for name, (neurons, synapses) in counts.items():
        if not synapses or neurons:
            continue
        seen, todo = set(), [e.dst for e in lowered.out_edges(name)]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            if n in synapses_in:
                synapses_in[n] += synapses
            elif not counts[n][1]:
                todo += [e.dst for e in lowered.out_edges(n)]
    populations = {}
    for n, syn in synapses_in.items():
        neurons = counts[n][0]
        cores = max(1, math.ceil(neurons / neurons_per_core), math.ceil(syn / synapses_per_core))
        populations[n] = {"neurons": neurons, "synapses_in": syn, "cores": cores}
    cores = sum(p["cores"] for p in populations.values())
    total = {"neurons": sum(p["neurons"] for p in populations.values()),
             "synapses": sum(p["synapses_in"] for p in populations.values()),
             "cores": cores, "chips": math.ceil(cores / CORES_PER_CHIP)}
    return {"populations": populations, "total": total,
            "limits": {"neurons_per_core": neurons_per_core, "synapses_per_core": synapses_per_core,
                       "cores_per_chip": CORES_PER_CHIP}}


__all__ = ["CORES_PER_CHIP", "NEURONS_PER_CORE", "SYNAPSES_PER_CORE", "estimate_cores"]
