"""The fast C-simulation branch (backends/fpga/fastpath.py; the ctypes build's -DSNNC_FAST_CSIM)
equals the HLS branch and the simulator bit for bit: convolutions through both of their run-time
orders (silent, sparse events or the gather order, dense spike patterns in row blocks and
channel passes; binary and graded inputs; strides, dilations, paddings, groups, kernels wider
than one pattern), CubaLIF in 32-bit arithmetic near its proven bounds, and the dense layer's
event lists in its run-time narrow accumulator (every weight/accumulator width). The HLS
project never defines the macro."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from snnc.backends.fpga import CModel, generate_sources, write_project
from snnc.backends.fpga.fastpath import FAST_MACRO
from snnc.backends.fpga.widths import bits_for_range
from snnc.backends.sim import simulate
from snnc.ir import nodes as N
from snnc.ir.errors import SnncError
from snnc.ir.graph import Graph
from snnc.ir.intnodes import IntConv2d, IntCubaLIF, IntDense
from snnc.ir.shapes import infer_shapes
from snnc.runtime.verify import compare_traces
from snnc.tests.helper_modules import load

pytestmark = pytest.mark.gcc


RG = load("backends/fpga/random_int_graphs.py")


@pytest.fixture(autouse=True)
def _need_gcc():
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")


def _same_three(g: Graph, x) -> None:
    """Simulator == fast C build == HLS C build, every node output and state."""
    ref = simulate(g, x, record="all", record_states=True)
    fast = CModel(g, fast=True).run(x, record="all", record_states=True)
    hls = CModel(g, opt="-O0", fast=False).run(x, record="all", record_states=True)
    for name, got in (("fast", fast), ("hls", hls)):
        cmp = compare_traces({"sim": ref, name: got})
        assert cmp.bit_exact, (name, cmp.first_mismatch)


def _conv_graph(seed: int) -> Graph:
    """Input -> conv (random geometry, weights with rows at the largest magnitude of one sign) ->
    CubaLIF (32-bit arithmetic when proven) -> Output."""
    rng = np.random.default_rng(seed)
    c_in = int(rng.integers(1, 5))
    groups = int(rng.choice([1, c_in]))
    c_out = groups * int(rng.integers(1, 21))          # often not a multiple of the vector width
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 7))   # kw > 4: two spike-pattern chunks
    sy, sx = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    dy, dx = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    py, px = int(rng.integers(0, 3)), int(rng.integers(0, 3))
    h = int(rng.integers((kh - 1) * dy + 1, 12))
    w = int(rng.integers(max(1, (kw - 1) * dx + 1 - 2 * px), 20))
    graded = rng.random() < 0.4
    g = Graph(metadata={"level": "integer", "target": "fpga", "name": f"fastconv_{seed}"})
    g.add_node("input", N.Input(shape=(c_in, h, w)))
    if graded:
        g.nodes["input"].metadata["max_abs"] = int(rng.choice([1, 3, 100, 2000]))
    wt = rng.integers(-15, 16, (c_out, c_in // groups, kh, kw)).astype(np.int64)
    wt[0] = 15
    wt[-1] = -15
    g.add_node("conv", IntConv2d(input_shape=(h, w), weight=wt, stride=(sy, sx), padding=(py, px), groups=groups,
                                 dilation=(dy, dx), bias=None if rng.random() < 0.4 else rng.integers(-60, 60, c_out),
                                 weight_exp=int(rng.integers(-2, 2)), input_kind="graded" if graded else "binary",
                                 out_bits=int(rng.choice([12, 16, 24]))))
    g.add_edge("input", "conv")
    shape = tuple(infer_shapes(g)["conv"])
    g.add_node("lif", IntCubaLIF(shape=shape, current_mult=np.asarray(int(rng.choice([0, 1024, 3000, 4096]))),
                                 voltage_mult=rng.integers(0, 4097, shape) if rng.random() < 0.3 else np.asarray(3072),
                                 threshold=np.asarray(int(rng.integers(1, 2000))), bias=None,
                                 input_shift=int(rng.integers(0, 7)), arith_bits=int(rng.choice([32, 64])),
                                 u_bits=24, u_overflow=str(rng.choice(["lava", "wrap", "saturate"])), v_bits=24,
                                 v_overflow=str(rng.choice(["saturate_sym", "saturate", "wrap"])),
                                 comparison=str(rng.choice([">", ">="])), reset=str(rng.choice(["zero", "subtract"]))))
    g.add_edge("conv", "lif", int(rng.integers(0, 2)))
    g.add_node("output", N.Output(shape=shape))
    g.add_edge("lif", "output")
    return g


def _density_sweep(g: Graph, seed: int, steps: int = 14) -> np.ndarray:
    """[3, steps, *shape]: per step a different share of non-zero inputs (none, one, a few, half,
    all), so every step order of the conv runs; sample 0 at +max, sample 1 at -max, sample 2 mixed."""
    rng = np.random.default_rng(seed + 11)
    node = g.nodes["input"]
    m = int(node.metadata.get("max_abs", 1))
    size = int(np.prod(node.shape))
    rates = [0.0, 1.0 / size, 0.05, 0.5, 1.0, 0.2, 0.0, 0.9, 2.0 / size, 0.7, 1.0, 0.0, 0.3, 1.0][:steps]
    x = np.zeros((3, steps, size), np.int64)
    for t, r in enumerate(rates):
        on = rng.random(size) < r
        if r and not on.any():
            on[rng.integers(size)] = True
        x[0, t] = on * m
        x[1, t] = on * (-m if m > 1 else 1)
        x[2, t] = on * rng.choice([-m, -1, 1, m], size) if m > 1 else on
    return x.reshape(3, steps, *node.shape)


@pytest.mark.parametrize("seed", range(14))
def test_fast_conv_equals_hls_and_simulator(seed):
    g = _conv_graph(seed)
    _same_three(g, {"input": _density_sweep(g, seed)})


def _binary_conv_graph(name, in_shape, c_out, kernel, rng, groups=1, **conv) -> Graph:
    """input -> binary IntConv2d (weights in [-16, 15] incl. both ends, a bias) -> output."""
    g = Graph(metadata={"level": "integer", "target": "fpga", "name": name})
    g.add_node("input", N.Input(shape=in_shape))
    w = rng.integers(-16, 16, (c_out, in_shape[0] // groups, *kernel))
    w[0], w[-1] = 15, -16
    g.add_node("conv", IntConv2d(input_shape=in_shape[1:], weight=w, groups=groups, bias=rng.integers(-9, 9, c_out),
                                 input_kind="binary", out_bits=24, **conv))
    g.add_edge("input", "conv")
    g.add_node("output", N.Output(shape=tuple(infer_shapes(g)["conv"])))
    g.add_edge("conv", "output")
    return g


@pytest.mark.parametrize("c_in, groups, kernel, stride, padding, c_out", [
    (6, 1, (3, 3), (2, 2), (0, 0), 36),       # PilotNet-like: 36 channels, not a multiple of the vector width
    (4, 2, (2, 2), (1, 2), (1, 1), 10),       # grouped, two input channels per spike pattern
    (2, 1, (3, 1), (1, 1), (2, 0), 17),
])
def test_fast_conv_two_channels_per_pattern(c_in, groups, kernel, stride, padding, c_out):
    """Layers whose spike patterns join two input channels (a 2**(2 kw)-row table), dense and
    sparse steps."""
    g = _binary_conv_graph("pairs", (c_in, 11, 21), c_out, kernel, np.random.default_rng(c_in + c_out),
                           stride=stride, padding=padding, groups=groups)
    assert f"_f_wp[{c_in // 2}][" in generate_sources(g)[1]["firmware/snnc_model.cpp"]     # channel pairs
    _same_three(g, {"input": _density_sweep(g, 5)})


def test_fast_conv_patterns_in_row_blocks_and_channel_passes():
    """A wide layer: the spike-pattern order sums a block of output rows at a time (here one, the
    last block a partial one when rows do not divide) and a few channel groups per pass."""
    rng = np.random.default_rng(21)
    g = Graph(metadata={"level": "integer", "target": "fpga", "name": "rowblocks"})
    g.add_node("input", N.Input(shape=(8, 13, 140)))
    w = rng.integers(-16, 16, (40, 8, 3, 3))
    w[0], w[-1] = 15, -16
    g.add_node("conv", IntConv2d(input_shape=(13, 140), weight=w, stride=(1, 1), padding=(1, 0),
                                 bias=rng.integers(-9, 9, 40), input_kind="binary", out_bits=24))
    g.add_edge("input", "conv")
    g.add_node("output", N.Output(shape=tuple(infer_shapes(g)["conv"])))
    g.add_edge("conv", "output")
    src = generate_sources(g)[1]["firmware/snnc_model.cpp"]
    assert "_f_accb[1][138][48]" in src and "cg0 += 1)" in src
    _same_three(g, {"input": _density_sweep(g, 6, steps=6)})


def _near_bound_cuba_graph(seed: int) -> Graph:
    """random_int_graphs.near_bound_graph's construction on CubaLIF-only chains: narrow input
    ports driven to +-max_abs, first / last weight rows at the largest magnitude of one sign."""
    g = RG.random_int_graph(seed, kinds=("cuba",))
    rng = np.random.default_rng(seed + 7)
    for name in g.input_names():
        g.nodes[name].metadata["max_abs"] = int(2 ** int(rng.integers(1, 13)) - 1)
    for node in g.nodes.values():
        if isinstance(node, IntDense):
            w = np.array(node.weight, dtype=np.int64)
            top = int(np.abs(w).max(initial=0)) or 1
            w[0], w[-1] = top, -top
            node.weight = w
    return g


@pytest.mark.parametrize("seed", range(12))
def test_fast_cuba_lif_near_the_bounds(seed):
    g = _near_bound_cuba_graph(1000 + seed)
    _same_three(g, RG.near_bound_inputs(g, seed, steps=8))


def test_fast_cuba_lif_kernel_is_32_bit_where_proven():
    g = RG.random_int_graph(3, kinds=("cuba",))
    for node in g.nodes.values():
        if isinstance(node, IntCubaLIF):
            node.arith_bits, node.u_overflow, node.u_bits, node.v_bits = 32, "lava", 24, 24
            node.current_mult, node.voltage_mult = np.asarray(0), np.asarray(3072)
    src = generate_sources(g)[1]["firmware/snnc_model.cpp"]
    assert "snnc32_decay(v, 3, 2)" in src           # 3072 = 3 * 2**10: rtz(v * 3, 2), exact in 32 bits
    _same_three(g, RG.random_inputs(g, 3, steps=8))


def test_fast_dense_switches_to_a_narrow_accumulator_for_spikes():
    """A 32-bit input port makes the dense accumulator 64-bit; steps whose inputs are all in
    [-1, 1] take the narrow one, other steps the wide one; both equal the simulator."""
    rng = np.random.default_rng(9)
    g = Graph(metadata={"level": "integer", "target": "fpga", "name": "dense"})
    g.add_node("input", N.Input(shape=(40,)))
    w = rng.integers(-127, 128, (33, 40))
    w[0], w[-1] = 127, -127
    g.add_node("fc", IntDense(weight=w, input_kind="graded", acc_bits=64, out_bits=64))
    g.add_edge("input", "fc")
    g.add_node("output", N.Output(shape=(33,)))
    g.add_edge("fc", "output")
    assert "every input in [-1, 1]" in generate_sources(g)[1]["firmware/snnc_model.cpp"]
    x = rng.choice([-1, 0, 1], size=(2, 8, 40))
    x[0, :, :] = 1
    x[1, 3] = rng.integers(-2 ** 30, 2 ** 30, 40)       # a wide step in the middle
    x[1, 5, 7] = 2
    _same_three(g, {"input": x})


@pytest.mark.parametrize("n_in, n_out, wmax, kind", [
    (37, 10, 127, "binary"),          # int8 weights, 16-bit sums: two accumulator vectors per load
    (300, 256, 100, "binary"),        # two register blocks
    (9, 33, 30000, "binary"),         # int16 weights, 32-bit sums
    (400, 5, 127, "binary_wide"),     # int8 weights, 32-bit sums: four accumulator vectors per load
    (50, 17, 1, "graded"),            # graded input: +1 rows added, -1 rows subtracted
    (8, 1, 2 ** 20, "graded"),        # int32 weights and sums
])
def test_fast_dense_event_lists_in_every_width(n_in, n_out, wmax, kind):
    """The dense layer's event lists and register blocks (weights split from one load by shifts)
    equal the simulator and the HLS body at the largest weights of both signs, in every step
    density, a binary layer at any non-zero input value, a graded one also at steps beyond
    [-1, 1] (the HLS body)."""
    rng = np.random.default_rng(n_in + n_out)
    w = rng.integers(-wmax, wmax + 1, (n_out, n_in))
    w[0], w[-1] = wmax, -wmax
    if kind == "binary_wide":               # rows of one sign at the top: the sum needs more than 16 bits
        w[:, :] = wmax
    g = Graph(metadata={"level": "integer", "target": "fpga", "name": "dense_ev"})
    g.add_node("input", N.Input(shape=(n_in,)))
    g.add_node("fc", IntDense(weight=w, input_kind="graded" if kind == "graded" else "binary", out_bits=64))
    g.add_edge("input", "fc")
    g.add_node("output", N.Output(shape=(n_out,)))
    g.add_edge("fc", "output")
    g.nodes["input"].metadata["max_abs"] = 3
    assert "snnc_ev_append" in generate_sources(g)[1]["firmware/snnc_model.cpp"]
    steps = 10
    rates = [0.0, 1.0 / n_in, 0.05, 0.2, 0.5, 1.0, 0.9, 0.3, 0.0, 1.0]
    x = np.zeros((3, steps, n_in), np.int64)
    for t, r in enumerate(rates):
        on = rng.random((3, n_in)) < r
        x[0, t] = on[0]
        x[1, t] = on[1] * rng.choice([-1, 1], n_in)
        x[2, t] = on[2] * rng.choice([-3, -1, 1, 2, 3], n_in)
    _same_three(g, {"input": x})


@pytest.mark.parametrize("c_in, kernel, stride, dilation, padding, c_out", [
    (24, (3, 3), (2, 2), (1, 1), (0, 0), 36),     # PilotNet's layer 2 geometry, smaller
    (16, (3, 3), (2, 1), (1, 1), (1, 0), 64),     # PilotNet's layer 4: asymmetric stride and padding
    (12, (2, 3), (1, 1), (2, 1), (1, 2), 20),
])
def test_fast_conv_gathers_sparse_spikes_by_input_pixel(c_in, kernel, stride, dilation, padding, c_out):
    """Sparse binary steps of a many-channel conv take the gather order (the spiking channels of
    every input pixel, summed per output pixel in registers); equal to the simulator and the HLS
    body in every step density, with the weights at their largest magnitude."""
    g = _binary_conv_graph("gather", (c_in, 9, 23), c_out, kernel, np.random.default_rng(c_in * c_out),
                           stride=stride, padding=padding, dilation=dilation)
    assert "the spiking channels of every input pixel" in generate_sources(g)[1]["firmware/snnc_model.cpp"]
    x = _density_sweep(g, 3)
    x[2] *= np.random.default_rng(4).choice([1, 2, 5], x.shape[1:])      # any non-zero value is a spike
    _same_three(g, {"input": x})


def test_hls_project_never_defines_the_fast_macro(tmp_path):
    g = _conv_graph(2)
    write_project(g, str(tmp_path / "p"))
    for rel in ("Makefile", "build_prj.tcl"):
        path = tmp_path / "p" / rel
        if path.exists():
            assert FAST_MACRO not in path.read_text()
    files = generate_sources(g)[1]
    header = files["firmware/snnc_fast.h"]
    assert f"#if defined({FAST_MACRO}) && !defined(SNNC_TYPED)" in header     # never with ap_int
    src = files["firmware/snnc_model.cpp"]
    blocks = [b.split("#endif", 1)[0] for b in src.split("#if SNNC_FAST_ACTIVE")[1:]]
    assert len(blocks) >= 3          # fast arrays, the conv's input pointer, the conv and LIF bodies
    assert not any("#pragma HLS" in b.split("#else", 1)[0] for b in blocks)
    assert any("#pragma HLS PIPELINE" in b.split("#else", 1)[1] for b in blocks if "#else" in b)


def test_input_beyond_its_port_is_refused_in_any_step_and_sample():
    """The runner checks the port range while it copies the inputs (no extra pass in Python)."""
    g = _conv_graph(1)
    g.nodes["input"].metadata["max_abs"] = 3
    m = CModel(g, opt="-O0")
    x = np.zeros((2, 6, *g.nodes["input"].shape), np.int64)
    m.run(x)
    x[1, 5].reshape(-1)[-1] = -5          # the -4..3 port of max_abs 3: -5 is out
    with pytest.raises(SnncError, match="exceed the generated 3-bit input port"):
        m.run(x)


@pytest.mark.parametrize("cm, overflow", [(0, "lava"), (4000, "lava"), (4095, "saturate"), (2048, "wrap")])
def test_cuba_lif_current_state_at_its_invariant_bound(cm, overflow):
    """u's state type comes from the invariant |u| <= ceil(A * 2**D / (2**D - m)); an input held
    at its bound for many steps drives u to that fixed point, and the narrow state still equals
    the simulator (both C branches)."""
    g = Graph(metadata={"level": "integer", "target": "fpga", "name": "u_bound"})
    g.add_node("input", N.Input(shape=(4,), metadata={"max_abs": 255}))
    g.add_node("lif", IntCubaLIF(shape=(4,), current_mult=np.asarray(cm), voltage_mult=np.asarray(3000),
                                 threshold=np.asarray(10 ** 6), bias=None, input_shift=6, arith_bits=32, u_bits=24,
                                 u_overflow=overflow, v_bits=24, v_overflow="saturate_sym", comparison=">",
                                 reset="zero"))
    g.add_edge("input", "lif")
    g.add_node("output", N.Output(shape=(4,)))
    g.add_edge("lif", "output")
    plan = generate_sources(g)[0]
    bound = -(-256 * 64 * 4096 // (4096 - cm))          # the 9-bit port reaches -256
    narrow = bound < 2 ** 23                             # else u_bits (24) is the tighter limit
    wide = 32 if overflow == "lava" else 24             # arith_bits / u_bits
    assert plan.types.bits["n1_s_u_t"] == (bits_for_range(-bound, bound) if narrow else wide)
    x = np.zeros((2, 400, 4), np.int64)
    x[0] = [255, -256, 255, 0]
    x[1, ::2] = [-256, 255, 0, 255]
    ref = simulate(g, {"input": x}, record_states=True)
    if narrow:                                           # the fixed point is (nearly) reached
        assert np.abs(ref.states["lif.u"]).max() >= 0.9 * bound
    _same_three(g, {"input": x})


@pytest.mark.parametrize("bias_kind", ["channel", "neuron", "scalar"])
def test_fast_history_ring_port_in_place_and_channel_bias(bias_kind):
    """Delayed edges (history rows: copied by HLS, a rotated ring in the fast branch, also for an
    input), an input read in place from the top function's port, and a CubaLIF bias of one value
    per channel over planes of at least MIN_CHANNEL_PLANE neurons (read once per channel): both C
    branches equal the simulator in every node output and state, over several samples (each
    sample resets the ring)."""
    from snnc.backends.fpga.neurons import MIN_CHANNEL_PLANE
    rng = np.random.default_rng(21)
    c, h, w = 3, 32, 70
    assert h * w >= MIN_CHANNEL_PLANE
    g = Graph(metadata={"level": "integer", "target": "fpga", "name": "ring"})
    g.add_node("spikes", N.Input(shape=(2, h, w)))
    g.add_node("drive", N.Input(shape=(c, h, w), metadata={"max_abs": 3}))
    wt = rng.integers(-15, 16, (c, 2, 3, 3))
    g.add_node("conv", IntConv2d(input_shape=(h, w), weight=wt, stride=(1, 1), padding=(1, 1), groups=1,
                                 dilation=(1, 1), bias=None, input_kind="binary", out_bits=16))
    g.add_edge("spikes", "conv", 2)                      # the input keeps two history rows
    bias = {"channel": np.repeat(rng.integers(-300, 300, c), h * w).reshape(c, h, w),
            "neuron": rng.integers(-300, 300, (c, h, w)), "scalar": np.asarray(77)}[bias_kind]
    g.add_node("lif", IntCubaLIF(shape=(c, h, w), current_mult=np.asarray(1024), voltage_mult=np.asarray(3072),
                                 threshold=np.asarray(200), bias=bias, input_shift=3, arith_bits=32, u_bits=24,
                                 u_overflow="lava", v_bits=24, v_overflow="saturate_sym", comparison=">",
                                 reset="zero"))
    g.add_edge("conv", "lif", 1)
    g.add_edge("drive", "lif")
    g.add_node("output", N.Output(shape=(c, h, w)))
    g.add_edge("lif", "output", 1)
    src = generate_sources(g)[1]["firmware/snnc_model.cpp"]
    assert "n3_ROW(" in src and "keep history" in src and "read in place" in src
    assert "snnc32_decay(v, 3, 2)" in src              # the fast CubaLIF body
    assert ("_f_bias[c]" in src) == (bias_kind == "channel")
    x = {"spikes": (rng.random((3, 7, 2, h, w)) < 0.3).astype(np.int64),
         "drive": rng.integers(-3, 4, (3, 7, c, h, w))}
    _same_three(g, x)
