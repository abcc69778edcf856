""".net bad-file corpus (issue 8): every broken, unsupported or inconsistent lava-dl netx file
gives one :class:`SnncError` subclass whose message names the file, the layer and the field;
through the CLI, ``snnc inspect`` exits 1 with one line and no traceback. A hypothesis fuzz
mutates valid files (bytes and HDF5 structure): a clean load or an SnncError, never a crash;
graphs that load also simulate or fail cleanly."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.frontend.netx_import import load_net
from snnc.ir.errors import ConfigError, FileFormatError, ParameterError, ShapeError, SnncError, UnsupportedError
from snnc.runtime.cli import main
from snnc.runtime.run import run_graph
from snnc.tests.helper_modules import load

NF = load("frontend/netx_files.py")


def _valid(tmp_path, case="dense"):
    layers, _ = NF.NETWORKS[case]()
    return NF.write_net(tmp_path / "m.net", layers)


def _edit(fn, case="dense"):
    """A corpus entry that edits a valid network (tests/frontend/netx_files.py) in place (h5py)."""
    def make(tmp_path):
        path = _valid(tmp_path, case)
        with h5py.File(path, "r+") as f:
            fn(f)
        return path
    return make


def _replace(f, key, value, **kw):
    del f[key]
    f.create_dataset(key, data=value, **kw)


def _raw(tmp_path, data: bytes) -> str:
    (tmp_path / "m.net").write_bytes(data)
    return str(tmp_path / "m.net")


def _layers(tmp_path, layers):
    return NF.write_net(tmp_path / "m.net", layers)


W = np.full((3, 4), 10)


def _complex(neuron: str | None = "RF_PHASE", kind: str | None = None, **extra) -> dict:
    """A complex dense layer of 3 RF neurons reading 4 inputs (tests/frontend/netx_files.py)."""
    layer = NF.complex_dense(W, -W, NF.rf(5, 1000, 3800, kind=kind or neuron or "RF_PHASE"))
    if neuron is None:
        del layer["neuron"]
    layer.update(extra)
    return layer

# name -> (file maker, error class, layer node or None, field or None, text in the message)
CORPUS = {
    "missing_file": (lambda p: str(p / "nope.net"), FileFormatError, None, None, "not found"),
    "folder": (lambda p: str(p), FileFormatError, None, None, "folder"),
    "empty": (lambda p: _raw(p, b""), FileFormatError, None, None, "HDF5"),
    "random_bytes": (lambda p: _raw(p, np.random.default_rng(0).bytes(4000)), FileFormatError, None, None, "HDF5"),
    "truncated": (lambda p: _raw(p, Path(_valid(p)).read_bytes()[:1500]), FileFormatError, None, None, ""),
    "truncated_tail": (lambda p: _raw(p, Path(_valid(p)).read_bytes()[:-300]), FileFormatError, None, None, ""),
    "no_layer_group": (_edit(lambda f: (f.move("layer", "layers"))), FileFormatError, None, None, "'layer' group"),
    "layer_is_dataset": (_edit(lambda f: (f.__delitem__("layer"), f.create_dataset("layer", data=3))),
                         FileFormatError, None, None, "'layer' group"),
    "empty_layer_group": (lambda p: _layers(p, []), FileFormatError, "layer", None, "empty"),
    "layer_names_gap": (_edit(lambda f: f.move("layer/1", "layer/7")), FileFormatError, "layer", None, "missing"),
    "missing_type": (_edit(lambda f: f.__delitem__("layer/1/type")), FileFormatError, "layer/1", "type", "missing"),
    "type_not_string": (_edit(lambda f: _replace(f, "layer/1/type", 5)), FileFormatError, "layer/1", "type", "string"),
    "missing_weight": (_edit(lambda f: f.__delitem__("layer/2/weight")), FileFormatError, "layer/2", "weight",
                       "missing"),
    "missing_shape": (_edit(lambda f: f.__delitem__("layer/1/shape")), FileFormatError, "layer/1", "shape",
                      "missing"),
    "missing_vth": (_edit(lambda f: f.__delitem__("layer/1/neuron/vThMant")), FileFormatError, "layer/1",
                    "neuron/vThMant", "missing"),
    "missing_neuron_type": (_edit(lambda f: f.__delitem__("layer/1/neuron/type")), FileFormatError, "layer/1",
                            "neuron/type", "missing"),
    "neuron_is_dataset": (_edit(lambda f: _replace(f, "layer/1/neuron", 1)), FileFormatError, "layer/1", "neuron",
                          "group"),
    "conv_without_neuron": (_edit(lambda f: f.__delitem__("layer/1/neuron"), "conv"), FileFormatError,
                            "layer/1", "neuron", "missing"),
    "weight_rows_vs_shape": (_edit(lambda f: _replace(f, "layer/1/shape", [11])), ShapeError, "layer/1", "weight",
                             "rows"),
    "weight_cols_vs_previous": (_edit(lambda f: _replace(f, "layer/2/weight", np.ones((5, 13), np.float32))),
                                ShapeError, "layer/2", "weight", "12 neurons"),
    "input_shape_vs_weight": (_edit(lambda f: _replace(f, "layer/0/shape", [21])), ShapeError, "layer/1", "weight",
                              "input layer"),
    "weight_3d": (_edit(lambda f: _replace(f, "layer/2/weight", np.ones((5, 3, 4), np.float32))), ShapeError,
                  "layer/2", "weight", "2-d"),
    "bias_size": (_edit(lambda f: f["layer/1"].create_dataset("bias", data=np.ones(5, np.float32))), ShapeError,
                  "layer/1", "bias", "5 values"),
    "delay_size": (_edit(lambda f: f["layer/1"].create_dataset("delay", data=np.ones(5, np.float32))), ShapeError,
                   "layer/1", "delay", "fit neither"),
    "conv_shape": (_edit(lambda f: _replace(f, "layer/1/shape", [4, 5, 5]), "conv"), ShapeError, "layer/1",
                   "shape", "convolution"),
    "conv_channels": (_edit(lambda f: _replace(f, "layer/0/shape", [3, 7, 9]), "conv"), ShapeError, "layer/1",
                      "weight", "input channels"),
    "conv_bias_layout": (_edit(lambda f: _replace(f, "layer/2/bias", np.ones((6, 3, 3), np.float32)), "conv"),
                         ShapeError, "layer/2", "bias", "(W, H, C)"),
    "conv_stride_zero": (_edit(lambda f: _replace(f, "layer/1/stride", [0, 2]), "conv"), ParameterError,
                         "layer/1", "stride", "outside"),
    "conv_groups": (_edit(lambda f: _replace(f, "layer/2/groups", 4), "conv"), ParameterError, "layer/2",
                    "groups", "divide"),
    "dense_after_conv_without_flatten": (lambda p: _layers(p, [
        NF.input_layer([2, 7, 9]), NF.conv(np.ones((4, 2, 3, 3)), (4, 4, 5), NF.cuba(), stride=(2, 2), padding=(1, 1)),
        NF.dense(np.ones((3, 80)), NF.cuba())]), ShapeError, "layer/2", "type", "flatten"),
    "flatten_after_1d": (lambda p: _layers(p, [NF.input_layer([4]), NF.dense(W, NF.cuba()), {"type": "flatten"},
                                               NF.dense(np.ones((2, 3)), NF.cuba())]),
                         UnsupportedError, "layer/3", "type", "3 axes"),
    "conv_first_without_shape": (lambda p: _layers(p, [NF.conv(np.ones((2, 1, 3, 3)), (2, 3, 3), NF.cuba())]),
                                 FileFormatError, "layer/0", "shape", "input shape"),
    "input_not_first": (lambda p: _layers(p, [NF.dense(W, NF.cuba()), NF.input_layer([3])]), UnsupportedError,
                        "layer/1", "type", "input layer"),
    "only_flatten": (lambda p: _layers(p, [NF.input_layer([4]), {"type": "flatten"}]), FileFormatError, "layer", None,
                     "no neuron layer"),
    "unknown_layer_type": (_edit(lambda f: _replace(f, "layer/2/type", np.array([b"dense2"], "S10"))),
                           FileFormatError, "layer/2", "type", "unknown layer type 'dense2'"),
    "pool_layer_not_spatial": (_edit(lambda f: _replace(f, "layer/2/type", np.array([b"pool"], "S10"))),
                               ShapeError, "layer/2", "shape", "pool layer's shape"),
    "convT_layer": (_edit(lambda f: _replace(f, "layer/2/type", np.array([b"convT"], "S10"))), UnsupportedError,
                    "layer/2", "type", "--num-layers 2"),
    "concat_layer": (_edit(lambda f: _replace(f, "layer/2/type", np.array([b"concat"], "S10"))), UnsupportedError,
                     "layer/2", "type", "concat"),
    "unknown_neuron_type": (_edit(lambda f: _replace(f, "layer/1/neuron/type", "IZHI", dtype=h5py.string_dtype())),
                            UnsupportedError, "layer/1", "neuron/type", "unknown neuron type 'IZHI'"),
    "sdnn_activation": (_edit(lambda f: (_replace(f, "layer/2/neuron/type", "SDNN", dtype=h5py.string_dtype()),
                                         f.create_dataset("layer/2/neuron/activation", data="tanh",
                                                          dtype=h5py.string_dtype()))),
                        UnsupportedError, "layer/2", "neuron/activation", "ReLU"),
    "sdnn_sigma_output_bias": (_edit(lambda f: (_replace(f, "layer/2/neuron/type", "SDNN", dtype=h5py.string_dtype()),
                                                f.create_dataset("layer/2/neuron/sigma_output", data=True),
                                                f.require_dataset("layer/2/bias", (f["layer/2/shape"][0],),
                                                                  np.float32))),
                               UnsupportedError, "layer/2", "bias", "Sigma"),
    "sdnn_huge_threshold": (_edit(lambda f: (_replace(f, "layer/2/neuron/type", "SDNN", dtype=h5py.string_dtype()),
                                             _replace(f, "layer/2/neuron/vThMant", 1 << 20))),
                            ParameterError, "layer/2", "neuron/vThMant", "int32"),
    "rf_neuron": (_edit(lambda f: _replace(f, "layer/1/neuron/type", "RF_PHASE", dtype=h5py.string_dtype())),
                  UnsupportedError, "layer/1", "neuron/type", "resonate-and-fire"),
    "adrf_neuron": (_edit(lambda f: _replace(f, "layer/1/neuron/type", "ADRF_IZHIKEVICH", dtype=h5py.string_dtype())),
                    UnsupportedError, "layer/1", "neuron/type", "adaptation"),
    "alif_neuron": (_edit(lambda f: _replace(f, "layer/1/neuron/type", "ALIF", dtype=h5py.string_dtype())),
                    UnsupportedError, "layer/1", "neuron/type", "adaptive"),
    "complex_weight": (_edit(lambda f: (f.__delitem__("layer/1/weight"),
                                        f["layer/1"].create_dataset("weight/real", data=np.ones((12, 20))),
                                        f["layer/1"].create_dataset("weight/imag", data=np.ones((12, 20))))),
                       UnsupportedError, "layer/1", "neuron/type", "complex"),       # complex synapse, CUBA neuron
    "complex_dense_rec": (_edit(lambda f: (f.__delitem__("layer/1/weight"), _replace(f, "layer/1/type", "dense_rec"),
                                           f["layer/1"].create_dataset("weight/real", data=np.ones((12, 20))),
                                           f["layer/1"].create_dataset("weight/imag", data=np.ones((12, 20))))),
                          UnsupportedError, "layer/1", "weight_rec", "complex dense_rec"),
    "complex_shape_mismatch": (_edit(lambda f: (
        f.__delitem__("layer/1/weight"), _replace(f, "layer/1/neuron/type", "RF_PHASE", dtype=h5py.string_dtype()),
        f["layer/1/neuron"].create_dataset("sinDecay", data=100),
        f["layer/1/neuron"].create_dataset("cosDecay", data=4000),
        f["layer/1"].create_dataset("weight/real", data=np.ones((12, 20))),
        f["layer/1"].create_dataset("weight/imag", data=np.ones((12, 19))))),
        ShapeError, "layer/1", "weight/imag", "differ"),
    "rf_missing_decay": (_edit(lambda f: (
        f.__delitem__("layer/1/weight"), _replace(f, "layer/1/neuron/type", "RF_PHASE", dtype=h5py.string_dtype()),
        f["layer/1"].create_dataset("weight/real", data=np.ones((12, 20))),
        f["layer/1"].create_dataset("weight/imag", data=np.ones((12, 20))))),
        FileFormatError, "layer/1", "neuron/sinDecay", "missing"),
    "nan_weight": (_edit(lambda f: f["layer/1/weight"].__setitem__((0, 0), np.nan)), ParameterError, "layer/1",
                   "weight", "NaN"),
    "fractional_weight": (_edit(lambda f: f["layer/2/weight"].__setitem__((1, 1), 2.5)), ParameterError, "layer/2",
                          "weight", "integers"),
    "huge_weight": (_edit(lambda f: f["layer/2/weight"].__setitem__((1, 1), 1e12)), ParameterError, "layer/2",
                    "weight", "int32"),
    "string_weight": (_edit(lambda f: _replace(f, "layer/2/weight", "abc", dtype=h5py.string_dtype())),
                      ParameterError, "layer/2", "weight", "numeric"),
    "inf_bias": (_edit(lambda f: f["layer/1"].create_dataset("bias", data=np.full(12, np.inf, np.float32))),
                 ParameterError, "layer/1", "bias", "inf"),
    "bias_beyond_int16": (_edit(lambda f: f["layer/1"].create_dataset("bias", data=np.full(12, 40000, np.float32))),
                          ParameterError, "layer/1", "bias", "int16"),
    "zero_size_layer": (_edit(lambda f: _replace(f, "layer/2/shape", [0])), ShapeError, "layer/2", "shape",
                        "zero-size"),
    "zero_size_weight": (lambda p: _layers(p, [NF.dense(np.ones((3, 0)), NF.cuba())]), ShapeError, "layer/0",
                         "weight", "zero-size"),
    "all_zero_weights": (_edit(lambda f: _replace(f, "layer/2/weight", np.zeros((5, 12), np.float32))),
                         UnsupportedError, "layer/2", "weight", "all-zero weight matrix"),
    "excitatory_beyond_255": (_edit(lambda f: _replace(f, "layer/2/weight", np.full((5, 12), 300, np.float32))),
                              UnsupportedError, "layer/2", "weight", "shift"),
    "negative_delay": (_edit(lambda f: f["layer/1"].create_dataset("delay", data=np.full(12, -1, np.float32))),
                       ParameterError, "layer/1", "delay", "negative"),
    "fractional_delay": (_edit(lambda f: f["layer/1"].create_dataset("delay", data=np.full(12, 1.5, np.float32))),
                         ParameterError, "layer/1", "delay", "whole time steps"),
    "dense_rec_with_delay": (_edit(lambda f: f["layer/1"].create_dataset(
        "delay", data=np.ones(9, np.float32)), "dense_rec"), UnsupportedError, "layer/1", "delay", "RecurrentDense"),
    "rec_weight_shape": (_edit(lambda f: _replace(f, "layer/1/weight_rec",
                                                                     np.ones((9, 4), np.float32)), "dense_rec"),
                         ShapeError, "layer/1", "weight_rec", "recurrent"),
    "message_bits": (_edit(lambda f: f["layer/1/neuron"].create_dataset("messageBits", data=8)), UnsupportedError,
                     "layer/1", "neuron/messageBits", "messageBits"),
    "graded_spike": (_edit(lambda f: _replace(f, "layer/1/neuron/gradedSpike", True)), UnsupportedError, "layer/1",
                     "neuron/gradedSpike", "binary LIF"),
    "refractory": (_edit(lambda f: _replace(f, "layer/2/neuron/refDelay", 3)), UnsupportedError, "layer/2",
                   "neuron/refDelay", "refractory"),
    "weight_exponent": (_edit(lambda f: f["layer/2/neuron"].create_dataset("wgtExp", data=2)), UnsupportedError,
                        "layer/2", "neuron/wgtExp", "weight exponent"),
    "idecay_range": (_edit(lambda f: _replace(f, "layer/1/neuron/iDecay", 5000)), ParameterError, "layer/1",
                     "neuron/iDecay", "[0, 4096]"),
    "negative_threshold": (_edit(lambda f: _replace(f, "layer/2/neuron/vThMant", -4)), ParameterError, "layer/2",
                           "neuron/vThMant", ">= 0"),
    "vector_threshold": (_edit(lambda f: _replace(f, "layer/2/neuron/vThMant", [1, 2])), ParameterError, "layer/2",
                         "neuron/vThMant", "single value"),
    "complex_no_neuron": (lambda p: _layers(p, [NF.input_layer([4]), _complex(neuron=None)]),
                          UnsupportedError, "layer/1", "neuron", "default LIF"),
    "complex_adrf": (lambda p: _layers(p, [NF.input_layer([4]), _complex(kind="ADRF_IZHIKEVICH")]),
                     UnsupportedError, "layer/1", "neuron/type", "adaptive RF"),
    "complex_bias": (lambda p: _layers(p, [NF.input_layer([4]), _complex(bias=[1, 2, 3])]),
                     UnsupportedError, "layer/1", "bias", "does not read 'bias'"),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_file_gives_one_clear_error(name, tmp_path, capsys):
    make, cls, layer, field, text = CORPUS[name]
    path = make(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SnncError) as exc:
            load_net(path)
    err = exc.value
    assert type(err) is cls, (type(err).__name__, str(err))
    msg = str(err)
    assert err.file == str(path) and str(path) in msg
    if layer is not None:
        assert err.node == layer, msg
    if field is not None:
        assert err.field == field, msg
    assert text in msg
    # CLI: exit 1, one line naming the file, no traceback
    assert main(["inspect", str(path)]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("snnc: error: ") and str(path) in lines[0], captured.err
    assert "Traceback" not in captured.err + captured.out
    if layer is not None and layer != "layer":
        assert f"node '{layer}'" in lines[0]


def test_graded_input_into_a_complex_layer_is_refused(tmp_path):
    path = _layers(tmp_path, [NF.input_layer([4]), _complex()])
    load_net(path)                                             # binary input: fine
    with pytest.raises(UnsupportedError) as exc:
        load_net(path, input_message_bits=8)
    assert exc.value.node == "layer/1" and exc.value.field == "weight/real" and "graded input" in str(exc.value)


def test_bad_options(tmp_path):
    path = _valid(tmp_path)
    for opts, text in (({"dt": 1e-3}, "do not apply"), ({"input_message_bits": -1}, "input_message_bits"),
                       ({"netx_ignored": "maybe"}, "netx_ignored"), ({"input_shape": (3, 4)}, "input_shape"),
                       ({"num_layers": 0}, "num_layers")):
        with pytest.raises(ConfigError, match=text):
            load_net(path, **opts)


# -- fuzz -------------------------------------------------------------------------------------------

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
FUZZ_CASES = ["dense", "conv", "dense_rec", "delays", "input_neuron"]


def _load_clean(path, **opts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return load_net(path, **opts)
        except SnncError as exc:
            assert str(path) in str(exc), str(exc)
            return None


def _run_clean(graph):
    if graph is None:
        return
    shape = graph.nodes["input"].shape
    try:
        run_graph(graph, np.ones((1, 3, *shape)))
    except SnncError:
        pass


@SETTINGS
@given(case=st.sampled_from(FUZZ_CASES), data=st.data())
def test_random_byte_mutations(tmp_path, case, data):
    raw = bytearray(Path(_valid(tmp_path, case)).read_bytes())
    for _ in range(data.draw(st.integers(1, 16))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    p = tmp_path / "fuzz.net"
    p.write_bytes(bytes(raw))
    _run_clean(_load_clean(p))


def _members(group, prefix=""):
    out = []
    for k, v in group.items():
        out.append(f"{prefix}{k}")
        if isinstance(v, h5py.Group):
            out += _members(v, f"{prefix}{k}/")
    return out


@SETTINGS
@given(case=st.sampled_from(FUZZ_CASES), data=st.data())
def test_random_structural_edits(tmp_path, case, data):
    p = tmp_path / "fuzz.net"
    shutil.copy(_valid(tmp_path, case), p)
    with h5py.File(p, "r+") as f:
        for _ in range(data.draw(st.integers(1, 3))):
            names = sorted(_members(f))
            if not names:
                break
            target = data.draw(st.sampled_from(names))
            obj = f[target]
            action = data.draw(st.sampled_from(["delete", "scalar", "string", "reshape", "nan", "fraction",
                                                "negative", "big", "zero", "float_scalar"]))
            if isinstance(obj, h5py.Group):
                if action == "delete":
                    del f[target]
                continue
            old = obj[()]
            del f[target]
            arr = np.asarray(old)
            if action == "scalar":
                f[target] = 3
            elif action == "float_scalar":
                f[target] = 2.0
            elif action == "string":
                f.create_dataset(target, data="garbage", dtype=h5py.string_dtype())
            elif action == "reshape" and arr.dtype.kind in "fiu" and arr.size > 1:
                f[target] = arr.reshape(-1)[:-1]
            elif action in ("nan", "fraction", "negative", "big", "zero") and arr.dtype.kind in "fiu" and arr.size:
                new = arr.astype(np.float64).copy()
                flat = new.reshape(-1)
                flat[0] = {"nan": np.nan, "fraction": flat[0] + 0.5, "negative": -abs(flat[0]) - 1, "big": 1e30,
                           "zero": 0}[action]
                f[target] = new
            elif action != "delete":
                f[target] = old
    _run_clean(_load_clean(p))
    _run_clean(_load_clean(p, input_message_bits=8, netx_ignored="ignore"))
