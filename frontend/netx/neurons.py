"""netx's ``neuron`` groups decoded into snnc's integer neurons (docs/netx_format.md#what-netx-060-builds):

* CUBA / LOIHI -> Lava ``LIF`` / ``LIFReset``: ``IntCubaLIF.from_lava(du = iDecay - 1, dv =
  vDecay, vth = vThMant, bias_mant, bias_exp = 6)``; a last layer that can never fire becomes a
  non-spiking readout (output ``v``);
* RF types -> Lava ``RF`` (types containing 'PHASE') or ``RF_IZ``: period and alpha from
  ``sinDecay``/``cosDecay`` as slayer computes them, ``state_exp`` 6, ``decay_bits`` 12;
* SDNN -> Lava ``Delta`` (the input layer: ``IntDelta``), ``Sigma`` (a ``sigma_output`` key:
  ``IntSigma``) or ``SigmaDelta`` with ReLU (``IntSigmaDelta``): ``vth = vThMant``, ``bias``,
  ``spike_exp`` (load option, netx's default 6), ``state_exp`` 6, both pre-scaled by
  2**(spike_exp + state_exp) as Lava's process constructors do; 16-bit graded messages out.

Refused: other neuron types (ADRF, ALIF, unknown), parameters outside Lava's formats, and
(unless ``netx_ignored='ignore'``) fields netx silently ignores although they change the network.
The numeric formats are :mod:`snnc.ir.netx_rules`.
"""

from __future__ import annotations

import numpy as np

from snnc.ir.errors import ParameterError, UnsupportedError
from snnc.ir.intneurons import IntRF
from snnc.ir.intnodes import IntCubaLIF
from snnc.ir.intsdn import IntDelta, IntSigma, IntSigmaDelta
from snnc.ir.netx_rules import (
    NETX_BIAS_EXP,
    NETX_DECAY_MAX,
    NETX_DEFAULT_NEURON,
    NETX_RF_DECAY_BITS,
    NETX_RF_STATE_EXP,
    NETX_SDNN_MESSAGE_BITS,
    NETX_SDNN_STATE_EXP,
    bias_mant_fits,
    lava_rf_neuron,
    lava_rf_period_alpha,
    lava_sdn_scaled,
    netx_decay_problem,
    netx_lif_args,
    netx_never_fires,
)

from .reader import Layer

#: neuron types netx maps to Lava's LIF
CUBA_TYPES = ("CUBA", "LOIHI")
#: neuron types netx maps to Lava's sigma-delta processes
SDNN_TYPES = ("SDNN",)
_OTHER_TYPES = {"ALIF": "adaptive LIF (netx 0.6.0 has no mapping for it and fails)"}


def neuron_type(lay: Layer) -> str:
    """The layer's ``neuron/type`` (the ``neuron`` group must be a group)."""
    lay.group("neuron", "neuron parameters")
    return lay.type_name("neuron/type")


def check_cuba_type(lay: Layer) -> str:
    """The layer's neuron type if netx builds a Lava LIF from it, else an UnsupportedError that
    says what netx would build instead."""
    t = neuron_type(lay)
    if t in CUBA_TYPES:
        return t
    if t in SDNN_TYPES:
        raise lay.error(UnsupportedError, "sigma-delta (SDNN) neurons here: netx builds them on input, dense and "
                        "conv layers only", "neuron/type")
    if "ADRF" in t:
        desc = "adaptive resonate-and-fire neurons (netx: RF_IZ, without the adaptation)"
    elif "RF" in t:
        desc = ("resonate-and-fire neurons on a real-valued synapse (netx connects an RF only to a complex "
                "dense layer, weight/real + weight/imag; anything else fails in netx)")
    else:
        desc = _OTHER_TYPES.get(t, f"unknown neuron type '{t}'")
    raise lay.error(UnsupportedError, f"neuron type '{t}': {desc} cannot be imported", "neuron/type",
                    hint="snnc imports CUBA/LOIHI (Lava LIF) networks from .net files")


def check_ignored_fields(ctx, lay: Layer) -> None:
    """Refuse ``neuron/messageBits`` (netx cannot read it) and hand the fields netx silently
    ignores to ``ctx.ignored`` (an error, or a warning with ``netx_ignored='ignore'``)."""
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
            ctx.ignored(lay, f"neuron/{key}", f"{key} = {value} asks for {what}")


def cuba(ctx, lay: Layer, shape: tuple, bias: np.ndarray | None, last: bool,
         *, field_bias: str = "bias", default: bool = False) -> IntCubaLIF:
    """The IntCubaLIF equal to netx's LIF/LIFReset for this layer (``bias``: int ``bias_mant``
    in snnc layout; ``default``: netx's neuron for a dense layer without ``neuron`` group).
    ``ctx`` gives the network-wide ``reset_interval`` and this layer's ``reset_offset``."""
    if default:
        p = dict(NETX_DEFAULT_NEURON)
    else:
        check_cuba_type(lay)
        p = {k: lay.scalar(f"neuron/{k}") for k in ("iDecay", "vDecay", "vThMant")}
        check_ignored_fields(ctx, lay)
    problem = netx_decay_problem("iDecay", p["iDecay"])
    if problem:
        raise lay.error(ParameterError, problem, "neuron/iDecay",
                        hint=f"Lava's du = iDecay - 1 gives the current multiplier {NETX_DECAY_MAX} - iDecay")
    problem = netx_decay_problem("vDecay", p["vDecay"])
    if problem:
        raise lay.error(ParameterError, problem, "neuron/vDecay")
    if p["vThMant"] < 0:
        raise lay.error(ParameterError, f"threshold must be >= 0, got {p['vThMant']}", "neuron/vThMant")
    if bias is not None and not bias_mant_fits(bias):
        raise lay.error(ParameterError, f"bias range [{int(bias.min())}, {int(bias.max())}] exceeds Lava's int16 "
                        "bias_mant (netx would wrap it)", field_bias)
    vth = p["vThMant"]
    if last and netx_never_fires(vth):
        vth = None                       # never fires: a non-spiking readout (output = v)
    return IntCubaLIF.from_lava(tuple(shape), **netx_lif_args(p["iDecay"], p["vDecay"]), vth=vth,
                                bias_mant=0 if bias is None else bias, bias_exp=NETX_BIAS_EXP,
                                reset_interval=ctx.reset_interval, reset_offset=ctx.reset_offset)


def check_rf_type(lay: Layer) -> str:
    """The layer's neuron type if it is a (non-adaptive) RF type, else an UnsupportedError: only
    RF neurons take complex input."""
    t = neuron_type(lay)
    if "RF" not in t or "ADRF" in t:
        what = "adaptive RF (netx builds RF_IZ without the adaptation)" if "ADRF" in t else f"'{t}'"
        raise lay.error(UnsupportedError, f"a complex dense layer with neuron type {what}: only RF neurons take "
                        "complex input (netx: RF for *PHASE* types, else RF_IZ)", "neuron/type")
    return t


def rf(lay: Layer, neuron_type_name: str, n_out: int) -> IntRF:
    """The IntRF equal to netx's RF (type containing 'PHASE') or RF_IZ neuron of this layer."""
    p = {k: lay.scalar(f"neuron/{k}") for k in ("vThMant", "sinDecay", "cosDecay")}
    period, alpha = lava_rf_period_alpha(p["sinDecay"], p["cosDecay"])
    kind = "RF" if "PHASE" in neuron_type_name else "RF_IZ"
    node = lay.call("neuron/sinDecay", lava_rf_neuron, (n_out,), vth=p["vThMant"], period=period, alpha=alpha,
                    state_exp=NETX_RF_STATE_EXP, decay_bits=NETX_RF_DECAY_BITS, neuron=kind)
    node.metadata.update({"netx_layer": lay.i, "netx_type": "dense", "neuron": f"Lava {kind}"})
    return node


# ---------------------------------------------------------------------------------------------
# dispatch and SDNN
# ---------------------------------------------------------------------------------------------


def is_sdnn(lay: Layer) -> bool:
    """The layer has a neuron group of an SDNN type."""
    return lay.has("neuron") and neuron_type(lay) in SDNN_TYPES


def layer_neuron(ctx, lay: Layer, shape: tuple, bias, last: bool, *, role: str = "synapse",
                 field_bias: str = "bias", default: bool = False):
    """(neuron node, output message bits, label) for a layer: netx's LIF (CUBA / LOIHI) or
    sigma-delta process (SDNN). ``role`` 'input': the input layer (Delta for SDNN)."""
    if not default and is_sdnn(lay):
        node = sdnn(ctx, lay, shape, bias, role=role, field_bias=field_bias)
        return node, NETX_SDNN_MESSAGE_BITS, f"SDNN ({type(node).__name__[3:]})"
    node = cuba(ctx, lay, shape, bias, last, field_bias=field_bias, default=default)
    return node, 0, "netx default (non-leaky integrator)" if default else "CUBA"


def sdnn(ctx, lay: Layer, shape: tuple, bias, *, role: str, field_bias: str = "bias"):
    """netx's sigma-delta neuron of this layer (``get_neuron_params``): ``Delta`` for the input
    layer, ``Sigma`` when the group has a ``sigma_output`` key, else ``SigmaDelta`` (ReLU).
    ``bias``: int in snnc layout or None. Lava's constructors scale ``vth`` and ``bias`` by
    2**(spike_exp + state_exp); the nodes hold the scaled values."""
    if lay.has("neuron/messageBits"):
        raise lay.error(UnsupportedError, "netx 0.6.0 cannot read messageBits (its reader returns a group "
                        "object, not a number)", "neuron/messageBits")
    if ctx.reset_interval is not None:
        ctx.ignored(lay, "reset_interval", "sigma-delta neurons have no reset: netx warns and ignores "
                    "reset_interval for SDNN layers")
    spike_exp, state_exp = int(ctx.o["spike_exp"]), NETX_SDNN_STATE_EXP
    shape = tuple(shape)
    if "sigma_output" in lay.g["neuron"] and role != "input":
        if bias is not None:
            raise lay.error(UnsupportedError, "a bias on a sigma output layer: netx passes it to Lava's Sigma, "
                            "which takes no bias, and fails", field_bias)
        node = IntSigma(shape=shape)
    else:
        vth = lay.scalar("neuron/vThMant")
        if vth < 0:
            raise lay.error(ParameterError, f"threshold must be >= 0, got {vth}", "neuron/vThMant")
        if lay.has("neuron/activation"):
            act = lay.type_name("neuron/activation").lower()
            if act != "relu":
                ctx.ignored(lay, "neuron/activation", f"activation '{act}': netx builds Lava's SigmaDelta with "
                            "its default ReLU activation")
        vth_s = lay.call("neuron/vThMant", lava_sdn_scaled, vth, spike_exp, state_exp, "vThMant")
        if role == "input":
            if bias is not None:
                raise lay.error(UnsupportedError, "a bias on an SDNN input layer: netx's Delta has none", field_bias)
            node = IntDelta(shape=shape, vth=np.int64(vth_s), spike_exp=spike_exp, state_exp=state_exp)
        else:
            b = np.zeros(shape, np.int64) if bias is None else np.broadcast_to(np.asarray(bias, np.int64), shape)
            b = lay.call(field_bias, lava_sdn_scaled, b, spike_exp, state_exp, field_bias)
            node = IntSigmaDelta(shape=shape, vth=np.int64(vth_s), bias=np.ascontiguousarray(b),
                                 spike_exp=spike_exp, state_exp=state_exp, act_mode="relu")
    node.metadata.update({"netx_layer": lay.i, "neuron": f"SDNN (Lava {type(node).__name__[3:]})"})
    return node
