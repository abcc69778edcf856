"""A Lava process network built from a ``.net`` file the way lava-dl 0.6.0's
``netx.hdf5.Network._create`` builds it (docs/netx_format.md#what-netx-060-builds), for tests that run without
lava-dl (it needs torch; CI's Lava env has neither). Transcribed from netx's rules, independent
of snnc's importer:

* ``NetDict``: ``weight``/``weight_rec``/``bias`` read with ``astype(int)``, the rest raw;
* input with neuron -> a LIF alone (netx leaves its input port unconnected: the caller drives
  the neuron's ``a_in``); input without neuron -> only the input shape;
* flatten -> the next dense reads ``prev.s_out.transpose([2, 1, 0]).flatten()`` (ignored when
  the dense is the first process);
* dense / dense_rec -> netx's ``optimize_weight_bits`` (restated below) -> ``Dense`` or
  ``DelayDense(max_delay=62)`` with ``weight_exp``, ``num_weight_bits``, ``num_message_bits`` and
  no sign mode; dense_rec adds a second ``Dense`` from the LIF back to itself; a dense without
  neuron group gets netx's default neuron;
* conv -> ``Conv`` with the kernel flipped and transposed, (x, y) parameters, no weight_exp;
* CUBA/LOIHI -> ``LIF`` (``LIFReset`` with ``reset_interval``) with ``du = iDecay - 1``,
  ``dv = vDecay``, ``vth = vThMant``, ``bias_exp = 6``, ``bias_mant`` per netx's broadcasting;
* dense with ``weight/real`` + ``weight/imag`` (netx's ComplexDense) -> two ``Dense``, each with
  its own ``optimize_weight_bits``, into ``RF`` (neuron type containing 'PHASE') or ``RF_IZ``
  with slayer's ``neuron_params`` (period, alpha from sinDecay/cosDecay), ``vth = vThMant``,
  ``state_exp = 6``, ``decay_bits = 12``. The first layer may be complex: the returned input is
  then a list of the two synapses' ports.
"""

from __future__ import annotations

import h5py
import numpy as np
from lava.proc.conv.process import Conv
from lava.proc.dense.process import DelayDense, Dense
from lava.proc.lif.process import LIF, LIFReset
from lava.proc.rf.process import RF
from lava.proc.rf_iz.process import RF_IZ


def netx_optimize_weight_bits(weight: np.ndarray):
    """lava-dl 0.6.0 ``netx/utils.py::optimize_weight_bits``, statement by statement."""
    max_weight = np.max(weight)
    min_weight = np.min(weight)
    if max_weight > 254 and min_weight < 0:
        weight = np.clip(weight, -256, 254)
        max_weight = np.max(weight)
    if min_weight < -256 and max_weight > 0:
        weight = np.clip(weight, -256, 254)
        min_weight = np.min(weight)
    if max_weight < 0:
        mode, is_signed = "inh", 0
    elif min_weight >= 0:
        mode, is_signed = "exc", 0
    else:
        mode, is_signed = "mixed", 1
    with np.errstate(divide="ignore"):
        if mode == "mixed":
            scale = np.min([127 / max_weight, -128 / min_weight])
        elif mode == "inh":
            scale = -256 / min_weight
        else:
            scale = 255 / max_weight
    scale_bits = np.floor(np.log2(scale)) + is_signed
    precision_found = False
    n = 8
    while (precision_found is False) and (n > 0):
        rounding_error = np.sum(np.abs(weight / (2 ** n) - np.round(weight / (2 ** n))))
        if rounding_error == 0:
            precision_found = True
        else:
            n -= 1
    n -= is_signed
    num_weight_bits = 8 - scale_bits - n
    weight_exponent = -scale_bits
    weight = np.left_shift(weight.astype(np.int32), int(scale_bits))
    return weight.astype(int), int(num_weight_bits), int(weight_exponent)


def _neuron(cfg, shape, bias, reset_interval, reset_offset):
    if cfg is None:
        cfg = {"type": "CUBA", "iDecay": 0, "vDecay": 4096, "vThMant": 1 << 18 - 1}
    else:
        cfg = {k: (cfg[k][()] if isinstance(cfg[k], h5py.Dataset) else cfg[k]) for k in cfg.keys()}
        t = cfg["type"]
        cfg["type"] = (t[0] if np.ndim(t) else t).decode("ascii") if not isinstance(t, str) else t
    assert cfg["type"] in ("CUBA", "LOIHI"), cfg["type"]
    kw = {"vth": cfg["vThMant"], "du": cfg["iDecay"] - 1, "dv": cfg["vDecay"], "bias_exp": 6}
    if bias is not None:
        if len(shape) == 1 or list(bias.shape) == list(shape):
            mant = bias
        elif shape[-1] == bias.shape[0]:
            mant = np.zeros(shape)
            mant[:, :] = bias
        else:
            raise RuntimeError(f"bias {bias.shape} vs {shape}")
        kw["bias_mant"] = mant.astype(np.int32)
    if reset_interval is None:
        return LIF(shape=shape, **kw)
    return LIFReset(shape=shape, reset_interval=reset_interval, reset_offset=reset_offset, **kw)


def _rf_neuron(cfg, shape):
    """netx ``get_neuron_params`` for RF types + slayer ``neuron.rf.neuron_params``."""
    cfg = {k: cfg[k][()] for k in cfg.keys()}
    t = cfg["type"]
    t = (t[0] if np.ndim(t) else t).decode("ascii") if not isinstance(t, str) else t
    sin_decay = cfg["sinDecay"] / (1 << 12)
    cos_decay = cfg["cosDecay"] / (1 << 12)
    decay = 1 - np.sqrt(sin_decay ** 2 + cos_decay ** 2)
    frequency = np.arctan2(sin_decay, cos_decay) / 2 / np.pi
    proc = RF if "PHASE" in t else RF_IZ
    return proc(shape=shape, vth=cfg["vThMant"], period=1 / frequency, alpha=decay, state_exp=6, decay_bits=12)


def build_like_netx(path: str, input_message_bits: int = 0, *, reset_interval: int | None = None,
                    reset_offset: int = 0, num_layers: int | None = None):
    """Returns ``(inp, lifs, out)``: the port netx's ``net.inp`` connects to (the first synapse's
    ``s_in``, or the input neuron's ``a_in``), the LIF processes in layer order, and the last
    layer's ``s_out``."""
    lifs, blocks = [], []   # blocks: (in_port, out_port, shape) per created layer
    input_shape, flatten_next, msg_bits = None, False, input_message_bits
    offset = reset_offset + 1
    with h5py.File(path, "r") as f:
        cfg = f["layer"]
        count = len(cfg) if num_layers is None else min(len(cfg), num_layers)
        for i in range(count):
            lay = cfg[str(i)]
            kind = lay["type"][0].decode("ascii")
            if kind == "input":
                if "neuron" in lay:
                    shape = tuple(int(s) for s in lay["shape"][()][::-1])
                    lif = _neuron(lay["neuron"], shape, None, reset_interval, offset)
                    offset += 1
                    lifs.append(lif)
                    blocks.append((lif.a_in, lif.s_out, shape))
                    msg_bits = 0
                elif "shape" in lay:
                    input_shape = tuple(int(s) for s in lay["shape"][()][::-1])
                continue
            if kind == "flatten":
                flatten_next = True
                continue
            if kind == "conv":
                shape = tuple(int(s) for s in lay["shape"][()][::-1])
                in_shape = blocks[-1][2] if blocks else input_shape
                w = lay["weight"][()].astype(int)[:, :, ::-1, ::-1]
                w = w.reshape(w.shape[:4]).transpose((0, 3, 2, 1))

                def expand(x):
                    return np.array([x, x]) if np.isscalar(x) else x[::-1]

                syn = Conv(weight=w, input_shape=in_shape, stride=expand(lay["stride"][()]),
                           padding=expand(lay["padding"][()]), dilation=expand(lay["dilation"][()]),
                           groups=lay["groups"][()], num_message_bits=msg_bits)
                bias = lay["bias"][()].astype(int) if "bias" in lay else None
                lif = _neuron(lay["neuron"], shape, bias, reset_interval, offset)
                prev = blocks[-1][1] if blocks else None
                if prev is not None:
                    prev.connect(syn.s_in)
            elif kind == "dense" and isinstance(lay.get("weight"), h5py.Group):
                shape = (int(np.prod(lay["shape"][()])),)
                syns = []
                for key in ("weight/real", "weight/imag"):
                    w, nwb, wexp = netx_optimize_weight_bits(lay[key][()].astype(int))
                    syns.append(Dense(weights=w, weight_exp=wexp, num_weight_bits=nwb, num_message_bits=msg_bits))
                rf = _rf_neuron(lay["neuron"], shape)
                syns[0].a_out.connect(rf.a_real_in)
                syns[1].a_out.connect(rf.a_imag_in)
                if blocks:
                    prev = blocks[-1][1]
                    for syn in syns:
                        (prev.transpose([2, 1, 0]).flatten() if flatten_next else prev).connect(syn.s_in)
                flatten_next = False
                offset += 1
                lifs.append(rf)
                blocks.append(([syn.s_in for syn in syns], rf.s_out, shape))
                msg_bits = 0
                continue
            else:
                assert kind in ("dense", "dense_rec"), kind
                rec = kind == "dense_rec"
                shape = (int(np.prod(lay["shape"][()])),)
                w = lay["weight"][()].astype(int)
                wr = lay["weight_rec"][()].astype(int) if rec else None
                if w.ndim == 1:
                    w = w.reshape(shape[0], -1)
                    wr = wr.reshape(shape[0], -1) if rec else None
                if rec:
                    wc, nwb, wexp = netx_optimize_weight_bits(np.hstack((w, wr)))
                    w, wr = wc[:, :w.shape[1]], wc[:, w.shape[1]:]
                else:
                    w, nwb, wexp = netx_optimize_weight_bits(w)
                kw = {"weight_exp": wexp, "num_weight_bits": nwb, "num_message_bits": msg_bits}
                if "delay" in lay:
                    d = lay["delay"][()]
                    if d.max() > 62:
                        d = np.clip(d, a_min=0, a_max=62)
                    if np.isscalar(d):
                        d = d * np.ones_like(w)
                    elif len(d.shape) == 1:
                        if np.prod(d.shape) == w.shape[0]:
                            d = np.repeat(d.reshape(-1, 1), w.shape[1], axis=1)
                        elif np.prod(d.shape) == w.shape[1]:
                            d = np.repeat(d.reshape(1, -1), w.shape[0], axis=0)
                    syn = DelayDense(weights=w, delays=d.astype(int), max_delay=62, **kw)
                else:
                    syn = Dense(weights=w, **kw)
                bias = lay["bias"][()].astype(int) if "bias" in lay else None
                lif = _neuron(lay["neuron"] if "neuron" in lay else None, shape, bias, reset_interval, offset)
                if rec:
                    syn_rec = Dense(weights=wr, **kw)
                    lif.s_out.connect(syn_rec.s_in)
                    syn_rec.a_out.connect(lif.a_in)
                if blocks:
                    prev = blocks[-1][1]
                    (prev.transpose([2, 1, 0]).flatten() if flatten_next else prev).connect(syn.s_in)
                flatten_next = False
            syn.a_out.connect(lif.a_in)
            offset += 1
            lifs.append(lif)
            blocks.append((syn.s_in, lif.s_out, shape))
            msg_bits = 0
    return blocks[0][0], lifs, blocks[-1][1]
