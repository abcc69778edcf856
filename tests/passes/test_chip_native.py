"""Chip-native approximation mode (loihi2: {neurons: chip}): the config option, one mapping per
neuron type with what it dropped recorded, nothing changed without the option, one error line per
node that cannot be mapped, and lowered graphs whose neurons are all plain Lava LIF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnc
from snnc.ir import nodes as N
from snnc.ir.errors import ConfigError
from snnc.ir.graph import Graph
from snnc.passes.chip_native import ChipNativeError, chip_findings, lowered_chip_problems, map_chip_native
from snnc.passes.pipeline import PIPELINES
from snnc.passes.targets import load_config, make_config
from snnc.runtime.compile import compile_graph

MODELS = Path(__file__).resolve().parents[2] / "examples" / "models"
DIGITS = ["clif", "cubalif", "lif", "lifb", "lmht", "lnm", "rf"]
CHIP = {"loihi2": {"neurons": "chip"}}


def _digits(kind: str) -> Graph:
    return snnc.load(str(MODELS / f"digits_{kind}.nir"))


# -- config ---------------------------------------------------------------------------------

def test_config_option(tmp_path):
    assert make_config("loihi2").chip_native is False
    assert make_config("loihi2", {"loihi2": {"neurons": "exact"}}).chip_native is False
    assert make_config("loihi2", CHIP).chip_native is True
    cfg = tmp_path / "c.yaml"
    cfg.write_text("target: loihi2\nloihi2: {neurons: chip}\n")
    assert load_config(str(cfg)).chip_native is True


@pytest.mark.parametrize("target, section, field_name", [
    ("loihi2", {"neurons": "approx"}, "loihi2.neurons"),
    ("loihi2", {"neuron": "chip"}, "loihi2"),
    ("loihi2", "chip", "loihi2"),
    ("fpga", {"neurons": "chip"}, "loihi2.neurons"),
])
def test_config_option_refused(target, section, field_name):
    with pytest.raises(ConfigError) as err:
        make_config(target, {"loihi2": section})
    assert f"field '{field_name}'" in str(err.value)


def test_pass_runs_after_discretize_in_loihi2_only():
    pipe = PIPELINES["loihi2"]
    assert pipe.index("discretize") < pipe.index("chip_native") < pipe.index("lower_integer")
    assert all("chip_native" not in PIPELINES[t] for t in ("sim", "fpga"))


# -- without the option nothing changes ------------------------------------------------------

@pytest.mark.parametrize("kind", ["clif", "lmht"])
def test_without_option_the_exact_path_stays(kind):
    g = _digits(kind)
    low, report = compile_graph(g, make_config("loihi2"))
    assert "chip_native" not in low.metadata
    assert not any("chip_native" in entry for entry in report["nodes"].values())
    kinds = {n.type_name for n in low.nodes.values()}
    assert {"clif": "IntCLIF", "lmht": "IntLMHT"}[kind] in kinds


# -- the mappings ----------------------------------------------------------------------------

def _only_chip_lif(g: Graph) -> None:
    for name, node in g.nodes.items():
        if isinstance(node, N.NEURON_TYPES):
            assert isinstance(node, N.DiscreteLIF), name
            assert np.asarray(node.voltage_decay).size == 1 and 0 <= float(node.voltage_decay) <= 1
            assert node.v_min is None
            if node.v_threshold is not None:
                assert (node.reset, node.comparison) == ("zero", ">") and not np.any(node.v_reset)


@pytest.mark.parametrize("kind", DIGITS)
def test_every_digits_model_maps_to_lava_lif(kind):
    g = _digits(kind)
    mapped, done = map_chip_native(g)
    _only_chip_lif(mapped)
    assert mapped.metadata["chip_native"] == {m.node: m.entry() for m in done}
    for m in done:      # every approximation says what it dropped, on the node too
        assert m.dropped and mapped.nodes[m.node].metadata["chip_native"]["from"] == m.source
    expected = {"cubalif": [], "lif": [], "clif": ["clif1"], "lifb": ["lifb1", "lifb2"], "lmht": ["lmht1"],
                "lnm": ["lnm1", "lnm2"], "rf": ["rf1"]}[kind]
    assert [m.node for m in done] == expected
    assert type(g.nodes[expected[0]]).__name__ != "DiscreteLIF" if expected else True   # input not mutated


def test_mapped_values():
    _, clif = map_chip_native(_digits("clif"))
    assert "decay 0.5" in clif[0].target and "hard reset to 0" in clif[0].target
    g = _digits("lnm")
    c = np.asarray(g.nodes["lnm1"].coefficients)
    mapped, _ = map_chip_native(g)
    lif = mapped.nodes["lnm1"]
    assert float(lif.voltage_decay) == pytest.approx(1 + c[1]) and float(lif.bias) == pytest.approx(c[0])
    mapped, done = map_chip_native(_digits("lmht"))
    assert "lmht1_mix" not in mapped.nodes
    assert [(e.src, e.delay) for e in mapped.in_edges("lmht1")] == [("fc1", 0)]
    assert float(mapped.nodes["lmht1"].voltage_decay) == 1.0
    assert any("time mixing lmht1_mix" in d for d in done[0].dropped)
    rf = _digits("rf")
    mapped, done = map_chip_native(rf)
    assert not np.iscomplexobj(mapped.nodes["fc1"].weight)
    assert np.array_equal(mapped.nodes["fc1"].weight, np.real(rf.nodes["fc1"].weight))
    assert float(mapped.nodes["rf1"].voltage_decay) == pytest.approx(np.abs(rf.nodes["rf1"].decay).mean())


def _chain(neuron: N.Node, n: int = 3) -> Graph:
    g = Graph(metadata={"dt": 1e-3, "level": "discrete"})
    g.add_node("input", N.Input(shape=(4,)))
    g.add_node("fc1", N.Linear(weight=np.ones((n, 4))))
    g.add_node("neuron", neuron)
    g.add_node("fc2", N.Linear(weight=np.ones((2, n))))
    g.add_node("out", N.Output(shape=(2,)))
    for a, b in [("input", "fc1"), ("fc1", "neuron"), ("neuron", "fc2"), ("fc2", "out")]:
        g.add_edge(a, b)
    return g


def test_burst_amplitude_folded_into_next_synapse():
    g = _chain(N.LIFB(shape=(3,), leak=np.array(0.8), v_threshold=np.array(1.0), max_burst=3,
                      amplitudes=np.array([0.0, 1.5, 3.0, 4.5]), v_min=np.array(-1.0)))
    mapped, done = map_chip_native(g)
    assert np.array_equal(mapped.nodes["fc2"].weight, 1.5 * np.ones((2, 3)))
    assert np.array_equal(g.nodes["fc2"].weight, np.ones((2, 3)))          # the input graph is untouched
    assert any("folded into fc2" in d for d in done[0].dropped) and any("v_min" in d for d in done[0].dropped)


def test_soft_reset_lif_becomes_hard_reset_and_native_lif_is_untouched():
    soft = N.DiscreteLIF(shape=(3,), voltage_decay=np.array(0.9), current_gain=np.array(1.0),
                         input_gain=np.array(1.0), v_threshold=np.array(1.0), reset="subtract", comparison=">=")
    mapped, done = map_chip_native(_chain(soft))
    assert (mapped.nodes["neuron"].reset, mapped.nodes["neuron"].comparison) == ("zero", ">")
    assert any("subtract reset" in d for d in done[0].dropped)
    native, none = map_chip_native(mapped)
    assert none == [] and native.metadata["chip_native"] == {}


def test_unmappable_nodes_get_one_line_each():
    g = _chain(N.DiscreteLIF(shape=(3,), voltage_decay=np.array(0.9), current_gain=np.array(1.0),
                             input_gain=np.array(1.0), v_threshold=np.array([1.0, 2.0, 3.0]), reset="subtract"))
    g.nodes["fc2"] = N.Linear(weight=np.ones((2, 3)))
    g.add_node("burst", N.LIFB(shape=(2,), leak=np.array([0.5, 0.9]), v_threshold=np.array(1.0), max_burst=2))
    g.edges = [e for e in g.edges if e.dst != "out"] + [type(g.edges[0])("fc2", "burst"),
                                                        type(g.edges[0])("burst", "out")]
    with pytest.raises(ChipNativeError) as err:
        map_chip_native(g)
    lines = str(err.value).splitlines()
    assert lines[0].startswith("2 neuron(s) cannot be made chip-native")
    assert "node 'neuron': LIF (subtract reset" in lines[1] and "v_threshold differs between neurons" in lines[1]
    assert "node 'burst': LIFB burst neuron" in lines[2] and "leak differs" in lines[2]
    assert all("loihi2: {neurons: chip} cannot map it" in line for line in lines[1:])
    with pytest.raises(ChipNativeError):
        compile_graph(g, make_config("loihi2", CHIP))


def test_findings_name_node_dynamics_and_mode():
    lines = [f.line() for f in chip_findings(_digits("clif"))]
    assert lines == ["node 'clif1': CLIF (tau 2, threshold 1); loihi2: {neurons: chip} maps it to LIF (decay 0.5, "
                     "threshold 1, hard reset to 0, '>')"]
    assert chip_findings(_digits("lif")) == []


# -- compiled: plain Lava LIF + integer dense synapses --------------------------------------

@pytest.mark.parametrize("kind", ["clif", "lif", "lifb", "lmht", "lnm", "rf"])
def test_compiled_chip_mode_is_plain_lava_lif(kind):
    low, report = compile_graph(_digits(kind), make_config("loihi2", CHIP))
    assert lowered_chip_problems(low) == {}
    for node, m in low.metadata["chip_native"].items():
        assert report["nodes"][node]["chip_native"]["dropped"] == m["dropped"]
    assert "chip_native" in report["pipeline"]


def test_mappings_are_written_with_the_lowered_graph(tmp_path):
    from snnc.runtime.compile import write_artifacts

    low, report = compile_graph(_digits("lmht"), make_config("loihi2", CHIP))
    write_artifacts(str(tmp_path / "out"), low, report)
    back = snnc.load(str(tmp_path / "out" / "model.nir"))
    assert back.metadata["chip_native"]["lmht1"]["to"] == low.metadata["chip_native"]["lmht1"]["to"]
    assert list(back.metadata["chip_native"]["lmht1"]["dropped"]) == low.metadata["chip_native"]["lmht1"]["dropped"]


def test_lowered_problems_name_custom_processes():
    low, _ = compile_graph(_digits("clif"), make_config("loihi2"))
    problems = lowered_chip_problems(low)
    assert "IntCLIF has no Loihi 2 chip process" in problems["clif1"]
