"""Every node type survives write -> read exactly; graphs of NIR-standard nodes stay readable
by ``nir.read``."""

from __future__ import annotations

import numpy as np
import pytest

import snnc
from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import intsdn as SD
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.ir.nir_io import read_nir, write_nir
from snnc.ir.nodes import QuantSpec

RNG = np.random.default_rng(1)


def r(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def pos(*shape):
    return (RNG.random(shape) + 0.5).astype(np.float64)


# One example per node type, with the input shape it expects. Every registered type must be here.
EXAMPLES: dict[str, tuple[tuple, N.Node]] = {
    "Affine": ((4,), N.Affine(weight=r(3, 4), bias=r(3))),
    "Linear": ((4,), N.Linear(weight=r(3, 4))),
    "Scale": ((4,), N.Scale(scale=r(4))),
    "Conv1d": ((2, 9), N.Conv1d(input_shape=(9,), weight=r(3, 2, 3), stride=2, padding=1, dilation=1,
                                groups=1, bias=r(3))),
    "Conv2d": ((2, 8, 8), N.Conv2d(input_shape=(8, 8), weight=r(4, 1, 3, 3), stride=(2, 1), padding=(1, 0),
                                   dilation=(1, 2), groups=2, bias=r(4))),
    "SumPool2d": ((2, 4, 4), N.SumPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))),
    "AvgPool2d": ((2, 4, 4), N.AvgPool2d(kernel_size=(2, 2), stride=(1, 1), padding=(1, 1))),
    "Flatten": ((2, 3, 4), N.Flatten(input_shape=(2, 3, 4), start_dim=1, end_dim=-1)),
    "Delay": ((4,), N.Delay(delay=np.full(4, 2e-3))),
    "Threshold": ((4,), N.Threshold(threshold=r(4))),
    "I": ((4,), N.I(r=r(4))),
    "IF": ((4,), N.IF(r=r(4), v_threshold=pos(4), v_reset=r(4))),
    "LI": ((4,), N.LI(tau=pos(4), r=r(4), v_leak=r(4))),
    "LIF": ((4,), N.LIF(tau=pos(4), r=r(4), v_leak=r(4), v_threshold=pos(4), v_reset=r(4))),
    "CubaLI": ((4,), N.CubaLI(tau_syn=pos(4), tau_mem=pos(4), r=r(4), v_leak=r(4), w_in=r(4))),
    "CubaLIF": ((4,), N.CubaLIF(tau_syn=pos(4), tau_mem=pos(4), r=r(4), v_leak=r(4), v_threshold=pos(4),
                                v_reset=r(4), w_in=r(4))),
    "BatchNorm": ((3, 2, 2), N.BatchNorm(mean=r(3), var=pos(3), weight=r(3), bias=r(3), eps=1e-3)),
    "DiscreteLIF": ((4,), N.DiscreteLIF(shape=(4,), voltage_decay=np.array(0.9), current_gain=r(4),
                                        input_gain=r(4), current_decay=r(4), bias=r(4), v_threshold=pos(4),
                                        v_reset=r(4), reset="subtract", comparison=">=", v_min=r(4))),
    "LIFB": ((4,), N.LIFB(shape=(4,), leak=np.array(0.8), v_threshold=np.array(0.5), max_burst=5,
                          threshold_step=np.array(1.0), input_gain=np.array(0.5),
                          amplitudes=np.array([0, 1, 3, 4.5, 6, 7.5]), reset="multiplicative", comparison=">")),
    "CLIF": ((4,), N.CLIF(shape=(4,), tau=2.0, v_threshold=1.0)),
    "RF": ((4,), N.RF(shape=(4,), decay=(0.9 * np.exp(1j * RNG.random(4))).astype(np.complex64),
                      v_threshold=1.0, readout=(r(4, 4) + 1j * r(4, 4)).astype(np.complex128))),
    "TimeMix": ((4,), N.TimeMix(coefficients=r(3, 3))),
    "LMHT": ((4,), N.LMHT(shape=(4,), leak=1.2, v_threshold=0.5, levels=4, v_init=0.25, window=3)),
    "LNM": ((4,), N.LNM(shape=(4,), coefficients=r(4), v_threshold=1.0, v_reset=-0.1, reset="subtract",
                        form="map", v_min=-3.0, v_max=3.0)),
}


def ri(*shape, lo=-100, hi=100):
    return RNG.integers(lo, hi, shape).astype(np.int64)


EXAMPLES.update({
    "IntDense": ((4,), IN.IntDense(weight=ri(3, 4), weight_exp=-2, input_kind="graded", acc_bits=32, out_bits=64)),
    "IntConv2d": ((2, 6, 6), IN.IntConv2d(input_shape=(6, 6), weight=ri(4, 2, 3, 3), stride=(1, 1), padding=(1, 1),
                                          dilation=(1, 1), groups=1, bias=ri(4), weight_exp=0, input_kind="binary",
                                          out_bits=24)),
    "IntCubaLIF": ((4,), IN.IntCubaLIF(shape=(4,), current_mult=np.array(2048), voltage_mult=ri(4, lo=0, hi=4096),
                                       threshold=np.array(640), bias=ri(4), input_shift=6, reset="subtract",
                                       comparison=">=", u_overflow="saturate", state_reset_interval=5,
                                       state_reset_phase=2)),
    "IntComplexDense": ((4,), INN.IntComplexDense(weight_real=ri(3, 4), weight_imag=ri(3, 4))),
    "IntLIFB": ((4,), INN.IntLIFB(shape=(4,), leak_mult=np.array(3000), threshold=ri(4, lo=1),
                                  threshold_step=ri(4, lo=1),
                                  max_burst=3, amplitudes=np.array([0, 2, 6, 9]), reset="zero")),
    "IntCLIF": ((4,), INN.IntCLIF(shape=(4,), decay_mult=2048, threshold=4096, lut_u=ri(16, lo=0), u_shift=8,
                                  u_offset=-8, lut_m=ri(8, lo=0), m_shift=10, m_frac_bits=12, lut_frac_bits=12,
                                  reset_scale=4096)),
    "IntRF": ((4,), INN.IntRF(shape=(4,), decay_real=ri(4), decay_imag=ri(4), threshold=4096)),
    "IntTimeMix": ((4,), INN.IntTimeMix(coefficients=ri(3, 3), frac_bits=10)),
    "IntLMHT": ((4,), INN.IntLMHT(shape=(4,), leak_mult=4800, threshold=1024, levels=2, v_init=512, window=4)),
    "IntBinaryLMHT": ((4,), INN.IntBinaryLMHT(shape=(4,), leak_mult=4800, threshold=1024, substeps=2, v_init=-512,
                                              window=8)),
    "IntLNM": ((4,), INN.IntLNM(shape=(4,), coefficients=ri(3), frac_bits=10, threshold=1024, v_reset=0,
                                v_min=-4096, v_max=4096)),
    "ConstantSource": ((4,), INN.ConstantSource(shape=(4,), value=np.ones(4, np.int64))),
    "IntSigma": ((4,), SD.IntSigma(shape=(4,))),
    "IntDelta": ((4,), SD.IntDelta(shape=(4,), vth=np.array(20 << 12), spike_exp=6, state_exp=6)),
    "IntSigmaDelta": ((4,), SD.IntSigmaDelta(shape=(4,), vth=np.array(3 << 12), bias=ri(4), spike_exp=6,
                                             state_exp=6, act_mode="unit", cum_error=True)),
})


def _assert_same_value(a, b, where):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype, f"{where}: dtype {a.dtype} != {b.dtype}"
        assert a.shape == b.shape, where
        assert np.array_equal(a, b), where
    else:
        assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_same_node(a: N.Node, b: N.Node, name: str):
    assert type(a) is type(b)
    for f in a.param_fields():
        _assert_same_value(getattr(a, f), getattr(b, f), f"{name}.{f}")
    assert a.quant == b.quant
    assert a.hw == b.hw


def test_every_registered_node_type_has_an_example():
    missing = sorted(set(N.NODE_TYPES) - set(EXAMPLES) - {"Input", "Output", "NIRGraph"})
    assert not missing, f"add round-trip examples for {missing}"


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_node_round_trip(tmp_path, type_name):
    in_shape, node = EXAMPLES[type_name]
    node.metadata = {"origin": "test", "nested": {"k": 3, "arr": np.arange(3)}}
    node.quant = {"weight": QuantSpec(bits=8, frac_bits=4, signed=True, overflow="wrap", scale=0.5)}
    node.hw = {"core": 2, "target": "loihi2"}
    g = Graph(metadata={"dt": 1e-3})
    g.add_node("input", N.Input(shape=tuple(in_shape)))
    g.add_node("n", node)
    from snnc.ir.shapes import infer_shapes

    out_shape = infer_shapes(Graph(nodes=dict(g.nodes), edges=[snnc.Edge("input", "n")]))["n"]
    g.add_node("output", N.Output(shape=out_shape))
    g.add_edge("input", "n")
    g.add_edge("n", "output", delay=2)
    path = tmp_path / "g.nir"
    write_nir(path, g)
    back = read_nir(path)
    assert list(back.nodes) == list(g.nodes)
    assert back.edges == g.edges
    assert back.metadata["dt"] == 1e-3
    assert_same_node(node, back.nodes["n"], "n")
    assert back.nodes["n"].metadata["origin"] == "test"
    assert np.array_equal(back.nodes["n"].metadata["nested"]["arr"], np.arange(3))
    if node.nir_standard:
        nir = pytest.importorskip("nir")
        # nir 1.0.8 infers a grouped conv's input channels as weight.shape[1] (ignoring groups),
        # so its type check rejects any grouped conv; read those without it.
        grouped = getattr(node, "groups", 1) != 1
        ng = nir.read(str(path), type_check=not grouped)
        assert type(ng.nodes["n"]).__name__ == type_name


def test_nested_graph_round_trip_and_flatten(tmp_path):
    inner = Graph()
    inner.add_node("input", N.Input(shape=(4,)))
    inner.add_node("lin", N.Linear(weight=r(4, 4)))
    inner.add_node("output", N.Output(shape=(4,)))
    inner.add_edge("input", "lin")
    inner.add_edge("lin", "output")
    g = Graph(metadata={"dt": 1e-3})
    g.add_node("input", N.Input(shape=(4,)))
    g.add_node("sub", N.Subgraph(graph=inner))
    g.add_node("output", N.Output(shape=(4,)))
    g.add_edge("input", "sub")
    g.add_edge("sub", "output")
    path = tmp_path / "nested.nir"
    write_nir(path, g)
    back = read_nir(path)
    assert isinstance(back.nodes["sub"], N.Subgraph)
    assert_same_node(inner.nodes["lin"], back.nodes["sub"].graph.nodes["lin"], "sub.lin")
    flat = snnc.load(path)
    assert "sub.lin" in flat.nodes
    assert {(e.src, e.dst) for e in flat.edges} == {("input", "sub.lin"), ("sub.lin", "output")}
    nir = pytest.importorskip("nir")
    assert "sub" in nir.read(str(path)).nodes


def test_save_load_keeps_delays_and_is_readable_by_nir(tmp_path, shared_models):
    g = snnc.load(shared_models / "braille_noDelay_bias_zero.nir")
    path = tmp_path / "b.nir"
    snnc.save(g, path)
    back = snnc.load(path)
    assert back.edges == g.edges
    assert sum(e.delay for e in back.edges) == 1
    for name in g.nodes:
        assert_same_node(g.nodes[name], back.nodes[name], name)
    nir = pytest.importorskip("nir")
    ng = nir.read(str(path))
    assert set(ng.nodes) == set(g.nodes)
