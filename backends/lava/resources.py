"""Loihi 2 resource estimate of a loihi2-lowered graph: neuron cores.

Per neuron population of the ``loihi2`` graph (one Lava process; populations
do not share cores), ``max(1, ceil(neurons / NEURONS_PER_CORE), ceil(synapses into it /
SYNAPSES_PER_CORE))``, summed. The per-core limits are ASSUMED, not measured and not from this
project's sources: Loihi 2 has 128 neuron cores per chip with
up to 1 M neurons and 120 M synapses per chip (Intel's Loihi 2 brief, 2021; also
open-neuromorphic.org/neuromorphic-computing/hardware/loihi-2-intel/), so
``NEURONS_PER_CORE = 8192`` (the usually quoted per-core maximum; 1 M / 128 = 7812 on average)
and ``SYNAPSES_PER_CORE = 120 M / 128 = 937,500``. The real packing depends on the synapse
encoding, weight width and compartment configuration, which Lava's Loihi compiler decides; the
demo models' populations (at most 256 neurons and about 82 k synapses each) fit one core under
any of these limits, so for them the figure is the number of populations.
"""

from __future__ import annotations

import math

from snnc.ir.counts import summarize
from snnc.ir.graph import Graph

#: ASSUMED Loihi 2 per-core limits (see the module docstring for the source and caveats)
NEURONS_PER_CORE = 8192
SYNAPSES_PER_CORE = 937_500


def estimate_cores(lowered: Graph) -> dict:
    """Cores by the assumed per-core limits: ``{"nodes": {population: {neurons, synapses_in,
    cores}}, "total": cores}``. A synapse node's synapses belong to the neuron populations it
    feeds (directly or through stateless nodes)."""
    rows = {r.name: r for r in summarize(lowered)}
    synapses_in = {name: 0 for name, row in rows.items() if row.neurons}
    for name, row in rows.items():
        if not row.synapses or row.neurons:
            continue
        seen, todo = set(), [e.dst for e in lowered.out_edges(name)]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            if n in synapses_in:
                synapses_in[n] += row.synapses
            elif not rows[n].synapses:
                todo += [e.dst for e in lowered.out_edges(n)]
    nodes = {n: {"neurons": rows[n].neurons, "synapses_in": syn,
                 "cores": max(1, math.ceil(rows[n].neurons / NEURONS_PER_CORE), math.ceil(syn / SYNAPSES_PER_CORE))}
             for n, syn in synapses_in.items()}
    return {"nodes": nodes, "total": sum(v["cores"] for v in nodes.values()),
            "limits_assumed": {"neurons_per_core": NEURONS_PER_CORE, "synapses_per_core": SYNAPSES_PER_CORE}}
