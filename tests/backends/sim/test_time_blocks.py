"""Time-blocked execution gives the results of one block of all T steps, bit for bit: block
sizes 1, 3, T and the default (also with a tiny block budget, so the default is several blocks),
on random integer graphs (delays, recurrence, conv, pooling, every neuron kind, whole-window
LM-HT), sigma-delta nodes, delays longer than a block and than the run, and every example model
(lowered integer graphs and their float discretisations); so does a batch run as groups of
samples one after the other."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import snnc
from snnc.backends.sim import Simulator, blocks
from snnc.ir import intnodes as IN
from snnc.ir import intsdn as SD
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.tests.helper_modules import load

REPO = Path(__file__).resolve().parents[3]


RG = load("backends/fpga/random_int_graphs.py")


def _run(graph, x, **options):
    return Simulator(graph, **options).run(x, record="all", record_states=True)


def _assert_same(a, b, what):
    assert a.outputs.keys() == b.outputs.keys() and a.states.keys() == b.states.keys(), what
    for part in ("outputs", "states"):
        for k, v in getattr(a, part).items():
            w = getattr(b, part)[k]
            assert (v.dtype, v.shape) == (w.dtype, w.shape), f"{what}: {part} {k}: {v.dtype}{v.shape} {w.shape}"
            assert np.array_equal(v, w), f"{what}: {part} {k} differs"


def _check_blocks(graph, x, monkeypatch, **options):
    """Block sizes 1, 3, T, the default and a tiny budget's default all equal one block of T;
    so do groups of 1 and 2 samples (integer graphs: :meth:`Simulator.sample_groups`)."""
    T = next(iter(x.values())).shape[1] if isinstance(x, dict) else x.shape[1]
    ref = _run(graph, x, block_steps=T, **options)
    for tb in (1, 3, None):
        _assert_same(ref, _run(graph, x, block_steps=tb, **options), f"block_steps={tb}")
    for size, tb in ((1, 3), (2, None)):
        _assert_same(ref, _run(graph, x, block_steps=tb, group_samples=size, **options), f"groups of {size}")
    with monkeypatch.context() as m:
        m.setattr(blocks, "BLOCK_BYTES", 1)
        sim = Simulator(graph, **options)
        _assert_same(ref, sim.run(x, record="all", record_states=True), "tiny block budget")
    # outputs only (recorded arrays are written block by block; the rest is dropped per block)
    one = Simulator(graph, block_steps=T, **options).run(x)
    many = Simulator(graph, block_steps=1, **options).run(x)
    _assert_same(one, many, "outputs only")
    return ref


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_random_int_graphs_every_block_size(seed, monkeypatch):
    g = RG.random_int_graph(seed)
    steps = RG.window_of(g) * 3 + (0 if RG.window_of(g) > 1 else 4)
    x = RG.random_inputs(g, seed, batch=2, steps=steps)
    _check_blocks(g, x, monkeypatch)
    if not any(getattr(k, "whole_window", False) for k in Simulator(g).kernels.values()):
        _check_blocks(g, x, monkeypatch, step_by_step=True)


def test_whole_window_nodes_get_whole_windows():
    assert blocks.block_steps(12, 8, window=4, forced=1) == 4
    assert blocks.block_steps(12, 8, window=4, forced=5) == 8
    assert blocks.block_steps(10, 8, window=4, forced=1) == 10      # not whole windows: one block
    assert blocks.block_steps(0, 8) == 1 and blocks.block_steps(7, 1 << 40) == 1


def _delay_graph(rng, delays=(1, 4, 9, 30)):
    """Input -> dense -> LIF with a recurrent synapse of delay 2, plus edges of the given delays
    (longer than a block, one longer than the run) into a second dense and a sigma-delta layer."""
    g = Graph(metadata={"level": "integer"})
    g.add_node("input", N.Input(shape=(6,)))
    g.add_node("fc", IN.IntDense(weight=rng.integers(-90, 90, (5, 6)), acc_bits=24, out_bits=24))
    g.add_node("lif", IN.IntCubaLIF(shape=(5,), current_mult=np.int64(1024), voltage_mult=np.int64(512),
                                    threshold=np.int64(100), u_bits=24, v_bits=24))
    g.add_node("rec", IN.IntDense(weight=rng.integers(-60, 60, (5, 5)), acc_bits=24, out_bits=24))
    g.add_node("fc2", IN.IntDense(weight=rng.integers(-40, 40, (4, 5)), acc_bits=24, out_bits=24))
    g.add_node("sigma", SD.IntSigma(shape=(4,)))
    g.add_node("delta", SD.IntDelta(shape=(4,), vth=np.int64(3 << 6), spike_exp=3, state_exp=3))
    g.add_node("fc3", IN.IntDense(weight=rng.integers(-40, 40, (4, 4)), acc_bits=32, out_bits=32,
                                  input_kind="graded"))
    g.add_node("sd", SD.IntSigmaDelta(shape=(4,), vth=np.int64(5 << 6), bias=rng.integers(-30, 30, 4),
                                      spike_exp=3, state_exp=3, act_mode="relu", cum_error=True))
    g.add_node("out", N.Output(shape=(4,)))
    g.add_node("out_lif", N.Output(shape=(5,)))
    g.add_edge("input", "fc")
    g.add_edge("fc", "lif")
    g.add_edge("lif", "rec")
    g.add_edge("rec", "lif", delay=2)
    g.add_edge("lif", "out_lif", delay=delays[0])
    for d in delays:
        g.add_edge("lif", "fc2", delay=d)
    g.add_edge("fc2", "sigma")
    g.add_edge("sigma", "delta", delay=delays[1])
    g.add_edge("delta", "fc3")
    g.add_edge("fc3", "sd")
    g.add_edge("sd", "out")
    return g


def test_delays_across_blocks_recurrence_and_sigma_delta(monkeypatch):
    rng = np.random.default_rng(7)
    g = _delay_graph(rng)
    x = (rng.random((3, 20, 6)) < 0.5).astype(np.int64) * rng.integers(1, 9, (3, 20, 6))
    ref = _check_blocks(g, x, monkeypatch)
    assert ref.outputs["out"].any() and ref.outputs["out_lif"].any()
    # a delay of 2 > T and one of exactly T
    for T in (2, 4):
        xs = x[:, :T]
        _check_blocks(_delay_graph(np.random.default_rng(7), delays=(1, 2, T, 40)), xs, monkeypatch)


def test_sample_groups():
    """Blocks shorter than MIN_BLOCK_STEPS split an integer graph's batch into groups that fit
    the budget at that many steps; the results are those of one group."""
    from snnc.backends.sim import simulator as S

    rng = np.random.default_rng(5)
    g = _delay_graph(rng)
    sim = Simulator(g)
    per_sample = sim._sample_step_bytes()
    assert sim.sample_groups(20, 7) == [(0, 7)]          # long blocks already: one group
    with pytest.MonkeyPatch.context() as m:
        m.setattr(blocks, "BLOCK_BYTES", per_sample * S.MIN_BLOCK_STEPS * 3)
        assert sim.steps_per_block(20, 7) < S.MIN_BLOCK_STEPS
        assert sim.sample_groups(20, 7) == [(0, 3), (3, 6), (6, 7)]
        assert sim.steps_per_block(20, 3) >= S.MIN_BLOCK_STEPS
        x = (rng.random((7, 20, 6)) < 0.5).astype(np.int64) * rng.integers(1, 9, (7, 20, 6))
        _assert_same(_run(g, x, group_samples=7), _run(g, x), "groups of 3")
    assert Simulator(g, group_samples=2).sample_groups(20, 5) == [(0, 2), (2, 4), (4, 5)]


def _conv_delay_graph(rng):
    """Input -> binary conv -(delay 1)-> LIF -> conv -(delays 2 and 5)-> LIF -> Output, as lava-dl's
    netx layers read each other (the conv sums arrive one step late)."""
    g = Graph(metadata={"level": "integer"})
    g.add_node("input", N.Input(shape=(2, 9, 9)))
    g.add_node("conv1", IN.IntConv2d(weight=rng.integers(-60, 61, (4, 2, 3, 3)), input_shape=(2, 9, 9),
                                     stride=(2, 2), out_bits=24, input_kind="binary"))
    g.add_node("lif1", IN.IntCubaLIF(shape=(4, 4, 4), current_mult=np.int64(3072), voltage_mult=np.int64(3072),
                                     threshold=np.int64(40), u_bits=24, v_bits=24))
    g.add_node("conv2", IN.IntConv2d(weight=rng.integers(-60, 61, (3, 4, 3, 3)), input_shape=(4, 4, 4),
                                     bias=rng.integers(-9, 10, 3), out_bits=24, input_kind="binary"))
    g.add_node("lif2", IN.IntCubaLIF(shape=(3, 2, 2), current_mult=np.int64(0), voltage_mult=np.int64(2048),
                                     threshold=np.int64(30), u_bits=24, v_bits=24))
    g.add_node("output", N.Output(shape=(3, 2, 2)))
    g.add_edge("input", "conv1")
    g.add_edge("conv1", "lif1", delay=1)
    g.add_edge("lif1", "conv2")
    g.add_edge("conv2", "lif2", delay=2)
    g.add_edge("conv2", "lif2", delay=5)
    g.add_edge("lif2", "output")
    return g


def test_conv_sums_written_into_the_delay_history(monkeypatch):
    """A conv read over delayed edges writes its block into the edge's history (no copy per
    block); every block size and group size gives the results of one block."""
    from snnc.backends.sim import ops

    rng = np.random.default_rng(11)
    g = _conv_delay_graph(rng)
    x = (rng.random((3, 17, 2, 9, 9)) < 0.6).astype(np.int64)
    given_out = []
    conv2d = ops.conv2d
    monkeypatch.setattr(ops, "conv2d", lambda *a, **k: given_out.append(k.get("out") is not None) or conv2d(*a, **k))
    ref = _check_blocks(g, x, monkeypatch)
    assert ref.outputs["output"].any() and not ref.outputs["output"].all()
    given_out.clear()
    Simulator(g, block_steps=4).run(x)
    assert given_out and all(given_out), given_out          # both convs, every block
    assert Simulator(g).kernels["conv1"].block_dtype == np.int32


def test_zero_steps():
    g = _delay_graph(np.random.default_rng(1))
    tr = Simulator(g, block_steps=1).run(np.zeros((2, 0, 6), np.int64))
    assert tr.outputs["out"].shape == (2, 0, 4)


EXAMPLES = sorted((REPO / "examples" / "models").glob("*.nir"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_models_every_block_size(path, monkeypatch):
    from snnc.passes import discretize
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph

    float_graph = snnc.load(str(path))
    target = "loihi2" if path.stem.endswith("_chip") else "fpga"
    lowered = compile_graph(float_graph, make_config(target))[0]
    rng = np.random.default_rng(3)
    T = RG.window_of(lowered) * 3 if RG.window_of(lowered) > 1 else 10
    x = {name: (rng.random((2, T, *lowered.nodes[name].shape)) < 0.3).astype(np.int64)
         for name in lowered.input_names()}
    _check_blocks(lowered, x, monkeypatch)
    g = discretize(float_graph)
    xf = {name: (rng.random((2, T, *g.nodes[name].shape)) < 0.3).astype(np.float64) for name in g.input_names()}
    _check_blocks(g, xf, monkeypatch)
    # batch 1 with blocks of 1 step: 1-row float BLAS products, still the same bits
    _check_blocks(g, {k: v[:1] for k, v in xf.items()}, monkeypatch)
