"""Hand-built lowered integer graphs for the Lava backend tests: every custom node kind, both the
native-Lava and the custom-process mapping of each synapse kind, delays, Flatten, pooling.
Shared by tests/lava (Lava env) and tests/backends/lava (main env, subprocess path)."""

from __future__ import annotations

import numpy as np

from snnc.backends.sim import simulate
from snnc.ir import intneurons as INN
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.ir.intnodes import IntConv2d, IntCubaLIF, IntDense


def _g() -> Graph:
    return Graph(metadata={"level": "integer", "target": "loihi2"})


def _w(rng, shape, lo=-120, hi=120):
    return rng.integers(lo, hi, shape, endpoint=True).astype(np.int64)


def lif(shape, *, cm=3000, vm=3500, thr=64 * 20, **kw) -> IntCubaLIF:
    return IntCubaLIF(shape=tuple(shape), current_mult=np.asarray(cm, np.int64), voltage_mult=np.asarray(vm, np.int64),
                      threshold=None if thr is None else np.asarray(thr, np.int64), **kw)


def lif_variants(seed: int = 0) -> Graph:
    """Custom IntCubaLIF variants (soft reset with '>=', per-neuron decays and thresholds, 'wrap'
    current overflow, a non-spiking one feeding a synapse) next to Lava's LIFReset, a Lava LIF
    with int16 bias splitting and a non-spiking Lava LIF readout."""
    rng = np.random.default_rng(seed)
    g = _g()
    g.add_node("input", N.Input(shape=(10,)))
    g.add_node("d1", IntDense(weight=_w(rng, (8, 10)), input_kind="binary"))
    g.add_node("soft", lif((8,), cm=rng.integers(2000, 4096, 8), vm=rng.integers(3000, 4096, 8),
                           thr=rng.integers(200, 2000, 8), comparison=">=", reset="subtract", u_overflow="wrap",
                           bias=rng.integers(-50, 50, 8)))
    g.add_node("d2", IntDense(weight=_w(rng, (6, 8), 0, 250), input_kind="binary"))
    g.add_node("reset_lif", lif((6,), cm=3500, vm=4000, thr=64 * 12, bias=np.asarray(64 * 3 * 512),
                                state_reset_interval=5, state_reset_phase=2))
    g.add_node("d3", IntDense(weight=_w(rng, (5, 10)), input_kind="graded"))
    g.add_node("readout", lif((5,), cm=4096, vm=3900, thr=None))      # non-spiking, feeds a synapse
    g.add_node("d4", IntDense(weight=_w(rng, (3, 5)), input_kind="graded", weight_exp=-9))
    g.add_node("lif4", lif((3,), cm=2048, vm=3000, thr=64 * 9, bias=np.array([70000, -5, 0])))
    g.add_node("d5", IntDense(weight=_w(rng, (2, 3)), input_kind="binary"))
    g.add_node("readout2", lif((2,), cm=4000, vm=4000, thr=None))     # non-spiking Lava LIF (output = v)
    for a, b, d in [("input", "d1", 0), ("d1", "soft", 1), ("soft", "d2", 0), ("d2", "reset_lif", 1),
                    ("input", "d3", 0), ("d3", "readout", 1), ("readout", "d4", 0), ("d4", "lif4", 1),
                    ("lif4", "d5", 0), ("d5", "readout2", 1)]:
        g.add_edge(a, b, d)
    for n in ("reset_lif", "readout2", "soft"):
        g.add_node(f"out_{n}", N.Output(shape=g.nodes[n].shape))
        g.add_edge(n, f"out_{n}")
    return g


def seed_neurons(seed: int = 1) -> Graph:
    """IntLIFB (graded bursts) -> IntLMHT (levels, window) -> IntLNM -> IntCLIF, plus a binary
    max_burst = 1 LIFB population, with graded synapses (weight_exp 6) between them."""
    rng = np.random.default_rng(seed)
    g = _g()
    g.add_node("input", N.Input(shape=(12,)))
    g.add_node("s1", IntDense(weight=_w(rng, (10, 12), -60, 200), weight_exp=6, input_kind="binary"))
    g.add_node("lifb", INN.IntLIFB(shape=(10,), leak_mult=np.asarray(3500), threshold=np.asarray(4000),
                                   threshold_step=np.asarray(3000), max_burst=3,
                                   amplitudes=np.array([0, 1, 3, 4]), reset="subtract", comparison=">=",
                                   v_min=np.asarray(-6000)))
    g.add_node("s2", IntDense(weight=_w(rng, (8, 10)), weight_exp=6, input_kind="graded"))
    g.add_node("lmht", INN.IntLMHT(shape=(8,), leak_mult=4300, threshold=2500, levels=3, v_init=100, window=7))
    g.add_node("s3", IntDense(weight=_w(rng, (7, 8), -50, 120), weight_exp=6, input_kind="graded"))
    g.add_node("lnm", INN.IntLNM(shape=(7,), coefficients=np.array([40, -300, 90, 5]), frac_bits=10,
                                 threshold=1500, v_reset=-100, v_min=-4000, v_max=8000, reset="zero",
                                 comparison=">=", form="increment"))
    g.add_node("s4", IntDense(weight=_w(rng, (6, 7), -30, 200), weight_exp=6, input_kind="binary"))
    sizes = 40
    lut_u = np.round(4096 / (1 + np.exp(-np.linspace(-8, 8, sizes)))).astype(np.int64)
    lut_m = np.round(4096 / (1 + np.exp(-(np.arange(256) * 256 + 128) / 4096))).astype(np.int64)
    g.add_node("clif", INN.IntCLIF(shape=(6,), decay_mult=3000, threshold=3000, lut_u=lut_u, u_shift=8,
                                   u_offset=-20, lut_m=lut_m, m_shift=8, m_frac_bits=12, lut_frac_bits=12,
                                   reset_scale=500, state_bits=24))
    g.add_node("s5", IntDense(weight=_w(rng, (5, 12), 0, 200), weight_exp=6, input_kind="binary"))
    g.add_node("pop", INN.IntLIFB(shape=(5,), leak_mult=np.asarray(3968), threshold=np.asarray([3000, 6000, 9000,
                                                                                               3000, 6000]),
                                  threshold_step=np.asarray(3000), max_burst=1, amplitudes=np.array([0, 1]),
                                  reset="subtract", comparison=">="))
    for a, b, d in [("input", "s1", 0), ("s1", "lifb", 1), ("lifb", "s2", 0), ("s2", "lmht", 1), ("lmht", "s3", 0),
                    ("s3", "lnm", 1), ("lnm", "s4", 0), ("s4", "clif", 1), ("input", "s5", 0), ("s5", "pop", 1)]:
        g.add_edge(a, b, d)
    g.add_node("output", N.Output(shape=(6,)))
    g.add_edge("clif", "output")
    g.add_node("out_pop", N.Output(shape=(5,)))
    g.add_edge("pop", "out_pop")
    return g


def resonate(seed: int = 2) -> Graph:
    """IntRF behind IntComplexDense twice: from binary LIF spikes (two Lava Dense into the RF's
    real/imag ports) and from a graded input (custom SnncComplexDense)."""
    rng = np.random.default_rng(seed)
    g = _g()
    g.add_node("input", N.Input(shape=(8,)))
    g.add_node("d0", IntDense(weight=_w(rng, (6, 8), -50, 250), input_kind="binary"))
    g.add_node("l0", lif((6,), cm=3000, vm=3000, thr=64 * 4))
    g.add_node("cd", INN.IntComplexDense(weight_real=_w(rng, (5, 6), -127, 127), weight_imag=_w(rng, (5, 6)),
                                         weight_exp=6))
    ang = rng.uniform(0.2, 1.2, 5)
    mag = rng.uniform(0.8, 0.97, 5)
    g.add_node("rf", INN.IntRF(shape=(5,), decay_real=np.round(mag * np.cos(ang) * 4096).astype(np.int64),
                               decay_imag=np.round(mag * np.sin(ang) * 4096).astype(np.int64), threshold=6000))
    g.add_node("cd2", INN.IntComplexDense(weight_real=_w(rng, (4, 8), -401, 401) | 1, weight_imag=_w(rng, (4, 8)),
                                          weight_exp=6))     # odd weights beyond 8 bits: custom process
    g.add_node("rf2", INN.IntRF(shape=(4,), decay_real=np.full(4, 3000), decay_imag=np.full(4, -2000), threshold=9000,
                                overflow="wrap", state_bits=20))
    for a, b, d in [("input", "d0", 0), ("d0", "l0", 1), ("l0", "cd", 0), ("cd", "rf", 1), ("input", "cd2", 0),
                    ("cd2", "rf2", 1)]:
        g.add_edge(a, b, d)
    for n in ("rf", "rf2"):
        g.add_node(f"out_{n}", N.Output(shape=g.nodes[n].shape))
        g.add_edge(n, f"out_{n}")
    return g


def conv_pool(seed: int = 3) -> Graph:
    """Lava Conv (graded input, native), SumPool2d (native ones-kernel conv), an SnncConv
    (weight_exp and bias), Flatten into a Dense with delay 3 (DelayDense), a ConstantSource
    through a Dense with delay 2, and a neuron -> synapse edge with delay 2 (SnncDelay line)."""
    rng = np.random.default_rng(seed)
    g = _g()
    g.add_node("input", N.Input(shape=(2, 9, 8)))
    g.add_node("c1", IntConv2d(input_shape=(9, 8), weight=_w(rng, (4, 2, 3, 3), -100, 150), stride=(1, 1),
                               padding=(1, 1), input_kind="graded"))
    g.add_node("n1", lif((4, 9, 8), cm=3500, vm=3800, thr=64 * 6, bias=rng.integers(-64, 64, (4, 1, 1)) * 8))
    g.add_node("pool", N.SumPool2d(kernel_size=(2, 2), stride=(2, 2)))
    g.add_node("c2", IntConv2d(input_shape=(4, 4), weight=_w(rng, (6, 2, 2, 3)), stride=(1, 2), padding=(1, 0),
                               dilation=(2, 1), groups=2, bias=rng.integers(-30, 30, 6), weight_exp=2,
                               input_kind="graded", out_bits=24))
    g.add_node("n2", INN.IntLIFB(shape=(6, 4, 1), leak_mult=np.asarray(3000), threshold=np.asarray(2000),
                                 threshold_step=np.asarray(2000), max_burst=2, amplitudes=np.array([0, 1, 2])))
    g.add_node("flat", N.Flatten(input_shape=(6, 4, 1)))
    g.add_node("fc", IntDense(weight=_w(rng, (5, 24), -200, 255), input_kind="graded"))
    g.add_node("n3", lif((5,), cm=3000, vm=3000, thr=64 * 10))
    g.add_node("const", INN.ConstantSource(shape=(1,), value=np.ones(1, np.int64)))
    g.add_node("cb", IntDense(weight=_w(rng, (5, 1), 10, 60), input_kind="binary"))
    g.add_node("fc_late", IntDense(weight=_w(rng, (3, 5), 0, 250), input_kind="binary"))
    g.add_node("n4", lif((3,), cm=3000, vm=3000, thr=64 * 5))
    for a, b, d in [("input", "c1", 0), ("c1", "n1", 1), ("n1", "pool", 0), ("pool", "c2", 1), ("c2", "n2", 1),
                    ("n2", "flat", 0), ("flat", "fc", 0), ("fc", "n3", 3), ("const", "cb", 0), ("cb", "n3", 2),
                    ("n3", "fc_late", 2), ("fc_late", "n4", 1)]:
        g.add_edge(a, b, d)
    g.add_node("output", N.Output(shape=(3,)))
    g.add_edge("n4", "output")
    return g


def zero_latency(seed: int = 4) -> Graph:
    """A graph without synapse latency (as lowered for fpga/sim): synapses become custom processes
    with latency 0; the recurrent loop keeps its one-step edge; weights beyond Lava's 8 bits."""
    rng = np.random.default_rng(seed)
    g = _g()
    g.add_node("input", N.Input(shape=(6,)))
    g.add_node("d1", IntDense(weight=_w(rng, (5, 6), -3000, 3000), input_kind="binary", acc_bits=64, out_bits=64))
    g.add_node("n1", lif((5,), cm=3000, vm=3500, thr=64 * 900, arith_bits=64, u_overflow="saturate"))
    g.add_node("rec", IntDense(weight=_w(rng, (5, 5), -2000, 2000), input_kind="binary", acc_bits=64, out_bits=64))
    g.add_node("d2", IntDense(weight=_w(rng, (4, 5)) * 4, input_kind="binary"))
    g.add_node("n2", lif((4,), cm=3000, vm=3500, thr=64 * 8))
    for a, b, d in [("input", "d1", 0), ("d1", "n1", 0), ("n1", "rec", 0), ("rec", "n1", 1), ("n1", "d2", 0),
                    ("d2", "n2", 1)]:
        g.add_edge(a, b, d)
    g.add_node("output", N.Output(shape=(4,)))
    g.add_edge("n2", "output")
    return g


def decoupled_burst(seed: int = 5) -> Graph:
    """A soft-reset count LIFB replaced by its binary LIF population (passes.decouple_burst):
    max_burst = 1 IntLIFB copies, a lateral 64-bit IntDense with weights beyond 8 bits (custom
    SnncDense) and a payload-recombining IntDense into the Output."""
    from snnc.passes.decouple_burst import decouple_node

    rng = np.random.default_rng(seed)
    g = _g()
    g.add_node("input", N.Input(shape=(6,)))
    g.add_node("s", IntDense(weight=_w(rng, (4, 6), -40, 120), weight_exp=6, input_kind="binary"))
    g.add_node("burst", INN.IntLIFB(shape=(4,), leak_mult=np.asarray(3968), threshold=np.asarray(3200),
                                    threshold_step=np.asarray(3200), max_burst=3, amplitudes=np.array([0, 1, 2, 3]),
                                    reset="subtract", comparison=">="))
    g.add_node("fc", IntDense(weight=_w(rng, (3, 4), 0, 80), input_kind="graded"))
    g.add_node("n", lif((3,), cm=3000, vm=3500, thr=64 * 6))
    for a, b, d in [("input", "s", 0), ("s", "burst", 1), ("burst", "fc", 0), ("fc", "n", 1)]:
        g.add_edge(a, b, d)
    g.add_node("out_burst", N.Output(shape=(4,)))
    g.add_edge("burst", "out_burst")
    g.add_node("output", N.Output(shape=(3,)))
    g.add_edge("n", "output")
    return decouple_node(g, "burst")


def netx_chain(seed: int = 6) -> Graph:
    """A chain netx can build: graded input -> conv (stride 2, padding 1) -> LIF with per-neuron
    bias -> flatten -> dense with delay 3 -> LIF -> dense + recurrent dense (dense_rec) -> LIF."""
    rng = np.random.default_rng(seed)
    g = _g()
    g.add_node("input", N.Input(shape=(2, 7, 7)))
    g.add_node("c1", IntConv2d(input_shape=(7, 7), weight=_w(rng, (4, 2, 3, 3), -100, 160), stride=(2, 2),
                               padding=(1, 1), input_kind="graded"))
    g.add_node("n1", lif((4, 4, 4), cm=3000, vm=3800, thr=64 * 7, bias=64 * rng.integers(-3, 4, (4, 4, 4))))
    g.add_node("flat", N.Flatten(input_shape=(4, 4, 4)))
    g.add_node("fc", IntDense(weight=_w(rng, (6, 64), -120, 120), input_kind="binary"))
    g.add_node("n2", lif((6,), cm=2500, vm=3000, thr=64 * 8, bias=np.full(6, 64 * 2)))
    g.add_node("rec", IntDense(weight=_w(rng, (3, 3), 0, 100), input_kind="binary"))
    g.add_node("fc2", IntDense(weight=_w(rng, (3, 6), -90, 127), input_kind="binary"))
    g.add_node("n3", lif((3,), cm=4096, vm=3500, thr=64 * 4))
    for a, b, d in [("input", "c1", 0), ("c1", "n1", 1), ("n1", "flat", 0), ("flat", "fc", 0), ("fc", "n2", 3),
                    ("n2", "fc2", 0), ("fc2", "n3", 1), ("n3", "rec", 0), ("rec", "n3", 1)]:
        g.add_edge(a, b, d)
    g.add_node("output", N.Output(shape=(3,)))
    g.add_edge("n3", "output")
    return g


HAND_GRAPHS = {"lif_variants": lif_variants, "seed_neurons": seed_neurons, "resonate": resonate,
               "conv_pool": conv_pool, "zero_latency": zero_latency, "decoupled_burst": decoupled_burst,
               "netx_chain": netx_chain}


def spike_inputs(graph: Graph, batch: int, steps: int, seed: int = 0, rate: float = 0.4,
                 graded: bool = False) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for n in graph.input_names():
        shape = (batch, steps, *graph.nodes[n].shape)
        x = (rng.random(shape) < rate).astype(np.int64)
        if graded:
            x = x * rng.integers(-3, 8, shape)
        out[n] = x
    return out


def assert_bit_exact(trace, graph: Graph, inputs: dict, *, states: bool = True) -> dict:
    """Compare a Lava trace with the simulator on every output (record='all') and every state,
    every step (but the outputs Lava cannot read, ``trace.unobserved``: merged delay parts, whose
    sum the consumer's states check); returns the simulator trace."""
    ref = simulate(graph, inputs, record="all", record_states=states)
    unobserved = set(getattr(trace, "unobserved", {}))
    assert not unobserved & set(trace.outputs), sorted(unobserved & set(trace.outputs))
    assert set(trace.outputs) | unobserved == set(ref.outputs), (sorted(trace.outputs), sorted(ref.outputs))
    assert set(trace.states) == set(ref.states), (sorted(trace.states), sorted(ref.states))
    for kind, ours, theirs in (("output", trace.outputs, ref.outputs), ("state", trace.states, ref.states)):
        for k, v in theirs.items():
            if kind == "output" and k in unobserved:
                continue
            a = ours[k]
            assert a.shape == v.shape, f"{kind} {k}: shape {a.shape} vs simulator {v.shape}"
            if not np.array_equal(a, v):
                idx = tuple(np.argwhere(a != v)[0])
                raise AssertionError(f"{kind} {k} differs first at {idx}: lava {a[idx]} simulator {v[idx]}")
    return ref
