"""ir/netx_rules: one test per Lava/netx format rule (weights, conv kernels, layout, bias,
threshold, decays, RF). The rules are used by the .net reader, the .net writer and the Lava
planner alike; tests/lava checks them against Lava itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.ir import netx_rules as R
from snnc.ir.errors import ParameterError, UnsupportedError
from snnc.ir.intnodes import IntCubaLIF


def test_sign_mode():
    assert R.lava_sign_mode(np.array([[0, 3]])) == R.SIGN_EXCITATORY
    assert R.lava_sign_mode(np.array([[0, -3]])) == R.SIGN_INHIBITORY
    assert R.lava_sign_mode(np.array([[1, -3]])) == R.SIGN_MIXED
    assert R.SIGN_MODE_NAMES[R.SIGN_MIXED] == "SignMode.MIXED"


def test_clip_truncate_by_sign_mode():
    # clip: mixed [-256, 255], excitatory [0, 255], inhibitory [-255, 0] (-256 is lost)
    assert R.lava_clip_truncate(np.array([300, -300]), R.SIGN_MIXED, 9).tolist() == [255, -256]
    assert R.lava_clip_truncate(np.array([300, 7]), R.SIGN_EXCITATORY, 8).tolist() == [255, 7]
    assert R.lava_clip_truncate(np.array([-256, -3]), R.SIGN_INHIBITORY, 8).tolist() == [-255, -3]
    # truncate 8 - nwb + mixed LSBs (arithmetic; inhibitory on -w)
    assert R.lava_clip_truncate(np.array([3, -3, 5, -7]), R.SIGN_MIXED, 8).tolist() == [2, -4, 4, -8]
    assert R.lava_clip_truncate(np.array([7, 13]), R.SIGN_EXCITATORY, 6).tolist() == [4, 12]
    assert R.lava_clip_truncate(np.array([-7, -13]), R.SIGN_INHIBITORY, 6).tolist() == [-4, -12]
    assert R.lava_truncation_bits(R.SIGN_MIXED, 8) == 1 and R.lava_truncation_bits(R.SIGN_EXCITATORY, 9) == -1


def test_dense_weights_derive_the_sign_mode():
    w = np.array([[3, -3, 5, -7]])
    eff, mode, k = R.lava_dense_weights(w, 8)
    assert (mode, k) == (R.SIGN_MIXED, 1) and np.array_equal(eff, R.lava_clip_truncate(w, R.SIGN_MIXED, 8))
    assert R.lava_truncated_weights(w, 9, "weight")[0].tolist() == [[3, -3, 5, -7]]
    with pytest.raises(UnsupportedError, match="exceeds what Lava's Dense truncates") as err:
        R.lava_truncated_weights(np.array([[1, 2]]), 9, "weight")
    assert err.value.field == "weight"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 5), st.integers(0, 2 ** 32 - 1))
def test_dense_encoding_is_kept_by_lava(shift, seed):
    """What the planner hands to Lava's Dense (weights, k, sign mode, num_weight_bits) comes back
    unchanged through Lava's clip/truncate, shifted back by k."""
    rng = np.random.default_rng(seed)
    lo, hi = [(-256, 255), (0, 255), (-255, 0)][seed % 3]
    w = rng.integers(lo, hi, (3, 4), endpoint=True) << shift
    enc = R.lava_dense_encoding(w)
    assert enc is not None
    wk, k, mode, nwb = enc
    assert np.array_equal(R.lava_clip_truncate(wk, mode, nwb) << k, w)
    assert R.lava_dense_encoding(np.array([[257, 1]])) is None
    assert R.lava_dense_encoding(np.zeros((0, 2), np.int64)) is None


def test_optimize_weight_bits():
    w, nwb, wexp, clipped, problem = R.optimize_weight_bits(np.array([[3, -3, 5, -7]]))
    assert (w.tolist(), nwb, wexp, clipped, problem) == ([[96, -96, 160, -224]], 4, -5, False, None)
    assert R.optimize_weight_bits(np.array([[255, 1]]))[1:] == (8, 0, False, None)
    assert R.optimize_weight_bits(np.array([[300, -1]]))[3] is True           # netx clips mixed to [-256, 254]
    assert "all-zero" in R.optimize_weight_bits(np.zeros((2, 2)))[4]
    assert "shift them" in R.optimize_weight_bits(np.array([[600, 1]]))[4]


def test_int_dense_arithmetic():
    binary = R.lava_int_dense(np.array([[8, -16]]), -3, False, delayed=False, meta={"k": 1})
    assert binary.weight.tolist() == [[1, -2]] and binary.weight_exp == 0 and binary.acc_bits == 32
    assert binary.metadata["k"] == 1
    graded = R.lava_int_dense(np.array([[8, -16]]), -3, True, delayed=False, meta={})
    assert graded.weight.tolist() == [[8, -16]] and graded.weight_exp == -3 and graded.acc_bits == 32
    assert R.lava_int_dense(np.array([[8, 1]]), 0, True, delayed=True, meta={}).acc_bits == 64


def test_conv_kernel_layout_and_bound():
    rng = np.random.default_rng(0)
    w = rng.integers(-9, 9, (4, 2, 3, 5))                                        # (out, in, kH, kW)
    lw = R.lava_conv_weight(w)
    assert lw.shape == (4, 5, 3, 2)                                              # (out, kW, kH, in)
    o, x, y, i = 3, 1, 2, 1
    assert lw[o, x, y, i] == w[o, i, 3 - 1 - y, 5 - 1 - x]                       # flipped for a true convolution
    assert R.conv_abs_sum(w) == float(np.abs(w).reshape(4, -1).sum(axis=1).max())


def test_layout_is_reversed_axes():
    assert R.lava_shape((2, 3, 4)) == (4, 3, 2) and R.lava_shape((5,)) == (5,)
    a = np.arange(24).reshape(2, 3, 4)
    lava = R.to_lava_layout(a, (2, 3, 4))
    assert lava.shape == (4, 3, 2) and lava[3, 1, 0] == a[0, 1, 3]
    assert np.array_equal(R.from_lava_layout(lava), a)
    assert R.to_lava_layout(7, (2, 3)).tolist() == [[7, 7], [7, 7], [7, 7]]


def test_decays_round_trip():
    """netx CUBA (iDecay, vDecay) -> Lava LIF (du, dv) -> IR multipliers -> netx again."""
    for i_decay, v_decay in [(0, 4096), (1, 0), (1024, 512), (4096, 4096)]:
        lif = IntCubaLIF.from_lava((2,), **R.netx_lif_args(i_decay, v_decay), vth=1)
        assert int(lif.current_mult) == 4096 - i_decay and int(lif.voltage_mult) == 4096 - v_decay
        assert R.netx_decays(lif.current_mult, lif.voltage_mult) == {"iDecay": i_decay, "vDecay": v_decay}
    assert R.netx_decay_problem("iDecay", 4096) is None
    assert R.netx_decay_problem("vDecay", 4097) == "must be in [0, 4096], got 4097"
    assert R.netx_decay_problem("vDecay", -1) is not None


def test_threshold_format():
    assert R.netx_vth_mant(64 * 20) == 20 and R.netx_vth_mant(None) == R.NETX_NEVER_FIRES_VTH == 2 ** 17
    assert R.netx_never_fires(2 ** 17) and not R.netx_never_fires((2 ** 23 - 1) >> 6)
    assert R.NETX_DEFAULT_NEURON["vThMant"] == 2 ** 17
    assert int(IntCubaLIF.from_lava((1,), du=0, dv=0, vth=20).threshold) == 20 << R.VTH_SHIFT


def test_bias_format():
    assert R.netx_bias_mant(np.array([64, -128, 0])).tolist() == [1, -2, 0]
    assert R.netx_bias_mant(np.array([65])) is None                              # not a multiple of 64
    assert R.netx_bias_mant(np.array([-(2 ** 15) * 64])).tolist() == [-(2 ** 15)]
    assert R.netx_bias_mant(np.array([2 ** 15 * 64])) is None                    # mantissa beyond int16
    assert R.bias_mant_fits(np.array([-32768, 32767])) and not R.bias_mant_fits(np.array([32768]))
    lif = IntCubaLIF.from_lava((1,), du=0, dv=0, vth=1, bias_mant=-3, bias_exp=R.NETX_BIAS_EXP)
    assert int(np.asarray(lif.bias).reshape(-1)[0]) == -3 * 64


def test_rf_formats():
    period, alpha = R.lava_rf_period_alpha(1000, 3800)
    cos_d, sin_d = R.lava_rf_decays(period, alpha, R.NETX_RF_DECAY_BITS)
    assert abs(int(cos_d) - 3800) <= 1 and abs(int(sin_d) - 1000) <= 1          # netx's lossy float round trip
    node = R.lava_rf_neuron((3,), vth=5, period=period, alpha=alpha, state_exp=R.NETX_RF_STATE_EXP,
                            decay_bits=R.NETX_RF_DECAY_BITS, neuron="RF_IZ")
    assert int(node.threshold) == 5 << 6 and node.spike_rule == "iz" and node.state_bits == R.LAVA_RF_STATE_BITS
    with pytest.raises(ParameterError):
        R.lava_rf_decays(0.0, 0.1, 12)
    with pytest.raises(UnsupportedError, match="int32 ports"):
        R.lava_complex_synapse(np.full((1, 4), 255), np.ones((1, 4), np.int64), 22)
    syn = R.lava_complex_synapse(np.ones((2, 3), np.int64), -np.ones((2, 3), np.int64), 6)
    assert syn.weight_exp == 6 and syn.input_kind == "binary"
