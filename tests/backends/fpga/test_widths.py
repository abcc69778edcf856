"""The widths of the generated C are sufficient: interval arithmetic (:class:`Range`) is sound for
every integer operation it mirrors, every value the simulator produces on random graphs driven to
their input bounds fits the C type the backend gave it (node outputs, summed inputs, neuron
states), and the C equals the simulator bit for bit on those graphs. Bounds come from the shared
rules of ``snnc.ir.value_bounds``."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.fpga import plan_model, run_fpga
from snnc.backends.fpga.widths import Range, bits_for_bound, range_of_bits
from snnc.backends.sim import simulate
from snnc.ir import intops as ops
from snnc.ir.value_bounds import output_bounds, sum_bound
from snnc.runtime.verify import compare_traces
from snnc.tests.helper_modules import load

RG = load("backends/fpga/random_int_graphs.py")

ends = st.integers(-(2 ** 40), 2 ** 40)


@st.composite
def ranges(draw):
    a, b = draw(ends), draw(ends)
    lo, hi = min(a, b), max(a, b)
    return Range(lo, hi), draw(st.integers(lo, hi))


def _inside(r: Range, v) -> bool:
    return r.lo <= int(v) <= r.hi


@settings(max_examples=300, deadline=None)
@given(ranges(), ranges(), st.integers(0, 20), st.integers(2, 48))
def test_range_operations_are_sound(a, b, n, bits):
    (ra, x), (rb, y) = a, b
    assert _inside(ra + rb, ops.add(x, y))
    assert _inside(ra - rb, ops.sub(x, y))
    assert _inside(ra * rb, ops.mul(x, y))
    assert _inside(ra | rb, x) and _inside(ra | rb, y)
    assert _inside(ra.rtz(n), ops.rtz_shift(x, n))
    assert _inside(ra.decay(rb, n), ops.decay(x, y, n))
    assert _inside(ra.floor_div(n + 1), ops.floor_div(x, n + 1))
    assert _inside(ra.wrap(bits), ops.wrap(x, bits))
    assert _inside(ra.saturate(bits), ops.saturate(x, bits))
    assert _inside(ra.saturate(bits, symmetric=True), ops.saturate_sym(x, bits))
    assert _inside(ra.clip(rb.lo, rb.hi), ops.clip(x, rb.lo, rb.hi))
    assert _inside(ra.clip(rb, rb), ops.clip(x, y, y))
    lo, hi = range_of_bits(ra.width())
    assert lo <= x <= hi


def test_range_limits():
    assert Range.bits(64).width() == 64
    assert not (Range.bits(64) + Range(0, 1)).bounded          # int64 may have wrapped
    assert (Range.bits(64) + Range(0, 1)).saturate(24) == Range.bits(24)
    assert bits_for_bound(127) == 8 and bits_for_bound(128) == 9 and bits_for_bound(float("inf")) == 64
    assert Range.bound(2.5) == Range(-2, 2)


def _parts(v) -> np.ndarray:
    """Real values of a trace array (both parts of a complex one)."""
    v = np.asarray(v)
    return np.stack([v.real, v.imag]).astype(np.int64) if np.iscomplexobj(v) else v.astype(np.int64)


def _delayed(v: np.ndarray, d: int) -> np.ndarray:
    """``v`` [B, T, ...] delayed by ``d`` steps along T (zeros before)."""
    if not d:
        return v
    out = np.zeros_like(v)
    out[:, d:] = v[:, :-d]
    return out


def _check_values_fit(g, inputs):
    """Every simulated node output, summed input and state lies in the range of its C type."""
    plan = plan_model(g)
    ref = simulate(g, inputs, record="all", record_states=True)
    for name, code in plan.codes.items():
        lo, hi = range_of_bits(code.out_bits)
        v = _parts(ref.outputs[name])
        assert v.min(initial=0) >= lo and v.max(initial=0) <= hi, (name, code.out_bits, v.min(), v.max())
        edges = g.in_edges(name)
        if edges and name in plan.specs and plan.specs[name].in_type in plan.types.bits:
            x = sum(_delayed(_parts(ref.outputs[e.src]), e.delay) for e in edges)
            lo, hi = range_of_bits(plan.specs[name].in_bits)
            assert x.min(initial=0) >= lo and x.max(initial=0) <= hi, (name, "input", plan.specs[name].in_bits)
        for sname, arr, _ in code.states:
            bits = plan.types.bits[f"{arr}_t"]
            lo, hi = range_of_bits(bits)
            s = np.asarray(ref.states[f"{name}.{sname}"])
            assert s.min(initial=0) >= lo and s.max(initial=0) <= hi, (name, sname, bits)
    return ref


@pytest.mark.parametrize("seed", range(40))
def test_simulated_values_fit_their_c_types_near_the_bounds(seed):
    g = RG.near_bound_graph(seed)
    _check_values_fit(g, RG.near_bound_inputs(g, seed, steps=4 * RG.window_of(g) * 3))


@pytest.mark.gcc
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 31 - 1))
def test_c_equals_simulator_near_the_bounds(seed):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    g = RG.near_bound_graph(seed)
    x = RG.near_bound_inputs(g, seed, steps=4 * RG.window_of(g) * 3)
    ref = simulate(g, x, record="all", record_states=True)
    got = run_fpga(g, x, record="all", record_states=True)
    cmp = compare_traces({"sim": ref, "fpga": got})
    assert cmp.bit_exact, cmp.first_mismatch


def test_accumulators_and_outputs_use_the_shared_bounds():
    """A dense synapse's accumulator is sized by value_bounds.sum_bound and its output by
    value_bounds.output_bounds (ports bound the inputs)."""
    from snnc.backends.fpga.codegen import value_bounds
    from snnc.ir import intnodes as IN

    for seed in range(20):
        g = RG.near_bound_graph(seed)
        plan = plan_model(g)
        bounds = value_bounds(g)
        assert bounds == output_bounds(g, {n: 2.0 ** (plan.codes[n].out_bits - 1) for n in g.input_names()})
        for name, node in g.nodes.items():
            if isinstance(node, IN.IntDense):
                spec = plan.specs[name]
                want = bits_for_bound(sum_bound(node, spec.x_bound))
                assert plan.types.bits[f"{spec.cname}_acc_t"] == (want if want <= 62 else 64)
                assert plan.codes[name].out_bits <= bits_for_bound(bounds[name])
