"""The int32 form of IntCubaLIF (backends/sim/narrow_lif.py) gives the int64 kernel's outputs
and states, bit for bit, and runs when its bounds hold: random nodes (every overflow rule,
reset, comparison, per-neuron and power-of-two multipliers, reset intervals) over several
blocks whose inputs are small (int32 path), at the rules' edges (u wraps, v saturates) and
too large (int64 path, then int32 again); the simulator's narrow bool/int32 arrays between
kernels, the proven input bounds and the int64 recorded results."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.backends.sim import Simulator
from snnc.backends.sim import narrow_lif as NL
from snnc.backends.sim.int_kernels import IntCubaLIFKernel
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.ir.value_bounds import output_bounds

SHAPE = (2, 3, 4)


def _multiplier(rng, kind):
    if kind == "zero":
        return np.array(0)
    if kind == "full":
        return np.array(4096)
    if kind == "pow2":
        return np.array(int(rng.choice([1024, 2048, 3072, 3584, 512])))
    if kind == "odd":
        return np.array(int(rng.integers(1, 4096)) | 1)
    return rng.integers(0, 4097, SHAPE)             # per neuron


node_options = st.fixed_dictionaries({
    "cm": st.sampled_from(["zero", "full", "pow2", "odd", "array"]),
    "vm": st.sampled_from(["zero", "full", "pow2", "odd", "array"]),
    "threshold": st.sampled_from(["none", "scalar", "array", "negative"]),
    "bias": st.sampled_from(["none", "scalar", "array"]),
    "input_shift": st.integers(0, 8), "arith_bits": st.sampled_from([24, 28, 32, 64]),
    "u_bits": st.sampled_from([12, 16, 24]), "u_overflow": st.sampled_from(["lava", "wrap", "saturate"]),
    "v_bits": st.sampled_from([12, 16, 24]),
    "v_overflow": st.sampled_from(["saturate_sym", "saturate", "wrap"]),
    "comparison": st.sampled_from([">", ">="]), "reset": st.sampled_from(["zero", "subtract", "none"]),
    "state_reset_interval": st.one_of(st.none(), st.integers(1, 5)),
})


def _node(opts, rng) -> IN.IntCubaLIF:
    vhalf = 2 ** (opts["v_bits"] - 1)
    thr = {"none": None, "scalar": np.array(int(rng.integers(0, vhalf // 4))),
           "array": rng.integers(0, vhalf // 4, SHAPE), "negative": np.array(-int(rng.integers(1, 100)))}
    bias = {"none": None, "scalar": np.array(int(rng.integers(-vhalf // 8, vhalf // 8))),
            "array": rng.integers(-vhalf // 8, vhalf // 8, SHAPE)}
    interval = opts["state_reset_interval"]
    return IN.IntCubaLIF(shape=SHAPE, current_mult=_multiplier(rng, opts["cm"]),
                         voltage_mult=_multiplier(rng, opts["vm"]), threshold=thr[opts["threshold"]],
                         bias=bias[opts["bias"]], input_shift=opts["input_shift"],
                         arith_bits=opts["arith_bits"], u_bits=opts["u_bits"], u_overflow=opts["u_overflow"],
                         v_bits=opts["v_bits"], v_overflow=opts["v_overflow"], comparison=opts["comparison"],
                         reset=opts["reset"], state_reset_interval=interval,
                         state_reset_phase=int(rng.integers(0, interval)) if interval else 0)


def _kernel(node, narrow: bool, narrow_output: bool = False):
    k = IntCubaLIFKernel(node, "lif", SHAPE, SHAPE, np.int64)
    k.narrow_enabled = narrow
    k.narrow_output = narrow_output
    return k


def _blocks(node, rng, batch):
    """Blocks of input: small ones (about a tenth of the u range after the shift), ones at the
    u range (the u rule computes), ones far beyond (the int64 kernel), small again."""
    u_range = 2 ** (node.u_bits - 1) // 2 ** node.input_shift
    out = []
    for amp in (max(1, u_range // 10), max(1, u_range), 2 ** 31, max(1, u_range // 10), max(1, u_range // 2)):
        steps = int(rng.integers(1, 5))
        out.append(rng.integers(-amp, amp, (steps, batch, *SHAPE), endpoint=True))
    out[2].flat[0] = 2 ** 31                        # so its max reaches it
    return out


def _run_blocks(k, blocks):
    state, t0, ys, ways = None, 0, [], []
    for x in blocks:
        y, state = k.run_block(x, state, t0)
        ys.append(np.asarray(y, np.int64))
        ways.append(k.last_way)
        t0 += x.shape[0]
    return np.concatenate(ys), state, ways


def _assert_same_state(a, b, node=None):
    """Equal u and v; an int32 state may leave u out (None) only when no step reads it (no
    current decay)."""
    assert len(a) == len(b)
    for sa, sb in zip(a, b):
        for key in ("u", "v"):
            if sa[key] is None:
                assert key == "u" and node is not None and not np.any(node.current_mult)
                continue
            assert np.array_equal(np.asarray(sa[key], np.int64), np.asarray(sb[key], np.int64)), key


@settings(max_examples=200, deadline=None)
@given(node_options, st.integers(0, 2 ** 32 - 1), st.sampled_from([1, 3]))
def test_int32_path_equals_int64_kernel(opts, seed, batch):
    rng = np.random.default_rng(seed)
    node = _node(opts, rng)
    blocks = _blocks(node, rng, batch)
    want, want_state, _ = _run_blocks(_kernel(node, False), blocks)
    for narrow_output in (False, True):
        got, got_state, ways = _run_blocks(_kernel(node, True, narrow_output), blocks)
        assert np.array_equal(got, want)
        _assert_same_state(got_state, want_state, node)
        if NL.NarrowCubaLIF.build(node) is not None and node.arith_bits >= 28:
            assert ways[0] == "int32"           # the small first block always fits
        assert ways[2] == "int64"               # 2**31: beyond int32 whatever the shift


def test_rules_at_their_edges_compute_and_match():
    """Inputs that make Lava's u wrap fire and v saturate (the rules run in int32)."""
    rng = np.random.default_rng(5)
    node = IN.IntCubaLIF(shape=SHAPE, current_mult=np.array(4000), voltage_mult=np.array(4096),
                         threshold=np.array(2 ** 23 - 2), bias=np.array(1000), u_overflow="lava")
    narrow = NL.NarrowCubaLIF.build(node)
    x = rng.integers(-(2 ** 17), 2 ** 17, (30, 2, *SHAPE), endpoint=True)   # |a| <= 2**23 = U
    rules = narrow.plan(float(2 ** 17))
    assert rules == {"u": True, "h": True}
    want, want_state, _ = _run_blocks(_kernel(node, False), [x[:10], x[10:]])
    got, got_state, ways = _run_blocks(_kernel(node, True), [x[:10], x[10:]])
    assert ways == ["int32", "int32"]
    assert np.array_equal(got, want)
    _assert_same_state(got_state, want_state, node)
    v = np.asarray(got_state[0]["v"], np.int64)
    assert np.abs(v).max() == 2 ** 23 - 1               # saturated somewhere: the rule ran


def test_nodes_that_cannot_run_narrow():
    base = dict(shape=SHAPE, current_mult=np.array(0), voltage_mult=np.array(3072))
    assert NL.NarrowCubaLIF.build(IN.IntCubaLIF(**base, threshold=np.array(2 ** 31))) is None
    assert NL.NarrowCubaLIF.build(IN.IntCubaLIF(**base, threshold=np.array(-1), reset="subtract")) is None
    assert NL.NarrowCubaLIF.build(IN.IntCubaLIF(**base, v_bits=40)) is None
    # an odd multiplier times a 24-bit state does not fit in int32: that decay runs in float64
    odd = NL.NarrowCubaLIF.build(IN.IntCubaLIF(**{**base, "voltage_mult": np.array(3071)}))
    assert odd.vm_k is None and odd.vm_f == 3071 / 4096
    lif = NL.NarrowCubaLIF.build(IN.IntCubaLIF(**base))
    assert lif.plan(2.0 ** 17) is not None and lif.plan(2.0 ** 18) is None      # Lava: |a| <= 2**23


def test_multiplier_factoring():
    k, r = NL._factor(np.array([3072, 1024, 0]), 12)
    assert list(k) == [3, 1, 0] and r == 2
    assert NL._factor(np.array(0), 12)[0] is None
    k, r = NL._factor(np.array(4096), 12)
    assert int(k) == 1 and r == 0


def _net(tap=True):
    """input -> binary dense -> LIF -(delay 2)-> binary dense -> LIF -> output; with ``tap`` the
    first LIF is also read by an Output (two readers: one takes narrow arrays, one not)."""
    rng = np.random.default_rng(0)
    g = Graph()
    g.add_node("input", N.Input(shape=(20,)))
    g.add_node("fc0", IN.IntDense(weight=rng.integers(-60, 60, (16, 20)), input_kind="binary"))
    g.add_node("lif0", IN.IntCubaLIF.from_lava((16,), du=4095, dv=1024, vth=3, bias_mant=5))
    g.add_node("fc1", IN.IntDense(weight=rng.integers(-60, 60, (8, 16)), input_kind="binary"))
    g.add_node("lif1", IN.IntCubaLIF.from_lava((8,), du=1000, dv=300, vth=2))
    g.add_node("output", N.Output(shape=(8,)))
    g.add_edge("input", "fc0")
    g.add_edge("fc0", "lif0")
    g.add_edge("lif0", "fc1", delay=2)
    g.add_edge("fc1", "lif1")
    g.add_edge("lif1", "output")
    if tap:
        g.add_node("tap", N.Output(shape=(16,)))
        g.add_edge("lif0", "tap")
    g.metadata["level"] = "integer"
    return g


def _no_narrow(sim):
    for k in sim.kernels.values():
        if hasattr(k, "narrow_enabled"):
            k.narrow_enabled = False
    return sim


@pytest.mark.parametrize("block_steps", [1, 3, None])
def test_simulator_with_narrow_arrays_equals_int64(block_steps):
    g = _net()
    x = (np.random.default_rng(1).random((3, 17, 20)) < 0.4).astype(np.int64)
    sim = Simulator(g, block_steps=block_steps)
    assert [sim.kernels[n].narrow_output for n in ("lif0", "lif1")] == [False, False]   # lif0: the tap reads it
    got = sim.run(x, record="all")
    want = _no_narrow(Simulator(g, block_steps=block_steps)).run(x, record="all")
    assert sim.kernels["lif1"].last_way == "int32"
    for name, v in want.outputs.items():
        assert got.outputs[name].dtype == np.int64 and np.array_equal(got.outputs[name], v), name


def test_narrow_spikes_flow_to_binary_readers_only():
    g = _net(tap=False)
    sim = Simulator(g)
    assert sim.kernels["lif0"].narrow_output is True          # read by a binary dense only
    assert sim.kernels["lif1"].narrow_output is False         # read by an Output
    x = (np.random.default_rng(2).random((2, 9, 20)) < 0.5).astype(np.int64)
    got = sim.run(x, record="all")
    want = _no_narrow(Simulator(g)).run(x, record="all")
    for name, v in want.outputs.items():
        assert got.outputs[name].dtype == np.int64 and np.array_equal(got.outputs[name], v), name


def test_proven_input_bounds_ignore_assumptions():
    g = _net()
    g.nodes["input"].metadata["max_abs"] = 1
    assert output_bounds(g)["input"] == 1
    assert output_bounds(g, assumptions=False)["input"] == np.inf
    sim = Simulator(g)
    w = np.abs(np.asarray(g.nodes["fc0"].weight)).sum(axis=1).max()
    assert sim.kernels["lif0"].input_bound == w                # binary synapse: bounded whatever the input
    # a graded input straight into a LIF: unbounded, measured per block
    g3 = Graph()
    g3.add_node("input", N.Input(shape=(4,)))
    g3.add_node("lif", IN.IntCubaLIF.from_lava((4,), du=4095, dv=1024, vth=3))
    g3.add_node("output", N.Output(shape=(4,)))
    g3.add_edge("input", "lif")
    g3.add_edge("lif", "output")
    g3.metadata["level"] = "integer"
    sim3 = Simulator(g3)
    assert sim3.kernels["lif"].input_bound == np.inf
    x = np.random.default_rng(3).integers(-5000, 5000, (2, 12, 4))
    big = x * 1000                                             # beyond int32 after the shift: int64 steps
    for inp in (x, big):
        got = sim3.run(inp)
        want = _no_narrow(Simulator(g3)).run(inp)
        assert np.array_equal(got.outputs["output"], want.outputs["output"])
    sim3.run(x)
    assert sim3.kernels["lif"].last_way == "int32"
    sim3.run(big)
    assert sim3.kernels["lif"].last_way == "int64"


def test_loose_graph_bound_falls_back_to_the_measured_one():
    """A graded dense layer's proven bound (its 32-bit accumulator) is far too loose for int32
    after the LIF's shift: the block's measured max |x| decides, the results are the same."""
    rng = np.random.default_rng(4)
    g = Graph()
    g.add_node("input", N.Input(shape=(6,)))
    g.add_node("fc", IN.IntDense(weight=rng.integers(-50, 50, (5, 6)), input_kind="graded", acc_bits=32))
    g.add_node("lif", IN.IntCubaLIF.from_lava((5,), du=4095, dv=1024, vth=3))
    g.add_node("output", N.Output(shape=(5,)))
    g.add_edge("input", "fc")
    g.add_edge("fc", "lif")
    g.add_edge("lif", "output")
    g.metadata["level"] = "integer"
    sim = Simulator(g)
    k = sim.kernels["lif"]
    assert np.isfinite(k.input_bound) and k.narrow.plan(k.input_bound) is None
    x = rng.integers(-20, 20, (2, 10, 6))
    got = sim.run(x)
    assert k.last_way == "int32"
    assert np.array_equal(got.outputs["output"], _no_narrow(Simulator(g)).run(x).outputs["output"])


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.int16, np.int32, np.uint8])
def test_sum_pool_of_narrow_inputs_sums_in_int64(dtype):
    from snnc.backends.sim import ops

    rng = np.random.default_rng(6)
    info_max = 1 if dtype == np.bool_ else np.iinfo(dtype).max
    x = rng.integers(0, info_max, (3, 2, 4, 9, 9), endpoint=True).astype(dtype)
    got = ops.sum_pool2d(x, (3, 3), (2, 2), (1, 1), (4, 9, 9))
    want = ops.sum_pool2d(x.astype(np.int64), (3, 3), (2, 2), (1, 1), (4, 9, 9))
    assert got.dtype == np.int64 and np.array_equal(got, want)
    assert want.max() > info_max or dtype == np.bool_    # the sums leave the input's range
