"""Node types of the snnc IR.

Every node is a plain dataclass: its fields are the parameters, its docstring states the
equation it stands for. Arrays are numpy arrays; ``shape`` tuples exclude the batch axis
(the NIR convention).

Three families live here:

* the NIR 1.0.8 primitives, with NIR's field names and continuous-time meaning
  (``Affine`` ... ``CubaLIF``, ``Subgraph`` for a nested NIR graph);
* snnc's discrete-time float nodes: ``BatchNorm``, ``DiscreteLIF`` (what a discretized NIR
  neuron becomes), and the seed neurons of docs/neurons.md (``LIFB``, ``CLIF``, ``RF``, ``TimeMix``,
  ``LMHT``, ``LNM``), defined per time step as their authors' code does;
* the integer nodes of a lowered graph (``Int*``), whose arithmetic is given in
  :mod:`snnc.ir.intops` and is shared by every backend.

Time semantics of a graph (all nodes): at step t the input of a node is the sum over its
incoming edges ``(src, dst, delay)`` of ``output[src][t - delay]`` (zero before step 0). Nodes
are evaluated in topological order of the zero-delay edges, so every cycle needs a delay >= 1.

Neuron conventions every neuron node states: ``comparison`` (``'>'`` strict or ``'>='``
inclusive, between membrane and threshold), ``reset`` kind, and ``output_kind``
(``'binary'`` 0/1 spikes, ``'graded'`` integer-valued or scaled spike payloads, ``'analog'``
non-spiking state). A parameter array's shape gives its granularity: a scalar is per layer,
a shape that broadcasts over the spatial axes (e.g. ``(C, 1, 1)``) is per channel, the full
neuron shape is per neuron (see :func:`granularity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

COMPARISONS = (">", ">=")


@dataclass(frozen=True)
class QuantSpec:
    """Integer type of one tensor: ``bits`` total (incl. sign), ``frac_bits`` fractional bits
    (real value = integer * 2**-frac_bits * scale), overflow behaviour ``'wrap'`` or ``'saturate'``.
    ``scale`` is an extra real factor (per tensor) chosen by calibration."""

    bits: int
    frac_bits: int = 0
    signed: bool = True
    overflow: str = "saturate"
    scale: float = 1.0


@dataclass(eq=False, kw_only=True)
class Node:
    """Base class. ``metadata`` is free-form data that round-trips through ``.nir`` files
    (NIR's own metadata field). ``quant`` maps a field name to its integer type once a
    quantization pass has run; ``hw`` holds hardware annotations (target, core, latency)."""

    metadata: dict = field(default_factory=dict)
    quant: dict = field(default_factory=dict)
    hw: dict = field(default_factory=dict)

    #: True for nodes NIR 1.0.8 defines (written so that ``nir.read`` can load them)
    nir_standard: ClassVar[bool] = False
    #: True for nodes with state across time steps
    stateful: ClassVar[bool] = False

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def param_fields(self) -> list[str]:
        """Names of the dataclass fields that are parameters (not the base annotations)."""
        return [f.name for f in fields(self) if f.name not in ("metadata", "quant", "hw")]

    def params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_fields()}


def _arr(x, dtype=np.float64) -> np.ndarray:
    return np.asarray(x, dtype=dtype)


# ----------------------------------------------------------------------------------------
# NIR primitives
# ----------------------------------------------------------------------------------------


@dataclass(eq=False)
class Input(Node):
    """Graph input. ``shape``: the per-sample shape (no batch, no time)."""

    shape: tuple
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class Output(Node):
    """Graph output; passes its input through. ``shape``: per-sample shape."""

    shape: tuple
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class Affine(Node):
    """y = W x + b. ``weight``: float[out, in] (may be complex for RF input currents),
    ``bias``: float[out]."""

    weight: np.ndarray
    bias: np.ndarray
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class Linear(Node):
    """y = W x. ``weight``: float[out, in] (may be complex)."""

    weight: np.ndarray
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class Scale(Node):
    """y = s * x elementwise. ``scale``: float[*shape]."""

    scale: np.ndarray
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class Conv1d(Node):
    """1-d cross-correlation as torch.nn.Conv1d: x float[C_in, N] -> y float[C_out, N_out].
    ``weight``: float[C_out, C_in/groups, K]; ``input_shape``: (N,) or None until inferred;
    ``padding``: int or 'same'/'valid'."""

    input_shape: tuple | None
    weight: np.ndarray
    stride: int = 1
    padding: Any = 0
    dilation: int = 1
    groups: int = 1
    bias: np.ndarray | None = None
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class Conv2d(Node):
    """2-d cross-correlation as torch.nn.Conv2d: x float[C_in, H, W] -> y float[C_out, H', W'].
    ``weight``: float[C_out, C_in/groups, kH, kW]; ``input_shape``: (H, W) or None until
    inferred; ``stride``/``padding``/``dilation``: (y, x) pairs (padding may be 'same'/'valid')."""

    input_shape: tuple | None
    weight: np.ndarray
    stride: tuple = (1, 1)
    padding: Any = (0, 0)
    dilation: tuple = (1, 1)
    groups: int = 1
    bias: np.ndarray | None = None
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class SumPool2d(Node):
    """y = sum over each kernel window (zero padding). ``kernel_size``/``stride``/``padding``: (y, x)."""

    kernel_size: tuple
    stride: tuple
    padding: tuple = (0, 0)
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class AvgPool2d(Node):
    """y = mean over each kernel window (divisor kH*kW, zero padding counted)."""

    kernel_size: tuple
    stride: tuple
    padding: tuple = (0, 0)
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class Flatten(Node):
    """Flatten axes ``start_dim..end_dim`` (inclusive; indices exclude the batch axis, as in NIR).
    ``input_shape``: per-sample input shape, or None until inferred."""

    input_shape: tuple | None
    start_dim: int = 0
    end_dim: int = -1
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class Delay(Node):
    """y(t) = x(t - delay), ``delay`` in seconds per element (float[*shape]); discretized to
    round(delay / dt) steps."""

    delay: np.ndarray
    nir_standard: ClassVar[bool] = True
    stateful: ClassVar[bool] = True


@dataclass(eq=False)
class Threshold(Node):
    """z = 1[x > threshold] (strict), stateless."""

    threshold: np.ndarray
    nir_standard: ClassVar[bool] = True


@dataclass(eq=False)
class I(Node):  # noqa: E742 - NIR's name
    """Integrator: dv/dt = r * x (continuous time). Output v."""

    r: np.ndarray
    nir_standard: ClassVar[bool] = True
    stateful: ClassVar[bool] = True


@dataclass(eq=False)
class IF(Node):
    """Integrate-and-fire: dv/dt = r * x; spike z = 1[v > v_threshold]; then v <- v_reset."""

    r: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray | None = None
    nir_standard: ClassVar[bool] = True
    stateful: ClassVar[bool] = True


@dataclass(eq=False)
class LI(Node):
    """Leaky integrator: tau dv/dt = (v_leak - v) + r x. Output v."""

    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    nir_standard: ClassVar[bool] = True
    stateful: ClassVar[bool] = True


@dataclass(eq=False)
class LIF(Node):
    """Leaky integrate-and-fire: tau dv/dt = (v_leak - v) + r x; z = 1[v > v_threshold];
    then v <- v_reset."""

    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray | None = None
    nir_standard: ClassVar[bool] = True
    stateful: ClassVar[bool] = True


@dataclass(eq=False)
class CubaLI(Node):
    """Current-based leaky integrator: tau_syn dI/dt = -I + w_in x;
    tau_mem dv/dt = (v_leak - v) + r I. Output v."""

    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    w_in: np.ndarray | None = None
    nir_standard: ClassVar[bool] = True
    stateful: ClassVar[bool] = True


@dataclass(eq=False)
class CubaLIF(Node):
    """Current-based LIF: as CubaLI plus z = 1[v > v_threshold], then v <- v_reset."""

    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray | None = None
    w_in: np.ndarray | None = None
    nir_standard: ClassVar[bool] = True
    stateful: ClassVar[bool] = True


@dataclass(eq=False)
class Subgraph(Node):
    """A nested NIR graph used as one node. ``graph`` is an :class:`snnc.ir.graph.Graph`;
    edges into/out of the node connect to its Input/Output nodes (flattened before
    simulation by :func:`snnc.passes.flatten_subgraphs.flatten_subgraphs`)."""

    graph: Any
    nir_standard: ClassVar[bool] = True


# ----------------------------------------------------------------------------------------
# snnc float nodes (discrete time, one call per step)
# ----------------------------------------------------------------------------------------


@dataclass(eq=False)
class BatchNorm(Node):
    """Inference batch norm over axis 0 (channels) of x float[C, ...]:
    y = (x - mean) / sqrt(var + eps) * weight + bias. Folded away by ``fold_batchnorm``."""

    mean: np.ndarray
    var: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    eps: float = 1e-5


@dataclass(eq=False)
class DiscreteLIF(Node):
    """Discrete-time current-based LIF family (what the discretize pass makes of NIR
    I / IF / LI / LIF / CubaLI / CubaLIF). Per step t, with input x_t:

        i_t = current_decay * i_{t-1} + input_gain * x_t      (if current_decay is None: i_t = input_gain * x_t)
        h_t = voltage_decay * v_{t-1} + current_gain * i_t + bias
        h_t = max(h_t, v_min)                                  (if v_min is not None)
        z_t = 1[h_t > v_threshold] (comparison '>') or 1[h_t >= v_threshold] ('>=')
        v_t = v_reset where z_t (reset 'zero'), h_t - v_threshold where z_t ('subtract'), h_t ('none')

    With ``v_threshold`` None the node never spikes and outputs v_t (LI, CubaLI, I).
    Units: all values in the model's membrane units; decays are retention factors in [0, 1]."""

    shape: tuple
    voltage_decay: np.ndarray
    current_gain: np.ndarray
    input_gain: np.ndarray
    current_decay: np.ndarray | None = None
    bias: np.ndarray | None = None
    v_threshold: np.ndarray | None = None
    v_reset: np.ndarray | None = None
    reset: str = "zero"
    comparison: str = ">"
    v_min: np.ndarray | None = None
    stateful: ClassVar[bool] = True

    @property
    def output_kind(self) -> str:
        return "analog" if self.v_threshold is None else "binary"


@dataclass(eq=False)
class LIFB(Node):
    """Leaky integrate-and-fire-or-burst (docs/neurons.md#lifb; family covering the count neuron of
    BrainCog's ``SNode`` and BrainCog's BurstLIFNode). Per step:

        h_t = leak * v_{t-1} + input_gain * x_t
        n_t = #{k in 1..max_burst : h_t (comparison) v_threshold + (k-1) * threshold_step}
        out_t = amplitudes[n_t]                      (amplitudes[0] = 0; default amplitudes[n] = n)
        v_t = h_t - n_t * threshold_step  (reset 'subtract', the soft-reset count neuron when
                                           threshold_step == v_threshold)
              0 if n_t > 0 else h_t       (reset 'zero')
              h_t * (1 - n_t)             (reset 'multiplicative', BrainCog as written)
        v_t = max(v_t, v_min)             (if v_min is not None: lower bound after the reset,
                                           Sinabs's ``min_v_mem``)

    Modes: rest (n=0), regular spike (n=1), burst (n>=2). ``threshold_step`` None means
    ``v_threshold``. Output kind 'graded' (value amplitudes[n])."""

    shape: tuple
    leak: np.ndarray
    v_threshold: np.ndarray
    max_burst: int
    threshold_step: np.ndarray | None = None
    input_gain: np.ndarray | None = None
    amplitudes: np.ndarray | None = None
    reset: str = "subtract"
    comparison: str = ">="
    v_min: np.ndarray | None = None
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "graded"


@dataclass(eq=False)
class CLIF(Node):
    """Complementary LIF (Huang et al., ICML 2024; docs/neurons.md#clif). States u, m. Per step:

        u <- (1 - 1/tau) * u + x_t
        m <- m * sigmoid(u / tau)
        s_t = 1[u - v_threshold >= 0]              (comparison '>=')
        m <- m + s_t
        u <- u - s_t * v_threshold - s_t * sigmoid(m)
    """

    shape: tuple
    tau: float = 2.0
    v_threshold: float = 1.0
    comparison: str = ">="
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "binary"


@dataclass(eq=False)
class RF(Node):
    """S5-style resonate-and-fire neurons (Huber et al. 2024; docs/neurons.md#s5-rf), complex state
    x complex[P]. The input is a complex current u_t (B-bar folded into the preceding
    complex Affine/Linear weights). Per step:

        x_t = decay * x_{t-1} + u_t          decay: complex[P], |decay| < 1 (per neuron)
        y_t = readout @ x_t                   (readout complex[P, P]; identity if None)
        s_t = 1[Re(y_t) > v_threshold]        (comparison '>' ; no reset, no refractory)
    """

    shape: tuple
    decay: np.ndarray
    v_threshold: float = 1.0
    readout: np.ndarray | None = None
    comparison: str = ">"
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "binary"


@dataclass(eq=False)
class TimeMix(Node):
    """LM-HT temporal-global information matrix (docs/neurons.md#lm-ht): over a whole window of T
    steps, y_t = sum_j coefficients[t, j] * x_j. Non-causal: backends buffer the T inputs
    of a window before producing any output (``window`` = T). Windows restart every T steps."""

    coefficients: np.ndarray
    whole_window: ClassVar[bool] = True


@dataclass(eq=False)
class LMHT(Node):
    """Learnable multi-hierarchical threshold neuron (Hao et al., NeurIPS 2024; docs/neurons.md#lm-ht).
    Per step (input already mixed by a TimeMix node):

        h_t = leak * v_{t-1} + x_t
        k_t = clip(floor(h_t / v_threshold), 0, levels)      (inclusive: h >= k * theta)
        out_t = k_t * v_threshold                              (graded)
        v_t = h_t - out_t
    ``v_init``: membrane at t = 0 (0, or 0.5*theta in the hybrid pipeline); the state
    restarts at ``v_init`` every ``window`` steps when ``window`` is set."""

    shape: tuple
    leak: float
    v_threshold: float
    levels: int
    v_init: float = 0.0
    window: int | None = None
    comparison: str = ">="
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "graded"


@dataclass(eq=False)
class LNM(Node):
    """Learnable-neuron-model polynomial IF (Jahns et al. 2025; docs/neurons.md#lnm, reconstructed).
    f(v) = sum_k coefficients[k] v^k, evaluated in Horner form. Per step:

        h_t = v_{t-1} + f(v_{t-1}) + x_t      (form 'increment'; form 'map': h_t = f(v_{t-1}) + x_t)
        h_t = clip(h_t, v_min, v_max)          (stability clamp)
        s_t = 1[h_t >= v_threshold]            (comparison)
        v_t = v_reset where s_t (reset 'zero'), h_t - v_threshold where s_t ('subtract')
    ``coefficients``: float[d+1], per layer, degree d in 1..3."""

    shape: tuple
    coefficients: np.ndarray
    v_threshold: float = 1.0
    v_reset: float = 0.0
    reset: str = "zero"
    comparison: str = ">="
    form: str = "increment"
    v_min: float = -4.0
    v_max: float = 4.0
    stateful: ClassVar[bool] = True
    output_kind: ClassVar[str] = "binary"


# ----------------------------------------------------------------------------------------
# registry and helpers
# ----------------------------------------------------------------------------------------

NIR_NODE_TYPES: dict[str, type[Node]] = {
    cls.__name__: cls
    for cls in (Input, Output, Affine, Linear, Scale, Conv1d, Conv2d, SumPool2d, AvgPool2d,
                Flatten, Delay, Threshold, I, IF, LI, LIF, CubaLI, CubaLIF)
}

FLOAT_NODE_TYPES: dict[str, type[Node]] = {
    cls.__name__: cls for cls in (BatchNorm, DiscreteLIF, LIFB, CLIF, RF, TimeMix, LMHT, LNM)
}

NODE_TYPES: dict[str, type[Node]] = {**NIR_NODE_TYPES, "NIRGraph": Subgraph, **FLOAT_NODE_TYPES}

NEURON_TYPES: tuple[type[Node], ...] = (I, IF, LI, LIF, CubaLI, CubaLIF, DiscreteLIF, LIFB, CLIF,
                                        RF, LMHT, LNM)


def register_node_type(cls: type[Node]) -> type[Node]:
    """Class decorator: make ``cls`` known to the ``.nir`` reader (used by ir.intnodes)."""
    NODE_TYPES[cls.__name__] = cls
    return cls


def granularity(param, shape: tuple) -> str:
    """'layer' for a scalar (or size-1) parameter, 'neuron' for one of the full ``shape``,
    'channel' for one that broadcasts over all axes but the first."""
    p = np.asarray(param)
    if p.size == 1:
        return "layer"
    if tuple(p.shape) == tuple(shape):
        return "neuron"
    if len(shape) > 1 and p.shape[0] == shape[0] and p.size == shape[0]:
        return "channel"
    return "neuron"
