"""Layer types slayer exports but netx 0.6.0 does not build (``pool``, ``average``, ``concat``:
``NotImplementedError`` in ``netx.hdf5.Network``), imported with slayer's own semantics
(``lava.lib.dl.slayer.block.base``, ``slayer.synapse.layer.Pool``; docs/netx_format.md#beyond-netx).
There is no netx network to be exact against: the graphs follow slayer's definitions with Lava's
integer arithmetic for the neurons (as the other layers), and run in the simulator and in C.

* ``pool`` (slayer ``AbstractPool``): a pooling synapse whose kernel holds one weight (slayer's
  ``Pool`` synapse: a ``weight_scale`` kernel, exported descaled as ``weight`` (1, 1, kH, kW)) over
  each channel, then the layer's neuron (CUBA or SDNN, as a conv layer). Imported as a depthwise
  ``IntConv2d`` (``groups`` = channels, the kernel repeated per channel) -> (delay 1) -> neuron:
  Lava's own grouped ``Conv`` realizes it exactly. slayer merges channels and rows into one axis
  and pads an odd size by the remainder; that equals per-channel pooling when stride = kernel,
  no padding, dilation 1 and the kernel divides the input: other pools are refused.
* ``average`` (slayer ``AbstractAverage``, a readout): ``mean(x.reshape(num_outputs, -1))`` of the
  previous layer's flattened output, same step. Imported as an ``IntDense`` of 0/1 weights summing
  each group of ``k`` = size / num_outputs consecutive values, edge delay 0, feeding the Output
  node whose ``metadata['scale']`` is ``k`` (``snnc run --dequantize`` gives slayer's mean). The
  last layer only. On Lava a same-step sum is snnc's ``SnncDense`` (a CPU process; the report
  says so).
* ``concat``: slayer 0.6.0 defines no concat block and the file does not say which layers it
  joins: refused.
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError, ShapeError, UnsupportedError
from snnc.ir.intnodes import IntConv2d, IntDense
from snnc.ir.netx_rules import INT32_LIMIT, LAVA_CONV_OUT_BITS

from . import neurons
from .layers import conv_bias, conv_pair, handles
from .reader import Layer


@handles("pool")
def pool(ctx, lay: Layer, type_name: str, last: bool) -> None:
    """slayer's pool block: depthwise ``IntConv2d`` (one kernel weight per position, repeated per
    channel) -> (delay 1) -> the layer's neuron."""
    shape = lay.shape()
    if len(shape) != 3:
        raise lay.error(ShapeError, f"a pool layer's shape must be (C, H, W), got {shape}", "shape")
    key = "kernelSize" if lay.has("kernelSize") else "kernel_size"
    kernel = conv_pair(lay, key, 1)
    stride = conv_pair(lay, "stride", 1) if lay.has("stride") else kernel
    padding = conv_pair(lay, "padding", 0) if lay.has("padding") else (0, 0)
    dilation = conv_pair(lay, "dilation", 1) if lay.has("dilation") else (1, 1)
    if stride != kernel or padding != (0, 0) or dilation != (1, 1):
        raise lay.error(UnsupportedError, f"pool with kernel {kernel}, stride {stride}, padding {padding}, dilation "
                        f"{dilation}: slayer pools channels and rows as one merged axis, which equals per-channel "
                        "pooling only for stride = kernel, no padding, dilation 1", "stride")
    w = lay.integers("weight")
    if w.size == 0 or not np.all(w == w.reshape(-1)[0]) or w.size != kernel[0] * kernel[1]:
        raise lay.error(ParameterError, f"a slayer pool kernel holds {kernel[0] * kernel[1]} equal weights, got "
                        f"shape {w.shape} with values {np.unique(w)[:4].tolist()}", "weight")
    feed, in_shape = ctx.feed_conv(lay)
    c, h, wd = in_shape
    if h % kernel[0] or wd % kernel[1]:
        raise lay.error(UnsupportedError, f"a {kernel} pool over a {in_shape} input: slayer pads a size the kernel "
                        "does not divide by its remainder, which snnc does not import", "kernelSize")
    pooled = (c, h // kernel[0], wd // kernel[1])
    if shape != pooled:
        raise lay.error(ShapeError, f"pooling a {in_shape} input by {kernel} gives {pooled}, the layer's shape says "
                        f"{shape}", "shape")
    weight = np.full((c, 1) + tuple(kernel), int(w.reshape(-1)[0]), np.int64)
    graded = ctx.msg_bits > 0
    if not graded and abs(int(w.reshape(-1)[0])) * kernel[0] * kernel[1] >= INT32_LIMIT:
        raise lay.error(UnsupportedError, "a pool kernel whose sum reaches 2**31", "weight")
    if not lay.has("neuron"):
        raise lay.error(UnsupportedError, "a pool layer without neuron group", "neuron",
                        hint="slayer's pool blocks have a neuron")
    if lay.has("delay"):
        ctx.ignored(lay, "delay", "pool delays: snnc's pool (like netx's conv) has no axonal delay")
    node, out_bits, label = neurons.layer_neuron(ctx, lay, shape, conv_bias(lay, shape), last)
    syn, neuron = f"layer{lay.i}_synapse", f"layer{lay.i}"
    conv = IntConv2d(input_shape=(h, wd), weight=weight, stride=kernel, padding=(0, 0), dilation=(1, 1), groups=c,
                     bias=None, weight_exp=0, input_kind="graded" if graded else "binary",
                     out_bits=LAVA_CONV_OUT_BITS)
    conv.metadata.update({"netx_layer": lay.i, "slayer": "pool"})
    node.metadata.update({"netx_layer": lay.i, "netx_type": "pool", "neuron": label})
    ctx.g.add_node(syn, conv)
    ctx.g.add_node(neuron, node)
    ctx.g.add_edge(feed, syn, 0)
    ctx.g.add_edge(syn, neuron, 1)
    ctx.after_neuron(neuron, shape, out_bits)


@handles("average")
def average(ctx, lay: Layer, type_name: str, last: bool) -> None:
    """slayer's average readout: group sums of the previous layer's flattened output (0/1
    ``IntDense``, edge delay 0), the Output's scale the group size."""
    if ctx.prev is None:
        raise lay.error(UnsupportedError, "an average layer without a layer before it", "type")
    out = lay.shape()
    n_out = math.prod(out)
    size = math.prod(ctx.prev_shape)
    if size % n_out:
        raise lay.error(ShapeError, f"averaging {size} values into {n_out} groups: slayer reshapes to "
                        f"({n_out}, -1), which needs a multiple", "shape")
    k = size // n_out
    feed = ctx.prev
    if len(ctx.prev_shape) > 1:
        name = f"layer{lay.i}_flatten"
        ctx.g.add_node(name, N.Flatten(input_shape=tuple(ctx.prev_shape)))
        ctx.g.add_edge(feed, name, 0)
        feed = name
    weight = np.kron(np.eye(n_out, dtype=np.int64), np.ones((1, k), np.int64))
    name = f"layer{lay.i}_average"
    node = IntDense(weight=weight, weight_exp=0, input_kind="graded" if ctx.msg_bits else "binary",
                    acc_bits=32, out_bits=32)
    node.metadata.update({"netx_layer": lay.i, "netx_type": "average", "slayer": "average", "group_size": k})
    ctx.g.add_node(name, node)
    ctx.g.add_edge(feed, name, 0)
    ctx.prev, ctx.prev_shape = name, (n_out,)
    ctx.readout = (name, float(k), lay.i)


@handles("concat")
def concat(ctx, lay: Layer, type_name: str, last: bool) -> None:
    raise lay.error(UnsupportedError, "layer type 'concat': netx 0.6.0 does not build it, slayer 0.6.0 defines no "
                    "concat block, and the file does not say which layers it joins", "type",
                    hint=f"load the layers before it with num_layers={lay.i} (CLI: --num-layers {lay.i})")
