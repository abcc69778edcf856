"""The loihi2 quantizer's Lava Dense weight format (passes/lowering/synapses.py
``lava_dense_format``): the integer mantissa, formatted as netx's ``optimize_weight_bits`` does,
so that a ``.net`` holding the mantissa reads back as the same (weights, num_weight_bits,
weight_exp); one-signed matrices stay inside Lava's sign-mode clip (an all-negative one off -256)."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.ir import intnodes as IN
from snnc.ir.netx_rules import lava_clip_truncate, lava_sign_mode, optimize_weight_bits
from snnc.passes.lowering.synapses import lava_dense_format


@pytest.mark.parametrize("lo,hi", [(-1.0, 1.0), (0.0, 1.0), (-1.0, 0.0), (-1.0, 0.3), (-0.2, 1.0)])
@pytest.mark.parametrize("seed", range(5))
def test_mantissa_round_trips_through_netx_and_lava(lo, hi, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(lo, hi, (7, 11))
    x *= 127 / np.abs(x).max()
    w, wexp, nwb = lava_dense_format(x, 127)
    m = w >> -wexp
    assert np.array_equal(m << -wexp, w)
    assert np.abs(m - x).max() <= 0.5 + 1e-9                       # integer rounding, not the even grid
    out, nwb2, wexp2, clipped, problem = optimize_weight_bits(m)   # what netx does with the file's m
    assert (problem, clipped) == (None, False)
    assert np.array_equal(out, w) and (nwb2, wexp2) == (nwb, wexp)
    assert np.array_equal(lava_clip_truncate(w, lava_sign_mode(w), nwb), w)
    assert nwb <= 8 and w.min() >= -256 and w.max() <= 255


def test_inhibitory_matrix_stays_off_minus_256():
    x = np.array([[-127.6, -3.0], [-0.4, -60.2]])
    w, wexp, nwb = lava_dense_format(x, 127)
    assert w.min() > -256 and (w >> -wexp).min() == -127
    assert np.array_equal(lava_clip_truncate(w, lava_sign_mode(w), nwb), w)


def test_all_zero_matrix_has_no_netx_format():
    assert lava_dense_format(np.zeros((2, 3)), 127) is None


def test_loihi2_digits_dense_synapses_use_the_format(repo_root):
    import snnc
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph

    g = snnc.load(str(repo_root / "examples" / "models" / "digits_lif.nir"))
    low, _ = compile_graph(g, make_config("loihi2"))
    dense = {n: d for n, d in low.nodes.items() if isinstance(d, IN.IntDense) and np.any(d.weight)}
    assert dense
    for name, d in dense.items():
        w = np.asarray(d.weight, np.int64)
        m = w >> -d.weight_exp
        out, _, wexp, _, problem = optimize_weight_bits(m)
        assert problem is None and np.array_equal(out, w) and wexp == d.weight_exp, name
    assert any(np.any((np.asarray(d.weight) >> -d.weight_exp) % 2) for d in dense.values())   # odd mantissas
