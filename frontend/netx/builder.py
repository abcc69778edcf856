"""The graph a ``.net`` file becomes, built layer by layer as netx builds its chain: the input
(created by the first synapse or the input layer's neuron), the node the next synapse reads, a
pending flatten, the message width of the next synapse's input, netx's per-layer reset offsets,
and the warnings of the import. The layers themselves are :mod:`.layers`' handlers."""

from __future__ import annotations

import math
import os
import warnings

import h5py

from snnc.ir import nodes as N
from snnc.ir.errors import ConfigError, FileFormatError, ShapeError, UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.intnodes import IntConv2d, IntCubaLIF, IntDense
from snnc.ir.intsdn import IntDelta, IntSigmaDelta
from snnc.ir.shapes import infer_shapes

from . import layers as L
from . import slayer_layers  # noqa: F401  (registers pool, average, concat)
from .reader import Layer, read_layers


class NetBuilder:
    """State of one import (``opts``: the checked :func:`~snnc.frontend.netx_import.load_net`
    options). :meth:`build` returns the validated, shape-inferred graph."""

    def __init__(self, path: str, f: h5py.File, opts: dict):
        self.path, self.f, self.o = path, f, opts
        self.g = Graph(metadata={"level": "integer", "target": "loihi2", "source_format": "netx",
                                 "source_file": os.path.basename(path), "time_convention": "lava",
                                 "input_message_bits": int(opts["input_message_bits"])})
        self.prev: str | None = None          # node feeding the next synapse (None: the Input, not yet built)
        self.prev_shape: tuple | None = None  # its shape (snnc order)
        self.declared_input: tuple | None = opts["input_shape"]
        self.flatten_at: int | None = None    # index of a pending flatten layer
        self.msg_bits = int(opts["input_message_bits"])
        self.reset_interval: int | None = opts["reset_interval"]
        self.reset_offset = int(opts["reset_offset"]) + 1   # netx: "time starts from 1 in hardware"
        self.neurons: list[str] = []
        self.notes: list[str] = []
        self.input_kind = "spikes" if self.msg_bits == 0 else "graded"
        self.readout: tuple | None = None      # (node, scale, layer index) of an average readout

    # -- messages ------------------------------------------------------------------------------

    def warn(self, layer: Layer, message: str) -> None:
        text = f"{self.path}: {layer.node}: {message}"
        self.notes.append(text)
        warnings.warn(text, stacklevel=5)   # the load_net call (through handle, build)

    def ignored(self, lay: Layer, field: str, message: str) -> None:
        """A field netx silently ignores although it changes the network: an UnsupportedError, or
        (``netx_ignored='ignore'``) a warning and the field is ignored as netx does."""
        if self.o["netx_ignored"] == "error":
            raise lay.error(UnsupportedError, message, field,
                            hint="load_net(..., netx_ignored='ignore') (CLI: --netx-ignored ignore) imports it as netx "
                                 "builds it (field ignored)")
        self.warn(lay, f"{field}: {message} (ignored, as netx does)")

    # -- entry ---------------------------------------------------------------------------------

    def build(self) -> Graph:
        layers = read_layers(self.path, self.f, self.o["num_layers"])
        types = [lay.type_name() for lay in layers]
        last_real = None
        for lay, t in zip(layers, types):
            if L.builds_neurons(lay, t):
                last_real = lay.i
        skip = int(self.o["skip_layers"])
        if skip and skip >= len(layers):
            raise FileFormatError(f"skip_layers {skip} skips all {len(layers)} layers", file=self.path, node="layer",
                                  hint=f"skip fewer layers (skip_layers < {len(layers)}; CLI --skip-layers)")
        for lay, t in zip(layers, types):
            if self.readout is not None and t != "flatten":
                raise lay.error(UnsupportedError, f"a layer after the average readout (layer/{self.readout[2]})",
                                "type", hint=f"slayer's average is a readout: load the layers up to it with "
                                f"num_layers={lay.i} (CLI: --num-layers {lay.i})")
            L.handle(self, lay, t, lay.i == last_real)
            if lay.i + 1 == skip:
                self.drop_skipped(skip)
        if not self.neurons:
            raise FileFormatError("no neuron layer (dense, dense_rec, conv, or input with a neuron)", file=self.path,
                                  node="layer")
        if self.o["input_bias"] is not None and not (self.neurons and self.neurons[0] == "layer0"):
            raise ConfigError("input_bias sets the bias of the input layer's neuron, and this network keeps none "
                              "(no input layer with a neuron, or it is skipped)", file=self.path, node="layer/0",
                              hint="leave out input_bias (CLI --input-bias); feed the values as the input instead")
        g = self.g
        out = self.neurons[-1] if self.readout is None else self.readout[0]
        g.add_node("output", N.Output(shape=tuple(self.prev_shape) if self.readout else tuple(g.nodes[out].shape)))
        g.add_edge(out, "output", 0)
        g.metadata["netx_neurons"] = list(self.neurons)
        if self.o["num_layers"] is not None:
            g.metadata["netx_num_layers"] = int(self.o["num_layers"])
        g.metadata["input_kind"] = self.input_kind
        if self.readout is not None:
            k = self.readout[1]
            g.nodes["output"].metadata["scale"] = k
            g.metadata["output_kind"] = f"average readout (sums of {int(k)} values; --dequantize divides by {int(k)})"
        elif self.msg_bits:
            g.metadata["output_kind"] = f"graded ({self.msg_bits}-bit messages)"
        else:
            g.metadata["output_kind"] = "spikes" if g.nodes[out].threshold is not None else "membrane v"
        if self.notes:
            g.metadata["import_warnings"] = list(self.notes)
        g.validate()
        for name, node in g.nodes.items():
            if isinstance(node, (IntDense, IntConv2d, IntCubaLIF, IntDelta, IntSigmaDelta)):
                node.validate(name)
        infer_shapes(g)
        return g

    def drop_skipped(self, skip: int) -> None:
        """netx's ``skip_layers``: the layers before ``skip`` were built (and checked) but are not
        kept; the output shape of the last of them becomes the input shape, its output message
        width the width of the next synapse's input, and the reset offsets count from the first
        kept layer."""
        shape = self.prev_shape if self.prev is not None else self.declared_input
        meta = {k: v for k, v in self.g.metadata.items() if k != "netx_input_transform"}
        meta["netx_skip_layers"] = skip
        meta["input_message_bits"] = int(self.msg_bits)
        self.g = Graph(metadata=meta)
        self.prev, self.prev_shape = None, None
        self.declared_input = None if shape is None else tuple(shape)
        self.neurons = []
        self.reset_offset = int(self.o["reset_offset"]) + 1
        self.input_kind = "spikes" if self.msg_bits == 0 else "graded"

    # -- links between layers ------------------------------------------------------------------

    def after_neuron(self, name: str, shape: tuple, out_bits: int = 0) -> None:
        """``name`` (a neuron population of ``shape``, sending ``out_bits``-bit messages: 0 =
        binary spikes, netx's ``output_message_bits``) feeds the next synapse. Records in the
        node's metadata what ``snnc inspect`` shows per layer: message bits in and out and,
        for LIF layers, netx's reset settings."""
        meta = self.g.nodes[name].metadata
        meta.update({"message_bits_in": int(self.msg_bits), "message_bits_out": int(out_bits)})
        if self.reset_interval is not None and isinstance(self.g.nodes[name], IntCubaLIF):
            meta.update({"lava_reset_interval": int(self.reset_interval), "lava_reset_offset": int(self.reset_offset)})
        self.prev, self.prev_shape = name, tuple(shape)
        self.neurons.append(name)
        self.msg_bits = int(out_bits)
        self.reset_offset += 1

    def source_for(self, lay: Layer, kind: str, need) -> str:
        """Create the Input for the first synapse (``kind`` 'dense' reading ``need`` values, or
        'conv'); return the node feeding it."""
        g = self.g
        declared = self.declared_input
        if kind == "dense":
            n_in = need
            if declared is not None and math.prod(declared) != n_in:
                raise lay.error(ShapeError, f"the input layer's shape {declared} has {math.prod(declared)} values, "
                                f"this dense layer reads {n_in}", "weight")
            if declared is None or len(declared) == 1 or all(d == 1 for d in declared[1:]):
                g.add_node("input", N.Input(shape=(n_in,)))
                feed = "input"
            else:
                g.add_node("input", N.Input(shape=tuple(declared)))
                g.add_node("input_flatten", N.Flatten(input_shape=tuple(declared)))
                g.add_edge("input", "input_flatten", 0)
                feed = "input_flatten"
        else:
            if self.flatten_at is not None:
                raise lay.error(UnsupportedError, f"a flatten layer (layer/{self.flatten_at}) before a conv layer",
                                "type", hint="netx flattens only into a dense layer")
            if declared is None:
                raise lay.error(FileFormatError, "a conv first layer needs the input shape: the file has no input "
                                "layer with a shape", "shape",
                                hint="pass input_shape=(C, H, W) to load_net (CLI: --input-shape C,H,W)")
            if len(declared) != 3:
                raise lay.error(ShapeError, f"a conv layer needs a (C, H, W) input, the input layer's shape is "
                                f"{declared}", "shape")
            g.add_node("input", N.Input(shape=tuple(declared)))
            feed = "input"
        g.nodes["input"].metadata.update({"scale": 1.0, "kind": self.input_kind})
        self.flatten_at = None
        return feed

    def feed_dense(self, lay: Layer, n_in: int) -> str:
        """The node a dense layer reading ``n_in`` values reads (building the Input or a pending
        flatten: netx's ``transpose([2, 1, 0]).flatten()`` of a (W, H, C) port is a C-order
        flatten of snnc's (C, H, W))."""
        if self.prev is None:
            return self.source_for(lay, "dense", n_in)
        shape = self.prev_shape
        if self.flatten_at is not None:
            if len(shape) != 3:
                raise lay.error(UnsupportedError, f"layer/{self.flatten_at} flattens the {len(shape)}-d output of "
                                f"'{self.prev}' (shape {shape}): netx's transpose([2, 1, 0]) needs 3 axes", "type")
            if math.prod(shape) != n_in:
                raise lay.error(ShapeError, f"weight reads {n_in} inputs, the flattened '{self.prev}' has "
                                f"{math.prod(shape)}", "weight")
            name = f"layer{self.flatten_at}_flatten"
            self.g.add_node(name, N.Flatten(input_shape=tuple(shape)))
            self.g.add_edge(self.prev, name, 0)
            self.flatten_at = None
            return name
        if len(shape) != 1:
            raise lay.error(ShapeError, f"'{self.prev}' has shape {shape}: a dense layer after it needs a flatten "
                            "layer (netx connects the ports directly and Lava refuses the shape mismatch)", "type")
        if shape[0] != n_in:
            raise lay.error(ShapeError, f"weight reads {n_in} inputs, '{self.prev}' has {shape[0]} neurons", "weight")
        return self.prev

    def feed_conv(self, lay: Layer) -> tuple[str, tuple]:
        """(node, its (C, H, W) shape) a conv layer reads (building the Input for a first layer)."""
        if self.prev is None:
            feed = self.source_for(lay, "conv", None)
            return feed, tuple(self.g.nodes["input"].shape)
        if self.flatten_at is not None:
            raise lay.error(UnsupportedError, f"a flatten layer (layer/{self.flatten_at}) before a conv layer",
                            "type", hint="netx flattens only into a dense layer")
        feed, in_shape = self.prev, self.prev_shape
        if len(in_shape) != 3:
            raise lay.error(ShapeError, f"a conv layer after '{feed}' of shape {in_shape}: needs (C, H, W)", "type")
        return feed, in_shape
