"""Import lava-dl netx ``.net`` files (HDF5) into snnc's integer IR, bit-exact with Lava.

:func:`load_net` builds the graph that lava-dl 0.6.0's ``netx.hdf5.Network`` builds from the file
(docs/netx_format.md#what-netx-060-builds), node for node, with the arithmetic of lava-nc 0.10's fixed-point
models (``Loihi2SimCfg(select_tag='fixed_pt')``, docs/numeric_semantics.md#lava-arithmetic): simulating the graph
(:func:`snnc.backends.sim.simulate`, ``snnc run``) gives the same spikes and the same ``u``, ``v``
of every layer at every step as running netx's network in Lava.

The reader lives in :mod:`snnc.frontend.netx` (HDF5 layout, neuron decoding, one handler per
layer type); the numeric formats in :mod:`snnc.ir.netx_rules`, shared with the ``.net`` writer.

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
                   ``decay_bits`` 12 (:mod:`snnc.ir.netx_rules`)
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

import os

import h5py
import numpy as np

from snnc.ir.errors import ConfigError, FileFormatError, SnncError
from snnc.ir.graph import Graph
from snnc.ir.netx_rules import lava_dense_weights
from snnc.ir.netx_rules import optimize_weight_bits as netx_optimize_weight_bits

from .netx.builder import NetBuilder
from .netx.layers import LAYER_TYPES, NETX_UNIMPLEMENTED
from .netx.neurons import CUBA_TYPES
from .netx.reader import short as _short

IGNORED_MODES = ("error", "ignore")


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------


def _options(path: str, options: dict) -> dict:
    known = {"input_message_bits": 0, "num_layers": None, "skip_layers": 0, "reset_interval": None,
             "reset_offset": 0, "spike_exp": 6, "input_shape": None, "input_bias": None, "netx_ignored": "error"}
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
    integer("skip_layers", 0)
    integer("spike_exp", 0)
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
    if isinstance(o["input_bias"], (str, os.PathLike)):
        o["input_bias"] = _npy(path, o["input_bias"], "input_bias")
    return o


def _npy(path: str, file, option: str) -> np.ndarray:
    """An option given as a ``.npy`` file name (the CLI's ``--input-bias FILE.npy``)."""
    try:
        a = np.load(os.fspath(file), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"option {option}: cannot read {os.fspath(file)!r} as a .npy array ({_short(exc)})",
                          file=path) from None
    if not isinstance(a, np.ndarray):
        raise ConfigError(f"option {option}: {os.fspath(file)!r} is not a single .npy array", file=path)
    return a


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
            return NetBuilder(path, f, opts).build()
    except SnncError as exc:
        raise exc.with_file(path) from None
    except (OSError, KeyError, ValueError, TypeError, RuntimeError, IndexError, AttributeError) as exc:
        raise FileFormatError(f"corrupted .net file ({type(exc).__name__}: {_short(exc)})", file=path) from exc


__all__ = ["load_net", "netx_optimize_weight_bits", "lava_dense_weights", "LAYER_TYPES", "NETX_UNIMPLEMENTED",
           "CUBA_TYPES", "IGNORED_MODES"]
