"""The numpy arithmetic copied into every emitted network (snnc.backends.lava.fixed_point) equals
snnc.ir.intops, the written-down semantics, on random and edge values."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.lava import fixed_point as F
from snnc.backends.sim.ops import conv2d
from snnc.ir import intops as O

EDGE = np.array([0, 1, -1, 2 ** 23, -2 ** 23, 2 ** 23 - 1, 2 ** 31 - 1, -2 ** 31, 2 ** 62, -2 ** 63, 2 ** 63 - 1, 4095,
                 -4096], np.int64)


def _values(seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([EDGE, rng.integers(-2 ** 40, 2 ** 40, 300), rng.integers(-2 ** 63, 2 ** 63 - 1, 100,
                                                                                     dtype=np.int64)])


@pytest.mark.parametrize("seed", range(3))
def test_ops_equal_intops(seed):
    x = _values(seed)
    rng = np.random.default_rng(seed + 10)
    n = rng.integers(0, 63, x.size)
    bits = rng.integers(1, 64, x.size)
    e = rng.integers(-63, 63, x.size)
    m = rng.integers(0, 4097, x.size)
    for ours, ref, args in ((F.fx_shl, O.shl, (x, n)), (F.fx_asr, O.asr, (x, n)), (F.fx_rtz_shift, O.rtz_shift, (x, n)),
                            (F.fx_shift_exp, O.shift_exp, (x, e)), (F.fx_wrap, O.wrap, (x, bits)),
                            (F.fx_saturate, O.saturate, (x, bits)), (F.fx_saturate_sym, O.saturate_sym, (x, bits)),
                            (F.fx_lava_wrap, O.lava_wrap, (x, np.minimum(bits, 62))),
                            (F.fx_decay, O.decay, (x, m, 12)), (F.fx_binarize, O.binarize, (x,))):
        with np.errstate(over="ignore"):
            assert np.array_equal(ours(*args), ref(*args)), ours.__name__
    for cmp in (">", ">="):
        assert np.array_equal(F.fx_fire(x, x[::-1], cmp), O.fire(x, x[::-1], cmp))


def test_matmul_and_conv_exact():
    rng = np.random.default_rng(0)
    w = rng.integers(-2 ** 20, 2 ** 20, (7, 9))
    for x in (rng.integers(0, 2, 9), rng.integers(-2 ** 40, 2 ** 40, 9)):
        assert np.array_equal(F.fx_matmul(w, x), O.matmul(x, w.T))
    x = rng.integers(-50, 50, (4, 9, 7))
    k = rng.integers(-100, 100, (6, 2, 3, 2))
    ref = conv2d(x, k, (2, 1), (1, 2), (1, 2), 2, x.shape)
    assert np.array_equal(F.fx_conv2d(x, k, (2, 1), (1, 2), (1, 2), 2), ref)
