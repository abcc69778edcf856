"""ir.intnodes: registration, .nir round trip, shape inference, validation, Lava parameter
mapping (from_lava / to_lava)."""

from __future__ import annotations

import numpy as np
import pytest

import snnc
from snnc.ir import intops as O
from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError, UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.intnodes import IntConv2d, IntCubaLIF, IntDense, IntNode
from snnc.ir.nir_io import read_nir, write_nir
from snnc.ir.shapes import infer_shapes
from snnc.runtime.summary import summarize

RNG = np.random.default_rng(0)

EXAMPLES = {
    "IntDense": ((5,), IntDense(weight=RNG.integers(-256, 256, (3, 5)), weight_exp=-2, input_kind="graded",
                                acc_bits=64, out_bits=24)),
    "IntConv2d": ((2, 6, 5), IntConv2d(input_shape=(6, 5), weight=RNG.integers(-9, 9, (4, 1, 3, 2)),
                                       stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2,
                                       bias=np.arange(4, dtype=np.int64), weight_exp=1, input_kind="binary",
                                       out_bits=64)),
    "IntCubaLIF": ((4,), IntCubaLIF(shape=(4,), current_mult=np.array(4000), voltage_mult=np.arange(4) * 1000,
                                    threshold=np.array([64, 128, 0, 5]), bias=np.array(-7), input_shift=3,
                                    decay_bits=13, arith_bits=64, u_bits=20, u_overflow="saturate",
                                    v_bits=30, v_overflow="wrap", comparison=">=", reset="subtract",
                                    state_reset_interval=7, state_reset_phase=3)),
    "IntCubaLIF_readout": ((4,), IntCubaLIF(shape=(4,), current_mult=np.array(4096),
                                            voltage_mult=np.array(4096))),
}


def _same(a, b, where):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and np.array_equal(a, b), where
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def test_registered_for_the_nir_reader():
    for cls in (IntDense, IntConv2d, IntCubaLIF):
        assert N.NODE_TYPES[cls.__name__] is cls
        assert issubclass(cls, IntNode) and not cls.nir_standard


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_round_trip_and_shapes(tmp_path, key):
    in_shape, node = EXAMPLES[key]
    node.validate(key)
    g = Graph(metadata={"level": "integer"})
    g.add_node("input", N.Input(shape=in_shape))
    g.add_node("n", node)
    g.add_edge("input", "n")
    out_shape = infer_shapes(g)["n"]
    g.add_node("output", N.Output(shape=out_shape))
    g.add_edge("n", "output", delay=1)
    write_nir(tmp_path / "g.nir", g)
    back = read_nir(tmp_path / "g.nir")
    assert back.metadata["level"] == "integer" and back.edges == g.edges
    b = back.nodes["n"]
    assert type(b) is type(node)
    for f in node.param_fields():
        _same(getattr(node, f), getattr(b, f), f"{key}.{f}")
    loaded = snnc.load(tmp_path / "g.nir")       # the full loader (checks, shapes) accepts it too
    assert infer_shapes(loaded)["n"] == out_shape


def test_inferred_shapes():
    assert infer_shapes(_graph((5,), EXAMPLES["IntDense"][1]))["n"] == (3,)
    assert infer_shapes(_graph((2, 6, 5), EXAMPLES["IntConv2d"][1]))["n"] == (4, 3, 3)
    assert infer_shapes(_graph((4,), EXAMPLES["IntCubaLIF"][1]))["n"] == (4,)


def _graph(in_shape, node):
    g = Graph(metadata={"level": "integer"})
    g.add_node("input", N.Input(shape=in_shape))
    g.add_node("n", node)
    g.add_edge("input", "n")
    return g


def test_summary_counts_int_neurons_and_synapses():
    rows = {r.name: r for r in summarize(_graph((4,), EXAMPLES["IntCubaLIF"][1]))}
    assert rows["n"].neurons == 4
    rows = {r.name: r for r in summarize(_graph((5,), EXAMPLES["IntDense"][1]))}
    assert rows["n"].synapses == 15 and rows["n"].neurons == 0


@pytest.mark.parametrize("make, field", [
    (lambda: IntDense(weight=np.ones((2, 2))), "weight"),
    (lambda: IntDense(weight=np.ones((2, 2), int), input_kind="spikes"), "input_kind"),
    (lambda: IntDense(weight=np.ones((2, 2), int), weight_exp=70), "weight_exp"),
    (lambda: IntDense(weight=np.ones((2, 2), int), acc_bits=0), "acc_bits"),
    (lambda: IntDense(weight=np.ones(2, int)), "weight"),
    (lambda: IntConv2d(input_shape=(3, 3), weight=np.ones((1, 1, 2, 2), int), bias=np.ones(1)), "bias"),
    (lambda: IntCubaLIF(shape=(2,), current_mult=np.array(4097), voltage_mult=np.array(0)), "current_mult"),
    (lambda: IntCubaLIF(shape=(2,), current_mult=np.array(1), voltage_mult=np.array(-1)), "voltage_mult"),
    (lambda: IntCubaLIF(shape=(2,), current_mult=np.array(1), voltage_mult=np.array(1), reset="soft"),
     "reset"),
    (lambda: IntCubaLIF(shape=(2,), current_mult=np.array(1), voltage_mult=np.array(1), comparison="<"),
     "comparison"),
    (lambda: IntCubaLIF(shape=(2,), current_mult=np.array(1), voltage_mult=np.array(1), u_overflow="x"),
     "u_overflow"),
    (lambda: IntCubaLIF(shape=(2,), current_mult=np.array(1), voltage_mult=np.array(1),
                        threshold=np.ones(3, int)), "threshold"),
    (lambda: IntCubaLIF(shape=(2,), current_mult=np.array(1), voltage_mult=np.array(1),
                        state_reset_interval=3, state_reset_phase=3), "state_reset_phase"),
])
def test_validate_names_the_field(make, field):
    with pytest.raises(ParameterError) as exc:
        make().validate("layer")
    assert exc.value.field == field and exc.value.node == "layer"


def test_from_lava_parameters():
    node = IntCubaLIF.from_lava((3,), du=-1, dv=4096, vth=10, bias_mant=np.array([5, -5, 70000]),
                                bias_exp=np.array([3, -1, 0]))
    assert int(node.current_mult) == 4096 and int(node.voltage_mult) == 0
    assert int(node.threshold) == 640
    # bias_mant is stored int16 by Lava (70000 wraps), shifted in int32; -5 >> 1 floors to -3
    assert node.bias.tolist() == [40, -3, 70000 - 65536]
    assert node.lava_differences() == []
    reset = IntCubaLIF.from_lava((2,), du=0, dv=0, vth=1, reset_interval=5, reset_offset=2)
    assert (reset.state_reset_interval, reset.state_reset_phase) == (5, 1)
    assert int(reset.current_mult) == 4095 and reset.bias is None


def test_to_lava_inverts_from_lava():
    rng = np.random.default_rng(4)
    for _ in range(50):
        kw = {"du": int(rng.integers(-1, 4096)), "dv": int(rng.integers(0, 4097)),
              "vth": int(rng.integers(0, 2 ** 17)),
              "bias_mant": rng.integers(-4096, 4096, 6), "bias_exp": rng.integers(0, 8, 6),
              "reset_interval": int(rng.integers(1, 9)), "reset_offset": int(rng.integers(0, 9))}
        node = IntCubaLIF.from_lava((6,), **kw)
        lava = node.to_lava()
        again = IntCubaLIF.from_lava(lava.pop("shape"), **lava)
        for f in node.param_fields():
            a, b = getattr(node, f), getattr(again, f)
            if f == "bias":
                a, b = (np.broadcast_to(0 if x is None else x, (6,)) for x in (a, b))
            assert (a is None and b is None) or np.array_equal(a, b), f
        assert np.all(np.abs(lava["bias_mant"]) < 2 ** 15)


def test_to_lava_rejects_other_semantics():
    node = IntCubaLIF(shape=(2,), current_mult=np.array(4096), voltage_mult=np.array([1, 2]),
                      threshold=np.array(100), reset="subtract", comparison=">=")
    diffs = node.lava_differences()
    assert any("reset" in d for d in diffs) and any("comparison" in d for d in diffs)
    assert any("voltage_mult" in d for d in diffs) and any("multiple of" in d for d in diffs)
    with pytest.raises(UnsupportedError, match="not expressible as a Lava LIF"):
        node.to_lava("lif1")
    odd = IntCubaLIF(shape=(1,), current_mult=np.array(1), voltage_mult=np.array(1),
                     bias=np.array([2 ** 20 + 1]))
    with pytest.raises(UnsupportedError, match="bias_mant"):
        odd.to_lava()


def test_readout_node_maps_to_unreachable_lava_threshold():
    node = EXAMPLES["IntCubaLIF_readout"][1]
    assert node.output_kind == "analog" and node.to_lava()["vth"] << O.LAVA_ACT_SHIFT > 2 ** 23 - 1


def test_graded_input_property():
    assert EXAMPLES["IntDense"][1].graded_input and not EXAMPLES["IntConv2d"][1].graded_input
