"""Integer node types of a lowered graph (``graph.metadata['level'] == 'integer'``).

Every value is an integer; the equations below use the operations of :mod:`snnc.ir.intops`
(``wrap``, ``saturate_sym``, ``lava_wrap``, ``shift_exp``, ``rtz_shift``, ``decay``, ``fire``),
which the simulator, the C emitter and the Lava emitter share. With the default field values
each node is bit-exact with the corresponding ``lava-nc`` 0.10 fixed-point process model
(``Loihi2SimCfg(select_tag='fixed_pt')``, docs/numeric_semantics.md#lava-arithmetic); the other options
serve targets with other widths (FPGA).

Time: like every node, an integer node computes its output at step t from its summed input at
step t. Lava's one-step synapse latency is *not* part of IntDense/IntConv2d: a lowering pass
for Lava puts ``delay=1`` on the edge after each synapse node (what ``Dense``/``Conv`` do).

``IntDense`` and ``IntConv2d`` subclass :class:`~snnc.ir.nodes.Linear` / ``Conv2d`` so that shape
inference and graph tools that only look at the weight's shape handle them; passes that
rewrite *float* weights must skip :class:`IntNode` instances. All Int nodes are written to
``.nir`` files under their own type names (``nir.read`` cannot load them; snnc can).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from . import intops as O
from . import nodes as N
from .errors import ParameterError, UnsupportedError

INPUT_KINDS = ("binary", "graded")
RESETS = ("zero", "subtract", "none")
U_OVERFLOWS = ("lava", "wrap", "saturate")
V_OVERFLOWS = ("saturate_sym", "saturate", "wrap")


class IntNode:
    """Marker base of the integer nodes: parameters are integer arrays / ints, the simulator
    runs them in int64, every width is explicit."""

    level: ClassVar[str] = "integer"

    def validate(self, name: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def _int_array(node: str, field: str, value, *, allow_none: bool = False) -> None:
    if value is None:
        if allow_none:
            return
        raise ParameterError("missing integer parameter", node=node, field=field)
    a = np.asarray(value)
    if a.dtype.kind not in "iub":
        raise ParameterError(f"must be an integer array, got dtype {a.dtype}", node=node, field=field,
                             hint="the quantization pass stores integers; cast with .astype(np.int64)")


def _bits(node: str, field: str, value, lo: int = 1, hi: int = 64) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= int(value) <= hi:
        raise ParameterError(f"must be an integer in [{lo}, {hi}], got {value!r}", node=node, field=field)


def _choice(node: str, field: str, value, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ParameterError(f"must be one of {options}, got {value!r}", node=node, field=field)


# ----------------------------------------------------------------------------------------
# synapses
# ----------------------------------------------------------------------------------------


@N.register_node_type
@dataclass(eq=False)
class IntDense(N.Linear, IntNode):
    """Integer dense synapse, Lava ``Dense`` (``PyDenseModelBitAcc``) semantics.
    For an input x int[n_in] (summed over incoming edges):

        s   = 1[x != 0]                 if input_kind == 'binary' (any non-zero value, also
                                        negative, is one spike); s = x if 'graded'
        acc = sum_i weight[:, i] * s[i]                   exact (int64 modulo 2**64)
        acc = wrap(acc, acc_bits)                         (64: no wrap)
        acc = shift_exp(acc, weight_exp)                  left if > 0, arithmetic (floor) right if < 0,
                                                          applied to the *sum*, not per weight
        y   = wrap(acc, out_bits)                         (64: no wrap)

    Fields: ``weight`` int[n_out, n_in] (the *effective* weights: a Lava lowering must choose
    weights that Lava's clipping/LSB truncation keeps unchanged, docs/numeric_semantics.md#lava-arithmetic);
    ``weight_exp`` int in [-63, 63]; ``input_kind`` 'binary' | 'graded' (Lava:
    ``num_message_bits`` 0 | > 0); ``acc_bits`` = 32 models Lava's int32 ``W.dot(s)`` for graded
    input (for binary input Lava sums in int64; the two agree while 255 * n_in < 2**31);
    ``out_bits`` = 32 is Lava's int32 output port. Output: int[n_out] (Lava adds 1 step of
    latency: an edge delay in the graph)."""

    weight_exp: int = 0
    input_kind: str = "binary"
    acc_bits: int = 32
    out_bits: int = 32
    nir_standard: ClassVar[bool] = False

    @property
    def graded_input(self) -> bool:
        return self.input_kind == "graded"

    def validate(self, name: str) -> None:
        _int_array(name, "weight", self.weight)
        if np.asarray(self.weight).ndim != 2:
            raise ParameterError(f"weight must be 2-d (n_out, n_in), got shape {np.shape(self.weight)}",
                                 node=name, field="weight")
        _bits(name, "weight_exp", self.weight_exp, -63, 63)
        _choice(name, "input_kind", self.input_kind, INPUT_KINDS)
        _bits(name, "acc_bits", self.acc_bits)
        _bits(name, "out_bits", self.out_bits)


@N.register_node_type
@dataclass(eq=False)
class IntConv2d(N.Conv2d, IntNode):
    """Integer 2-d convolution, Lava ``Conv`` (``PyConvModelFixed``) semantics in snnc's layout.
    For an input x int[C_in, H, W]:

        s   = 1[x != 0] ('binary') or x ('graded')
        acc = corr2d(s, weight) (+ bias[c] if bias is not None)     exact; torch-style
              cross-correlation (weight[C_out, C_in/groups, kH, kW], stride/padding/dilation as
              (y, x) pairs, zero padding, groups)
        acc = shift_exp(acc, weight_exp)
        y   = wrap(acc, out_bits)                                     int[C_out, H', W']

    Lava mapping: Lava stores (W, H, C) tensors and a true convolution, so its emitter flips
    the kernel and transposes ((C_out, kW, kH, C_in), like netx); Lava's Conv ignores
    ``weight_exp`` (must be 0) and has no bias (must be None: biases live in the neuron);
    ``out_bits`` = 24 is Lava's ``signed_clamp(x, 24)`` (a wrap). Lava's float64 accumulation
    agrees while |acc| < 2**31."""

    weight_exp: int = 0
    input_kind: str = "binary"
    out_bits: int = 24
    nir_standard: ClassVar[bool] = False

    @property
    def graded_input(self) -> bool:
        return self.input_kind == "graded"

    def validate(self, name: str) -> None:
        _int_array(name, "weight", self.weight)
        if np.asarray(self.weight).ndim != 4:
            raise ParameterError(f"weight must be 4-d (C_out, C_in/groups, kH, kW), got shape "
                                 f"{np.shape(self.weight)}", node=name, field="weight")
        _int_array(name, "bias", self.bias, allow_none=True)
        _bits(name, "weight_exp", self.weight_exp, -63, 63)
        _choice(name, "input_kind", self.input_kind, INPUT_KINDS)
        _bits(name, "out_bits", self.out_bits)


# ----------------------------------------------------------------------------------------
# neurons
# ----------------------------------------------------------------------------------------


@N.register_node_type
@dataclass(eq=False)
class IntCubaLIF(N.Node, IntNode):
    """Integer current-based LIF; defaults = Lava ``LIF`` fixed point (``PyLifModelBitAcc``),
    bit-exact. Per step t, with x = the summed input (int), D = ``decay_bits``,
    A = ``arith_bits``:

        (if state_reset_interval I: at the start of every step t with t % I == state_reset_phase,
         u = v = 0 before anything else -- Lava LIFReset)
        a = wrap(shl(x, input_shift), A)                 Lava: a_in << 6 in int32 (the int32 port
                                                         sum wraps too; wrapping before the
                                                         shift would not change a)
        u = decay(u, current_mult, D)                    rtz_shift(u * current_mult, D)
        u = wrap(u + a, A)
        u = lava_wrap(u, u_bits)      (u_overflow 'lava': > 2**23 -> -2**24, <= -2**23 -> +2**24,
                                       one correction; 'wrap': wrap(u, u_bits); 'saturate')
        h = decay(v, voltage_mult, D)
        h = wrap(h + u + bias, A)                        Lava's int32 sum
        h = saturate_sym(h, v_bits)   (v_overflow 'saturate_sym': ±(2**(v_bits-1) - 1) as Lava;
                                       'saturate': two's complement range; 'wrap')
        z = fire(h, threshold, comparison)               '>' strict (Lava) or '>='
        v = 0 where z ('zero', Lava; u is never reset) | h - threshold where z ('subtract')
            | h ('none')
        output z (0/1), or h when threshold is None (non-spiking readout, no reset)

    Fields (ints; array fields broadcast over ``shape``, a scalar = per layer):
    ``current_mult``, ``voltage_mult``: retention multipliers in [0, 2**D]
    (Lava: ``4095 - du`` and ``4096 - dv``; du = -1 gives 4096 = no decay);
    ``threshold``: in state units (Lava ``vth << 6``), None = never spikes;
    ``bias``: in state units (Lava ``bias_mant << bias_exp``), None = 0;
    ``input_shift`` (Lava 6), ``decay_bits`` (12), ``arith_bits`` (32; 64 = no wrap),
    ``u_bits`` / ``v_bits`` (24). States ``u``, ``v`` start at 0; traces record them after the
    step (v after reset), as Lava's Vars."""

    shape: tuple
    current_mult: np.ndarray
    voltage_mult: np.ndarray
    threshold: np.ndarray | None = None
    bias: np.ndarray | None = None
    input_shift: int = O.LAVA_ACT_SHIFT
    decay_bits: int = O.DECAY_BITS
    arith_bits: int = O.LAVA_PORT_BITS
    u_bits: int = O.LAVA_STATE_BITS
    u_overflow: str = "lava"
    v_bits: int = O.LAVA_STATE_BITS
    v_overflow: str = "saturate_sym"
    comparison: str = ">"
    reset: str = "zero"
    state_reset_interval: int | None = None
    state_reset_phase: int = 0
    stateful: ClassVar[bool] = True
    is_neuron: ClassVar[bool] = True

    @property
    def output_kind(self) -> str:
        return "analog" if self.threshold is None else "binary"

    # -- Lava correspondence -------------------------------------------------------------

    @classmethod
    def from_lava(cls, shape: tuple, *, du: int, dv: int, vth: int | None, bias_mant=0, bias_exp=0,
                  reset_interval: int | None = None, reset_offset: int = 0) -> IntCubaLIF:
        """The node equal to Lava ``LIF(shape, du, dv, vth, bias_mant, bias_exp)`` (or
        ``LIFReset(..., reset_interval, reset_offset)``) on ``fixed_pt``: current multiplier
        ``4095 - du``, voltage multiplier ``4096 - dv``, threshold ``vth << 6``, bias
        ``wrap(shift_exp(wrap(bias_mant, 16), bias_exp), 32)`` (Lava stores ``bias_mant`` as
        int16 and shifts in int32). LIFReset zeroes the state when ``time_step % I == offset % I``
        with 1-based ``time_step``, i.e. at 0-based steps t with ``t % I == (offset - 1) % I``."""
        mant = O.wrap(np.asarray(bias_mant, np.int64), 16)
        bias = O.wrap(O.shift_exp(mant, np.asarray(bias_exp, np.int64)), O.LAVA_PORT_BITS)
        bias = np.broadcast_to(bias, tuple(shape)).copy() if np.ndim(bias) else np.asarray(bias, np.int64)
        thr = None if vth is None else np.asarray(int(vth) << O.LAVA_ACT_SHIFT, np.int64)
        phase = 0
        if reset_interval is not None:
            phase = (int(reset_offset) - 1) % int(reset_interval)
        return cls(shape=tuple(shape), current_mult=np.asarray(4095 - int(du), np.int64),
                   voltage_mult=np.asarray(4096 - int(dv), np.int64), threshold=thr,
                   bias=None if not np.any(bias) else bias,
                   state_reset_interval=None if reset_interval is None else int(reset_interval),
                   state_reset_phase=phase)

    def never_fires(self) -> bool:
        """True when no state can reach the threshold: threshold None (a non-spiking readout), or
        above every value ``v`` can take (with 'saturate_sym', |v| <= 2**(v_bits-1) - 1; Lava:
        2**23 - 1). Such a neuron's comparison and reset never act."""
        if self.threshold is None:
            return True
        if self.v_overflow != "saturate_sym":
            return False
        v_max = (1 << (int(self.v_bits) - 1)) - 1
        thr = int(np.asarray(self.threshold).min())
        return thr >= v_max if self.comparison == ">" else thr > v_max

    def lava_differences(self) -> list[str]:
        """Why this node is not exactly a Lava fixed-point LIF (empty list: it is). A neuron that
        :meth:`never_fires` is a Lava LIF whatever its comparison and reset (they never act)."""
        diffs = []
        fixed = {"input_shift": O.LAVA_ACT_SHIFT, "decay_bits": O.DECAY_BITS, "arith_bits": O.LAVA_PORT_BITS,
                 "u_bits": O.LAVA_STATE_BITS, "u_overflow": "lava", "v_bits": O.LAVA_STATE_BITS,
                 "v_overflow": "saturate_sym", "comparison": ">", "reset": "zero"}
        silent = self.never_fires() and self.v_bits == O.LAVA_STATE_BITS
        if silent:
            fixed = {k: v for k, v in fixed.items() if k not in ("comparison", "reset")}
        for k, want in fixed.items():
            if getattr(self, k) != want:
                diffs.append(f"{k} is {getattr(self, k)!r}, Lava has {want!r}")
        for k in ("current_mult", "voltage_mult"):
            if np.asarray(getattr(self, k)).size != 1:
                diffs.append(f"{k} is per neuron; Lava's du/dv are per population")
        if self.threshold is not None and not silent:
            thr = np.asarray(self.threshold)
            if thr.size != 1:
                diffs.append("threshold is per neuron; Lava's vth is per population")
            elif int(thr.reshape(-1)[0]) % (1 << O.LAVA_ACT_SHIFT):
                diffs.append(f"threshold {int(thr.reshape(-1)[0])} is not a multiple of "
                             f"2**{O.LAVA_ACT_SHIFT}")
        return diffs

    def to_lava(self, name: str = "") -> dict:
        """Keyword arguments for Lava ``LIF`` (plus ``reset_interval``/``reset_offset`` for
        ``LIFReset``) that reproduce this node; ``bias`` is split per neuron into the smallest
        ``bias_exp`` >= 0 with an int16 ``bias_mant``. A node that :meth:`never_fires` (e.g. a
        non-spiking readout, threshold None) gets ``vth = 2**17`` (what netx uses): ``vth << 6 =
        2**23`` exceeds every saturated v, so it never fires. Raises UnsupportedError listing
        :meth:`lava_differences`."""
        diffs = self.lava_differences()
        if diffs:
            raise UnsupportedError("not expressible as a Lava LIF: " + "; ".join(diffs), node=name or None)
        bias = np.broadcast_to(np.asarray(0 if self.bias is None else self.bias, np.int64), tuple(self.shape))
        mant, exp = _split_bias(bias, name)
        out = {"shape": tuple(self.shape), "du": 4095 - int(np.asarray(self.current_mult).reshape(-1)[0]),
               "dv": 4096 - int(np.asarray(self.voltage_mult).reshape(-1)[0]),
               "vth": 2 ** 17 if self.never_fires()
               else int(np.asarray(self.threshold).reshape(-1)[0]) >> O.LAVA_ACT_SHIFT,
               "bias_mant": mant, "bias_exp": exp}
        if self.state_reset_interval is not None:
            out["reset_interval"] = int(self.state_reset_interval)
            out["reset_offset"] = (int(self.state_reset_phase) + 1) % int(self.state_reset_interval)
        return out

    def validate(self, name: str) -> None:
        if not isinstance(self.shape, tuple) or not all(isinstance(s, (int, np.integer)) for s in self.shape):
            raise ParameterError(f"shape must be a tuple of ints, got {self.shape!r}", node=name,
                                 field="shape")
        _bits(name, "decay_bits", self.decay_bits, 0, 62)
        for f in ("current_mult", "voltage_mult"):
            _int_array(name, f, getattr(self, f))
            m = np.asarray(getattr(self, f))
            if m.size and (m.min() < 0 or m.max() > 2 ** self.decay_bits):
                raise ParameterError(f"multiplier must be in [0, 2**{self.decay_bits}], got range "
                                     f"[{m.min()}, {m.max()}]", node=name, field=f)
        _int_array(name, "threshold", self.threshold, allow_none=True)
        _int_array(name, "bias", self.bias, allow_none=True)
        _bits(name, "input_shift", self.input_shift, 0, 63)
        _bits(name, "arith_bits", self.arith_bits)
        _bits(name, "u_bits", self.u_bits, 1, 62)
        _bits(name, "v_bits", self.v_bits, 1, 64)
        _choice(name, "u_overflow", self.u_overflow, U_OVERFLOWS)
        _choice(name, "v_overflow", self.v_overflow, V_OVERFLOWS)
        _choice(name, "comparison", self.comparison, N.COMPARISONS)
        _choice(name, "reset", self.reset, RESETS)
        if self.state_reset_interval is not None:
            _bits(name, "state_reset_interval", self.state_reset_interval, 1, 2 ** 62)
            _bits(name, "state_reset_phase", self.state_reset_phase, 0, int(self.state_reset_interval) - 1)
        for f in ("current_mult", "voltage_mult", "threshold", "bias"):
            v = getattr(self, f)
            if v is not None:
                try:
                    np.broadcast_to(np.asarray(v), tuple(self.shape))
                except ValueError:
                    raise ParameterError(f"shape {np.shape(v)} does not broadcast to {self.shape}",
                                         node=name, field=f) from None


def _split_bias(bias: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron, the smallest ``bias_exp`` >= 0 with ``bias = bias_mant << bias_exp`` and
    ``bias_mant`` in int16 (Lava's storage)."""
    mant = bias.astype(np.int64).copy()
    exp = np.zeros(bias.shape, np.int64)
    for _ in range(32):
        big = (mant > 32767) | (mant < -32768)
        if not big.any():
            break
        if np.any(big & (mant % 2 != 0)):
            raise UnsupportedError("bias does not fit Lava's int16 bias_mant << bias_exp", node=name or None,
                                   field="bias")
        mant = np.where(big, mant >> 1, mant)
        exp = np.where(big, exp + 1, exp)
    return mant, exp


__all__ = ["INPUT_KINDS", "RESETS", "U_OVERFLOWS", "V_OVERFLOWS", "IntConv2d", "IntCubaLIF", "IntDense",
           "IntNode"]
