"""ir/counts: neuron and synapse counts per node agree with ``snnc inspect``'s summary on every
example model, float and lowered for each target."""

from __future__ import annotations

from pathlib import Path

import pytest

import snnc
from snnc.ir.counts import node_counts
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.summary import summarize

MODELS = sorted((Path(__file__).resolve().parents[2] / "examples" / "models").glob("*.nir"))


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_counts_agree_with_the_summary(path):
    graph = snnc.load(str(path))
    graphs = [graph] + [compile_graph(graph, make_config(t))[0] for t in ("fpga", "loihi2")]
    for g in graphs:
        assert node_counts(g) == {r.name: (r.neurons, r.synapses) for r in summarize(g)}
