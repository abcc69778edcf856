"""lava-dl netx 0.6.0's and Lava's integer formats: weights, biases, thresholds, decays, delays,
layouts, written once for the ``.net`` reader (:mod:`snnc.frontend.netx`), the ``.net`` writer
(:mod:`snnc.backends.lava.netx`), the netx block builders (:mod:`snnc.frontend.netx_blocks`) and
the Lava planner (:mod:`snnc.backends.lava.mapping`).

Source: docs/numeric_semantics.md#lava-arithmetic (LIF, RF, Dense ``clip_weights`` /
``truncate_weights``, Conv) and docs/netx_format.md#weights (netx ``utils.optimize_weight_bits``,
``hdf5.Network``).

=================  ============================================================================
quantity           format (Lava fixed point, as netx builds it)
=================  ============================================================================
dense weight       8-bit mantissa after Lava's clip by sign mode (mixed [-256, 255], excitatory
                   [0, 255], inhibitory [-255, 0]) and truncation of ``8 - num_weight_bits +
                   mixed`` LSBs; the *sum* is shifted by ``weight_exp`` (floor); netx picks
                   ``num_weight_bits``/``weight_exp`` with :func:`optimize_weight_bits`
conv weight        int, as stored (Lava's Conv ignores ``weight_exp``), true convolution on a
                   (C_out, kW, kH, C_in) kernel; the output wraps at 24 bits
bias               ``bias_mant << 6`` with ``bias_mant`` int16 (netx fixes ``bias_exp = 6``)
threshold          ``vThMant << 6`` (``vth`` 17 bits); ``vThMant = 2**17`` never fires
decays             12 bits: ``du = iDecay - 1`` (current multiplier ``4096 - iDecay``), ``dv =
                   vDecay`` (voltage multiplier ``4096 - vDecay``), both in [0, 4096]
delays             DelayDense ``max_delay`` 62 (6 delay bits), dense layers only
graded messages    24 bits (netx's SDNN uses 16)
RF                 ``state_exp`` 6, ``decay_bits`` 12, real/imag clipped to ±(2**23 - 1)
layout             a tensor of snnc shape (C, H, W) is (W, H, C) in Lava: the axes reversed
=================  ============================================================================
"""

from __future__ import annotations

import math

import numpy as np

from . import intops as O
from .errors import ParameterError, UnsupportedError
from .intneurons import IntComplexDense, IntRF
from .intnodes import IntDense

#: Lava keeps weights, biases and synaptic sums in int32
INT32_LIMIT = 2 ** 31
INT32_MAX = INT32_LIMIT - 1

#: Lava Dense's sign modes (``lava.utils.weightutils.SignMode``)
SIGN_MIXED, SIGN_EXCITATORY, SIGN_INHIBITORY = 1, 2, 3
SIGN_MODE_NAMES = {SIGN_MIXED: "SignMode.MIXED", SIGN_EXCITATORY: "SignMode.EXCITATORY",
                   SIGN_INHIBITORY: "SignMode.INHIBITORY"}
#: Lava Dense's weight mantissa width (``clip_weights(num_bits=8)``)
LAVA_WEIGHT_BITS = 8
#: largest delay of Lava's bit-accurate DelayDense (6 delay bits); netx clamps larger ones to it
MAX_LAVA_DELAY = 62
#: Lava Conv's output wraps at 24 bits (``signed_clamp(x, 24)``)
LAVA_CONV_OUT_BITS = 24
#: Lava Conv's stride/padding/dilation/groups are int8 Vars
LAVA_CONV_PARAM_MAX = 127
#: a ``.net`` file stores weights and biases as float32: integers are exact below 2**24
NET_FILE_EXACT_INT = 2 ** 24
#: num_message_bits of graded Lava synapses (Loihi 2 graded spikes carry up to 24 bits)
GRADED_MESSAGE_BITS = 24

#: netx fixes the LIF's ``bias_exp`` at 6; ``bias_mant`` is an int16 Var
NETX_BIAS_EXP = 6
BIAS_MANT_MIN, BIAS_MANT_MAX = -(2 ** 15), 2 ** 15 - 1
#: Lava's LIF compares ``v > vth << 6``; v saturates at ±(2**23 - 1)
VTH_SHIFT = O.LAVA_ACT_SHIFT
V_MAX = 2 ** 23 - 1
#: netx's threshold for neurons that never fire (``1 << 18 - 1`` = 2**17; vth << 6 = 2**23)
NETX_NEVER_FIRES_VTH = 1 << 17
#: 12-bit decays: iDecay and vDecay lie in [0, 4096]
NETX_DECAY_MAX = 1 << O.DECAY_BITS
#: netx's neuron for a dense layer without ``neuron`` group: a non-leaky integrator that never fires
NETX_DEFAULT_NEURON = {"type": "CUBA", "iDecay": 0, "vDecay": NETX_DECAY_MAX, "vThMant": NETX_NEVER_FIRES_VTH}
#: netx's RF neuron parameters (``get_neuron_params``): state_exp 6, decay_bits 12
NETX_RF_STATE_EXP = 6
NETX_RF_DECAY_BITS = 12
#: Lava RF's state width (``real``/``imag`` are clipped to ±(2**23 - 1))
LAVA_RF_STATE_BITS = 24


# ---------------------------------------------------------------------------------------------
# layout
# ---------------------------------------------------------------------------------------------


def lava_shape(shape) -> tuple[int, ...]:
    """Lava's layout of an IR tensor shape: the axes reversed ((C, H, W) -> (W, H, C))."""
    return tuple(int(s) for s in shape)[::-1]


def to_lava_layout(value, shape) -> np.ndarray:
    """A parameter broadcast to the IR ``shape`` and transposed to Lava's layout (int64)."""
    full = np.broadcast_to(np.asarray(value, np.int64), tuple(shape))
    return np.ascontiguousarray(full.transpose(tuple(range(full.ndim))[::-1]))


def from_lava_layout(value: np.ndarray) -> np.ndarray:
    """A per-neuron array in Lava's layout ((W, H, C)) back in snnc's ((C, H, W)): axes reversed."""
    value = np.asarray(value)
    return value.transpose(tuple(range(value.ndim))[::-1])


# ---------------------------------------------------------------------------------------------
# dense weights
# ---------------------------------------------------------------------------------------------


def optimize_weight_bits(w: np.ndarray) -> tuple[np.ndarray, int, int, bool, str | None]:
    """lava-dl 0.6.0 ``netx.utils.optimize_weight_bits`` restated (clip included): returns
    ``(w << scale_bits, num_weight_bits, weight_exp = -scale_bits, clipped, problem)``.
    ``clipped``: netx clipped mixed-sign weights to [-256, 254] (with a warning). ``problem`` is
    set (and the other values meaningless) where netx fails (all-zero matrix: division by zero)
    or shifts by a negative amount (weights beyond its range). ``w``: int[n_out, n_in]."""
    w = np.asarray(w, np.int64)
    wmax, wmin = int(w.max()), int(w.min())
    clipped = False
    if (wmax > 254 and wmin < 0) or (wmin < -256 and wmax > 0):
        w = np.clip(w, -256, 254)
        wmax, wmin = int(w.max()), int(w.min())
        clipped = True
    if wmax == 0 and wmin == 0:
        return w, 0, 0, clipped, "an all-zero weight matrix: netx's optimize_weight_bits divides by zero"
    if wmax < 0:
        scale, signed = -256.0 / wmin, 0
    elif wmin >= 0:
        scale, signed = 255.0 / wmax, 0
    else:
        scale, signed = min(127.0 / wmax if wmax > 0 else math.inf, -128.0 / wmin), 1
    scale_bits = int(np.floor(np.log2(scale))) + signed
    if scale_bits < 0:
        return w, 0, 0, clipped, (f"weights span [{wmin}, {wmax}]: netx's optimize_weight_bits would shift them "
                                  f"by {scale_bits} bits (zeroing them); excitatory weights must be <= 255, "
                                  "inhibitory >= -256")
    n = 8
    while n > 0 and np.any(w % (1 << n)):
        n -= 1
    n -= signed
    return w << scale_bits, 8 - scale_bits - n, -scale_bits, clipped, None


def lava_sign_mode(w: np.ndarray) -> int:
    """Lava's ``determine_sign_mode``: 2 excitatory (min >= 0), 3 inhibitory (max <= 0), 1 mixed."""
    return SIGN_EXCITATORY if w.min() >= 0 else (SIGN_INHIBITORY if w.max() <= 0 else SIGN_MIXED)


def lava_clip_truncate(w: np.ndarray, sign_mode: int, num_weight_bits: int) -> np.ndarray:
    """The weights Lava's bit-accurate Dense uses (``clip_weights`` to 8 bits, then
    ``truncate_weights``) for a given sign mode (1 mixed, 2 excitatory, 3 inhibitory): clip to
    [-256, 255] / [0, 255] / [-255, 0], then drop ``8 - num_weight_bits + mixed`` LSBs
    (arithmetic shift; inhibitory on -w). ``w``: int[n_out, n_in] -> int64, same shape."""
    w = np.asarray(w, np.int64)
    mixed, inh = sign_mode == SIGN_MIXED, sign_mode == SIGN_INHIBITORY
    m = -w if inh else w
    m = np.clip(m, -256 if mixed else 0, 255)
    k = LAVA_WEIGHT_BITS - int(num_weight_bits) + int(mixed)
    if k > 0:
        m = (m >> k) << k
    return -m if inh else m


def lava_truncation_bits(sign_mode: int, num_weight_bits: int) -> int:
    """How many LSBs Lava's ``truncate_weights`` drops: ``8 - num_weight_bits + mixed`` (< 0:
    Lava would shift by a negative count)."""
    return LAVA_WEIGHT_BITS - int(num_weight_bits) + int(sign_mode == SIGN_MIXED)


def lava_dense_weights(w: np.ndarray, num_weight_bits: int) -> tuple[np.ndarray, int, int]:
    """The weights Lava's bit-accurate Dense/DelayDense use after ``clip_weights`` (8 bits) and
    ``truncate_weights`` under the sign mode it derives itself (netx passes none):
    ``(weights, sign_mode, truncated_bits)``; truncated_bits < 0 means Lava would shift by a
    negative count."""
    mode = lava_sign_mode(w)
    return lava_clip_truncate(w, mode, num_weight_bits), mode, lava_truncation_bits(mode, num_weight_bits)


def lava_truncated_weights(w: np.ndarray, num_weight_bits: int, field: str) -> tuple[np.ndarray, int]:
    """:func:`lava_dense_weights` for a synapse snnc must be exact against: ``(weights,
    sign_mode)``, or an UnsupportedError naming ``field`` where Lava would shift by a negative
    count (``num_weight_bits`` beyond what its sign mode truncates)."""
    eff, mode, trunc = lava_dense_weights(w, num_weight_bits)
    if trunc < 0:
        raise UnsupportedError(f"num_weight_bits {num_weight_bits} exceeds what Lava's Dense truncates in sign mode "
                               f"{mode} (it would shift by {trunc})", field=field)
    return eff, mode


def lava_dense_encoding(w: np.ndarray) -> tuple[np.ndarray, int, int, int] | None:
    """How to hand integer weights ``w`` to Lava's Dense unchanged: ``(weights, k, sign_mode,
    num_weight_bits)`` with ``weights << k == w`` that :func:`lava_clip_truncate` keeps as they
    are, the smallest such k >= 0 (the planner adds k to ``weight_exp``); None if no k works.
    The sign mode is passed explicitly (an all-negative matrix with -256 would lose it in Lava's
    inhibitory mode)."""
    w = np.asarray(w, np.int64)
    if w.size == 0:
        return None
    for k in range(0, 63):
        if k and np.any(w % (1 << k)):
            return None
        wk = w >> k
        if wk.min() < -256 or wk.max() > 255:
            continue
        if wk.min() >= 0:
            mode = SIGN_EXCITATORY
        elif wk.max() <= 0 and wk.min() >= -255:
            mode = SIGN_INHIBITORY
        else:
            mode = SIGN_MIXED
        nwb = LAVA_WEIGHT_BITS
        if mode == SIGN_MIXED and np.any(wk % 2):
            nwb = LAVA_WEIGHT_BITS + 1
        assert np.array_equal(lava_clip_truncate(wk, mode, nwb), wk)
        return wk, k, mode, nwb
    return None


def lava_int_dense(w: np.ndarray, wexp: int, graded: bool, *, delayed: bool, meta: dict) -> IntDense:
    """Lava's arithmetic on its effective weights ``w`` (scaled by 2**-wexp):
    Dense binary: int64 sum of the selected columns, >> -wexp, int32 port;
    Dense graded: int32 ``W.dot(s)`` (wraps), >> -wexp;
    DelayDense (both): int64 sum, >> -wexp, int32 buffer."""
    w = np.asarray(w, np.int64)
    s = -int(wexp)
    bound = float(np.abs(w).sum(axis=1).max()) if w.size else 0.0
    if graded and not delayed:
        acc_bits = 32
    else:
        acc_bits = 32 if bound < INT32_LIMIT and not graded else 64   # binary: no wrap is possible below 2**31
    if not graded and s > 0 and not np.any(w % (1 << s)):
        w, s = w >> s, 0                 # same sums: every weight is a multiple of 2**s
    node = IntDense(weight=w, weight_exp=-s, input_kind="graded" if graded else "binary", acc_bits=acc_bits,
                    out_bits=32)
    node.metadata.update(meta)
    return node


# ---------------------------------------------------------------------------------------------
# conv weights
# ---------------------------------------------------------------------------------------------


def lava_conv_weight(w: np.ndarray) -> np.ndarray:
    """A torch-layout kernel int[C_out, C_in/groups, kH, kW] (cross-correlation, what snnc's
    IntConv2d and a ``.net`` file store) as Lava Conv's kernel int64[C_out, kW, kH, C_in/groups]
    for its true convolution: flipped in both spatial axes, then (out, x, y, in)."""
    return np.ascontiguousarray(np.asarray(w, np.int64)[:, :, ::-1, ::-1].transpose(0, 3, 2, 1))


def conv_abs_sum(w: np.ndarray) -> float:
    """The largest sum of |weights| over one output channel's kernel: a binary input's bound on
    Lava Conv's float64 accumulator (exact only below 2**31, where it casts to int32)."""
    w = np.asarray(w)
    return float(np.abs(w).reshape(w.shape[0], -1).sum(axis=1).max(initial=0))


# ---------------------------------------------------------------------------------------------
# CUBA neuron (netx) <-> Lava LIF
# ---------------------------------------------------------------------------------------------


def netx_decay_problem(key: str, value: int) -> str | None:
    """Why ``neuron/iDecay`` or ``neuron/vDecay`` is not a 12-bit decay (None: it is)."""
    if 0 <= value <= NETX_DECAY_MAX:
        return None
    return f"must be in [0, {NETX_DECAY_MAX}], got {value}"


def netx_lif_args(i_decay: int, v_decay: int) -> dict:
    """netx's Lava LIF decays for a CUBA neuron: ``du = iDecay - 1``, ``dv = vDecay``."""
    return {"du": int(i_decay) - 1, "dv": int(v_decay)}


def netx_decays(current_mult: int, voltage_mult: int) -> dict:
    """The inverse of :func:`netx_lif_args` through Lava's multipliers (``4095 - du``,
    ``4096 - dv``): ``iDecay = 4096 - current_mult``, ``vDecay = 4096 - voltage_mult``."""
    return {"iDecay": NETX_DECAY_MAX - int(current_mult), "vDecay": NETX_DECAY_MAX - int(voltage_mult)}


def netx_never_fires(vth_mant: int) -> bool:
    """True when Lava's LIF can never spike with this ``vThMant``: ``vth << 6`` is at or above
    every saturated ``v`` (2**23 - 1)."""
    return (int(vth_mant) << VTH_SHIFT) >= V_MAX


def netx_vth_mant(threshold: int | None) -> int:
    """``vThMant`` of an IR threshold (``v > threshold``, a multiple of 64): ``threshold >> 6``;
    :data:`NETX_NEVER_FIRES_VTH` for a non-spiking neuron (threshold None)."""
    return NETX_NEVER_FIRES_VTH if threshold is None else int(threshold) >> VTH_SHIFT


def bias_mant_fits(mant: np.ndarray) -> bool:
    """True when every ``bias_mant`` fits Lava's int16 Var (netx would wrap it otherwise)."""
    mant = np.asarray(mant)
    return not mant.size or (int(mant.min()) >= BIAS_MANT_MIN and int(mant.max()) <= BIAS_MANT_MAX)


def netx_bias_mant(bias: np.ndarray) -> np.ndarray | None:
    """netx's int16 ``bias`` field for an IR bias (``bias_mant << 6``): ``bias >> 6``, or None
    when the bias is not a multiple of 64 or its mantissa leaves int16."""
    bias = np.asarray(bias, np.int64)
    if np.any(bias % (1 << NETX_BIAS_EXP)):
        return None
    mant = bias >> NETX_BIAS_EXP
    return mant if bias_mant_fits(mant) else None


# ---------------------------------------------------------------------------------------------
# resonate-and-fire (Lava RF / RF_IZ) and complex synapses
# ---------------------------------------------------------------------------------------------


def lava_rf_decays(period, alpha, decay_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Lava ``RF``'s integer decays, computed as ``lava.proc.rf.process.RF`` does in float64:
    ``np.int32((1 - alpha) * cos(2 pi / period) * 2**decay_bits)`` (truncation toward zero), same
    for sin. Returns ``(cos_decay, sin_decay)`` as int64 arrays."""
    period = np.asarray(period, np.float64)
    alpha = np.asarray(alpha, np.float64)
    if np.any(period == 0) or np.any(np.isnan(period)) or not np.all(np.isfinite(alpha)):
        raise ParameterError("period must be non-zero (inf: no rotation) and alpha finite", field="period")
    sin_decay = (1 - alpha) * np.sin(np.pi * 2 * 1 / period)
    cos_decay = (1 - alpha) * np.cos(np.pi * 2 * 1 / period)
    scale = 1 << int(decay_bits)
    return (np.asarray(np.int32(cos_decay * scale), np.int64), np.asarray(np.int32(sin_decay * scale), np.int64))


def lava_rf_period_alpha(sin_decay_mant, cos_decay_mant) -> tuple[np.ndarray, np.ndarray]:
    """slayer's ``neuron.rf.neuron_params`` as netx 0.6.0 uses it for a ``.net`` RF neuron:
    ``sin = sinDecay / 4096``, ``cos = cosDecay / 4096``, ``alpha = 1 - sqrt(sin**2 + cos**2)``,
    ``period = 1 / (arctan2(sin, cos) / 2 / pi)`` (float64, same operations, so Lava's RF then
    recomputes the same integer decays netx gets; ``period`` is inf for sinDecay 0)."""
    sin_decay = np.asarray(sin_decay_mant, np.float64) / (1 << 12)
    cos_decay = np.asarray(cos_decay_mant, np.float64) / (1 << 12)
    decay = 1 - np.sqrt(sin_decay ** 2 + cos_decay ** 2)
    frequency = np.arctan2(sin_decay, cos_decay) / 2 / np.pi
    with np.errstate(divide="ignore"):
        period = 1 / frequency
    return period, decay


def lava_complex_synapse(weight_real: np.ndarray, weight_imag: np.ndarray, shift: int) -> IntComplexDense:
    """The IntComplexDense equal to Lava's two binary Dense synapses (effective weights, sums not
    shifted) whose outputs an RF shifts left by ``shift`` (its ``state_exp``, plus a positive
    weight exponent): refused (UnsupportedError, field ``weight_real``) where a sum could leave
    Lava's int32 ports."""
    bound = max(float(np.abs(weight_real).sum(axis=1).max()), float(np.abs(weight_imag).sum(axis=1).max()))
    bound *= 2.0 ** shift
    if bound >= INT32_LIMIT:
        raise UnsupportedError(f"a complex synaptic sum could reach {bound:.3g} after the shift by {shift}: Lava's "
                               "int32 ports would wrap it", field="weight_real")
    return IntComplexDense(weight_real=weight_real, weight_imag=weight_imag, weight_exp=int(shift), input_kind="binary")


def lava_rf_neuron(shape: tuple, *, vth: float, period, alpha, state_exp: int, decay_bits: int,
                   neuron: str = "RF") -> IntRF:
    """The IntRF equal to Lava's ``RF`` (``neuron='RF'``, phase rule) or ``RF_IZ``
    (``neuron='RF_IZ'``) with these parameters, for an input already shifted by ``state_exp``:
    threshold ``int(vth * 2**state_exp)``, decays :func:`lava_rf_decays`, 24-bit symmetric clip."""
    rules = {"RF": "phase", "RF_IZ": "iz"}
    if neuron not in rules:
        raise UnsupportedError(f"neuron '{neuron}' is not one of {sorted(rules)}", field="neuron_proc")
    if int(decay_bits) <= 0:
        raise UnsupportedError("decay_bits 0: Lava's fixed-point RF then multiplies by the float decays' int "
                               "casts without a shift; use decay_bits > 0 (netx uses 12)", field="decay_bits")
    cos_decay, sin_decay = lava_rf_decays(period, alpha, int(decay_bits))
    if np.any(np.hypot(cos_decay, sin_decay) >= (1 << int(decay_bits))):
        raise ParameterError("|decay| must be < 1 (alpha in (0, 1])", field="alpha")
    thr = int(vth * (1 << int(state_exp))) if int(state_exp) > 0 else int(vth)
    return IntRF(shape=tuple(shape), decay_real=np.broadcast_to(cos_decay, tuple(shape)).copy(),
                 decay_imag=np.broadcast_to(sin_decay, tuple(shape)).copy(), threshold=thr,
                 decay_bits=int(decay_bits), comparison=">=", state_bits=LAVA_RF_STATE_BITS, overflow="saturate",
                 spike_rule=rules[neuron])


# ---------------------------------------------------------------------------------------------
# sigma-delta (SDNN) layers
# ---------------------------------------------------------------------------------------------

#: netx's sigma-delta parameters (``get_neuron_params``): state_exp 6, spike_exp 6 by default
#: (``hdf5.Network(spike_exp=...)``), 16-bit graded messages out of every SDNN layer
NETX_SDNN_STATE_EXP = 6
NETX_SDNN_SPIKE_EXP = 6
NETX_SDNN_MESSAGE_BITS = 16


def lava_sdn_scaled(value, spike_exp: int, state_exp: int, what: str) -> np.ndarray:
    """``value * 2**(spike_exp + state_exp)``: what Lava's ``Delta`` / ``SigmaDelta`` process
    constructors make of ``vth`` and ``bias`` (int32 Vars in the fixed-point models); a value
    that leaves int32 is a ParameterError (Lava would wrap it)."""
    v = np.asarray(value, np.int64) << (int(spike_exp) + int(state_exp))
    if v.size and np.abs(v).max() >= INT32_LIMIT:
        raise ParameterError(f"{what} * 2**{int(spike_exp) + int(state_exp)} = {int(np.abs(v).max())} leaves Lava's "
                             "int32 Var", field=what)
    return v
