"""Hand-written lava-dl netx ``.net`` files for the import tests, in the layout slayer's
``export_hdf5`` writes (docs/netx_format.md#file-layout): ``/layer/<i>/type`` an ``S10`` array of shape (1,),
``shape`` int64 (C, H, W) or (N,), ``weight``/``bias``/``delay`` float32 holding integers,
conv ``stride``/``padding``/``dilation`` int64 (y, x) pairs and ``groups``, ``neuron/type`` a
variable-length string scalar plus int64 parameters (``gradedSpike`` a bool), and the
informational ``inFeatures``/``outFeatures``/``inChannels``/... fields.

Shared by tests/frontend (main env), tests/robustness and tests/lava (Lava env: loaded by path).
Each network builder returns ``(layers, options)``: the layer dicts for :func:`write_net` and the
``load_net`` / netx options (``input_message_bits``, ``reset_interval``, ...) it is meant for.
"""

from __future__ import annotations

import h5py
import numpy as np


def cuba(i_decay: int = 1024, v_decay: int = 512, vth: int = 20, *, kind: str = "CUBA", **extra) -> dict:
    """A slayer cuba neuron group (``refDelay`` 1, ``gradedSpike`` False); LOIHI adds the legacy keys."""
    n = {"type": kind, "iDecay": i_decay, "vDecay": v_decay, "vThMant": vth, "refDelay": 1}
    if kind == "CUBA":
        n["gradedSpike"] = False
    else:
        n.update({"wgtExp": 0, "theta": 1600, "tauRho": 0.5, "scaleRho": 1.0})
    n.update(extra)
    return n


def write_net(path, layers: list[dict]) -> str:
    """Write ``layers`` (dicts: 'type', optional 'neuron' dict, other fields) as a .net file."""
    with h5py.File(path, "w") as f:
        root = f.create_group("layer")
        for i, layer in enumerate(layers):
            g = root.create_group(str(i))
            g.create_dataset("type", (1,), "S10", [layer["type"].encode("ascii")])
            for key, value in layer.items():
                if key in ("type", "neuron"):
                    continue
                if key in ("weight", "weight_rec", "bias", "delay", "weight/real", "weight/imag"):
                    g.create_dataset(key, data=np.asarray(value, np.float32))
                elif isinstance(value, (bytes, str)):
                    g.create_dataset(key, data=value, dtype=h5py.string_dtype())
                else:
                    g.create_dataset(key, data=np.asarray(value, np.int64))
            if "neuron" in layer:
                ng = g.create_group("neuron")
                for key, value in layer["neuron"].items():
                    if key == "type" or isinstance(value, str):
                        ng.create_dataset(key, data=value, dtype=h5py.string_dtype())
                    elif isinstance(value, bool):
                        ng.create_dataset(key, data=np.bool_(value))
                    elif isinstance(value, float):
                        ng.create_dataset(key, data=np.float64(value))
                    else:
                        ng.create_dataset(key, data=np.asarray(value, np.int64))
    return str(path)


def _w(rng, shape, lo=-128, hi=127, even=True):
    w = rng.integers(lo, hi, shape, endpoint=True)
    return (w // 2) * 2 if even else w


def rf(vth: int, sin_decay: int, cos_decay: int, *, kind: str = "RF_PHASE") -> dict:
    """A resonate-and-fire neuron group (netx: Lava RF for types containing 'PHASE', else RF_IZ)."""
    return {"type": kind, "vThMant": vth, "sinDecay": sin_decay, "cosDecay": cos_decay, "refDelay": 1}


def complex_dense(w_real, w_imag, neuron: dict) -> dict:
    w_real = np.asarray(w_real)
    return {"type": "dense", "shape": [w_real.shape[0]], "inFeatures": w_real.shape[1],
            "outFeatures": w_real.shape[0], "weight/real": w_real, "weight/imag": np.asarray(w_imag),
            "neuron": neuron}


def input_layer(shape, neuron: dict | None = None, **extra) -> dict:
    layer = {"type": "input", "shape": list(shape), **extra}
    if neuron is not None:
        layer["neuron"] = neuron
    return layer


def dense(w, neuron: dict | None, **extra) -> dict:
    w = np.asarray(w)
    layer = {"type": "dense", "shape": [w.shape[0]], "inFeatures": w.shape[1], "outFeatures": w.shape[0], "weight": w,
             **extra}
    if neuron is not None:
        layer["neuron"] = neuron
    return layer


def conv(w, out_shape, neuron: dict, *, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, **extra) -> dict:
    w = np.asarray(w)
    return {"type": "conv", "shape": list(out_shape), "inChannels": w.shape[1] * groups, "outChannels": w.shape[0],
            "kernelSize": list(w.shape[2:4]), "stride": list(stride), "padding": list(padding),
            "dilation": list(dilation), "groups": groups, "weight": w, "neuron": neuron, **extra}


# -- networks -----------------------------------------------------------------------------------


def net_dense(seed: int = 0):
    """input (shape only) -> dense 12 -> dense 5 (mixed weights, odd values too)."""
    rng = np.random.default_rng(seed)
    return [input_layer([20]), dense(_w(rng, (12, 20), -90, 120, even=False), cuba(900, 300, 6)),
            dense(_w(rng, (5, 12)), cuba(4096, 200, 5))], {}


def net_dense_graded(seed: int = 1):
    """no input layer; graded input (input_message_bits 16) into an excitatory dense, then an
    inhibitory-heavy one, and a dense without neuron group (netx's default non-spiking readout)."""
    rng = np.random.default_rng(seed)
    return [dense(_w(rng, (10, 8), 0, 60), cuba(0, 400, 30)), dense(_w(rng, (6, 10), -20, 80), cuba(2048, 0, 4)),
            dense(_w(rng, (3, 6), -40, 40), None)], {"input_message_bits": 16}


def net_dense_rec(seed: int = 2):
    """dense_rec with jointly optimized forward and recurrent weights, bias on both layers."""
    rng = np.random.default_rng(seed)
    lay = dense(_w(rng, (9, 14), -60, 60), cuba(1000, 800, 9), bias=rng.integers(-4, 5, 9))
    lay.update({"type": "dense_rec", "weight_rec": _w(rng, (9, 9), -100, 100)})
    return [input_layer([14]), lay, dense(_w(rng, (4, 9)), cuba(500, 500, 3), bias=[2, 0, -1, 3])], {}


def net_delays(seed: int = 3):
    """DelayDense: per output neuron, per input neuron, full matrix and scalar delays."""
    rng = np.random.default_rng(seed)
    return [input_layer([8]),
            dense(_w(rng, (7, 8), -100, 120), cuba(800, 600, 4), delay=rng.integers(0, 5, 7)),
            dense(_w(rng, (6, 7), -50, 127), cuba(1200, 300, 3), delay=rng.integers(0, 4, 7)),
            dense(_w(rng, (5, 6), -80, 80), cuba(700, 200, 2), delay=rng.integers(0, 3, (5, 6))),
            dense(_w(rng, (4, 5), 0, 100), cuba(600, 600, 3), delay=np.float32(2))], {}


def net_conv(seed: int = 4):
    """input (C, H, W) -> conv stride 2 pad 1, channel-wise bias -> grouped conv with a neuron-wise bias
    in Lava's (W, H, C) layout -> flatten -> dense."""
    rng = np.random.default_rng(seed)
    c1 = conv(_w(rng, (4, 2, 3, 3), -100, 160), (4, 4, 5), cuba(1500, 500, 6), stride=(2, 2), padding=(1, 1),
              bias=rng.integers(-3, 4, 4))
    c2 = conv(_w(rng, (6, 2, 2, 3), -80, 120), (6, 3, 3), cuba(800, 900, 4), groups=2,
              bias=rng.integers(-2, 3, (3, 3, 6)))
    return [input_layer([2, 7, 9]), c1, c2, {"type": "flatten", "shape": [54, 1, 1]},
            dense(_w(rng, (5, 54)), cuba(400, 400, 5))], {}


def net_conv_5d(seed: int = 5):
    """slayer's 5-d conv weight (out, in, kh, kw, 1), dilation, graded input, asymmetric stride."""
    rng = np.random.default_rng(seed)
    w = _w(rng, (3, 2, 3, 2, 1), -60, 90)
    return [input_layer([2, 9, 8]), conv(w, (3, 3, 7), cuba(2000, 100, 8), stride=(2, 1), dilation=(2, 1))], \
        {"input_message_bits": 8}


def net_input_neuron(seed: int = 6):
    """pilotnet-like: input layer with a LOIHI neuron (and its unused weight/bias transform) ->
    conv -> flatten -> dense -> dense readout that never fires."""
    rng = np.random.default_rng(seed)
    return [input_layer([2, 6, 6], cuba(4096, 1024, 5, kind="LOIHI"), weight=np.float32(40), bias=np.float32(36)),
            conv(_w(rng, (3, 2, 3, 3), -80, 100), (3, 4, 4), cuba(4096, 1024, 5, kind="LOIHI"),
                 bias=rng.integers(-2, 3, 3)),
            {"type": "flatten", "shape": [1, 1, 48]},
            dense(_w(rng, (6, 48)), cuba(4096, 1024, 4, kind="LOIHI")),
            dense(_w(rng, (2, 6)), cuba(4096, 0, 131072, kind="LOIHI"), bias=[0, 0])], {}


def net_reset(seed: int = 7):
    """input neuron (1-d) + two dense layers run with netx's reset_interval / reset_offset."""
    rng = np.random.default_rng(seed)
    return [input_layer([6], cuba(200, 300, 2)), dense(_w(rng, (5, 6), 0, 120), cuba(100, 100, 3)),
            dense(_w(rng, (3, 5), -40, 120), cuba(100, 50, 2))], {"reset_interval": 5, "reset_offset": 1}


def net_quirks(seed: int = 8):
    """netx/Lava corner cases: an inhibitory matrix with -128 (scaled to -256, clipped to -255 by
    Lava), a mixed matrix beyond [-256, 254] (clipped by netx with a warning), delays > 62
    (clamped), a weight row of zeros; a positive bias keeps the inhibited layer firing."""
    rng = np.random.default_rng(seed)
    w1 = -(np.abs(_w(rng, (4, 6), -120, 0)) + 2)
    w1[0, 0] = -128
    w2 = _w(rng, (4, 4), -200, 200, even=False)
    w2[0, 0], w2[1, 1], w2[2] = 300, -400, 0
    return [input_layer([6]), dense(w1, cuba(1000, 1000, 3), bias=[30, 20, 40, 25]),
            dense(w2, cuba(500, 700, 2), delay=[0, 70, 3, 1])], {}


def net_complex_rf(seed: int = 9):
    """input (shape only) -> complex dense 12 (Lava phase RF, odd weights scaled by netx) -> dense 4."""
    rng = np.random.default_rng(seed)
    return [input_layer([10]),
            complex_dense(_w(rng, (12, 10), -30, 40, even=False), _w(rng, (12, 10), -40, 30), rf(6, 1700, 3400)),
            dense(_w(rng, (4, 12), -60, 120), cuba(1000, 500, 3))], {}


def net_complex_rf_iz(seed: int = 10):
    """dense -> complex dense (RF_IZ: spike on Im, reset; clockwise, sinDecay < 0) -> complex dense (phase RF)."""
    rng = np.random.default_rng(seed)
    return [input_layer([8]), dense(_w(rng, (10, 8), -60, 120), cuba(1000, 500, 3)),
            complex_dense(_w(rng, (9, 10), -50, 60), _w(rng, (9, 10), -60, 50), rf(5, -2500, 2900, kind="RF")),
            complex_dense(_w(rng, (5, 9), -20, 90), _w(rng, (5, 9), -90, 20), rf(2, 1500, 3600))], {}


NETWORKS = {"dense": net_dense, "dense_graded": net_dense_graded, "dense_rec": net_dense_rec, "delays": net_delays,
            "conv": net_conv, "conv_5d": net_conv_5d, "input_neuron": net_input_neuron, "reset": net_reset,
            "quirks": net_quirks, "complex_rf": net_complex_rf, "complex_rf_iz": net_complex_rf_iz}


def random_inputs(shape, batch: int, steps: int, *, seed: int = 0, kind: str = "spikes") -> np.ndarray:
    """(batch, steps, *shape) int64: 0/1 spikes (with some negative and >1 values, which binary
    synapses count as spikes), graded payloads, or input-neuron currents."""
    rng = np.random.default_rng(seed)
    x = (rng.random((batch, steps, *shape)) < 0.4).astype(np.int64)
    if kind == "spikes":
        return x * rng.choice([1, 1, 1, 2, -1], x.shape)
    if kind == "graded":
        return x * rng.integers(-40, 120, x.shape)
    return x * rng.integers(-20, 200, x.shape)      # currents into an input neuron's a_in
