"""One handler per netx layer type, registered by the type name the file stores (lava-dl 0.6.0's
``netx.hdf5.Network`` has one ``create_*`` per type). A handler reads ``/layer/<i>``, adds the
layer's synapse and neuron nodes to the graph under construction (:class:`.builder.NetBuilder`,
``ctx``) and links them to what came before; it refuses, naming the field, what netx or Lava
cannot build exactly (module docstring of :mod:`snnc.frontend.netx_import`).

Handler signature: ``handler(ctx, lay, type_name, last)``; ``last``: the layer is the last one
that builds neurons (a never-firing last layer is a non-spiking readout).
"""

from __future__ import annotations

import math

import h5py
import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import ConfigError, FileFormatError, ParameterError, ShapeError, UnsupportedError
from snnc.ir.intnodes import IntConv2d
from snnc.ir.netx_rules import (
    INT32_LIMIT,
    LAVA_CONV_OUT_BITS,
    LAVA_CONV_PARAM_MAX,
    MAX_LAVA_DELAY,
    NETX_RF_STATE_EXP,
    conv_abs_sum,
    from_lava_layout,
    lava_complex_synapse,
    lava_int_dense,
    lava_truncated_weights,
    optimize_weight_bits,
)
from snnc.ir.registry import Registry

from . import neurons
from .reader import Layer

#: layer types netx 0.6.0 builds
LAYER_TYPES = ("input", "flatten", "dense", "dense_rec", "conv")
#: layer types netx 0.6.0 knows but does not implement (NotImplementedError / undefined method)
NETX_UNIMPLEMENTED = ("pool", "convT", "unpool", "average", "concat", "dense_comp")
#: layer types whose layer builds a neuron population (``input`` only with a ``neuron`` group)
NEURON_LAYER_TYPES = ("dense", "dense_rec", "conv", "pool")

#: netx layer type name -> handler
HANDLERS: Registry = Registry("netx layer handlers")
handles = HANDLERS.register


def builds_neurons(lay: Layer, type_name: str) -> bool:
    """True when this layer adds a neuron population (decides which layer is the last one)."""
    return type_name in NEURON_LAYER_TYPES or (type_name == "input" and lay.has("neuron"))


def handle(ctx, lay: Layer, type_name: str, last: bool) -> None:
    """Build one layer with its registered handler; unknown types are a FileFormatError."""
    fn = HANDLERS.get(type_name)
    if fn is None:
        raise lay.error(FileFormatError, f"unknown layer type '{type_name}'", "type",
                        hint=f"netx layer types: {', '.join(LAYER_TYPES + NETX_UNIMPLEMENTED)}")
    fn(ctx, lay, type_name, last)


#: netx-unimplemented types snnc imports with slayer's semantics (:mod:`.slayer_layers`)
SLAYER_TYPES = ("pool", "average", "concat")


@handles(*(t for t in NETX_UNIMPLEMENTED if t not in SLAYER_TYPES))
def unimplemented(ctx, lay: Layer, type_name: str, last: bool) -> None:
    raise lay.error(UnsupportedError, f"layer type '{type_name}' is not implemented by netx 0.6.0, so there is "
                    "no Lava network to be exact against", "type", hint=f"load the layers before it with num_layers="
                    f"{lay.i} (CLI: --num-layers {lay.i}), as netx's own tests do, or export the network without it")


# ---------------------------------------------------------------------------------------------
# input, flatten
# ---------------------------------------------------------------------------------------------


@handles("input")
def input_layer(ctx, lay: Layer, type_name: str, last: bool) -> None:
    """Without neuron: only declares the input shape. With a CUBA neuron: ``Input`` ->
    ``IntCubaLIF`` ``layer0`` (edge delay 0: the input drives the neuron's ``a_in``); the
    layer's own weight/bias (an input transform netx keeps but never applies) go to metadata."""
    if lay.i != 0:
        raise lay.error(UnsupportedError, "an input layer after layer 0", "type",
                        hint="netx networks have one input layer, the first")
    has_neuron = lay.has("neuron")
    shape = lay.shape() if (has_neuron or lay.has("shape")) else None
    if not has_neuron:
        if shape is not None:
            ctx.declared_input = shape
        return
    sdnn = neurons.is_sdnn(lay)
    if not sdnn:
        neurons.check_cuba_type(lay)
    transform = {}
    for key in ("weight", "bias"):          # netx keeps them in an input transform it never applies
        if lay.has(key) and isinstance(lay.g[key], h5py.Dataset):
            value = np.asarray(lay.dataset(key))
            if value.dtype.kind in "biuf" and value.size and np.isfinite(value).all():
                value = value.astype(np.float64).reshape(-1)
                value = [int(v) if v == int(v) else float(v) for v in value]
                transform[key] = value[0] if len(value) == 1 else value
    g = ctx.g
    if transform:
        g.metadata["netx_input_transform"] = transform
    g.add_node("input", N.Input(shape=shape))
    g.nodes["input"].metadata.update({"scale": 1.0, "kind": "graded" if sdnn else "current"})
    bias = None
    if ctx.o["input_bias"] is not None and sdnn:
        raise ConfigError("input_bias sets a LIF input neuron's bias_mant; this input layer is a sigma-delta Delta "
                          "encoder, which has no bias", file=ctx.path, node=lay.node,
                          hint="leave out input_bias (CLI --input-bias) and feed the values as the input")
    if ctx.o["input_bias"] is not None:
        bias = lay.integers("input_bias", value=ctx.o["input_bias"])
        try:
            bias = np.broadcast_to(bias, shape)
        except ValueError:
            raise ConfigError(f"input_bias of shape {bias.shape} does not broadcast to the input layer's "
                              f"shape {shape}", file=ctx.path, node=lay.node) from None
    name = "layer0"
    node, out_bits, _ = neurons.layer_neuron(ctx, lay, shape, bias, last, role="input", field_bias="input_bias")
    g.add_node(name, node)
    g.nodes[name].metadata.update({"netx_layer": 0, "netx_type": "input"})
    g.add_edge("input", name, 0)
    ctx.input_kind = "graded" if sdnn else "current"
    g.metadata["input_message_bits"] = 0
    ctx.after_neuron(name, shape, out_bits)


@handles("flatten")
def flatten(ctx, lay: Layer, type_name: str, last: bool) -> None:
    """Marks a flatten before the next dense layer (built there: :meth:`.builder.NetBuilder.feed_dense`)."""
    if ctx.flatten_at is None:
        ctx.flatten_at = lay.i


# ---------------------------------------------------------------------------------------------
# dense, dense_rec
# ---------------------------------------------------------------------------------------------


def matrix(lay: Layer, key: str, n_out: int) -> np.ndarray:
    """A weight field as int[n_out, n_in] (netx: ``weight.reshape(shape[0], -1)``)."""
    w = lay.integers(key)
    if w.ndim == 1:
        if w.size == 0 or w.size % n_out:
            raise lay.error(ShapeError, f"{w.size} values do not reshape to ({n_out}, -1) for the layer's "
                            f"{n_out} neurons", key)
        w = w.reshape(n_out, -1)
    if w.ndim != 2:
        raise lay.error(ShapeError, f"must be 2-d (n_out, n_in), got shape {w.shape}", key)
    if w.shape[0] != n_out:
        raise lay.error(ShapeError, f"has {w.shape[0]} rows, the layer's shape has {n_out} neurons", key,
                        hint="weight is (n_out, n_in)")
    if w.shape[1] == 0:
        raise lay.error(ShapeError, "zero-size weight matrix (no inputs)", key)
    return w


def bias_1d(lay: Layer, n: int) -> np.ndarray | None:
    """A dense layer's ``bias`` (one value or one per neuron) as int[n], or None."""
    b = lay.integers("bias", required=False)
    if b is None:
        return None
    if b.size not in (1, n):
        raise lay.error(ShapeError, f"{b.size} values for {n} neurons", "bias")
    return np.broadcast_to(b.reshape(-1), (n,)).copy()


def delays(ctx, lay: Layer, wshape: tuple[int, int]) -> np.ndarray:
    """netx: clamp to 62 when the max exceeds it; scalar -> every synapse; 1-d of length n_out
    -> per output neuron, of length n_in -> per input neuron; else the full matrix."""
    d = lay.integers("delay", what=" (whole time steps)")
    if d.size and d.min() < 0:
        raise lay.error(ParameterError, f"negative delay {int(d.min())} (Lava's DelayDense refuses it)", "delay")
    if d.size and d.max() > MAX_LAVA_DELAY:
        ctx.warn(lay, f"delay: delays up to {int(d.max())} are clamped to {MAX_LAVA_DELAY}, as netx does")
        d = np.clip(d, 0, MAX_LAVA_DELAY)
    n_out, n_in = wshape
    if d.ndim == 0:
        return np.full(wshape, int(d), np.int64)
    if d.ndim == 1:
        if d.size == n_out:
            return np.repeat(d.reshape(-1, 1), n_in, axis=1)
        if d.size == n_in:
            return np.repeat(d.reshape(1, -1), n_out, axis=0)
        raise lay.error(ShapeError, f"{d.size} delays fit neither the {n_out} outputs nor the {n_in} inputs",
                        "delay")
    if d.shape != tuple(wshape):
        raise lay.error(ShapeError, f"delay matrix shape {d.shape} differs from the weight shape {tuple(wshape)}",
                        "delay")
    return d


@handles("dense", "dense_rec")
def dense(ctx, lay: Layer, type_name: str, last: bool) -> None:
    """``IntDense`` (Lava's weights after netx's ``optimize_weight_bits`` and Lava's sign-mode
    clip/truncate, ``weight_exp`` shifting the sum) -> (delay 1) -> ``IntCubaLIF``; one
    ``IntDense`` per distinct delay (DelayDense); ``dense_rec`` adds the recurrent synapse (both
    matrices optimized jointly). A ``weight/imag`` field makes it netx's complex layer."""
    rec = type_name == "dense_rec"
    if lay.has("weight/imag"):           # netx: `"weight/imag" in layer_config.f` -> ComplexDense
        complex_dense(ctx, lay, rec)
        return
    if lay.has("weight") and isinstance(lay.g["weight"], h5py.Group):
        raise lay.error(FileFormatError, "a 'weight' group without 'weight/imag' (netx reads it as a matrix "
                        "and fails)", "weight")
    n_out = math.prod(lay.shape())
    w = matrix(lay, "weight", n_out)
    parts = [w]
    if rec:
        wr = matrix(lay, "weight_rec", n_out)
        if wr.shape != (n_out, n_out):
            raise lay.error(ShapeError, f"recurrent weights must be ({n_out}, {n_out}), got {wr.shape}", "weight_rec")
        parts.append(wr)
    feed = ctx.feed_dense(lay, w.shape[1])
    dmat = delays(ctx, lay, w.shape) if lay.has("delay") else None
    if rec and dmat is not None:
        raise lay.error(UnsupportedError, "a dense_rec layer with delays: netx 0.6.0's RecurrentDense passes the "
                        "forward delay matrix (and no weight_exp) to the recurrent synapse", "delay")
    joint = np.hstack(parts) if rec else w
    scaled, nwb, wexp, clipped, problem = optimize_weight_bits(joint)
    field = "weight" if not rec else "weight, weight_rec"
    if problem:
        raise lay.error(UnsupportedError, problem, field)
    if clipped:
        ctx.warn(lay, f"{field}: mixed-sign weights outside [-256, 254] are clipped, as netx does")
    graded = ctx.msg_bits > 0
    neuron = f"layer{lay.i}"
    has_neuron = lay.has("neuron")
    node, out_bits, label = neurons.layer_neuron(ctx, lay, (n_out,), bias_1d(lay, n_out), last,
                                                 default=not has_neuron)
    if rec and out_bits:
        raise lay.error(UnsupportedError, "a dense_rec layer of sigma-delta neurons (netx would feed graded messages "
                        "into a recurrent synapse built for binary spikes)", "neuron/type")
    node.metadata.update({"netx_layer": lay.i, "netx_type": type_name, "neuron": label})
    col = 0
    effective = []
    for k, part in enumerate(parts):
        q = scaled[:, col:col + part.shape[1]]
        col += part.shape[1]
        field = "weight_rec" if k else "weight"
        effective.append(lay.call(field, lava_truncated_weights, q, nwb, field))
    meta = {"netx_layer": lay.i, "num_weight_bits": int(nwb), "netx_weight_exp": int(wexp)}
    syn = f"layer{lay.i}_synapse"
    eff, mode = effective[0]
    links = []
    g = ctx.g
    if dmat is None:
        g.add_node(syn, lava_int_dense(eff, wexp, graded, delayed=False, meta={**meta, "sign_mode": mode}))
        links.append((syn, 1))
    else:
        values = sorted(int(v) for v in np.unique(dmat))
        for d in values:
            name = syn if len(values) == 1 else f"{syn}_d{d}"
            part = np.where(dmat == d, eff, 0)
            g.add_node(name, lava_int_dense(part, wexp, graded, delayed=True,
                                            meta={**meta, "sign_mode": mode, "netx_delay": d}))
            links.append((name, 1 + d))
    g.add_node(neuron, node)
    for name, d in links:
        g.add_edge(feed, name, 0)
        g.add_edge(name, neuron, d)
    if rec:
        eff_r, mode_r = effective[1]
        name = f"{syn}_rec"
        g.add_node(name, lava_int_dense(eff_r, wexp, graded, delayed=False, meta={**meta, "sign_mode": mode_r}))
        g.add_edge(neuron, name, 0)
        g.add_edge(name, neuron, 1)
    ctx.after_neuron(neuron, (n_out,), out_bits)


def complex_dense(ctx, lay: Layer, rec: bool) -> None:
    """netx's complex dense layer: ``weight/real`` and ``weight/imag`` each through
    ``optimize_weight_bits`` into a Lava Dense (own num_weight_bits, weight_exp, sign mode),
    both into a Lava ``RF`` (neuron type containing 'PHASE') or ``RF_IZ`` (other RF types)
    (:func:`.neurons.rf`). No bias, delay or recurrence (netx ignores them here)."""
    if rec:
        raise lay.error(UnsupportedError, "a complex dense_rec layer: netx 0.6.0 builds a feed-forward "
                        "ComplexDense and drops weight_rec", "weight_rec")
    if not lay.has("neuron"):
        raise lay.error(UnsupportedError, "a complex dense layer without neuron group: netx connects it to "
                        "its default LIF, which has no real/imaginary inputs, and fails", "neuron")
    t = neurons.check_rf_type(lay)
    for field in ("bias", "delay"):
        if lay.has(field):
            ctx.ignored(lay, field, f"netx's complex dense layer does not read '{field}'")
    if ctx.msg_bits > 0:
        raise lay.error(UnsupportedError, "graded input into a complex dense layer (Lava's int32 graded "
                        "accumulation before the RF's << state_exp is not modelled)", "weight/real",
                        hint="use input_message_bits=0 (binary spikes)")
    n_out = math.prod(lay.shape())
    parts = []
    for key in ("weight/real", "weight/imag"):
        w = matrix(lay, key, n_out)
        scaled, nwb, wexp, clipped, problem = optimize_weight_bits(w)
        if problem:
            raise lay.error(UnsupportedError, problem, key)
        if clipped:
            ctx.warn(lay, f"{key}: mixed-sign weights outside [-256, 254] are clipped, as netx does")
        eff, mode = lay.call(key, lava_truncated_weights, scaled, nwb, key)
        shift = -int(wexp)               # Lava Dense: sum >> shift (floor), then the RF's << 6
        if shift < 0 or np.any(eff % (1 << shift)):
            raise lay.error(UnsupportedError, f"weights not multiples of 2**{shift}: Lava floors the sum before "
                            "the RF shifts it, which snnc's complex synapse does not model", key)
        parts.append((eff >> shift, mode, int(nwb), int(wexp)))
    (wr, mode_r, nwb_r, wexp_r), (wi, mode_i, nwb_i, wexp_i) = parts
    if wr.shape != wi.shape:
        raise lay.error(ShapeError, f"weight/real {wr.shape} and weight/imag {wi.shape} differ", "weight/imag")
    cdense = lay.call("weight/real", lava_complex_synapse, wr, wi, NETX_RF_STATE_EXP)
    feed = ctx.feed_dense(lay, wr.shape[1])
    node = neurons.rf(lay, t, n_out)
    syn = f"layer{lay.i}_synapse"
    cdense.metadata.update({"netx_layer": lay.i, "num_weight_bits": [nwb_r, nwb_i],
                            "netx_weight_exp": [wexp_r, wexp_i], "sign_mode": [mode_r, mode_i]})
    neuron = f"layer{lay.i}"
    ctx.g.add_node(syn, cdense)
    ctx.g.add_node(neuron, node)
    ctx.g.add_edge(feed, syn, 0)
    ctx.g.add_edge(syn, neuron, 1)
    ctx.after_neuron(neuron, (n_out,))


# ---------------------------------------------------------------------------------------------
# conv
# ---------------------------------------------------------------------------------------------


def conv_pair(lay: Layer, key: str, lo: int) -> tuple[int, int]:
    """stride/padding/dilation: one value or a (y, x) pair, within Lava Conv's int8 fields."""
    a = lay.integers(key)
    if a.size == 1:
        v = (int(a.reshape(-1)[0]),) * 2
    elif a.ndim == 1 and a.size == 2:
        v = (int(a[0]), int(a[1]))      # (y, x), as torch and snnc store it
    else:
        raise lay.error(ShapeError, f"must be one value or a (y, x) pair, got shape {a.shape}", key)
    if min(v) < lo or max(v) > LAVA_CONV_PARAM_MAX:
        raise lay.error(ParameterError, f"{v} outside [{lo}, {LAVA_CONV_PARAM_MAX}] (Lava's Conv stores it in int8)",
                        key)
    return v


def conv_bias(lay: Layer, shape: tuple) -> np.ndarray | None:
    """A conv layer's ``bias`` per channel (C,) or per neuron in Lava's (W, H, C) layout, as
    int[C, H, W] in snnc's layout, or None."""
    bias = lay.integers("bias", required=False)
    if bias is None:
        return None
    lava_shape = shape[::-1]
    if tuple(bias.shape) == lava_shape:            # neuron-wise, Lava's (W, H, C)
        return from_lava_layout(bias)
    if bias.ndim == 1 and bias.size == shape[0]:   # channel-wise
        return np.broadcast_to(bias.reshape(-1, 1, 1), shape)
    raise lay.error(ShapeError, f"bias of shape {bias.shape} is neither per channel ({shape[0]},) nor per "
                    f"neuron in Lava's (W, H, C) layout {lava_shape}", "bias")


@handles("conv")
def conv(ctx, lay: Layer, type_name: str, last: bool) -> None:
    """``IntConv2d`` (torch layout: the file's weight as stored; Lava's flipped-kernel
    convolution is the same cross-correlation), 24-bit wrap, no weight scaling -> (delay 1) ->
    ``IntCubaLIF``."""
    shape = lay.shape()
    if len(shape) != 3:
        raise lay.error(ShapeError, f"a conv layer's shape must be (C, H, W), got {shape}", "shape")
    w = lay.integers("weight")
    if w.ndim == 5 and w.shape[4] == 1:
        w = w.reshape(w.shape[:4])       # slayer's (out, in, kh, kw, 1)
    if w.ndim != 4:
        raise lay.error(ShapeError, f"must be (C_out, C_in/groups, kH, kW), got shape {w.shape}", "weight")
    if w.size == 0:
        raise lay.error(ShapeError, f"zero-size kernel {w.shape}", "weight")
    stride = conv_pair(lay, "stride", 1)
    padding = conv_pair(lay, "padding", 0)
    dilation = conv_pair(lay, "dilation", 1)
    groups = lay.scalar("groups")
    if not 1 <= groups <= LAVA_CONV_PARAM_MAX or w.shape[0] % groups:
        raise lay.error(ParameterError, f"groups {groups} must be in [1, {LAVA_CONV_PARAM_MAX}] and divide the "
                        f"{w.shape[0]} output channels", "groups")
    if w.shape[0] != shape[0]:
        raise lay.error(ShapeError, f"{w.shape[0]} output channels, the layer's shape {shape} has {shape[0]}",
                        "weight")
    feed, in_shape = ctx.feed_conv(lay)
    if in_shape[0] != w.shape[1] * groups:
        raise lay.error(ShapeError, f"kernel reads {w.shape[1]} x {groups} groups = {w.shape[1] * groups} input "
                        f"channels, the input has {in_shape[0]}", "weight")
    out_hw = []
    for axis in range(2):
        size = (in_shape[1 + axis] + 2 * padding[axis] - dilation[axis] * (w.shape[2 + axis] - 1) - 1) \
            // stride[axis] + 1
        out_hw.append(size)
    if tuple(out_hw) != shape[1:]:
        raise lay.error(ShapeError, f"the convolution of a {in_shape} input gives {tuple(out_hw)} per channel, "
                        f"the layer's shape says {shape[1:]}", "shape")
    if lay.has("delay"):
        ctx.ignored(lay, "delay", "conv delays: netx ignores them (Lava's Conv has no delay)")
    graded = ctx.msg_bits > 0
    if not graded and conv_abs_sum(w) >= INT32_LIMIT:
        raise lay.error(UnsupportedError, "a kernel whose sum of |weights| reaches 2**31: Lava's float64 -> int32 "
                        "accumulation is not exact there", "weight")
    bias = conv_bias(lay, shape)
    if not lay.has("neuron"):
        raise lay.error(FileFormatError, "missing field (netx needs a neuron for conv layers)", "neuron")
    lif, out_bits, label = neurons.layer_neuron(ctx, lay, shape, bias, last)
    syn, neuron = f"layer{lay.i}_synapse", f"layer{lay.i}"
    node = IntConv2d(input_shape=tuple(in_shape[1:]), weight=w, stride=stride, padding=padding,
                     dilation=dilation, groups=int(groups), bias=None, weight_exp=0,
                     input_kind="graded" if graded else "binary", out_bits=LAVA_CONV_OUT_BITS)
    node.metadata.update({"netx_layer": lay.i})
    ctx.g.add_node(syn, node)
    lif.metadata.update({"netx_layer": lay.i, "netx_type": "conv", "neuron": label})
    ctx.g.add_node(neuron, lif)
    ctx.g.add_edge(feed, syn, 0)
    ctx.g.add_edge(syn, neuron, 1)
    ctx.after_neuron(neuron, shape, out_bits)
