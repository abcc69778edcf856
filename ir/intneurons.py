"""Integer (fixed-point) nodes for the seed neurons of docs/neurons.md, as lowered by
``passes.lowering``: the exact arithmetic every backend implements.

Conventions (all nodes):

* every state and input is a signed integer in *state units*; ``state_bits`` is the state
  width (two's complement), ``overflow`` says what happens beyond it ('saturate' clamps to
  ±(2**(bits-1) - 1), 'wrap' wraps);
* ``rtz(p, D)`` = sign(p) * (|p| >> D): a product p of a state and a D-fractional-bit
  multiplier, rescaled with rounding toward zero (Lava's decay rule); ``floor_shift`` is the
  arithmetic right shift; both are defined once in :mod:`snnc.ir.intops`;
* a threshold test is ``h > thr`` or ``h >= thr`` per the node's ``comparison``;
* products are evaluated in 64-bit; a lowering pass guarantees by range analysis that they fit.

Outputs: binary (0/1), or ``graded`` integer payloads (counts or levels) whose real amplitude is
folded into the next synapse's weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .nodes import Node, register_node_type


@register_node_type
@dataclass(eq=False)
class IntComplexDense(Node):
    """Complex integer synapse for RF neurons: for input x int[n_in], s = x ('graded', payloads)
    or s = 1[x != 0] ('binary': any non-zero value is one spike, as Lava's binary Dense),
    re = shl(weight_real @ s, weight_exp), im = shl(weight_imag @ s, weight_exp) (int64
    accumulators), output the complex current (re, im). ``weight_real``, ``weight_imag``:
    int[n_out, n_in]; ``weight_exp`` >= 0."""

    weight_real: np.ndarray
    weight_imag: np.ndarray
    weight_exp: int = 0
    input_kind: str = "graded"


@register_node_type
@dataclass(eq=False)
class IntLIFB(Node):
    """Fixed-point LIFB (graded burst count). State v int[shape] (``state_bits``). Per step:

        h = rtz(v * leak_mult, decay_bits) + x
        n = #{k in 0..max_burst-1 : h (comparison) threshold + k * threshold_step}
        v = h - n * threshold_step      (reset 'subtract')
            0 if n > 0 else h           (reset 'zero')
            h * (1 - n)                 (reset 'multiplicative')
        v = max(v, v_min)               (if v_min is not None)
        v = overflow(v, state_bits);    out = amplitudes[n]  (int payload, amplitudes[0] = 0)
    """

    shape: tuple
    leak_mult: np.ndarray
    threshold: np.ndarray
    threshold_step: np.ndarray
    max_burst: int
    amplitudes: np.ndarray
    decay_bits: int = 12
    reset: str = "subtract"
    comparison: str = ">="
    state_bits: int = 24
    overflow: str = "saturate"
    v_min: np.ndarray | None = None
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "graded"
    is_neuron: ClassVar[bool] = True


@register_node_type
@dataclass(eq=False)
class IntCLIF(Node):
    """Fixed-point CLIF. States u (state units, threshold ``threshold``), m (``m_frac_bits``
    fractional bits). Sigmoids are table look-ups with clamped indices:

        sig_u(u) = lut_u[clip(floor_shift(u, u_shift) - u_offset, 0, len(lut_u) - 1)]
        sig_m(m) = lut_m[clip(floor_shift(m, m_shift), 0, len(lut_m) - 1)]
    (table entries have ``lut_frac_bits`` fractional bits). Per step:

        u = rtz(u * decay_mult, decay_bits) + x
        m = rtz(m * sig_u(u), lut_frac_bits)
        s = 1[u >= threshold]                      (comparison)
        m = m + s * 2**m_frac_bits
        u = u - s * (threshold + rtz(sig_m(m) * reset_scale, lut_frac_bits))
    ``reset_scale``: the state-unit value of 1.0 (so sig_m adds sigma(m) in state units)."""

    shape: tuple
    decay_mult: int
    threshold: int
    lut_u: np.ndarray
    u_shift: int
    u_offset: int
    lut_m: np.ndarray
    m_shift: int
    m_frac_bits: int
    lut_frac_bits: int
    reset_scale: int
    decay_bits: int = 12
    comparison: str = ">="
    state_bits: int = 32
    overflow: str = "saturate"
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "binary"
    is_neuron: ClassVar[bool] = True


@register_node_type
@dataclass(eq=False)
class IntRF(Node):
    """Fixed-point S5 resonate-and-fire. State (re, im) int[shape] each. Input: complex current
    (in_re, in_im) from an IntComplexDense. Per step, with per-neuron decay (dr, di) having
    ``decay_bits`` fractional bits (|dr + i di| < 2**decay_bits):

        re' = rtz(dr * re, D) - rtz(di * im, D) + in_re
        im' = rtz(di * re, D) + rtz(dr * im, D) + in_im
        (re, im) = overflow((re', im'), state_bits)
        s = 1[re' > threshold]                        (spike_rule 're', comparison '>': S5-RF's strict rule)
        s = 1[re' >= threshold and im' >= 0 and im < 0]  (spike_rule 'phase', comparison '>=': Lava's RF
                                                     process, lava.proc.rf, a spike per upward zero
                                                     crossing of the imaginary part; im = the state
                                                     before this step)
        s = 1[im' >= threshold]                       (spike_rule 'iz', comparison '>=': Lava's RF_IZ,
                                                     lava.proc.rf_iz); where s: re' = 0,
                                                     im' = threshold - 1
    No other reset. ``overflow`` 'saturate' clips to ±(2**(state_bits-1) - 1), as Lava's RF does. (An
    S5-RF layer with a readout matrix V, spiking on Re(V x), is not an IntRF: the lowering builds
    it from IntDense and IntCubaLIF nodes, ``passes.lowering.rf``.)"""

    shape: tuple
    decay_real: np.ndarray
    decay_imag: np.ndarray
    threshold: int
    decay_bits: int = 12
    comparison: str = ">"
    state_bits: int = 24
    overflow: str = "saturate"
    spike_rule: str = "re"
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "binary"
    is_neuron: ClassVar[bool] = True


#: IntRF.spike_rule values
RF_SPIKE_RULES = ("re", "phase", "iz")


@register_node_type
@dataclass(eq=False)
class IntTimeMix(Node):
    """Integer time mixing of LM-HT (docs/neurons.md#lm-ht) over windows of W steps, ``coefficients``:
    int[W, W] with ``frac_bits`` fractional bits. Two executions of the same mixing:

    * ``latency`` = 0 (sim, fpga): whole-window, non-causal. Window k = steps kW .. kW + W - 1:

          y_{kW+i} = rtz(sum_j coefficients[i, j] * x_{kW+j}, frac_bits)

    * ``latency`` = W (loihi2, streaming): causal, one window late. Windows start at ``phase``
      (window k = steps phase + kW .. phase + kW + W - 1); inputs before ``phase`` are ignored,
      the output is 0 before ``phase`` + W, and then

          y_{phase+(k+1)W+i} = rtz(sum_j coefficients[i, j] * x_{phase+kW+j}, frac_bits)

      State (after the step): ``buffer`` int[W, *shape], the inputs of the current window by
      position; ``mixed`` int[W, *shape], the mixed previous window being emitted. Per step t
      >= phase, with i = (t - phase) % W: y = mixed[i]; buffer[i] = x; at i = W - 1:
      mixed[r] = rtz(sum_j coefficients[r, j] * buffer[j], frac_bits) for every r.

    So the streaming output is the whole-window output of the input shifted by ``phase``,
    delayed by W more steps. ``passes.lower_integer.insert_latency`` sets latency and phase.
    ``latency`` and ``phase`` are written to files only when not 0 (older files stay valid)."""

    coefficients: np.ndarray
    frac_bits: int
    latency: int = 0
    phase: int = 0
    #: the node kind mixes whole windows (latency 0); see :attr:`streaming` for the instance
    whole_window: ClassVar[bool] = True
    omit_defaults: ClassVar[tuple] = ("latency", "phase")

    @property
    def window(self) -> int:
        return int(np.shape(self.coefficients)[0])

    @property
    def streaming(self) -> bool:
        """True for the causal execution with one window of latency."""
        return bool(self.latency)

    def validate(self, name: str) -> None:
        from .errors import ParameterError

        c = np.asarray(self.coefficients)
        if c.ndim != 2 or c.shape[0] != c.shape[1]:
            raise ParameterError(f"must be a square W x W matrix, got shape {c.shape}", node=name,
                                 field="coefficients")
        if self.latency not in (0, self.window):
            raise ParameterError(f"must be 0 (whole-window) or the window {self.window} (streaming), got "
                                 f"{self.latency}", node=name, field="latency")
        if self.phase < 0 or (self.phase and not self.latency):
            raise ParameterError(f"must be >= 0, and 0 for whole-window mixing (got {self.phase})", node=name,
                                 field="phase")


@register_node_type
@dataclass(eq=False)
class IntLMHT(Node):
    """Fixed-point multi-level neuron. State v int[shape], v = ``v_init`` at t = 0. Per step t:

        t < phase:  idle: v stays v_init, out = 0, the input is ignored
        v = v_init                             (if window is set, t > phase, (t - phase) % window == 0)
        h = rtz(v * leak_mult, decay_bits) + x           (leak_mult may exceed 2**decay_bits: growth)
        k = clip(floor(h / threshold), 0, levels)        (integer floor division)
        v = overflow(h - k * threshold, state_bits);  out = k (graded payload)
    With ``phase`` = 0 (sim, fpga) the state restarts every ``window`` steps from t = 0. A
    streaming target (loihi2) sets ``phase`` to the steps its synapses and mixing delay the
    input (``passes.lower_integer.insert_latency``), so windows stay aligned with the input's
    and the neuron cannot fire on the pre-roll (e.g. v_init > 0 growing with leak > 1)."""

    shape: tuple
    leak_mult: int
    threshold: int
    levels: int
    v_init: int = 0
    window: int | None = None
    decay_bits: int = 12
    state_bits: int = 24
    overflow: str = "saturate"
    phase: int = 0
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "graded"
    is_neuron: ClassVar[bool] = True
    omit_defaults: ClassVar[tuple] = ("phase",)


@register_node_type
@dataclass(eq=False)
class IntBinaryLMHT(Node):
    """Fixed-point LM-HT neuron of the time-multiplexed binary reparameterisation (see
    docs/neurons.md#lm-ht, the authors' ``LMHT_Inference_Neuron``): every step of the multi-level neuron becomes
    ``substeps`` = L sub-steps (steps of this node), spikes are binary (amplitude
    ``threshold``), and the leak acts only on the first sub-step of each block of L. State
    v int[shape]. Per step t:

        v = v_init                           (at t = 0, and at every t % window == 0 if window is set)
        h = rtz(v * leak_mult, decay_bits) + x    if t % substeps == 0      (block start: leak)
            v + x                                  otherwise                 (no leak)
        s = 1[h >= threshold]                      (inclusive, threshold > 0)
        v = overflow(h - s * threshold, state_bits);   out = s  (0/1)

    ``window`` counts steps of this node (a multiple of ``substeps``). With the step's whole
    current delivered on the block's first sub-step (what ``passes.reparam_lmht`` builds),
    the block's spike count equals IntLMHT's level k = clip(floor(h / threshold), 0, L) and v
    after the block equals IntLMHT's v, for any sign of the current."""

    shape: tuple
    leak_mult: int
    threshold: int
    substeps: int
    v_init: int = 0
    window: int | None = None
    decay_bits: int = 12
    state_bits: int = 24
    overflow: str = "saturate"
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "binary"
    is_neuron: ClassVar[bool] = True


@register_node_type
@dataclass(eq=False)
class IntLNM(Node):
    """Fixed-point polynomial IF (LNM). State v int[shape] with ``frac_bits`` fractional bits
    (v_real = v / 2**frac_bits). Coefficients int[d+1] in the same format. Horner:

        f = c[d];  for k = d-1 .. 0:  f = rtz(f * v, frac_bits) + c[k]
        h = v + f + x   (form 'increment')  |  f + x  (form 'map')
        h = clip(h, v_min, v_max)
        s = 1[h >= threshold] (comparison);  v = v_reset where s ('zero') | h - threshold ('subtract')
    """

    shape: tuple
    coefficients: np.ndarray
    frac_bits: int
    threshold: int
    v_reset: int
    v_min: int
    v_max: int
    reset: str = "zero"
    comparison: str = ">="
    form: str = "increment"
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "binary"
    is_neuron: ClassVar[bool] = True


@register_node_type
@dataclass(eq=False)
class ConstantSource(Node):
    """A source that emits ``value`` (int[shape]) at every step; it has no inputs. Used to feed
    a constant per-step current through a synapse (e.g. an Affine bias into a decaying synaptic
    current, which a neuron's own bias term, added to v, cannot reproduce exactly)."""

    shape: tuple
    value: np.ndarray
    source: ClassVar[bool] = True
