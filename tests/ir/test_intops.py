"""ir.intops: the numpy functions equal their C twins (compiled with gcc, loaded by ctypes) on
random and edge-case int64 values, and both equal arbitrary-precision reference definitions."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.ir import intops as O

I64_MIN, I64_MAX = -(2 ** 63), 2 ** 63 - 1
EDGE = np.array(sorted({0, 1, -1, 2, -2, 3, -3, 4095, 4096, -4096, I64_MIN, I64_MAX, I64_MIN + 1,
                        I64_MAX - 1}
                       | {s * (2 ** k + d) for k in (12, 23, 24, 31, 32, 52, 53, 62) for d in (-1, 0, 1)
                          for s in (1, -1)}), dtype=np.int64)

#: domain of each argument name (besides the value arguments, which take any int64)
DOMAINS = {"n": (0, 63), "shift": (0, 63), "e": (-63, 63), "bits": (1, 64), "d": (1, 2 ** 40)}
DOMAIN_OVERRIDES = {("lava_wrap", "bits"): (1, 62)}


def _values(rng, size):
    """Random int64 spread over all magnitudes, plus the edge cases."""
    mag = rng.integers(0, 64, size)
    x = rng.integers(I64_MIN, I64_MAX, size, dtype=np.int64, endpoint=True)
    small = x >> mag.astype(np.int64)
    return np.concatenate([EDGE, small, x])


def _args(op: O.IntOp, rng, size):
    vals = [_values(rng, size) for _ in op.args]
    n = min(v.size for v in vals)
    out = []
    for name, v in zip(op.args, vals):
        lo_hi = DOMAIN_OVERRIDES.get((op.name, name), DOMAINS.get(name))
        if lo_hi is not None:
            out.append(rng.integers(lo_hi[0], lo_hi[1], n, endpoint=True).astype(np.int64))
        else:
            out.append(v[:n].copy())
    return out


# ----------------------------------------------------------------------------------------
# C vs numpy
# ----------------------------------------------------------------------------------------


def _wrapper(op: O.IntOp) -> str:
    params = ", ".join(f"const int64_t *{a}" for a in op.args)
    call = ", ".join(f"{a}[i]" for a in op.args)
    return (f"void vec_{op.name}({params}, int64_t *out, int64_t len) {{\n"
            f"    for (int64_t i = 0; i < len; ++i) out[i] = {op.c_name}({call});\n}}\n")


@pytest.fixture(scope="module")
def clib(tmp_path_factory):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not found")
    d = tmp_path_factory.mktemp("intops")
    (d / "snnc_intops.h").write_text(O.C_HEADER)
    src = '#include "snnc_intops.h"\n' + "\n".join(_wrapper(op) for op in O.OPS) + (
        "int64_t vec_dot(const int64_t *w, const int64_t *x, int64_t n) { return snnc_dot(w, x, n); }\n")
    (d / "ops.c").write_text(src)
    lib = d / "libops.so"
    res = subprocess.run([gcc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
                          "-o", str(lib), str(d / "ops.c")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return ctypes.CDLL(str(lib))


def _call_c(lib, op: O.IntOp, args: list[np.ndarray]) -> np.ndarray:
    args = [np.ascontiguousarray(a, dtype=np.int64) for a in args]
    out = np.empty(args[0].size, np.int64)
    ptr = ctypes.POINTER(ctypes.c_int64)
    fn = getattr(lib, f"vec_{op.name}")
    fn.restype = None
    fn(*(a.ctypes.data_as(ptr) for a in args), out.ctypes.data_as(ptr), ctypes.c_int64(out.size))
    return out


@pytest.mark.gcc
@pytest.mark.parametrize("name", [op.name for op in O.OPS])
def test_c_equals_numpy(clib, name):
    op = O.OPS_BY_NAME[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for _ in range(3):
        args = _args(op, rng, 20000)
        expect = op.numpy_fn(*args)
        assert expect.dtype == np.int64
        got = _call_c(clib, op, args)
        assert np.array_equal(got, expect), name


@pytest.mark.gcc
def test_c_edge_grid_equals_numpy(clib):
    """Every edge value against every shift / width in its domain."""
    for op in O.OPS:
        grids = []
        for name in op.args:
            lo_hi = DOMAIN_OVERRIDES.get((op.name, name), DOMAINS.get(name))
            if lo_hi is None:
                grids.append(EDGE)
            elif lo_hi[1] - lo_hi[0] <= 256:
                grids.append(np.arange(lo_hi[0], lo_hi[1] + 1))
            else:                                          # a wide domain: its edge values
                grids.append(EDGE[(EDGE >= lo_hi[0]) & (EDGE <= lo_hi[1])])
        mesh = [g.reshape(-1) for g in np.meshgrid(*grids, indexing="ij")]
        assert np.array_equal(_call_c(clib, op, mesh), op.numpy_fn(*mesh)), op.name


@pytest.mark.gcc
def test_c_dot_equals_matmul(clib):
    rng = np.random.default_rng(5)
    ptr = ctypes.POINTER(ctypes.c_int64)
    clib.vec_dot.restype = ctypes.c_int64
    for w_max, x_max in ((255, 1), (2 ** 20, 2 ** 20), (2 ** 62, 2 ** 62)):
        w = rng.integers(-w_max, w_max, (7, 50), endpoint=True)
        x = rng.integers(-x_max, x_max, 50, endpoint=True)
        y = O.matmul(x[None], w.T)[0]
        for j in range(7):
            wj, xj = np.ascontiguousarray(w[j]), np.ascontiguousarray(x)
            c = clib.vec_dot(wj.ctypes.data_as(ptr), xj.ctypes.data_as(ptr), ctypes.c_int64(50))
            assert c == y[j]


# ----------------------------------------------------------------------------------------
# numpy vs arbitrary-precision definitions
# ----------------------------------------------------------------------------------------


def _to_i64(v: int) -> int:
    return ((v + 2 ** 63) % 2 ** 64) - 2 ** 63


REFERENCE = {
    "shl": lambda x, n: _to_i64(x << n),
    "asr": lambda x, n: x >> n,
    "rtz_shift": lambda x, n: -((-x) >> n) if x < 0 else x >> n,
    "shift_exp": lambda x, e: _to_i64(x << e) if e > 0 else x >> -e,
    "wrap": lambda x, b: ((x + 2 ** (b - 1)) % 2 ** b) - 2 ** (b - 1),
    "saturate": lambda x, b: min(max(x, -(2 ** (b - 1))), 2 ** (b - 1) - 1),
    "saturate_sym": lambda x, b: min(max(x, -(2 ** (b - 1)) + 1), 2 ** (b - 1) - 1),
    "lava_wrap": lambda x, b: x - 2 ** b if x > 2 ** (b - 1) else (x + 2 ** b if x <= -(2 ** (b - 1)) else x),
    "decay": lambda x, m, s: (lambda p: -((-p) >> s) if p < 0 else p >> s)(_to_i64(x * m)),
    "binarize": lambda x: int(x != 0),
    "fire_gt": lambda v, t: int(v > t),
    "fire_ge": lambda v, t: int(v >= t),
    "add": lambda a, b: _to_i64(a + b),
    "sub": lambda a, b: _to_i64(a - b),
    "mul": lambda a, b: _to_i64(a * b),
    "floor_div": lambda a, d: a // d,
    "clip": lambda x, lo, hi: min(max(x, lo), hi),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_numpy_equals_python_reference(name):
    op = O.OPS_BY_NAME[name]
    rng = np.random.default_rng(11)
    args = _args(op, rng, 1500)
    got = op.numpy_fn(*args)
    expect = [REFERENCE[name](*(int(a[i]) for a in args)) for i in range(args[0].size)]
    assert np.array_equal(got, np.array(expect, dtype=np.int64))


def test_scalars_give_int64_and_no_warnings():
    with np.errstate(all="raise"):
        assert O.rtz_shift(-7, 1) == -3 and O.asr(-7, 1) == -4
        assert O.rtz_shift(I64_MIN, 63) == -1 and O.rtz_shift(-1, 63) == 0
        assert O.saturate(I64_MAX, 64) == I64_MAX and O.saturate_sym(I64_MIN, 64) == I64_MIN + 1
        assert O.lava_wrap(I64_MIN, 24) == I64_MIN + 2 ** 24
        assert O.wrap(2 ** 31, 32) == -(2 ** 31)
        assert isinstance(O.decay(-5, 4095), np.integer)


def test_lava_wrap_is_asymmetric_and_single_step():
    """docs/numeric_semantics.md#operations: +2**23 kept, -2**23 -> +2**23, one correction only."""
    x = np.array([2 ** 23, 2 ** 23 + 1, -(2 ** 23), -(2 ** 23) + 1, 2 ** 25, -(2 ** 25)])
    expect = [2 ** 23, -(2 ** 23) + 1, 2 ** 23, -(2 ** 23) + 1, 2 ** 24, -(2 ** 24)]
    assert O.lava_wrap(x, 24).tolist() == expect


def test_decay_matches_lava_expression():
    """Lava LIF: ``sign(d) * (|d| >> 12)`` with ``d = int64(u) * (4096 - (du + 1))``."""
    rng = np.random.default_rng(2)
    u = rng.integers(-(2 ** 24), 2 ** 24, 50000)
    du = rng.integers(-1, 4096, 50000)
    d = u.astype(np.int64) * (4096 - (du + 1))
    lava = np.sign(d) * np.right_shift(np.abs(d), 12)
    assert np.array_equal(O.decay(u, 4095 - du), lava)


def test_fire_dispatch():
    v = np.array([4, 5, 6])
    assert O.fire(v, 5, ">").tolist() == [0, 0, 1]
    assert O.fire(v, 5, ">=").tolist() == [0, 1, 1]
    with pytest.raises(ValueError):
        O.fire(v, 5, "<")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(2 ** 40), 2 ** 40), min_size=1, max_size=30), st.integers(0, 2 ** 11))
def test_matmul_float_path_equals_int_path(xs, w_scale):
    rng = np.random.default_rng(len(xs) + w_scale)
    x = np.array(xs, dtype=np.int64)
    w_t = rng.integers(-w_scale, w_scale, (x.size, 4), endpoint=True)
    exact = np.array([sum(int(a) * int(b) for a, b in zip(x, w_t[:, j])) for j in range(4)], dtype=object)
    exact = np.array([_to_i64(int(v)) for v in exact], dtype=np.int64)
    assert np.array_equal(O.matmul(x[None], w_t)[0], exact)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2 ** 23))
def test_matmul_float32_path_is_exact_below_its_bound(n_in, w_max):
    """Bounds just below 2**23 take the float32 path; the result equals the exact sums."""
    rng = np.random.default_rng(n_in + w_max)
    x = rng.integers(0, 2, (5, n_in))
    w_t = rng.integers(-w_max, w_max, (n_in, 3), endpoint=True)
    w_t[:, 0] = w_max // n_in * np.where(rng.random(n_in) < 0.5, 1, -1)        # a column near the bound
    exact = np.array([[sum(int(a) * int(b) for a, b in zip(row, w_t[:, j])) for j in range(3)] for row in x])
    assert np.array_equal(O.matmul(x, w_t, max_abs_x=1), exact)


def test_matmul_uses_float_only_when_exact():
    # bound 2**52 or more -> int64 path; the float path would round 2**53 + 1
    w_t = np.array([[2 ** 53 + 1]], dtype=np.int64)
    assert O.matmul(np.array([[1]]), w_t)[0, 0] == 2 ** 53 + 1
    # bound 2**23 + 1 leaves float32 (which would round 2**24 + 1)
    assert O.matmul(np.array([[1, 1]]), np.array([[2 ** 23 + 1], [2 ** 23]]))[0, 0] == 2 ** 24 + 1
    assert O.column_abs_sum_max(np.zeros((0, 3))) == 0.0
    assert O.matmul(np.zeros((2, 0), np.int64), np.zeros((0, 3), np.int64)).shape == (2, 3)


@pytest.mark.parametrize("shape", [(7, 3, 20), (11, 20), (1, 2, 20)])
def test_matmul_in_chunks_equals_one_product(shape, monkeypatch):
    """The float paths convert x chunk by chunk along its first axis; chunks of 1 and 2 rows of
    that axis (and a non-contiguous x, as the simulator's time-major view of the inputs) give the
    exact sums, in both float dtypes."""
    rng = np.random.default_rng(sum(shape))
    x = np.moveaxis(rng.integers(-3, 4, (shape[1], shape[0], *shape[2:])), 0, 1)
    for w_max in (50, 2 ** 20):                          # float32, then float64
        w_t = rng.integers(-w_max, w_max, (shape[-1], 5), endpoint=True)
        exact = x.astype(object) @ w_t.astype(object)
        for chunk in (1, int(np.prod(shape[1:])) * 2, 10 ** 9):
            monkeypatch.setattr(O, "MATMUL_CHUNK_VALUES", chunk)
            got = O.matmul(x, w_t)
            assert got.dtype == np.int64 and np.array_equal(got, exact.astype(np.int64)), (chunk, w_max)


def test_c_header_names_every_op():
    for op in O.OPS:
        assert f"static inline int64_t {op.c_name}(" in O.C_HEADER
    assert "snnc_dot" in O.C_HEADER


@pytest.mark.parametrize("bits", [8, 16, 32])
def test_wrap_narrowing_fast_path_equals_shift_definition(bits):
    rng = np.random.default_rng(bits)
    x = np.concatenate([EDGE, rng.integers(I64_MIN, I64_MAX, 5000, dtype=np.int64, endpoint=True)])
    s = 64 - bits
    assert np.array_equal(O.wrap(x, bits), np.right_shift(np.left_shift(x, s), s))
    assert np.array_equal(O.wrap(x, bits), O.wrap(x, np.full(x.shape, bits)))
