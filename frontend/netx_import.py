"""Import lava-dl netx ``.net`` files (HDF5) into snnc's integer IR, bit-exact with Lava.

:func:`load_net` builds the graph that lava-dl 0.6.0's ``netx.hdf5.Network`` builds from the file
(docs/netx_format.md#what-netx-060-builds), node for node, with the arithmetic of lava-nc 0.10's fixed-point
models (``Loihi2SimCfg(select_tag='fixed_pt')``, docs/numeric_semantics.md#lava-arithmetic): simulating the graph
(:func:`snnc.backends.sim.simulate`, ``snnc run``) gives the same spikes and the same ``u``, ``v``
of every layer at every step as running netx's network in Lava.

What is imported
----------------
=================  ===================================================================================
``.net`` layer     snnc nodes
=================  ===================================================================================
input (no neuron)  ``Input`` (the first synapse reads it); its ``shape`` is the Input's shape
input + CUBA       ``Input`` -> ``IntCubaLIF`` ``layer0`` (edge delay 0: the input drives the neuron's
                   ``a_in``; see *Input* below)
flatten            ``Flatten`` before the next dense (netx's ``transpose([2, 1, 0]).flatten()`` of a
                   (W, H, C) port = a C-order flatten of snnc's (C, H, W))
dense              ``IntDense`` -> (delay 1) -> ``IntCubaLIF``. Weights go through netx's
                   ``optimize_weight_bits`` and Lava's sign-mode clip/truncate; the node keeps
                   Lava's weights and ``weight_exp`` (shift of the *sum*), so even the corner
                   cases (an inhibitory -256 clipped to -255, netx clipping mixed weights to
                   [-256, 254] with a warning) are reproduced
dense + ``delay``  one ``IntDense`` per distinct delay value k (the weights with that delay, the
                   others 0) with an edge of delay 1 + k (Lava ``DelayDense``, ``max_delay`` 62;
                   netx clamps delays above 62 with a warning); per output neuron, per input neuron
                   or full-matrix delays
dense_rec          as dense, plus ``IntDense`` ``layer<i>_synapse_rec`` from the neuron back to itself
                   (edge delays 0 and 1: netx's ``RecurrentDense``); both matrices optimized jointly
conv               ``IntConv2d`` (torch layout: the file's weight as stored; Lava's flipped-kernel
                   convolution is the same cross-correlation), 24-bit wrap, no weight scaling -> (delay
                   1) -> ``IntCubaLIF``
CUBA / LOIHI       ``IntCubaLIF.from_lava(du = iDecay - 1, dv = vDecay, vth = vThMant, bias_mant = bias,
                   bias_exp = 6)``; a dense layer without ``neuron`` group gets netx's default
                   non-leaky integrator (``vThMant = 1 << 17``)
dense with         ``IntComplexDense`` (binary input; each part through ``optimize_weight_bits`` and
weight/real +      Lava's truncation, the floor shift folded, ``<< 6`` = the RF's state_exp) ->
weight/imag, RF    (delay 1) -> ``IntRF``: Lava ``RF`` (``spike_rule='phase'``) for neuron types
neuron             containing 'PHASE', else ``RF_IZ`` (``'iz'``); period and alpha from
                   ``sinDecay``/``cosDecay`` as slayer's ``neuron_params``, ``vth = vThMant``,
                   ``decay_bits`` 12 (:mod:`snnc.frontend.netx_blocks`)
=================  ===================================================================================

A last layer that can never fire (``vThMant << 6 >= 2**23 - 1``, e.g. netx's default neuron or
slayer's affine readout) is imported as a non-spiking readout (``threshold=None``): its output is
its membrane ``v`` (netx's ``s_out`` there is all zeros; read ``v`` in Lava). Every other layer
outputs 0/1 spikes. Options mirror ``netx.hdf5.Network``: ``input_message_bits`` (> 0: the first
synapse reads graded input), ``num_layers``, ``reset_interval`` / ``reset_offset`` (CUBA layers
become ``LIFReset`` with netx's per-layer offsets), plus ``input_shape`` ((C, H, W), snnc's order;
only for a conv first layer without input layer), ``input_bias`` (``bias_mant`` of the input
neuron, what netx users set on ``net.in_layer.neuron``) and ``netx_ignored`` (see *Refused*).

Input
-----
The graph has one ``Input`` named ``input``; its values are integers, given in snnc's layout
((C, H, W) for images; Lava's ports are (W, H, C)):

* first layer is a synapse (input layer without neuron, or no input layer): the values are what a
  ``RingBuffer`` sends into ``net.inp``. With ``input_message_bits = 0`` (netx's default) they are
  spikes: any non-zero value counts as one spike (Lava's binary synapses). With
  ``input_message_bits > 0`` they are graded payloads (int32). A 3-d input feeding a dense layer
  is flattened in C order (netx reads ``net.inp`` as the flat vector ``x.reshape(-1)``).
* input layer with a CUBA neuron: netx leaves ``net.in_layer.inp`` unconnected ("input must be
  handled through neuron's bias"); the imported graph feeds its input to that neuron's ``a_in``
  (Lava: connect a ``RingBuffer`` to ``net.in_layer.neuron.a_in``), i.e. the values are currents
  added as ``x << 6``. The input layer's own ``weight`` / ``bias`` (an input transform netx keeps
  but never applies) are recorded in ``graph.metadata['netx_input_transform']``, not applied.

Time: Lava's one-step latency per connection process is an edge delay of 1 after each synapse
(``metadata['time_convention'] = 'lava'``), so step t of the simulation is Lava's ``time_step``
t + 1 and the traces compare index for index.

Refused (an :mod:`snnc.ir.errors` exception naming the file, ``layer/<i>`` and the field)
-----------------------------------------------------------------------------------------
* neuron types other than CUBA/LOIHI and RF: SDNN (sigma-delta), ADRF, ALIF and unknown ones; RF
  neurons on a real-valued synapse and complex synapses into non-RF neurons (netx fails); layer
  types netx 0.6.0 does not implement (pool, convT, unpool, average, concat, dense_comp), and
  unknown types;
* what netx or Lava cannot build or would compute garbage from: missing fields, shapes that do
  not chain (netx's port connections would fail), an all-zero dense matrix or weights beyond
  netx's shift range (``optimize_weight_bits`` divides by zero / shifts by a negative amount),
  a ``dense_rec`` with delays (netx 0.6.0 hands the forward delay matrix to the recurrent
  synapse), ``neuron/messageBits`` (netx's reader returns a group object for it), negative
  delays, biases outside Lava's int16 ``bias_mant``, conv weights that could overflow Lava's
  float64/int32 accumulation;
* values that are not integers where Lava needs integers (NaN, inf, fractions: netx would
  silently truncate them), zero-size layers;
* fields netx silently ignores although they change the trained network's behaviour:
  ``neuron/gradedSpike`` true (netx builds a binary LIF), ``neuron/refDelay`` > 1 (Lava's LIF
  has no refractory period), non-zero ``neuron/wgtExp`` / ``neuron/weight_exp``, conv
  ``delay``. With ``netx_ignored='ignore'`` these import as netx builds them (ignored).

Limits of exactness (documented, not checked at load time): graded payloads whose products
``weight * x`` exceed int32 in a ``DelayDense`` (Lava wraps each product), and graded conv inputs
whose accumulated sums exceed 2**31 (Lava's float64 -> int32 cast) are outside the int32 range
the Lava models compute exactly.
"""

from __future__ import annotations

import math
import os
import warnings

import h5py
import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import ConfigError, FileFormatError, ParameterError, ShapeError, SnncError, UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.intnodes import IntConv2d, IntCubaLIF, IntDense
from snnc.ir.netx_rules import INT32_LIMIT, lava_dense_weights, lava_int_dense, lava_truncated_weights
from snnc.ir.netx_rules import optimize_weight_bits as netx_optimize_weight_bits

#: layer types netx 0.6.0 builds
LAYER_TYPES = ("input", "flatten", "dense", "dense_rec", "conv")
#: layer types netx 0.6.0 knows but does not implement (NotImplementedError / undefined method)
NETX_UNIMPLEMENTED = ("pool", "convT", "unpool", "average", "concat", "dense_comp")
#: neuron types netx maps to Lava's LIF
CUBA_TYPES = ("CUBA", "LOIHI")
#: netx clamps larger delays (DelayDense ``max_delay = 62``)
NETX_MAX_DELAY = 62
#: Lava's LIF: v saturates at +-(2**23 - 1), the threshold is ``vth << 6``
V_MAX = 2 ** 23 - 1
VTH_SHIFT = 6
#: netx's neuron for a dense layer without ``neuron`` group (``1 << 18 - 1`` is 1 << 17)
NETX_DEFAULT_NEURON = {"type": "CUBA", "iDecay": 0, "vDecay": 4096, "vThMant": 1 << 17}
#: Lava Conv's stride/padding/dilation/groups are int8 Vars
CONV_PARAM_MAX = 127
#: netx's RF neuron parameters (``get_neuron_params``): state_exp 6, decay_bits 12
RF_STATE_EXP = 6
RF_DECAY_BITS = 12
IGNORED_MODES = ("error", "ignore")


# ---------------------------------------------------------------------------------------------
# netx / Lava weight arithmetic
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# reading fields
# ---------------------------------------------------------------------------------------------


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _type_string(value, err) -> str:
    """A netx ``type`` dataset value (S10 array of shape (1,), bytes scalar, or str) -> str."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "SUO" or value.size < 1:
            raise err(f"must be a string, got {value.dtype} array of shape {value.shape}")
        value = value.reshape(-1)[0]
    if isinstance(value, bytes):
        try:
            return value.decode("ascii").strip("\x00").strip()
        except UnicodeDecodeError:
            raise err("is not an ASCII string") from None
    if isinstance(value, str):
        return value.strip()
    raise err(f"must be a string, got {type(value).__name__}")


class _Layer:
    """One ``/layer/<i>`` group: typed field access whose errors name file, layer and field."""

    def __init__(self, path: str, index: int, group: h5py.Group):
        self.path, self.i, self.g = path, index, group
        self.node = f"layer/{index}"

    def error(self, cls, message: str, field: str | None = None, hint: str | None = None) -> SnncError:
        return cls(message, file=self.path, node=self.node, field=field, hint=hint)

    def call(self, field: str, fn, *args, **kwargs):
        """``fn(*args, **kwargs)``, an SnncError it raises re-raised for this layer and ``field``."""
        try:
            return fn(*args, **kwargs)
        except SnncError as exc:
            raise self.error(type(exc), exc.detail, field, exc.hint) from None

    def has(self, key: str) -> bool:
        try:
            return key in self.g
        except (KeyError, ValueError, TypeError):
            return False

    def dataset(self, key: str, *, required: bool = True):
        if not self.has(key):
            if required:
                raise self.error(FileFormatError, "missing field", key)
            return None
        obj = self.g[key]
        if not isinstance(obj, h5py.Dataset):
            raise self.error(FileFormatError, "is a group, expected a dataset", key)
        try:
            return obj[()]
        except (OSError, ValueError, TypeError, RuntimeError) as exc:
            raise self.error(FileFormatError, f"unreadable ({_short(exc)})", key) from None

    def type_name(self, key: str = "type") -> str:
        return _type_string(self.dataset(key), lambda m: self.error(FileFormatError, m, key))

    def integers(self, key: str, *, required: bool = True, value=None, what: str = "") -> np.ndarray | None:
        """A numeric field as int64, refusing NaN/inf, fractions and values outside int32
        (netx casts with ``astype(int)`` / ``astype(np.int32)``, which would truncate or wrap)."""
        v = self.dataset(key, required=required) if value is None else value
        if v is None:
            return None
        a = np.asarray(v)
        if a.dtype.kind not in "biuf":
            raise self.error(ParameterError, f"must be numeric, got {a.dtype}", key)
        if a.dtype.kind == "f":
            if not np.isfinite(a).all():
                raise self.error(ParameterError, "contains NaN or inf", key)
            if np.any(a != np.round(a)):
                bad = a.reshape(-1)[np.flatnonzero(a.reshape(-1) != np.round(a.reshape(-1)))[0]]
                raise self.error(ParameterError, f"must hold integers{what}, got {float(bad)!r}", key,
                                 hint="netx would truncate it with astype(int); slayer writes integer values")
        if a.size and np.abs(a.astype(np.float64)).max() >= INT32_LIMIT:
            raise self.error(ParameterError, f"value {float(np.abs(a.astype(np.float64)).max()):g} outside int32 "
                             "(Lava stores it in int32)", key)
        return a.astype(np.int64)

    def scalar(self, key: str, *, required: bool = True, value=None) -> int | None:
        a = self.integers(key, required=required, value=value)
        if a is None:
            return None
        if a.size != 1:
            raise self.error(ParameterError, f"must be a single value, got shape {a.shape}", key)
        return int(a.reshape(-1)[0])

    def shape(self, key: str = "shape") -> tuple[int, ...]:
        a = self.integers(key)
        if a.ndim != 1 or a.size == 0:
            raise self.error(ShapeError, f"must be a 1-d list of sizes, got shape {a.shape}", key)
        if np.any(a <= 0):
            raise self.error(ShapeError, f"zero-size or negative layer shape {tuple(int(s) for s in a)}", key,
                             hint="every layer needs at least one neuron")
        return tuple(int(s) for s in a)


# ---------------------------------------------------------------------------------------------
# the importer
# ---------------------------------------------------------------------------------------------


class _Importer:
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
        self.reset_offset = int(opts["reset_offset"]) + 1   # netx: "time starts from 1 in hardware"
        self.neurons: list[str] = []
        self.notes: list[str] = []
        self.input_kind = "spikes" if self.msg_bits == 0 else "graded"

    def warn(self, layer: _Layer, message: str) -> None:
        text = f"{self.path}: {layer.node}: {message}"
        self.notes.append(text)
        warnings.warn(text, stacklevel=4)

    # -- entry ---------------------------------------------------------------------------------

    def build(self) -> Graph:
        if "layer" not in self.f or not isinstance(self.f["layer"], h5py.Group):
            raise FileFormatError("no 'layer' group: not a lava-dl netx .net file", file=self.path)
        root = self.f["layer"]
        keys = list(root.keys())
        if not keys:
            raise FileFormatError("the 'layer' group is empty", file=self.path, node="layer")
        missing = [str(i) for i in range(len(keys)) if str(i) not in root]
        if missing:
            raise FileFormatError(f"layer names must be 0..{len(keys) - 1} (netx reads them by index); "
                                  f"'{missing[0]}' is missing, found {sorted(keys)[:8]}", file=self.path,
                                  node="layer")
        count = len(keys) if self.o["num_layers"] is None else min(len(keys), int(self.o["num_layers"]))
        layers = []
        for i in range(count):
            grp = root[str(i)]
            if not isinstance(grp, h5py.Group):
                raise FileFormatError("is a dataset, expected a layer group", file=self.path, node=f"layer/{i}")
            layers.append(_Layer(self.path, i, grp))
        last_real = None
        types = []
        for lay in layers:
            t = lay.type_name()
            types.append(t)
            if t in ("dense", "dense_rec", "conv") or (t == "input" and lay.has("neuron")):
                last_real = lay.i
        for lay, t in zip(layers, types):
            last = lay.i == last_real
            if t == "input":
                self.input_layer(lay, last)
            elif t == "flatten":
                if self.flatten_at is None:
                    self.flatten_at = lay.i
            elif t in ("dense", "dense_rec"):
                self.dense(lay, rec=(t == "dense_rec"), last=last)
            elif t == "conv":
                self.conv(lay, last)
            elif t in NETX_UNIMPLEMENTED:
                raise lay.error(UnsupportedError, f"layer type '{t}' is not implemented by netx 0.6.0, so there is "
                                "no Lava network to be exact against", "type",
                                hint="export the network without this layer type")
            else:
                raise lay.error(FileFormatError, f"unknown layer type '{t}'", "type",
                                hint=f"netx layer types: {', '.join(LAYER_TYPES + NETX_UNIMPLEMENTED)}")
        if not self.neurons:
            raise FileFormatError("no neuron layer (dense, dense_rec, conv, or input with a neuron)", file=self.path,
                                  node="layer")
        g = self.g
        out = self.neurons[-1]
        g.add_node("output", N.Output(shape=tuple(g.nodes[out].shape)))
        g.add_edge(out, "output", 0)
        g.metadata["netx_neurons"] = list(self.neurons)
        g.metadata["input_kind"] = self.input_kind
        g.metadata["output_kind"] = "spikes" if g.nodes[out].threshold is not None else "membrane v"
        if self.notes:
            g.metadata["import_warnings"] = list(self.notes)
        g.validate()
        for name, node in g.nodes.items():
            if isinstance(node, (IntDense, IntConv2d, IntCubaLIF)):
                node.validate(name)
        from snnc.ir.shapes import infer_shapes

        infer_shapes(g)
        return g

    # -- input ---------------------------------------------------------------------------------

    def input_layer(self, lay: _Layer, last: bool) -> None:
        if lay.i != 0:
            raise lay.error(UnsupportedError, "an input layer after layer 0", "type",
                            hint="netx networks have one input layer, the first")
        has_neuron = lay.has("neuron")
        shape = lay.shape() if (has_neuron or lay.has("shape")) else None
        if not has_neuron:
            if shape is not None:
                self.declared_input = shape
            return
        self.check_neuron_type(lay, self.neuron_group(lay))
        transform = {}
        for key in ("weight", "bias"):          # netx keeps them in an input transform it never applies
            if lay.has(key) and isinstance(lay.g[key], h5py.Dataset):
                value = np.asarray(lay.dataset(key))
                if value.dtype.kind in "biuf" and value.size and np.isfinite(value).all():
                    value = value.astype(np.float64).reshape(-1)
                    value = [int(v) if v == int(v) else float(v) for v in value]
                    transform[key] = value[0] if len(value) == 1 else value
        if transform:
            self.g.metadata["netx_input_transform"] = transform
        self.g.add_node("input", N.Input(shape=shape))
        self.g.nodes["input"].metadata.update({"scale": 1.0, "kind": "current"})
        bias = None
        if self.o["input_bias"] is not None:
            bias = lay.integers("input_bias", value=self.o["input_bias"])
            try:
                bias = np.broadcast_to(bias, shape)
            except ValueError:
                raise ConfigError(f"input_bias of shape {bias.shape} does not broadcast to the input layer's "
                                  f"shape {shape}", file=self.path, node=lay.node) from None
        name = "layer0"
        self.g.add_node(name, self.cuba(lay, shape, bias, last, field_bias="input_bias"))
        self.g.nodes[name].metadata.update({"netx_layer": 0, "netx_type": "input"})
        self.g.add_edge("input", name, 0)
        self.input_kind = "current"
        self.g.metadata["input_message_bits"] = 0
        self.after_neuron(name, shape)

    def source_for(self, lay: _Layer, kind: str, need) -> str:
        """Create the Input for the first synapse; return the node feeding it."""
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
                                "layer with a shape", "shape", hint="pass input_shape=(C, H, W) to load_net")
            if len(declared) != 3:
                raise lay.error(ShapeError, f"a conv layer needs a (C, H, W) input, the input layer's shape is "
                                f"{declared}", "shape")
            g.add_node("input", N.Input(shape=tuple(declared)))
            feed = "input"
        g.nodes["input"].metadata.update({"scale": 1.0, "kind": self.input_kind})
        self.flatten_at = None
        return feed

    def after_neuron(self, name: str, shape: tuple) -> None:
        self.prev, self.prev_shape = name, tuple(shape)
        self.neurons.append(name)
        self.msg_bits = 0                      # CUBA output_message_bits
        self.reset_offset += 1

    # -- neurons -------------------------------------------------------------------------------

    def neuron_group(self, lay: _Layer):
        obj = lay.g["neuron"]
        if not isinstance(obj, h5py.Group):
            raise lay.error(FileFormatError, "is a dataset, expected a group of neuron parameters", "neuron")
        return obj

    def check_neuron_type(self, lay: _Layer, grp) -> str:
        t = lay.type_name("neuron/type")
        if t in CUBA_TYPES:
            return t
        what = {"SDNN": "sigma-delta neurons (netx: Delta/SigmaDelta/Sigma)",
                "ALIF": "adaptive LIF (netx 0.6.0 has no mapping for it and fails)"}
        if "ADRF" in t:
            desc = "adaptive resonate-and-fire neurons (netx: RF_IZ, without the adaptation)"
        elif "RF" in t:
            desc = ("resonate-and-fire neurons on a real-valued synapse (netx connects an RF only to a complex "
                    "dense layer, weight/real + weight/imag; anything else fails in netx)")
        else:
            desc = what.get(t, f"unknown neuron type '{t}'")
        raise lay.error(UnsupportedError, f"neuron type '{t}': {desc} cannot be imported", "neuron/type",
                        hint="snnc imports CUBA/LOIHI (Lava LIF) networks from .net files")

    def cuba(self, lay: _Layer, shape: tuple, bias: np.ndarray | None, last: bool,
             *, field_bias: str = "bias", default: bool = False) -> IntCubaLIF:
        """The IntCubaLIF equal to netx's LIF/LIFReset for this layer (``bias`` in snnc layout)."""
        if default:
            p = dict(NETX_DEFAULT_NEURON)
        else:
            self.check_neuron_type(lay, self.neuron_group(lay))
            p = {k: lay.scalar(f"neuron/{k}") for k in ("iDecay", "vDecay", "vThMant")}
            self.check_ignored_neuron_fields(lay)
        if not 0 <= p["iDecay"] <= 4096:
            raise lay.error(ParameterError, f"must be in [0, 4096], got {p['iDecay']}", "neuron/iDecay",
                            hint="Lava's du = iDecay - 1 gives the current multiplier 4096 - iDecay")
        if not 0 <= p["vDecay"] <= 4096:
            raise lay.error(ParameterError, f"must be in [0, 4096], got {p['vDecay']}", "neuron/vDecay")
        if p["vThMant"] < 0:
            raise lay.error(ParameterError, f"threshold must be >= 0, got {p['vThMant']}", "neuron/vThMant")
        if bias is not None and (bias.min() < -32768 or bias.max() > 32767):
            raise lay.error(ParameterError, f"bias range [{int(bias.min())}, {int(bias.max())}] exceeds Lava's int16 "
                            "bias_mant (netx would wrap it)", field_bias)
        vth = p["vThMant"]
        if last and (vth << VTH_SHIFT) >= V_MAX:
            vth = None                       # never fires: a non-spiking readout (output = v)
        return IntCubaLIF.from_lava(tuple(shape), du=p["iDecay"] - 1, dv=p["vDecay"], vth=vth,
                                    bias_mant=0 if bias is None else bias, bias_exp=6,
                                    reset_interval=self.o["reset_interval"],
                                    reset_offset=self.reset_offset)

    def check_ignored_neuron_fields(self, lay: _Layer) -> None:
        if lay.has("neuron/messageBits"):
            raise lay.error(UnsupportedError, "netx 0.6.0 cannot read messageBits (its reader returns a group "
                            "object, not a number)", "neuron/messageBits")
        checks = [("gradedSpike", lambda v: v != 0, "graded spikes: netx builds a binary LIF (0/1 spikes)"),
                  ("refDelay", lambda v: v > 1, "a refractory period: Lava's LIF has none and netx ignores it"),
                  ("wgtExp", lambda v: v != 0, "a weight exponent: netx ignores it (the weights would be off by "
                                               "2**wgtExp)"),
                  ("weight_exp", lambda v: v != 0, "a weight exponent: netx ignores it")]
        for key, bad, what in checks:
            if not lay.has(f"neuron/{key}"):
                continue
            value = lay.scalar(f"neuron/{key}")
            if bad(value):
                self.ignored(lay, f"neuron/{key}", f"{key} = {value} asks for {what}")

    def ignored(self, lay: _Layer, field: str, message: str) -> None:
        if self.o["netx_ignored"] == "error":
            raise lay.error(UnsupportedError, message, field,
                            hint="load_net(..., netx_ignored='ignore') imports it as netx builds it (field ignored)")
        self.warn(lay, f"{field}: {message} (ignored, as netx does)")

    # -- synapse inputs ------------------------------------------------------------------------

    def feed_dense(self, lay: _Layer, n_in: int) -> str:
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

    # -- dense ---------------------------------------------------------------------------------

    def matrix(self, lay: _Layer, key: str, n_out: int) -> np.ndarray:
        w = lay.integers(key)
        if w.ndim == 1:                      # netx: weight.reshape(shape[0], -1)
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

    def bias_1d(self, lay: _Layer, n: int) -> np.ndarray | None:
        b = lay.integers("bias", required=False)
        if b is None:
            return None
        if b.size not in (1, n):
            raise lay.error(ShapeError, f"{b.size} values for {n} neurons", "bias")
        return np.broadcast_to(b.reshape(-1), (n,)).copy()

    def dense(self, lay: _Layer, rec: bool, last: bool) -> None:
        if lay.has("weight/imag"):           # netx: `"weight/imag" in layer_config.f` -> ComplexDense
            self.complex_dense(lay, rec)
            return
        if lay.has("weight") and isinstance(lay.g["weight"], h5py.Group):
            raise lay.error(FileFormatError, "a 'weight' group without 'weight/imag' (netx reads it as a matrix "
                            "and fails)", "weight")
        shape_field = lay.shape()
        n_out = math.prod(shape_field)
        w = self.matrix(lay, "weight", n_out)
        parts = [w]
        if rec:
            wr = self.matrix(lay, "weight_rec", n_out)
            if wr.shape != (n_out, n_out):
                raise lay.error(ShapeError, f"recurrent weights must be ({n_out}, {n_out}), got {wr.shape}",
                                "weight_rec")
            parts.append(wr)
        feed = self.feed_dense(lay, w.shape[1])
        delays = self.delays(lay, w.shape) if lay.has("delay") else None
        if rec and delays is not None:
            raise lay.error(UnsupportedError, "a dense_rec layer with delays: netx 0.6.0's RecurrentDense passes the "
                            "forward delay matrix (and no weight_exp) to the recurrent synapse", "delay")
        joint = np.hstack(parts) if rec else w
        scaled, nwb, wexp, clipped, problem = netx_optimize_weight_bits(joint)
        field = "weight" if not rec else "weight, weight_rec"
        if problem:
            raise lay.error(UnsupportedError, problem, field)
        if clipped:
            self.warn(lay, f"{field}: mixed-sign weights outside [-256, 254] are clipped, as netx does")
        graded = self.msg_bits > 0
        neuron = f"layer{lay.i}"
        has_neuron = lay.has("neuron")
        bias = self.bias_1d(lay, n_out)
        node = self.cuba(lay, (n_out,), bias, last, default=not has_neuron)
        node.metadata.update({"netx_layer": lay.i, "netx_type": "dense_rec" if rec else "dense",
                              "neuron": "netx default (non-leaky integrator)" if not has_neuron else "CUBA"})
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
        if delays is None:
            self.g.add_node(syn, lava_int_dense(eff, wexp, graded, delayed=False, meta={**meta, "sign_mode": mode}))
            links.append((syn, 1))
        else:
            values = sorted(int(v) for v in np.unique(delays))
            for d in values:
                name = syn if len(values) == 1 else f"{syn}_d{d}"
                part = np.where(delays == d, eff, 0)
                self.g.add_node(name, lava_int_dense(part, wexp, graded, delayed=True,
                                                     meta={**meta, "sign_mode": mode, "netx_delay": d}))
                links.append((name, 1 + d))
        self.g.add_node(neuron, node)
        for name, d in links:
            self.g.add_edge(feed, name, 0)
            self.g.add_edge(name, neuron, d)
        if rec:
            eff_r, mode_r = effective[1]
            name = f"{syn}_rec"
            self.g.add_node(name, lava_int_dense(eff_r, wexp, graded, delayed=False,
                                                 meta={**meta, "sign_mode": mode_r}))
            self.g.add_edge(neuron, name, 0)
            self.g.add_edge(name, neuron, 1)
        self.after_neuron(neuron, (n_out,))

    def complex_dense(self, lay: _Layer, rec: bool) -> None:
        """netx's complex dense layer: ``weight/real`` and ``weight/imag`` each through
        ``optimize_weight_bits`` into a Lava Dense (own num_weight_bits, weight_exp, sign mode),
        both into a Lava ``RF`` (neuron type containing 'PHASE') or ``RF_IZ`` (other RF types) with
        slayer's ``neuron_params``: period and alpha from ``sinDecay``/``cosDecay``, ``vth =
        vThMant``, ``state_exp`` 6, ``decay_bits`` 12. No bias, delay or recurrence (netx ignores
        them here)."""
        from .netx_blocks import lava_complex_synapse, lava_rf_neuron, lava_rf_period_alpha

        if rec:
            raise lay.error(UnsupportedError, "a complex dense_rec layer: netx 0.6.0 builds a feed-forward "
                            "ComplexDense and drops weight_rec", "weight_rec")
        if not lay.has("neuron"):
            raise lay.error(UnsupportedError, "a complex dense layer without neuron group: netx connects it to "
                            "its default LIF, which has no real/imaginary inputs, and fails", "neuron")
        self.neuron_group(lay)
        t = lay.type_name("neuron/type")
        if "RF" not in t or "ADRF" in t:
            what = "adaptive RF (netx builds RF_IZ without the adaptation)" if "ADRF" in t else f"'{t}'"
            raise lay.error(UnsupportedError, f"a complex dense layer with neuron type {what}: only RF neurons take "
                            "complex input (netx: RF for *PHASE* types, else RF_IZ)", "neuron/type")
        for field in ("bias", "delay"):
            if lay.has(field):
                self.ignored(lay, field, f"netx's complex dense layer does not read '{field}'")
        if self.msg_bits > 0:
            raise lay.error(UnsupportedError, "graded input into a complex dense layer (Lava's int32 graded "
                            "accumulation before the RF's << state_exp is not modelled)", "weight/real",
                            hint="use input_message_bits=0 (binary spikes)")
        n_out = math.prod(lay.shape())
        parts = []
        for key in ("weight/real", "weight/imag"):
            w = self.matrix(lay, key, n_out)
            scaled, nwb, wexp, clipped, problem = netx_optimize_weight_bits(w)
            if problem:
                raise lay.error(UnsupportedError, problem, key)
            if clipped:
                self.warn(lay, f"{key}: mixed-sign weights outside [-256, 254] are clipped, as netx does")
            eff, mode = lay.call(key, lava_truncated_weights, scaled, nwb, key)
            shift = -int(wexp)               # Lava Dense: sum >> shift (floor), then the RF's << 6
            if shift < 0 or np.any(eff % (1 << shift)):
                raise lay.error(UnsupportedError, f"weights not multiples of 2**{shift}: Lava floors the sum before "
                                "the RF shifts it, which snnc's complex synapse does not model", key)
            parts.append((eff >> shift, mode, int(nwb), int(wexp)))
        (wr, mode_r, nwb_r, wexp_r), (wi, mode_i, nwb_i, wexp_i) = parts
        if wr.shape != wi.shape:
            raise lay.error(ShapeError, f"weight/real {wr.shape} and weight/imag {wi.shape} differ", "weight/imag")
        cdense = lay.call("weight/real", lava_complex_synapse, wr, wi, RF_STATE_EXP)
        feed = self.feed_dense(lay, wr.shape[1])
        p = {k: lay.scalar(f"neuron/{k}") for k in ("vThMant", "sinDecay", "cosDecay")}
        period, alpha = lava_rf_period_alpha(p["sinDecay"], p["cosDecay"])
        neuron_kind = "RF" if "PHASE" in t else "RF_IZ"
        node = lay.call("neuron/sinDecay", lava_rf_neuron, (n_out,), vth=p["vThMant"], period=period, alpha=alpha,
                        state_exp=RF_STATE_EXP, decay_bits=RF_DECAY_BITS, neuron=neuron_kind)
        node.metadata.update({"netx_layer": lay.i, "netx_type": "dense", "neuron": f"Lava {neuron_kind}"})
        syn = f"layer{lay.i}_synapse"
        cdense.metadata.update({"netx_layer": lay.i, "num_weight_bits": [nwb_r, nwb_i],
                                "netx_weight_exp": [wexp_r, wexp_i], "sign_mode": [mode_r, mode_i]})
        neuron = f"layer{lay.i}"
        self.g.add_node(syn, cdense)
        self.g.add_node(neuron, node)
        self.g.add_edge(feed, syn, 0)
        self.g.add_edge(syn, neuron, 1)
        self.after_neuron(neuron, (n_out,))

    def delays(self, lay: _Layer, wshape: tuple[int, int]) -> np.ndarray:
        """netx: clamp to 62 when the max exceeds it; scalar -> every synapse; 1-d of length n_out
        -> per output neuron, of length n_in -> per input neuron; else the full matrix."""
        d = lay.integers("delay", what=" (whole time steps)")
        if d.size and d.min() < 0:
            raise lay.error(ParameterError, f"negative delay {int(d.min())} (Lava's DelayDense refuses it)", "delay")
        if d.size and d.max() > NETX_MAX_DELAY:
            self.warn(lay, f"delay: delays up to {int(d.max())} are clamped to {NETX_MAX_DELAY}, as netx does")
            d = np.clip(d, 0, NETX_MAX_DELAY)
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

    # -- conv ----------------------------------------------------------------------------------

    def pair(self, lay: _Layer, key: str, lo: int) -> tuple[int, int]:
        a = lay.integers(key)
        if a.size == 1:
            v = (int(a.reshape(-1)[0]),) * 2
        elif a.ndim == 1 and a.size == 2:
            v = (int(a[0]), int(a[1]))      # (y, x), as torch and snnc store it
        else:
            raise lay.error(ShapeError, f"must be one value or a (y, x) pair, got shape {a.shape}", key)
        if min(v) < lo or max(v) > CONV_PARAM_MAX:
            raise lay.error(ParameterError, f"{v} outside [{lo}, {CONV_PARAM_MAX}] (Lava's Conv stores it in int8)",
                            key)
        return v

    def conv(self, lay: _Layer, last: bool) -> None:
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
        stride = self.pair(lay, "stride", 1)
        padding = self.pair(lay, "padding", 0)
        dilation = self.pair(lay, "dilation", 1)
        groups = lay.scalar("groups")
        if not 1 <= groups <= CONV_PARAM_MAX or w.shape[0] % groups:
            raise lay.error(ParameterError, f"groups {groups} must be in [1, {CONV_PARAM_MAX}] and divide the "
                            f"{w.shape[0]} output channels", "groups")
        if w.shape[0] != shape[0]:
            raise lay.error(ShapeError, f"{w.shape[0]} output channels, the layer's shape {shape} has {shape[0]}",
                            "weight")
        if self.prev is None:
            feed = self.source_for(lay, "conv", None)
            in_shape = tuple(self.g.nodes["input"].shape)
        else:
            if self.flatten_at is not None:
                raise lay.error(UnsupportedError, f"a flatten layer (layer/{self.flatten_at}) before a conv layer",
                                "type", hint="netx flattens only into a dense layer")
            feed, in_shape = self.prev, self.prev_shape
            if len(in_shape) != 3:
                raise lay.error(ShapeError, f"a conv layer after '{feed}' of shape {in_shape}: needs (C, H, W)",
                                "type")
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
            self.ignored(lay, "delay", "conv delays: netx ignores them (Lava's Conv has no delay)")
        graded = self.msg_bits > 0
        if not graded and float(np.abs(w.reshape(w.shape[0], -1)).sum(axis=1).max()) >= INT32_LIMIT:
            raise lay.error(UnsupportedError, "a kernel whose sum of |weights| reaches 2**31: Lava's float64 -> int32 "
                            "accumulation is not exact there", "weight")
        bias = lay.integers("bias", required=False)
        if bias is not None:
            lava_shape = shape[::-1]
            if tuple(bias.shape) == lava_shape:            # neuron-wise, Lava's (W, H, C)
                bias = bias.transpose(2, 1, 0)
            elif bias.ndim == 1 and bias.size == shape[0]:  # channel-wise
                bias = np.broadcast_to(bias.reshape(-1, 1, 1), shape)
            else:
                raise lay.error(ShapeError, f"bias of shape {bias.shape} is neither per channel ({shape[0]},) nor per "
                                f"neuron in Lava's (W, H, C) layout {lava_shape}", "bias")
        if not lay.has("neuron"):
            raise lay.error(FileFormatError, "missing field (netx needs a neuron for conv layers)", "neuron")
        lif = self.cuba(lay, shape, bias, last)
        syn, neuron = f"layer{lay.i}_synapse", f"layer{lay.i}"
        node = IntConv2d(input_shape=tuple(in_shape[1:]), weight=w, stride=stride, padding=padding,
                         dilation=dilation, groups=int(groups), bias=None, weight_exp=0,
                         input_kind="graded" if graded else "binary", out_bits=24)
        node.metadata.update({"netx_layer": lay.i})
        self.g.add_node(syn, node)
        lif.metadata.update({"netx_layer": lay.i, "netx_type": "conv", "neuron": "CUBA"})
        self.g.add_node(neuron, lif)
        self.g.add_edge(feed, syn, 0)
        self.g.add_edge(syn, neuron, 1)
        self.after_neuron(neuron, shape)


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------


def _options(path: str, options: dict) -> dict:
    known = {"input_message_bits": 0, "num_layers": None, "reset_interval": None, "reset_offset": 0,
             "input_shape": None, "input_bias": None, "netx_ignored": "error"}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(f"option(s) {unknown} do not apply to .net files", file=path,
                          hint="--dt/--reset/--integrator/--preset are NIR import options; .net files hold integer "
                               f"Lava networks (load_net options: {', '.join(known)})")
    o = {**known, **{k: v for k, v in options.items() if v is not None}}

    def integer(key, lo, allow_none=False):
        v = o[key]
        if v is None and allow_none:
            return
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ConfigError(f"option {key} must be an integer >= {lo}, got {v!r}", file=path)

    integer("input_message_bits", 0)
    integer("num_layers", 1, allow_none=True)
    integer("reset_interval", 1, allow_none=True)
    integer("reset_offset", 0)
    if o["netx_ignored"] not in IGNORED_MODES:
        raise ConfigError(f"option netx_ignored must be one of {IGNORED_MODES}, got {o['netx_ignored']!r}", file=path)
    if o["input_shape"] is not None:
        s = o["input_shape"]
        if (not isinstance(s, (tuple, list)) or len(s) != 3
                or not all(isinstance(v, (int, np.integer)) and v > 0 for v in s)):
            raise ConfigError(f"option input_shape must be (C, H, W) positive ints, got {s!r}", file=path)
        o["input_shape"] = tuple(int(v) for v in s)
    return o


def load_net(path: str | os.PathLike, **options) -> Graph:
    """Read a lava-dl netx ``.net`` file into a lowered integer :class:`~snnc.ir.graph.Graph`
    (``metadata['level'] == 'integer'``, ``source_format == 'netx'``) that simulates bit-exactly like
    the network ``netx.hdf5.Network`` builds in Lava (module docstring: layers, input convention,
    what is refused).

    Options: ``input_message_bits`` (int, 0: the input is binary spikes; > 0: graded payloads),
    ``num_layers`` (only the first layers, as netx), ``reset_interval`` / ``reset_offset`` (netx's
    network-wide neuron reset), ``input_shape`` ((C, H, W) for a conv first layer when the file
    has no input layer), ``input_bias`` (int16 ``bias_mant`` of an input neuron, snnc layout),
    ``netx_ignored`` ('error' | 'ignore': fields netx silently ignores)."""
    path = os.fspath(path)
    opts = _options(path, options)
    if not os.path.exists(path):
        raise FileFormatError("file not found", file=path)
    if os.path.isdir(path):
        raise FileFormatError("is a folder, not a .net file", file=path)
    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"not a readable HDF5 / netx .net file ({_short(exc)})", file=path,
                              hint="is the file complete? .net files are HDF5 written by lava-dl") from None
    try:
        with f:
            return _Importer(path, f, opts).build()
    except SnncError as exc:
        raise exc.with_file(path) from None
    except (OSError, KeyError, ValueError, TypeError, RuntimeError, IndexError, AttributeError) as exc:
        raise FileFormatError(f"corrupted .net file ({type(exc).__name__}: {_short(exc)})", file=path) from exc


__all__ = ["load_net", "netx_optimize_weight_bits", "lava_dense_weights"]
