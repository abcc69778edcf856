"""The fine-tuned chip-native digits models (examples/models/digits_<type>_chip.nir, from
examples/finetune_chip.py): each compiles for loihi2 -- with and without the chip option, to the
same graph -- into plain Lava LIF neurons (IntCubaLIF, hard reset, '>') and integer dense
synapses only; the simulator and the generated C agree bit for bit on it; the float simulator
and the compiled graph reproduce the accuracies recorded in the metadata, within 1 point of the
source model's float accuracy."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import snnc
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.passes.chip_native import chip_findings, lowered_chip_problems
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.run import quantize_inputs, run_graph
from snnc.runtime.verify import verify

pytest.importorskip("sklearn")

from snnc.runtime.digits import accuracy_from_outputs, encoded_test_split, lowered_accuracy  # noqa: E402

KINDS = ["clif", "cubalif", "lif", "lifb", "lmht", "lnm", "rf"]
CHIP = {"loihi2": {"neurons": "chip"}}


def _load(repo_root, kind):
    return snnc.load(str(repo_root / "examples" / "models" / f"digits_{kind}_chip.nir"))


@pytest.mark.parametrize("kind", KINDS)
def test_compiles_to_plain_lava_lif_and_dense(repo_root, kind):
    g = _load(repo_root, kind)
    assert chip_findings(g) == []                       # nothing left for the chip mode to approximate
    low, report = compile_graph(g, make_config("loihi2", CHIP))
    exact, _ = compile_graph(g, make_config("loihi2"))
    assert low.metadata["chip_native"] == {} and list(low.nodes) == list(exact.nodes)
    assert lowered_chip_problems(low) == {}
    neurons = [n for n in low.nodes.values() if isinstance(n, N.Node) and getattr(n, "is_neuron", False)]
    assert neurons and all(isinstance(n, IN.IntCubaLIF) for n in neurons)
    for node in low.nodes.values():
        assert isinstance(node, (N.Input, N.Output, IN.IntDense, IN.IntCubaLIF)), node.type_name
        if isinstance(node, IN.IntCubaLIF) and node.threshold is not None:
            assert (node.reset, node.comparison, node.lava_differences()) == ("zero", ">", [])
        if isinstance(node, IN.IntDense):
            w = np.asarray(node.weight)
            assert w.dtype.kind == "i" and w.min() >= -256 and w.max() <= 254 and not np.any(w % 2)


@pytest.mark.parametrize("kind", KINDS)
def test_recorded_accuracies_within_one_point_of_float(repo_root, kind):
    g = _load(repo_root, kind)
    m = g.metadata
    x, y, _ = encoded_test_split(g)
    assert accuracy_from_outputs(run_graph(g, x).outputs["output"], y) == m["float_test_accuracy"]
    low, _ = compile_graph(g, make_config("loihi2", CHIP))
    assert lowered_accuracy(low, x, y) == m["chip_test_accuracy"]
    assert m["chip_test_accuracy"] >= m["source_float_test_accuracy"] - 0.01


@pytest.mark.gcc
@pytest.mark.parametrize("kind", KINDS)
def test_sim_equals_c(repo_root, kind):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not available")
    g = _load(repo_root, kind)
    low, _ = compile_graph(g, make_config("loihi2", CHIP))
    x, _, _ = encoded_test_split(g, 16)
    steps = x.shape[1] + int(low.nodes["output"].hw["latency"])
    cmp, _ = verify(low, ["sim", "fpga"], quantize_inputs(low, {low.input_names()[0]: x}), steps=steps)
    assert cmp.bit_exact and cmp.compared > 0, cmp.first_mismatch


def test_demo_models_are_the_sources_only():
    from snnc.runtime.demo import example_models

    names = [p.rsplit("/", 1)[-1] for p in example_models()]
    assert len(names) == len(KINDS) and not any(n.endswith("_chip.nir") for n in names)
