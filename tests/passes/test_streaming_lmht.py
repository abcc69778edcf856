"""LM-HT on the streaming loihi2 target: the T x T time mixing runs causally, one window late
(IntTimeMix latency = W, phase), and every IntLMHT's windows and idle pre-roll follow the
latency its input gets (IntLMHT.phase), as ``passes.lower_integer.insert_latency`` sets them.

Exactness: the loihi2-lowered graph L equals, up to a pure time shift, the reference R = the
same lowered graph with the latency removed (edge delays before insert_latency, whole-window
IntTimeMix, IntLMHT phase 0): every node n of shift l = ``hw['latency']`` outputs at step l + t
what R's n outputs at step t, every neuron state likewise, and LM-HT nodes and Outputs are 0
before their shift (no spurious spikes in the pre-roll). Zero mismatches, on random float LM-HT
chains (biases, 1-3 layers, windows 2-4, leak < 1 and > 1, v_init != 0, several windows)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.sim import simulate
from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.graph import Edge, Graph
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph

_SYNAPSES = (IN.IntDense, IN.IntConv2d, INN.IntComplexDense, N.SumPool2d)


def lmht_chain(seed: int, *, layers: int, window: int, leaks, v_inits, bias: bool, mix: bool = True,
               lif_out: bool = True) -> Graph:
    """input -> [Affine -> TimeMix -> LMHT] x layers -> Linear -> (LIF ->) Output."""
    rng = np.random.default_rng(seed)
    g = Graph(metadata={"dt": 1e-3})
    width = 10
    g.add_node("input", N.Input(shape=(width,)))
    prev = "input"
    for b in range(layers):
        n = int(rng.integers(4, 10))
        w = rng.standard_normal((n, width)) * 0.9
        fc = f"fc{b}"
        g.add_node(fc, N.Affine(weight=w, bias=rng.standard_normal(n) * 0.4) if bias else N.Linear(weight=w))
        g.add_edge(prev, fc)
        src = fc
        if mix:
            c = 2 / (1 + np.exp(-rng.standard_normal((window, window)))) / window
            g.add_node(f"mix{b}", N.TimeMix(coefficients=c))
            g.add_edge(fc, f"mix{b}")
            src = f"mix{b}"
        g.add_node(f"lmht{b}", N.LMHT(shape=(n,), leak=float(leaks[b]), v_threshold=float(rng.uniform(0.5, 1.5)),
                                      levels=int(rng.choice([2, 4])), v_init=float(v_inits[b]), window=window))
        g.add_edge(src, f"lmht{b}")
        prev, width = f"lmht{b}", n
    g.add_node("fc_out", N.Linear(weight=rng.standard_normal((3, width))))
    g.add_edge(prev, "fc_out")
    g.add_node("output", N.Output(shape=(3,)))
    if lif_out:
        g.add_node("out_lif", N.DiscreteLIF(shape=(3,), voltage_decay=np.array(0.9), current_gain=np.array(1.0),
                                            input_gain=np.array(1.0), v_threshold=np.array(1.0),
                                            v_reset=np.array(0.0)))
        g.add_edge("fc_out", "out_lif")
        g.add_edge("out_lif", "output")
    else:
        g.add_edge("fc_out", "output")
    return g


def without_latency(low: Graph, latency: int = 1) -> Graph:
    """R: the loihi2-lowered graph with the synapse latency taken off every non-recurrent synapse
    output edge, the mixing whole-window and the LM-HT phases 0."""
    ref = low.copy()
    rec = set(ref.recurrent_edges())
    ref.edges = [Edge(e.src, e.dst, e.delay - latency) if isinstance(ref.nodes[e.src], _SYNAPSES) and e not in rec
                 else e for e in ref.edges]
    for node in ref.nodes.values():
        if isinstance(node, INN.IntTimeMix):
            node.latency, node.phase = 0, 0
        elif isinstance(node, INN.IntLMHT):
            node.phase = 0
    return ref


def shift_mismatches(low: Graph, x: np.ndarray) -> tuple[int, int]:
    """(compared values, mismatches) of L against R shifted by each node's hw latency."""
    ref = without_latency(low)
    T = x.shape[1]
    lat = {n: int(node.hw["latency"]) for n, node in low.nodes.items()}
    total = max(lat.values())
    a = simulate(low, x, steps=T + total, record="all", record_states=True)
    b = simulate(ref, x, steps=T, record="all", record_states=True)
    compared = mismatches = 0
    for n, node in low.nodes.items():
        l_n = lat[n]
        pairs = [(a.outputs[n][:, l_n:l_n + T], b.outputs[n])]
        if not isinstance(node, INN.IntTimeMix):     # the mixing's buffers differ by construction
            pairs += [(a.states[k][:, l_n:l_n + T], b.states[k]) for k in b.states if k.startswith(n + ".")]
        if isinstance(node, (INN.IntTimeMix, INN.IntLMHT, N.Output)):
            pairs.append((a.outputs[n][:, :l_n], np.zeros_like(a.outputs[n][:, :l_n])))    # silent pre-roll
        if isinstance(node, INN.IntLMHT):
            pairs.append((a.states[f"{n}.v"][:, :l_n], np.full_like(a.states[f"{n}.v"][:, :l_n], node.v_init)))
        for got, want in pairs:
            compared += want.size
            mismatches += int(np.count_nonzero(got != want))
    return compared, mismatches


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 31 - 1), layers=st.integers(1, 3), window=st.integers(2, 4),
       windows=st.integers(2, 5), bias=st.booleans(), lif_out=st.booleans(),
       leaks=st.lists(st.sampled_from([0.6, 0.9, 1.0, 1.2, 1.45]), min_size=3, max_size=3),
       v_inits=st.lists(st.sampled_from([-0.3, 0.0, 0.4, 0.9]), min_size=3, max_size=3),
       rate=st.sampled_from([0.0, 0.3, 0.7]))
def test_loihi2_lmht_is_whole_window_lmht_shifted(seed, layers, window, windows, bias, lif_out, leaks, v_inits,
                                                  rate):
    g = lmht_chain(seed, layers=layers, window=window, leaks=leaks, v_inits=v_inits, bias=bias, lif_out=lif_out)
    low, report = compile_graph(g, make_config("loihi2"))
    mixes = [n for n in low.nodes.values() if isinstance(n, INN.IntTimeMix)]
    assert len(mixes) == layers and all(m.latency == window and m.phase >= 1 for m in mixes)
    rng = np.random.default_rng(seed)
    x = (rng.random((3, windows * window, 10)) < rate).astype(np.int64)
    compared, mismatches = shift_mismatches(low, x)
    assert compared > 0 and mismatches == 0


def test_phases_follow_the_inserted_latency():
    """Two LM-HT layers, W = 4: mix0 collects from step 1 (one Dense), lmht0 starts at 1 + 4;
    mix1 from 5 + 1, lmht1 at 6 + 4; the Output is 11 steps late."""
    g = lmht_chain(0, layers=2, window=4, leaks=[1.2, 0.9, 1], v_inits=[0.4, 0.0, 0], bias=True)
    low, report = compile_graph(g, make_config("loihi2"))
    n = low.nodes
    assert (n["mix0"].latency, n["mix0"].phase, n["lmht0"].phase) == (4, 1, 5)
    assert (n["mix1"].latency, n["mix1"].phase, n["lmht1"].phase) == (4, 6, 10)
    assert n["output"].hw["latency"] == 11 and n["mix1"].hw["latency"] == 10
    assert report["nodes"]["mix0"]["execution"] == "streaming" and "whole_window" not in n["mix0"].hw
    # sim / fpga keep the whole-window form (phase and latency 0, not even written to files)
    for target in ("sim", "fpga"):
        low2, _ = compile_graph(g, make_config(target))
        assert low2.nodes["mix0"].latency == 0 and low2.nodes["lmht1"].phase == 0
        assert low2.nodes["mix0"].hw["whole_window"] == 4


def test_idle_pre_roll_is_needed():
    """The test has teeth: an LM-HT with leak > 1 and v_init > 0 grows to its threshold on zero
    input; without the idle pre-roll (phase 0) it fires before its first real input, and
    without aligned windows (phase 0, mixing still streaming) the restarts fall mid-window."""
    g = lmht_chain(3, layers=1, window=4, leaks=[1.45, 1, 1], v_inits=[0.9, 0, 0], bias=False, lif_out=False)
    low, _ = compile_graph(g, make_config("loihi2"))
    x = (np.random.default_rng(3).random((2, 12, 10)) < 0.3).astype(np.int64)
    assert shift_mismatches(low, x)[1] == 0
    broken = low.copy()
    broken.nodes["lmht0"].phase = 0
    assert shift_mismatches(broken, x)[1] > 0
    zero = np.zeros_like(x)
    assert simulate(broken, zero, record="all").outputs["lmht0"].any()     # spurious levels on zero input
    assert not simulate(low, zero, record="all").outputs["lmht0"][:, :low.nodes["lmht0"].phase].any()


def test_rtl_streams_time_mixing_without_synapse_latency():
    """The rtl target (no synapse latency, ``window_mixing`` 'streaming'): only the IntTimeMix
    shifts (latency W, phase 0), the LM-HT after it idles for W steps, no edge delay changes;
    its lowered graph equals the fpga one shifted by W at the output. The binary time-multiplexed
    mapping needs whole windows and is refused for it."""
    import pytest

    from snnc.ir.errors import ConfigError

    g = lmht_chain(3, layers=1, window=4, leaks=[0.9], v_inits=[0.0], bias=True)
    low = compile_graph(g, make_config("rtl"))[0]
    ref = compile_graph(g, make_config("fpga"))[0]
    mix = next(n for n in low.nodes.values() if isinstance(n, INN.IntTimeMix))
    assert (mix.latency, mix.phase) == (4, 0)
    assert low.nodes["lmht0"].phase == 4 and low.nodes["output"].hw["latency"] == 4
    assert sorted((e.src, e.dst, e.delay) for e in low.edges) == sorted((e.src, e.dst, e.delay) for e in ref.edges)
    x = np.random.default_rng(0).integers(0, 2, (2, 12, 10))
    y = simulate(low, x, steps=12).outputs["output"]
    y_ref = simulate(ref, x, steps=8).outputs["output"]
    assert np.array_equal(y[:, 4:], y_ref) and not y[:, :4].any()
    with pytest.raises(ConfigError, match="lmht.mapping"):
        make_config("rtl", {"lmht": {"mapping": "binary_time_multiplexed"}})
