"""LM-HT's L x T time-multiplexed binary reparameterisation (passes/reparam_lmht.py) is lossless:
every downstream layer receives the same input, bit for bit (hypothesis over parameters,
graph shapes and signed inputs: zero mismatches); every refused precondition names node and
field; the config switch leaves the default (graded) mapping unchanged; LM-HT's T x T time
mixing is marked whole-window."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.backends.sim import kernels as K
from snnc.backends.sim import simulate
from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import ConfigError, UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.nir_io import read_nir, write_nir
from snnc.ir.shapes import annotate_shapes
from snnc.passes.reparam_lmht import check_time_multiplexable, expand_inputs, membrane_bound, time_multiplex
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.run import run_graph

D = 12


def _dense(rng, n_out, n_in, lo=-300, hi=300, exp=0):
    return IN.IntDense(weight=rng.integers(lo, hi, (n_out, n_in)), weight_exp=exp, input_kind="graded",
                       acc_bits=64, out_bits=64)


def _mix(rng, T, F, signed):
    lo = -(1 << F) if signed else 0
    return INN.IntTimeMix(coefficients=rng.integers(lo, 1 << F, (T, T)), frac_bits=F)


def _lmht(shape, L, leak_mult, theta, v_init, window):
    return INN.IntLMHT(shape=shape, leak_mult=int(leak_mult), threshold=int(theta), levels=L, v_init=int(v_init),
                       window=window, decay_bits=D, state_bits=48, overflow="saturate")


def _graph(rng, *, L, T, n, leak1, leak2, theta, v_init, window, conv, bias, delay, skip, signed_mix, exp):
    """input -> syn -> [delay] -> mix -> nrn -> down -> mix2 -> nrn2 -> readout -> output, with a
    bias through a ConstantSource into mix, an optional direct skip synapse nrn -> nrn2 (no
    TimeMix: goes through a collector), and nrn's payload as a second Output."""
    g = Graph(metadata={"level": "integer"})
    if conv:
        g.add_node("input", N.Input(shape=(2, 4, 4), metadata={"max_abs": 3.0}))
        g.add_node("syn", IN.IntConv2d(input_shape=(4, 4), weight=rng.integers(-60, 60, (n, 2, 3, 3)),
                                       padding=(1, 1), weight_exp=exp, input_kind="graded", out_bits=64))
        shape = (n, 4, 4)
        g.add_node("pool", N.SumPool2d(kernel_size=(2, 2), stride=(2, 2)))
        g.add_node("flat", N.Flatten(input_shape=(n, 2, 2)))
        n_flat = 4 * n
    else:
        g.add_node("input", N.Input(shape=(6,), metadata={"max_abs": 3.0}))
        g.add_node("syn", _dense(rng, n, 6, exp=exp))
        shape = (n,)
    g.add_node("mix", _mix(rng, T, 10, signed_mix))
    g.add_node("nrn", _lmht(shape, L, leak1, theta, v_init, window))
    g.add_node("down", _dense(rng, 5, n_flat if conv else n, -200, 200))
    g.add_node("mix2", _mix(rng, T, 8, signed_mix))
    g.add_node("nrn2", _lmht((5,), L, leak2, theta + 7, -v_init // 2, window))
    g.add_node("readout", _dense(rng, 3, 5, -50, 50))
    g.add_node("output", N.Output(shape=(3,)))
    g.add_edge("input", "syn")
    g.add_edge("syn", "mix", delay)
    g.add_edge("mix", "nrn")
    if conv:
        g.add_edge("nrn", "pool")
        g.add_edge("pool", "flat")
        g.add_edge("flat", "down")
    else:
        g.add_edge("nrn", "down")
        g.add_node("out_k", N.Output(shape=(n,)))
        g.add_edge("nrn", "out_k")
        if skip:
            g.add_node("skip", _dense(rng, 5, n, -400, 400))
            g.add_edge("nrn", "skip")
            g.add_edge("skip", "nrn2", 1)
    g.add_edge("down", "mix2")
    g.add_edge("mix2", "nrn2")
    g.add_edge("nrn2", "readout")
    g.add_edge("readout", "output")
    if bias:
        g.add_node("b_src", INN.ConstantSource(shape=(1,), value=np.array([int(rng.integers(1, 128))])))
        if conv:
            g.add_node("b_syn", IN.IntConv2d(input_shape=(4, 4), weight=rng.integers(-900, 900, (n, 1, 1, 1)),
                                             weight_exp=exp, input_kind="graded", out_bits=64))
            g.nodes["b_src"] = INN.ConstantSource(shape=(1, 4, 4), value=np.full((1, 4, 4), 3))
        else:
            g.add_node("b_syn", _dense(rng, n, 1, -900, 900, exp=exp))
        g.add_edge("b_src", "b_syn")
        g.add_edge("b_syn", "mix", delay)
    return annotate_shapes(g)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), L=st.integers(2, 4), T=st.integers(1, 4), n=st.integers(1, 4),
       windowed=st.booleans(), growth=st.booleans(), theta=st.integers(1, 3000), v_init_frac=st.floats(-1, 1),
       conv=st.booleans(), bias=st.booleans(), delay=st.integers(0, 1), skip=st.booleans(),
       signed_mix=st.booleans(), signed_input=st.booleans(), exp=st.integers(0, 3))
def test_time_multiplexing_is_lossless(seed, L, T, n, windowed, growth, theta, v_init_frac, conv, bias, delay,
                                       skip, signed_mix, signed_input, exp):
    rng = np.random.default_rng(seed)
    hi = int(1.5 * 2 ** D) if (growth and windowed) else 2 ** D - 1      # lambda > 1 only with a window
    leak1, leak2 = (int(rng.integers(2 ** D // 2, hi)) for _ in range(2))
    g = _graph(rng, L=L, T=T, n=n, leak1=leak1, leak2=leak2, theta=theta, v_init=int(v_init_frac * theta),
               window=T if windowed else None, conv=conv, bias=bias, delay=delay, skip=skip, signed_mix=signed_mix,
               exp=exp)
    tm = time_multiplex(g)
    assert tm.metadata["substeps"] == L
    assert isinstance(tm.nodes["nrn"], INN.IntBinaryLMHT) and isinstance(tm.nodes["nrn2"], INN.IntBinaryLMHT)
    shape = g.nodes["input"].shape
    x = rng.integers(-3 if signed_input else 0, 4 if signed_input else 2, (3, 6 * T, *shape))
    a = simulate(g, x, record="all", record_states=True)
    sub = simulate(tm, expand_inputs(tm, x), record="all", record_states=True)      # L*T sub-steps

    def per_step(v):
        return v.reshape(v.shape[0], -1, L, *v.shape[2:])

    # each LM-HT population receives its step's current on the block's first sub-step, and nothing else
    for mix in ("mix", "mix2"):
        blocks = per_step(sub.outputs[mix])
        assert np.array_equal(blocks[:, :, 0], a.outputs[mix])
        assert not np.any(blocks[:, :, 1:])
    # binary spikes whose count per block is the multi-level payload k
    for nrn in ("nrn", "nrn2"):
        s = sub.outputs[nrn]
        assert set(np.unique(s)) <= {0, 1}
        assert np.array_equal(per_step(s).sum(axis=2), a.outputs[nrn])
    # the downstream layer receives the same input
    assert np.array_equal(per_step(sub.outputs["down"]).sum(axis=2), a.outputs["down"])
    # the runtime runs the multiplexed graph on per-step data: every node, every state, equal
    b = run_graph(tm, x, record="all", record_states=True)
    for k, v in a.outputs.items():
        assert np.array_equal(b.outputs[k], v), k
    for k, v in a.states.items():
        assert np.array_equal(b.states[k], v), k


def _small(**change):
    rng = np.random.default_rng(0)
    kw = dict(L=2, T=4, n=3, leak1=3000, leak2=5000, theta=700, v_init=0, window=4, conv=False, bias=True,
              delay=0, skip=False, signed_mix=False, exp=0)
    kw.update(change)
    return _graph(rng, **kw)


def _refused(g, node, field):
    with pytest.raises(UnsupportedError) as err:
        time_multiplex(g)
    msg = str(err.value)
    assert f"node '{node}'" in msg, msg
    if field:
        assert f"field '{field}'" in msg, msg
    return msg


def test_refuses_other_neurons_naming_them():
    g = _small()
    g.nodes["lif"] = IN.IntCubaLIF(shape=(3,), current_mult=np.array(0), voltage_mult=np.array(4000),
                                   threshold=np.array(64))
    g.add_node("fc_lif", _dense(np.random.default_rng(1), 3, 5))
    g.add_edge("nrn2", "fc_lif")
    g.add_edge("fc_lif", "lif")
    msg = _refused(g, "lif", None)
    assert "IntCubaLIF has per-step dynamics" in msg and "graded mapping" in msg


@pytest.mark.parametrize("node, field, edit", [
    ("nrn2", "levels", lambda g: setattr(g.nodes["nrn2"], "levels", 4)),
    ("nrn", "threshold", lambda g: setattr(g.nodes["nrn"], "threshold", 0)),
    ("down", "weight_exp", lambda g: setattr(g.nodes["down"], "weight_exp", -2)),
    ("readout", "out_bits", lambda g: setattr(g.nodes["readout"], "out_bits", 32)),
    ("syn", "acc_bits", lambda g: setattr(g.nodes["syn"], "acc_bits", 32)),
    ("nrn", "state_bits", lambda g: setattr(g.nodes["nrn"], "state_bits", 16)),
    ("nrn", "state_bits", lambda g: (setattr(g.nodes["nrn"], "window", None),       # growth without window
                                     setattr(g.nodes["nrn"], "leak_mult", 5000))),
])
def test_refuses_inexact_parameters(node, field, edit):
    g = _small()
    edit(g)
    msg = _refused(g, node, field)
    assert "graded mapping" in msg


def test_refuses_conv_bias():
    g = _small(conv=True)
    g.nodes["syn"].bias = np.arange(3)
    _refused(g, "syn", "bias")


def test_refuses_recurrent_loop_float_graph_and_second_application():
    g = _small()
    g.add_node("rec", _dense(np.random.default_rng(2), 3, 3))
    g.add_edge("nrn", "rec")
    g.add_edge("rec", "mix", 1)
    with pytest.raises(UnsupportedError, match="recurrent edge"):
        time_multiplex(g)
    with pytest.raises(UnsupportedError, match="lowered integer graph"):
        time_multiplex(Graph(metadata={"level": "discrete"}))
    tm = time_multiplex(_small())
    with pytest.raises(UnsupportedError, match="field 'substeps'.*already time-multiplexed"):
        time_multiplex(tm)


def test_membrane_bound_is_sound():
    """Adversarial drive (max-magnitude inputs of one sign) stays inside the bound used by the check."""
    g = _small(signed_mix=True)
    for sign in (1, -1):
        x = np.full((1, 64, 6), 3 * sign)
        tr = simulate(g, x, record="all", record_states=True)
        assert np.abs(tr.states["nrn.v"]).max() <= membrane_bound(g, "nrn")


def test_no_lmht_is_a_no_op_and_levels_one_stays():
    g = _small()
    assert check_time_multiplexable(g) == 2
    g1 = _small()
    for nrn in ("nrn", "nrn2"):
        g1.nodes[nrn].levels = 1
    out = time_multiplex(g1)
    assert isinstance(out.nodes["nrn"], INN.IntLMHT) and "substeps" not in out.metadata


# ------------------------------------------------------------------------------------------
# through the compiler: config, default unchanged, report, artifact
# ------------------------------------------------------------------------------------------


def _float_lmht(levels=(2, 2), readout_lif=False, seed=0, T=4):
    rng = np.random.default_rng(seed)
    g = Graph(metadata={"dt": 1e-3})
    g.add_node("input", N.Input(shape=(10,)))
    prev, n_prev = "input", 10
    for i, (L, n) in enumerate(zip(levels, (8, 6)), 1):
        mix = 2 / (1 + np.exp(-rng.standard_normal((T, T)))) / T
        g.add_node(f"fc{i}", N.Affine(weight=rng.standard_normal((n, n_prev)), bias=rng.standard_normal(n) * 0.3))
        g.add_node(f"mix{i}", N.TimeMix(coefficients=mix))
        g.add_node(f"lmht{i}", N.LMHT(shape=(n,), leak=float(rng.uniform(0.6, 1.4)), v_threshold=2.0 / L, levels=L,
                                     v_init=0.5 / L * i, window=T))
        for a, b in [(prev, f"fc{i}"), (f"fc{i}", f"mix{i}"), (f"mix{i}", f"lmht{i}")]:
            g.add_edge(a, b)
        prev, n_prev = f"lmht{i}", n
    g.add_node("head", N.Linear(weight=rng.standard_normal((3, n_prev))))
    g.add_edge(prev, "head")
    if readout_lif:
        g.add_node("readout", N.DiscreteLIF(shape=(3,), voltage_decay=np.array(0.9), current_gain=np.array(1.0),
                                            input_gain=np.array(1.0)))
        g.add_edge("head", "readout")
        prev = "readout"
    else:
        prev = "head"
    g.add_node("output", N.Output(shape=(3,)))
    g.add_edge(prev, "output")
    return g


BINARY = {"lmht": {"mapping": "binary_time_multiplexed"}}


@pytest.mark.parametrize("target", ["sim", "fpga"])
def test_config_switch_compiles_a_bit_exact_binary_graph(target, tmp_path):
    g = _float_lmht()
    graded, rep_g = compile_graph(g, make_config(target))
    binary, rep_b = compile_graph(g, make_config(target, BINARY))
    assert isinstance(graded.nodes["lmht1"], INN.IntLMHT) and "substeps" not in graded.metadata   # default
    assert isinstance(binary.nodes["lmht1"], INN.IntBinaryLMHT) and binary.metadata["substeps"] == 2
    assert "reparam_lmht" in rep_b["pipeline"]
    assert rep_b["nodes"]["lmht1"]["lmht_mapping"] == "binary_time_multiplexed"
    assert rep_b["nodes"]["mix1"]["window"] == 8
    path = tmp_path / "m.nir"
    write_nir(path, binary)
    again = read_nir(path)                               # the artifact keeps its sub-step rate
    assert again.metadata["substeps"] == 2
    x = (np.random.default_rng(4).random((4, 24, 10)) < 0.5).astype(float)
    a = run_graph(graded, x, record="all", record_states=True)
    b = run_graph(again, x, record="all", record_states=True)
    for k, v in a.outputs.items():
        assert np.array_equal(b.outputs[k], v), k
    for k, v in a.states.items():
        assert np.array_equal(b.states[k], v), k
    assert a.outputs["lmht1"].max() == 2 and a.outputs["lmht2"].max() == 2     # multi-level spikes occur


def test_config_refusals():
    with pytest.raises(UnsupportedError, match="node 'lmht2', field 'levels'"):
        compile_graph(_float_lmht(levels=(2, 4)), make_config("sim", BINARY))
    with pytest.raises(UnsupportedError, match="node 'readout'.*IntCubaLIF.*graded mapping"):
        compile_graph(_float_lmht(readout_lif=True), make_config("sim", BINARY))
    with pytest.raises(ConfigError, match="field 'lmht.mapping'.*streams"):
        make_config("loihi2", BINARY)
    with pytest.raises(ConfigError, match="field 'lmht.mapping'.*not one of"):
        make_config("fpga", {"lmht": {"mapping": "binary"}})
    with pytest.raises(ConfigError, match="field 'lmht'.*unknown"):
        make_config("fpga", {"lmht": {"mapping": "graded", "levels": 2}})
    assert make_config("fpga").lmht_mapping == "graded"


# ------------------------------------------------------------------------------------------
# the T x T time mixing is whole-window
# ------------------------------------------------------------------------------------------


def test_time_mixing_is_marked_whole_window(tmp_path):
    assert N.TimeMix.whole_window and INN.IntTimeMix.whole_window
    assert not getattr(INN.IntLMHT, "whole_window", False) and not getattr(INN.IntBinaryLMHT, "whole_window", False)
    g = _float_lmht()
    for target in ("sim", "fpga"):
        low, report = compile_graph(g, make_config(target))
        mix = low.nodes["mix1"]
        assert mix.hw["whole_window"] == 4 and report["nodes"]["mix1"]["execution"] == "whole_window"
        kernel = K.make_kernel(mix, "mix1", (8,), (8,), np.int64)
        assert kernel.whole_window
        write_nir(tmp_path / f"{target}.nir", low)
        assert read_nir(tmp_path / f"{target}.nir").nodes["mix1"].hw["whole_window"] == 4
    binary, _ = compile_graph(g, make_config("sim", BINARY))
    assert binary.nodes["mix1"].hw["whole_window"] == 8          # L x T sub-steps
    assert binary.nodes["fc1.bias_source.first_substep"].hw["whole_window"] == 2


# ------------------------------------------------------------------------------------------
# why the pass delivers the step's current on the block start (docs/neurons.md#binary-time-multiplexing)
# ------------------------------------------------------------------------------------------


def _multi_level(currents, lam, theta, L):
    v, out = Fraction(0), []
    for i in currents:
        h = lam * v + i
        k = min(L, max(0, (h / theta).__floor__()))
        v = h - k * theta
        out.append((k, v))
    return out


def _binary(currents, lam, theta, L, even):
    v, out = Fraction(0), []
    for i in currents:
        k = 0
        for r in range(L):
            v = (lam * v if r == 0 else v) + (i / L if even else (i if r == 0 else 0))
            if v >= theta:
                v -= theta
                k += 1
        out.append((k, v))
    return out


def test_paper_even_split_needs_nonnegative_currents_block_start_does_not():
    """Exact rational arithmetic: the paper's even split (I/L per sub-step) matches the
    multi-level neuron for non-negative currents only; the block-start schedule always."""
    rng = np.random.default_rng(0)
    mismatches = {"even_nonneg": 0, "even_signed": 0, "start_signed": 0}
    for _ in range(400):
        L = int(rng.integers(2, 5))
        lam = Fraction(int(rng.integers(16, 48)), 32)
        theta = Fraction(2, L)
        signed = [Fraction(int(c), 8) for c in rng.integers(-24, 25, 4)]
        nonneg = [abs(c) for c in signed]
        mismatches["even_nonneg"] += _binary(nonneg, lam, theta, L, True) != _multi_level(nonneg, lam, theta, L)
        mismatches["even_signed"] += _binary(signed, lam, theta, L, True) != _multi_level(signed, lam, theta, L)
        mismatches["start_signed"] += _binary(signed, lam, theta, L, False) != _multi_level(signed, lam, theta, L)
    assert mismatches["even_nonneg"] == 0 and mismatches["start_signed"] == 0
    assert mismatches["even_signed"] > 0


def test_cli_compile_with_config_and_run_per_step_data(tmp_path):
    """snnc compile --config (lmht: {mapping: binary_time_multiplexed}) then snnc run OUTDIR on
    per-step inputs gives the graded model's outputs."""
    import snnc
    from snnc.runtime.cli import main

    model = tmp_path / "lmht.nir"
    snnc.save(_float_lmht(), model)
    (tmp_path / "binary.yaml").write_text("target: sim\nlmht: {mapping: binary_time_multiplexed}\n")
    x = (np.random.default_rng(5).random((2, 16, 10)) < 0.5).astype(float)
    np.save(tmp_path / "x.npy", x)
    assert main(["compile", str(model), "--config", str(tmp_path / "binary.yaml"), "-o", str(tmp_path / "b")]) == 0
    assert main(["compile", str(model), "--target", "sim", "-o", str(tmp_path / "g")]) == 0
    for name in ("b", "g"):
        assert main(["run", str(tmp_path / name), "--input", str(tmp_path / "x.npy"), "--out",
                     str(tmp_path / f"{name}.npz"), "--record", "all"]) == 0
    b, g = np.load(tmp_path / "b.npz"), np.load(tmp_path / "g.npz")
    assert b["output"].shape == (2, 16, 3)
    for k in g.files:
        assert np.array_equal(b[k], g[k]), k
