"""Bit-exactness of the integer nodes (ir.intnodes, simulated by backends.sim.int_kernels)
against real Lava (lava-nc 0.10, ``Loihi2SimCfg(select_tag='fixed_pt')``).

Each test builds a small Lava network (RingBuffer source -> Dense/Conv -> LIF -> ... -> sink
RingBuffer, Monitors on u and v), the equivalent snnc integer graph (IntDense/IntConv2d with the
Lava synapse latency as ``delay=1`` on the edge into the neuron, IntCubaLIF from the same Lava
parameters), and compares spikes, u and v at every step with ``np.array_equal``.

Run in the Lava env: ``.venv-lava/bin/python -m pytest tests/lava -q``. Each Lava run takes
about one second (Lava starts one OS process per Lava process).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

pytest.importorskip("lava")

from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402
from lava.proc.conv.process import Conv  # noqa: E402
from lava.proc.dense.process import Dense  # noqa: E402
from lava.proc.io.sink import RingBuffer as SinkBuffer  # noqa: E402
from lava.proc.io.source import RingBuffer as SourceBuffer  # noqa: E402
from lava.proc.lif.process import LIF, LIFReset  # noqa: E402
from lava.proc.monitor.process import Monitor  # noqa: E402

from snnc.backends.sim import simulate  # noqa: E402
from snnc.ir import intops as O  # noqa: E402
from snnc.ir import nodes as N  # noqa: E402
from snnc.ir.graph import Graph  # noqa: E402
from snnc.ir.intnodes import IntConv2d, IntCubaLIF, IntDense  # noqa: E402

V_MAX = 2 ** 23 - 1


# ----------------------------------------------------------------------------------------
# model of Lava's Dense weight preparation (docs/numeric_semantics.md#lava-arithmetic), written from the spec
# ----------------------------------------------------------------------------------------


def lava_effective_weights(w: np.ndarray, num_weight_bits: int = 8) -> np.ndarray:
    """The weights Lava's bit-accurate Dense really uses: sign mode from the matrix (min >= 0:
    excitatory, max <= 0: inhibitory, else mixed), clip to [0, 255] / [-255, 0] / [-256, 255],
    then drop ``8 - num_weight_bits + mixed`` LSBs (arithmetic shift; inhibitory on -w)."""
    w = np.asarray(w, np.int64)
    mixed = not (w.min() >= 0 or w.max() <= 0)
    inhibitory = (not mixed) and w.min() < 0
    m = -w if inhibitory else w
    m = np.clip(m, -256 if mixed else 0, 255)
    k = 8 - num_weight_bits + int(mixed)
    m = (m >> k) << k
    return -m if inhibitory else m


def test_effective_weight_model_examples():
    assert lava_effective_weights(np.array([3, -3, 5, -7])).tolist() == [2, -4, 4, -8]
    assert lava_effective_weights(np.array([-256, -3])).tolist() == [-255, -3]
    assert lava_effective_weights(np.array([300, 3])).tolist() == [255, 3]
    assert lava_effective_weights(np.array([3, -3, 5, -7]), num_weight_bits=9).tolist() == [3, -3, 5, -7]


# ----------------------------------------------------------------------------------------
# one layer description -> Lava processes and snnc nodes
# ----------------------------------------------------------------------------------------


@dataclass
class Layer:
    """A Dense synapse plus a LIF population, with Lava's parameters."""

    weights: np.ndarray                      # int[n_out, n_in], as handed to Lava
    lif: dict                                # du, dv, vth, bias_mant, bias_exp
    weight_exp: int = 0
    num_weight_bits: int = 8
    num_message_bits: int = 0                # 0: binary input
    reset: dict = field(default_factory=dict)  # reset_interval, reset_offset (LIFReset)
    rec_weights: np.ndarray | None = None    # recurrent Dense from this LIF to itself

    @property
    def n(self) -> int:
        return self.weights.shape[0]


def _lava_lif(layer: Layer):
    kw = dict(shape=(layer.n,), **layer.lif)
    return LIFReset(**kw, **layer.reset) if layer.reset else LIF(**kw)


def _probe(var, steps, monitors):
    m = Monitor()
    m.probe(var, steps)
    monitors.append((m, var))


def _monitor_data(monitors) -> list[np.ndarray]:
    out = []
    for m, var in monitors:
        data = m.get_data()
        (proc,) = data.values()
        arr = np.asarray(proc[var.name])
        assert np.array_equal(arr, np.round(arr))
        out.append(arr.astype(np.int64))
    return out


def run_lava_dense(data: np.ndarray, layers: list[Layer]):
    """data int[n_in, T] -> (spikes of the last layer int[T, n], [(u[T, n], v[T, n]) per layer])."""
    steps = data.shape[1]
    src = SourceBuffer(data=data)
    prev, monitors = src.s_out, []
    for layer in layers:
        dense = Dense(weights=layer.weights, weight_exp=layer.weight_exp,
                      num_weight_bits=layer.num_weight_bits, num_message_bits=layer.num_message_bits)
        lif = _lava_lif(layer)
        prev.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        if layer.rec_weights is not None:
            rec = Dense(weights=layer.rec_weights)
            lif.s_out.connect(rec.s_in)
            rec.a_out.connect(lif.a_in)
        _probe(lif.u, steps, monitors)
        _probe(lif.v, steps, monitors)
        prev = lif.s_out
    sink = SinkBuffer(shape=(layers[-1].n,), buffer=steps)
    prev.connect(sink.a_in)
    try:
        sink.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        spikes = sink.data.get().astype(np.int64).T
        states = _monitor_data(monitors)
    finally:
        sink.stop()
    return spikes, [(states[2 * i], states[2 * i + 1]) for i in range(len(layers))]


def snnc_lif(layer: Layer) -> IntCubaLIF:
    return IntCubaLIF.from_lava((layer.n,), **layer.lif, **layer.reset)


def snnc_dense_graph(n_in: int, layers: list[Layer]) -> Graph:
    g = Graph(metadata={"level": "integer", "target": "loihi2"})
    g.add_node("input", N.Input(shape=(n_in,)))
    prev = "input"
    for i, layer in enumerate(layers):
        g.add_node(f"fc{i}", IntDense(weight=lava_effective_weights(layer.weights, layer.num_weight_bits),
                                      weight_exp=layer.weight_exp,
                                      input_kind="graded" if layer.num_message_bits else "binary"))
        g.add_node(f"lif{i}", snnc_lif(layer))
        g.add_edge(prev, f"fc{i}")
        g.add_edge(f"fc{i}", f"lif{i}", delay=1)          # Lava: one step per connection process
        if layer.rec_weights is not None:
            g.add_node(f"rec{i}", IntDense(weight=lava_effective_weights(layer.rec_weights)))
            g.add_edge(f"lif{i}", f"rec{i}")
            g.add_edge(f"rec{i}", f"lif{i}", delay=1)
        prev = f"lif{i}"
    g.add_node("output", N.Output(shape=(layers[-1].n,)))
    g.add_edge(prev, "output")
    return g


def compare_dense(data: np.ndarray, layers: list[Layer]) -> dict:
    """Run Lava and snnc, assert bit-exact equality, return the snnc trace for extra checks."""
    spikes, states = run_lava_dense(data, layers)
    g = snnc_dense_graph(data.shape[0], layers)
    tr = simulate(g, data.T[None], record_states=True)
    assert np.array_equal(tr.outputs["output"][0], spikes), "output spikes differ"
    for i, (u, v) in enumerate(states):
        su, sv = tr.states[f"lif{i}.u"][0], tr.states[f"lif{i}.v"][0]
        for name, ours, theirs in (("u", su, u), ("v", sv, v)):
            if not np.array_equal(ours, theirs):
                t, j = np.argwhere(ours != theirs)[0]
                pytest.fail(f"layer {i} {name} differs first at step {t} neuron {j}: snnc {ours[t, j]} "
                            f"lava {theirs[t, j]}")
    return {"spikes": spikes, "states": states, "trace": tr}


def _random_lif(rng, n: int) -> dict:
    return {"du": int(rng.integers(-1, 4096)), "dv": int(rng.integers(0, 4097)),
            "vth": int(rng.integers(0, 600)),
            "bias_mant": rng.integers(-300, 300, n, endpoint=True),
            "bias_exp": rng.integers(-2, 7, n, endpoint=True)}


# ----------------------------------------------------------------------------------------
# tests
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_two_layer_dense_lif_random(seed):
    """Mixed-sign weights (Lava drops their LSB: modelled), weight_exp != 0, per-neuron bias
    with negative exponents, inputs with negative / >1 values (binary synapse: any non-zero)."""
    rng = np.random.default_rng(seed)
    n_in, n1, n2, steps = 12, 9, 6, 24
    data = rng.choice([0, 0, 0, 1, 1, -1, 3], size=(n_in, steps))
    layers = [
        Layer(rng.integers(-256, 255, (n1, n_in), endpoint=True), _random_lif(rng, n1),
              weight_exp=int(rng.integers(-3, 3))),
        Layer(rng.integers(-200, 255, (n2, n1), endpoint=True), _random_lif(rng, n2),
              weight_exp=int(rng.integers(-2, 4))),
    ]
    layers[0].lif.update(du=int(rng.integers(0, 2000)), vth=int(rng.integers(5, 60)))
    res = compare_dense(data, layers)
    hidden = simulate(snnc_dense_graph(n_in, layers), data.T[None], record="all").outputs["lif0"]
    assert 0 < hidden.sum() < hidden.size, "the hidden layer should spike sometimes"
    assert np.abs(res["states"][1][1]).max() > 0


def test_v_saturation_and_u_wrap():
    """u grows without decay (du = -1) past 2**23 and wraps (Lava's asymmetric one-step wrap);
    v (no decay, threshold above the range) saturates at +-(2**23 - 1)."""
    n_in, steps = 8, 30
    data = np.ones((n_in, steps), np.int64)
    w = np.stack([np.full(n_in, 255), np.full(n_in, -255), np.resize([255, -256], n_in)])
    layers = [Layer(w, {"du": -1, "dv": 0, "vth": 2 ** 17, "bias_mant": 0, "bias_exp": 0},
                    weight_exp=4)]
    res = compare_dense(data, layers)
    u, v = res["states"][0]
    assert (v == V_MAX).any() and (v == -V_MAX).any(), "v saturation at both ends was not exercised"
    assert (np.diff(u[:, 0]) < 0).any() and (np.diff(u[:, 1]) > 0).any(), "u never wrapped"


def test_inhibitory_and_excitatory_clipping():
    """An inhibitory matrix containing -256 (Lava clips it to -255) and an excitatory one > 255."""
    rng = np.random.default_rng(7)
    n_in, steps = 10, 20
    data = (rng.random((n_in, steps)) < 0.6).astype(np.int64)
    w_inh = -rng.integers(0, 256, (5, n_in), endpoint=True)
    w_inh[0, :] = -256
    w_exc = rng.integers(0, 300, (4, 5))
    layers = [Layer(w_inh, {"du": 3000, "dv": 100, "vth": 0, "bias_mant": 4000, "bias_exp": 3}),
              Layer(w_exc, {"du": 0, "dv": 4096, "vth": 200, "bias_mant": 0, "bias_exp": 0})]
    compare_dense(data, layers)


def test_graded_input_with_int32_wrap():
    """Graded Dense (num_message_bits > 0): payloads multiply the weights, the int32 dot wraps,
    then weight_exp shifts the wrapped sum (visible after the neuron's a << 6 only because
    weight_exp < -6); a << 6 and u + a wrap in int32 too."""
    rng = np.random.default_rng(3)
    n_in, steps = 6, 16
    data = rng.integers(-(2 ** 24), 2 ** 24, (n_in, steps))
    data[:, ::3] = rng.integers(-40, 40, (n_in, data[:, ::3].shape[1]))
    layers = [Layer(rng.integers(-256, 255, (5, n_in), endpoint=True),
                    {"du": 500, "dv": 300, "vth": 1000, "bias_mant": 0, "bias_exp": 0},
                    weight_exp=-8, num_weight_bits=9, num_message_bits=16),
              Layer(rng.integers(-100, 255, (4, 5)), {"du": 4095, "dv": 2048, "vth": 20, "bias_mant": 7,
                                                       "bias_exp": 1})]
    res = compare_dense(data, layers)
    assert np.abs(res["states"][0][0]).max() > 2 ** 20


def test_int32_wraps_inside_lif():
    """Payloads whose a << 6 spans the whole int32 range: ``a << 6``, ``u + a`` and
    ``v + u + bias`` all overflow int32 in Lava and wrap; u leaves the 24-bit range after
    Lava's single correction. Neuron 0 gets a crafted sequence: u = 2**23, then
    u = 2**31 - 2**24 - 64, so v (saturated at 2**23 - 1) + u + bias (~2**24) passes 2**31 and
    wraps to a negative number (then saturates at -(2**23 - 1))."""
    rng = np.random.default_rng(17)
    n, steps = 4, 40
    data = rng.integers(-(2 ** 26), 2 ** 26, (n, steps))
    data[0, :2] = [2 ** 17, 2 ** 25 - 1 - 2 ** 17]
    lif = {"du": -1, "dv": 0, "vth": 2 ** 17, "bias_mant": np.array([32767, -32768, 4095, -4096]),
           "bias_exp": np.array([9, 9, 7, 7])}
    layers = [Layer(np.diag([1, 1, 3, 255]), lif, num_message_bits=24)]
    res = compare_dense(data, layers)
    u, v = res["states"][0]
    assert np.abs(u).max() > 2 ** 30
    assert u[2, 0] == 2 ** 31 - 2 ** 24 - 64 and v[1, 0] == V_MAX and v[2, 0] == -V_MAX


def test_recurrent_dense_and_lif_reset():
    """A recurrent Dense (its own 1-step latency: a cycle with delay 1 in snnc) and LIFReset
    (state zeroed every 5 steps, Lava's 1-based time_step)."""
    rng = np.random.default_rng(11)
    n_in, n1, n2, steps = 7, 6, 3, 25
    data = (rng.random((n_in, steps)) < 0.5).astype(np.int64)
    layers = [Layer(rng.integers(0, 255, (n1, n_in)), {"du": 1000, "dv": 500, "vth": 60, "bias_mant": 0,
                                                        "bias_exp": 0},
                    rec_weights=2 * rng.integers(-128, 127, (n1, n1), endpoint=True)),
              Layer(rng.integers(-256, 255, (n2, n1)), {"du": 200, "dv": 50, "vth": 30, "bias_mant": 5,
                                                         "bias_exp": 2},
                    reset={"reset_interval": 5, "reset_offset": 2})]
    compare_dense(data, layers)


def test_non_spiking_readout_via_to_lava():
    """IntCubaLIF(threshold=None) outputs v; ``to_lava`` gives vth = 2**17 (never reached)."""
    rng = np.random.default_rng(5)
    n_in, steps = 9, 20
    data = (rng.random((n_in, steps)) < 0.5).astype(np.int64)
    node = IntCubaLIF(shape=(4,), current_mult=np.array(4096), voltage_mult=np.array(3000), threshold=None,
                      bias=np.array([-640, 0, 96, 2 ** 21]))
    lava_kw = node.to_lava()
    assert lava_kw["vth"] == 2 ** 17
    lif = {k: lava_kw[k] for k in ("du", "dv", "vth", "bias_mant", "bias_exp")}
    layer = Layer(rng.integers(0, 255, (4, n_in)), lif, weight_exp=3)
    spikes, states = run_lava_dense(data, [layer])
    assert not spikes.any()
    g = snnc_dense_graph(n_in, [layer])
    g.nodes["lif0"] = node
    tr = simulate(g, data.T[None], record_states=True)
    assert np.array_equal(tr.outputs["output"][0], states[0][1])   # readout = v
    assert np.array_equal(tr.states["lif0.u"][0], states[0][0])


# ----------------------------------------------------------------------------------------
# convolution
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("graded", [False, True])
def test_conv_lif_matches_lava(graded):
    """IntConv2d (torch layout, cross-correlation) == Lava Conv (W,H,C layout, true convolution,
    flipped kernel as netx writes it), incl. stride/padding/dilation/groups and the 24-bit wrap."""
    rng = np.random.default_rng(21 + graded)
    c_in, h, w, c_out, groups, steps = 4, 7, 6, 6, 2, 10
    k = rng.integers(-256, 255, (c_out, c_in // groups, 3, 2), endpoint=True)
    stride, padding, dilation = (2, 1), (1, 0), (1, 2)
    if graded:
        x = rng.integers(-(2 ** 13), 2 ** 13, (c_in, h, w, steps))
    else:
        x = (rng.random((c_in, h, w, steps)) < 0.5).astype(np.int64)
    conv = IntConv2d(input_shape=(h, w), weight=k, stride=stride, padding=padding, dilation=dilation,
                     groups=groups, input_kind="graded" if graded else "binary")
    lif_kw = {"du": 800, "dv": 300, "vth": 50 if not graded else 20000, "bias_mant": 2, "bias_exp": 3}

    g = Graph(metadata={"level": "integer"})
    g.add_node("input", N.Input(shape=(c_in, h, w)))
    g.add_node("conv", conv)
    from snnc.ir.shapes import infer_shapes

    g.add_edge("input", "conv")
    out_shape = infer_shapes(g)["conv"]
    g.add_node("lif", IntCubaLIF.from_lava(out_shape, **lif_kw))
    g.add_node("output", N.Output(shape=out_shape))
    g.add_edge("conv", "lif", delay=1)
    g.add_edge("lif", "output")
    tr = simulate(g, np.moveaxis(x, -1, 0)[None], record_states=True, record="all")

    # Lava: (W, H, C) tensors, kernel (C_out, kW, kH, C_in) flipped, (x, y) parameters
    src = SourceBuffer(data=x.transpose(2, 1, 0, 3))
    lconv = Conv(weight=k[:, :, ::-1, ::-1].transpose(0, 3, 2, 1).copy(), input_shape=(w, h, c_in),
                 stride=stride[::-1], padding=padding[::-1], dilation=dilation[::-1], groups=groups,
                 num_message_bits=16 if graded else 0)
    lout = tuple(int(s) for s in lconv.output_shape)
    assert lout == (out_shape[2], out_shape[1], out_shape[0])
    lif = LIF(shape=lout, **lif_kw)
    sink = SinkBuffer(shape=lout, buffer=steps)
    src.s_out.connect(lconv.s_in)
    lconv.a_out.connect(lif.a_in)
    lif.s_out.connect(sink.a_in)
    monitors = []
    _probe(lif.u, steps, monitors)
    _probe(lif.v, steps, monitors)
    try:
        sink.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        spikes = sink.data.get().astype(np.int64)
        u, v = _monitor_data(monitors)
    finally:
        sink.stop()
    to_chw = (0, 3, 2, 1)   # (T, W, H, C) -> (T, C, H, W)
    assert np.array_equal(tr.outputs["output"][0], np.moveaxis(spikes, -1, 0).transpose(to_chw))
    assert np.array_equal(tr.states["lif.u"][0], u.transpose(to_chw))
    assert np.array_equal(tr.states["lif.v"][0], v.transpose(to_chw))
    if graded:   # the 24-bit wrap of the conv output was exercised
        g.nodes["conv"].out_bits = 64
        unwrapped = simulate(g, np.moveaxis(x, -1, 0)[None], record="all").outputs["conv"]
        assert np.abs(unwrapped).max() >= 2 ** 23
        assert np.array_equal(O.wrap(unwrapped, 24), tr.outputs["conv"])
