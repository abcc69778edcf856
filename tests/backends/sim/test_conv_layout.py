"""The simulator's convolution (``ops.conv2d``: phase-split im2col, one matmul per group over a
chunk of samples) against a plain int64 loop: exact for every stride, padding, dilation, groups,
leading axes and chunk size, in int64, float32 and float64 compute, with int32 or int64 output;
and ``IntConv2dKernel.narrow_output``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.sim import ops


def _reference(x, w, stride, padding, dilation, groups):
    """x: int[L, C, H, W] -> int64[L, C_out, Ho, Wo] by the definition (loops over outputs)."""
    x = np.asarray(x, np.int64)
    w = np.asarray(w, np.int64)
    L, C, H, W = x.shape
    c_out, c_in_g, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    co_g = c_out // groups
    y = np.zeros((L, c_out, ho, wo), np.int64)
    for o in range(c_out):
        g = o // co_g
        xg = xp[:, g * c_in_g:(g + 1) * c_in_g]
        for r in range(ho):
            for q in range(wo):
                patch = xg[:, :, r * sh:r * sh + dh * (kh - 1) + 1:dh, q * sw:q * sw + dw * (kw - 1) + 1:dw]
                y[:, o, r, q] = (patch * w[o]).sum(axis=(1, 2, 3))
    return y


@st.composite
def _conv_case(draw):
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 3)))
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0]), 9))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1]), 11))
    lead = draw(st.sampled_from([(), (1,), (3,), (2, 3), (4, 1, 2)]))
    return (c_in, h, w), (c_out, c_in // groups, kh, kw), stride, padding, dilation, groups, lead


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_conv_case(), binary=st.booleans(), chunk=st.sampled_from([1, 50, 1 << 19]),
       seed=st.integers(0, 2 ** 31))
def test_conv2d_equals_int64_loop(case, binary, chunk, seed, monkeypatch):
    in_shape, w_shape, stride, padding, dilation, groups, lead = case
    rng = np.random.default_rng(seed)
    if binary:
        x = rng.random((*lead, *in_shape)) < rng.choice([0.0, 0.1, 0.5, 1.0])
    else:
        x = rng.integers(-7, 8, (*lead, *in_shape))
    w = rng.integers(-300, 301, w_shape)
    want = _reference(x.reshape(-1, *in_shape), w, stride, padding, dilation, groups)
    want = want.reshape((*lead, *want.shape[1:]))
    args = (stride, padding, dilation, groups, in_shape)
    monkeypatch.setattr(ops, "CONV_CHUNK_ELEMENTS", chunk)
    exact = ops.conv2d(np.asarray(x, np.int64), w, *args)
    assert exact.dtype == np.int64 and np.array_equal(exact, want)
    # |partial sums| <= 300 * 9 * 12 * 7 < 2**23: float32 is exact, so is int32 output
    for cd in (np.float32, np.float64):
        for od in (np.int64, np.int32):
            got = ops.conv2d(x, w, *args, compute_dtype=cd, out_dtype=od)
            assert got.dtype == od and got.shape == want.shape and np.array_equal(got, want), (cd, od)
    got = ops.conv2d(x, w.astype(np.float32), *args, compute_dtype=np.float32, out_dtype=np.int32)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_float_data_close_to_loop(dtype):
    """The float ConvKernel's use: float x and weight, result in their dtype."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 10, 13)).astype(dtype)
    w = rng.standard_normal((6, 2, 3, 2)).astype(dtype)
    y = ops.conv2d(x, w, (2, 1), (1, 2), (1, 2), 2, (4, 10, 13))
    scale = 2 ** 20
    want = _reference(np.round(x * scale).reshape(-1, 4, 10, 13), np.round(w * scale), (2, 1), (1, 2), (1, 2), 2)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.reshape(want.shape), want / scale ** 2, rtol=1e-4, atol=1e-4)


def _kernel(rng, bias=None, weight_exp=0, binary=True):
    from snnc.backends.sim import Simulator
    from snnc.ir import nodes as N
    from snnc.ir.graph import Graph
    from snnc.ir.intnodes import IntConv2d

    g = Graph(metadata={"level": "integer"})
    g.add_node("input", N.Input(shape=(4, 9, 12)))
    g.add_node("conv", IntConv2d(weight=rng.integers(-100, 101, (6, 2, 3, 3)), bias=bias, input_shape=(4, 9, 12),
                                 stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2, weight_exp=weight_exp,
                                 out_bits=24, input_kind="binary" if binary else "graded"))
    g.add_node("output", N.Output(shape=(6, 5, 8)))
    g.add_edge("input", "conv")
    g.add_edge("conv", "output")
    return Simulator(g).kernels["conv"]


@pytest.mark.parametrize("bias,weight_exp,binary", [(None, 0, True), ("small", 0, True), ("huge", 0, True),
                                                    ("small", 2, False), (None, -1, False)])
def test_narrow_output_same_values(bias, weight_exp, binary):
    rng = np.random.default_rng(7)
    b = {None: None, "small": rng.integers(-50, 50, 6), "huge": np.full(6, 2 ** 31 - 10)}[bias]
    k = _kernel(rng, b, weight_exp, binary)
    x = rng.integers(0 if binary else -3, 2 if binary else 4, (2, 3, 4, 9, 12))
    assert k.narrow_output is False
    wide = k.apply(x)
    assert wide.dtype == np.int64
    k.narrow_output = True
    narrow = k.apply(x)
    assert np.array_equal(narrow, wide)
    if bias != "huge" and not weight_exp:
        assert narrow.dtype == np.int32


def _pack_ok(s, p, m, exact):
    return s < 2 ** (m - 1) and s * sum(2 ** (m * i) for i in range(p)) < exact // 2


@settings(max_examples=120, deadline=None)
@given(case=_conv_case(), binary=st.booleans(), p=st.integers(2, 4), wmax=st.sampled_from([1, 3, 40, 5000]),
       seed=st.integers(0, 2 ** 31))
def test_packed_channels_equal_int64_loop(case, binary, p, wmax, seed):
    """``pack=(p, m)``: the digits read back are the unpacked sums, for every m the bound allows
    (the smallest and one more), float32 and float64."""
    in_shape, w_shape, stride, padding, dilation, groups, lead = case
    rng = np.random.default_rng(seed)
    x = rng.random((*lead, *in_shape)) < 0.5 if binary else rng.integers(-3, 4, (*lead, *in_shape))
    w = rng.integers(-wmax, wmax + 1, w_shape)
    xmax = 1 if binary else 3
    s = int(np.abs(w).reshape(w.shape[0], -1).sum(axis=1).max()) * xmax
    want = _reference(np.asarray(x, np.int64).reshape(-1, *in_shape), w, stride, padding, dilation, groups)
    want = want.reshape((*lead, *want.shape[1:]))
    args = (stride, padding, dilation, groups, in_shape)
    tried = 0
    for cd, exact in ((np.float32, 2 ** 24), (np.float64, 2 ** 53)):
        for m in (max(1, s.bit_length()) + 1, max(1, s.bit_length()) + 2):
            if not _pack_ok(s, p, m, exact):
                continue
            got = ops.conv2d(x, w, *args, compute_dtype=cd, out_dtype=np.int32, pack=(p, m))
            assert got.dtype == np.int32 and np.array_equal(got, want), (cd, p, m)
            tried += 1
    assert tried or p > 2           # float64 allows 2 channels per row for every case drawn here


@pytest.mark.parametrize("p,cd", [(2, np.float32), (3, np.float32), (2, np.float64), (4, np.float64)])
def test_packed_digits_at_the_edge_of_their_range(p, cd):
    """Channel sums at +-(2**(m-1) - 1), 0 and +-1 next to each other in one packed row."""
    c = np.array([7, -7, 0, 7, -7, 1, -1, 7, 7, -7])           # 9 * 7 = 63 = 2**6 - 1: m = 7
    w = np.broadcast_to(c[:, None, None, None], (10, 1, 3, 3)).copy()
    w[5, 0, 0, :2] = 0                                         # 7 * 0 + 1 = 1 ... sum 1 * 7 = 7
    x = np.ones((2, 1, 5, 6), bool)
    want = _reference(x, w, (1, 1), (0, 0), (1, 1), 1)
    assert want.max() == 63 and want.min() == -63
    got = ops.conv2d(x, w, (1, 1), (0, 0), (1, 1), 1, (1, 5, 6), compute_dtype=cd, out_dtype=np.int64, pack=(p, 7))
    assert np.array_equal(got, want)


def _graded_kernel(weight, groups=1, stride=(1, 1)):
    from snnc.backends.sim import Simulator
    from snnc.ir import nodes as N
    from snnc.ir.graph import Graph
    from snnc.ir.intnodes import IntConv2d

    c_in = weight.shape[1] * groups
    g = Graph(metadata={"level": "integer"})
    g.add_node("input", N.Input(shape=(c_in, 7, 9)))
    g.add_node("conv", IntConv2d(weight=weight, input_shape=(c_in, 7, 9), stride=stride, groups=groups,
                                 out_bits=64, input_kind="graded"))
    ho, wo = (7 - weight.shape[2]) // stride[0] + 1, (9 - weight.shape[3]) // stride[1] + 1
    g.add_node("output", N.Output(shape=(weight.shape[0], ho, wo)))
    g.add_edge("input", "conv")
    g.add_edge("conv", "output")
    return Simulator(g).kernels["conv"]


@pytest.mark.parametrize("wmax,xmax,groups", [(2, 1, 1), (2, 1, 2), (50, 3, 1), (50, 4000, 1), (3000, 2 ** 20, 1),
                                              (2 ** 40, 2 ** 30, 1)])
def test_kernel_packing_same_values(wmax, xmax, groups):
    """IntConv2dKernel with packing on and off (float32 and float64 paths, several digits per
    row, and the int64 path) against the int64 loop."""
    rng = np.random.default_rng(wmax + xmax)
    w = rng.integers(-wmax, wmax + 1, (10, 12 // groups, 3, 3))
    k = _graded_kernel(w, groups)
    x = rng.integers(-xmax, xmax + 1, (3, 12, 7, 9))
    want = _reference(x, w, (1, 1), (0, 0), (1, 1), groups)
    assert k.pack_channels and k.w[0].size >= k.pack_min_k
    packed = k.apply(x)
    k.pack_channels = False
    assert np.array_equal(packed, want) and np.array_equal(k.apply(x), want)


def test_kernel_packing_choice():
    k = _graded_kernel(np.full((8, 6, 3, 3), 2))           # w_bound = 108: m = 8
    assert k._packing(1.0, 2 ** 24) == (3, 8)              # 108 * (1 + 256 + 65536) < 2**23
    assert k._packing(10.0, 2 ** 24) == (2, 12)            # 1080 * (1 + 2**12) < 2**23
    assert k._packing(100.0, 2 ** 24) is None              # 10800 * (1 + 2**15) > 2**23
    assert k._packing(1000.0, 2 ** 53) == (2, 18)          # 108000 * (1 + 2**18 + 2**36) > 2**52
    assert k._packing(0.0, 2 ** 24) == (3, 8)              # all-zero input: bounded as max |x| = 1
    k.pack_channels = False
    assert k._packing(1.0, 2 ** 24) is None
    small = _graded_kernel(np.full((8, 5, 3, 3), 2))       # 45 products per output < pack_min_k
    assert small._packing(1.0, 2 ** 24) is None


def test_binary_kernel_takes_spikes_of_any_dtype():
    """A binary synapse convolves 1[x != 0]: bool spikes as they are, any integer input
    binarized first (values other than 0/1 included)."""
    rng = np.random.default_rng(11)
    k = _kernel(rng)
    x = rng.integers(-2, 3, (2, 3, 4, 9, 12)) * (rng.random((2, 3, 4, 9, 12)) < 0.3)
    want = _reference((x != 0).reshape(-1, 4, 9, 12), k.w, k.stride, k.pad, k.dil, 2).reshape(2, 3, 6, 5, 8)
    for xin in (x, x.astype(np.int32), x != 0, (x != 0).astype(np.uint8)):
        assert np.array_equal(k.apply(xin), want), xin.dtype


def test_conv2d_into_a_given_array():
    """``out=``: the result is written into the given array and that array returned; an array of
    another dtype, shape or layout is refused with the expected one named."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, (3, 2, 2, 7, 7)).astype(bool)
    w = rng.integers(-9, 10, (4, 2, 3, 3))
    args = ((1, 1), (0, 0), (1, 1), 1, (2, 7, 7))
    want = ops.conv2d(x, w, *args, compute_dtype=np.float32, out_dtype=np.int32)
    out = np.empty((3, 2, 4, 5, 5), np.int32)
    got = ops.conv2d(x, w, *args, compute_dtype=np.float32, out_dtype=np.int32, out=out)
    assert got is out and np.array_equal(out, want)
    for bad in (np.empty((3, 2, 4, 5, 5), np.int64), np.empty((3, 2, 4, 5, 4), np.int32),
                np.empty((5, 5, 4, 2, 3), np.int32).T):
        with pytest.raises(ValueError, match=r"out must be a C-contiguous int32 array of shape \(3, 2, 4, 5, 5\)"):
            ops.conv2d(x, w, *args, compute_dtype=np.float32, out_dtype=np.int32, out=bad)
