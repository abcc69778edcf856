"""Pass: map every neuron that Loihi 2's standard neurons cannot express exactly to the closest
chip-native neuron (the ``loihi2: {neurons: chip}`` approximation mode, docs/targets.md#chip-native-mode).

The chip-native neuron is Lava's ``LIF`` (the one neuron with a Loihi 2 chip model that netx
builds): a CUBA LIF with one decay per population, hard reset to 0, strict ``v > vth``. In the
float IR that is a :class:`~snnc.ir.nodes.DiscreteLIF` with per-layer decays and threshold,
``reset='zero'``, ``v_reset = 0``, ``comparison='>'``, no ``v_min``; a non-spiking readout
(``v_threshold`` None) is a Lava LIF that never reaches its threshold. Per neuron type (one
mapper each, registered with :func:`maps`):

==========================  =============================================================
from                        to (closest chip-native form)
==========================  =============================================================
DiscreteLIF, soft reset     hard reset to 0 (also: ``v_reset`` -> 0, ``'>='`` -> ``'>'``,
                            ``v_min`` dropped)
LIFB (bursts; Sinabs'       single-spike hard-reset LIF, decay = leak; the amplitude of one
multi-spike IAF)            spike (``amplitudes[1]``) folded into the next synapse
CLIF                        LIF with decay 1 - 1/tau (0.5 for tau = 2), hard reset; the
                            complementary potential m and its sigmoids dropped
LNM                         linear LIF: f(v) = c0 + c1 v + ... -> decay 1 + c1 ('increment'
                            form; c1 for 'map'), bias c0; c2.. and the clamp dropped
LMHT (+ its TimeMix)        hard-reset IF (decay min(leak, 1)) without time mixing (the
                            TimeMix removed); the spike value theta folded into the next
                            synapse; levels, soft reset, v_init, window restarts dropped
RF (S5-RF)                  LIF on the real part: decay = mean |lambda_bar|, input weights
                            Re(W); the imaginary part, the rotation, the per-neuron decays, the
                            readout V and the no-reset spike rule dropped. Lava's RF/RF_IZ are
                            CPU-only; RFZero runs on the chip, but its phase-crossing graded
                            spike is no closer to S5's ``Re(x) > 1`` than a LIF and has no snnc
                            node yet. The measured accuracy says how close (bench/chip_native_accuracy.py).
==========================  =============================================================

Each mapping is recorded: ``node.metadata['chip_native']`` = ``{'from', 'to', 'dropped'}``,
the same in ``graph.metadata['chip_native']`` (node name -> entry; written into ``.nir`` files), and ``ctx.note(node,
chip_native=...)`` (so ``report.json`` carries it per node). Nothing is approximated silently:
a neuron no mapper handles (or one whose parameters no chip-native form can hold, e.g.
per-neuron thresholds) fails with one line per offending node (:class:`ChipNativeError`).

Without the option the pass returns the graph unchanged (the exact path).
:func:`chip_findings` lists, for any float graph, the neurons that are not chip-native, the
dynamics that prevent it and what the chip mode would map them to (for reports of the exact path).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Edge, Graph
from snnc.ir.registry import Registry

from .pipeline import CompileContext, register_pass

CHIP_MODE = "loihi2: {neurons: chip}"
_SYNAPSES = (N.Linear, N.Affine, N.Conv2d, N.Conv1d)


@dataclass(frozen=True)
class Mapping:
    """What the pass did to one neuron node: ``source`` and ``target`` dynamics, the features dropped."""

    node: str
    source: str
    target: str
    dropped: tuple[str, ...]

    def entry(self) -> dict:
        """``{'from', 'to', 'dropped'}``: what node and graph metadata and the report hold."""
        return {"from": self.source, "to": self.target, "dropped": list(self.dropped)}


@dataclass(frozen=True)
class Finding:
    """A neuron that is not chip-native: its ``dynamics`` and the ``remedy`` (mode that maps it)."""

    node: str
    dynamics: str
    remedy: str

    def line(self) -> str:
        return f"node '{self.node}': {self.dynamics}; {self.remedy}"


class ChipNativeError(UnsupportedError):
    """Neurons with no chip-native form; the message has one line per offending node."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        lines = "\n".join("  " + f.line() for f in findings)
        super().__init__(f"{len(findings)} neuron(s) cannot be made chip-native for Loihi 2:\n{lines}",
                         node=findings[0].node if len(findings) == 1 else None)


class _Unmappable(Exception):
    """Raised by a mapper: the node's dynamics and why no chip-native form holds them."""

    def __init__(self, dynamics: str, why: str):
        super().__init__(dynamics, why)
        self.dynamics, self.why = dynamics, why


#: neuron type -> mapper(graph, name, node) -> (new node, Mapping) or None (already chip-native)
#: node type -> ``fn(graph, name, node)``, the chip-native mapper (it may rewire ``graph``, a
#: private copy, and returns ``(node, Mapping)`` or None)
_MAPPERS: Registry = Registry("chip-native mappers")
maps = _MAPPERS.register


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _scalar(node_dynamics: str, field: str, value) -> float:
    """A per-layer value (Lava keeps decays and thresholds per population), else unmappable."""
    a = _f(value)
    if a.size != 1 and not np.all(a == a.reshape(-1)[0]):
        raise _Unmappable(node_dynamics, f"{field} differs between neurons, Lava's LIF has one per population "
                          "(split the layer per value, or train with a per-layer value)")
    return float(a.reshape(-1)[0])


def _g(x: float) -> str:
    return f"{x:.4g}"


def lif_form(decay: float, threshold: float | None, *, current_decay: float | None = None,
             bias: bool = False) -> str:
    """Text of a chip-native LIF, e.g. ``LIF (decay 0.5, threshold 1, hard reset to 0, '>')``."""
    kind = "IF" if decay == 1.0 else "LIF"
    parts = [f"decay {_g(decay)}"]
    if current_decay is not None:
        kind = "CUBA " + kind
        parts.insert(0, f"current decay {_g(current_decay)}")
    if bias:
        parts.append("bias")
    if threshold is None:
        return f"non-spiking {kind} readout ({', '.join(parts)})"
    parts += [f"threshold {_g(threshold)}", "hard reset to 0", "'>'"]
    return f"{kind} ({', '.join(parts)})"


def _chip_lif(shape, decay: float, threshold: float, *, input_gain=1.0, bias=None, metadata=None) -> N.DiscreteLIF:
    one = np.array(1.0)
    return N.DiscreteLIF(shape=tuple(shape), voltage_decay=np.array(decay), current_gain=one,
                         input_gain=_f(input_gain).copy(), current_decay=None,
                         bias=None if bias is None else _f(bias).copy(), v_threshold=np.array(threshold),
                         v_reset=np.array(0.0), reset="zero", comparison=">", metadata=dict(metadata or {}))


def _fold_spike_value(g: Graph, name: str, value: float, dynamics: str) -> str | None:
    """The new node emits 1 per spike where the old one emitted ``value``: scale the weights
    of every synapse it feeds by ``value`` (exact for that spike). Returns the note, or None."""
    if value == 1.0:
        return None
    outs = g.out_edges(name)
    for e in outs:
        syn = g.nodes[e.dst]
        if not isinstance(syn, _SYNAPSES) or any(i.src != name for i in g.in_edges(e.dst)):
            raise _Unmappable(dynamics, f"its spike value {_g(value)} must be folded into the next synapse, but it "
                              f"feeds {e.dst} ({syn.type_name}) directly or shares that synapse")
    for e in outs:
        g.nodes[e.dst].weight = _f(g.nodes[e.dst].weight) * value
    return f"spike value {_g(value)} folded into {', '.join(e.dst for e in outs)}"


# ----------------------------------------------------------------------------------------
# mappers
# ----------------------------------------------------------------------------------------

@maps(N.DiscreteLIF)
def _map_lif(g: Graph, name: str, node: N.DiscreteLIF):
    spiking = node.v_threshold is not None
    dyn = f"{'LIF' if spiking else 'LI'} ({node.reset} reset, '{node.comparison}')"
    decay = _scalar(dyn, "voltage_decay", node.voltage_decay)
    cur = None if node.current_decay is None else _scalar(dyn, "current_decay", node.current_decay)
    thr = _scalar(dyn, "v_threshold", node.v_threshold) if spiking else None
    dropped = []
    new = N.DiscreteLIF(**node.params())
    new.metadata = dict(node.metadata)
    if spiking and node.reset != "zero":
        dropped.append(f"{node.reset} reset (-> hard reset to 0)")
        new.reset = "zero"
    if spiking and node.v_reset is not None and np.any(_f(node.v_reset)):
        dropped.append(f"v_reset {_g(float(np.max(node.v_reset)))} (-> 0)")
    if spiking:
        new.v_reset = np.zeros_like(_f(node.v_threshold))
    if spiking and node.comparison != ">":
        dropped.append(f"'{node.comparison}' comparison (-> '>')")
        new.comparison = ">"
    if node.v_min is not None:
        dropped.append(f"lower bound v_min {_g(float(np.min(node.v_min)))}")
        new.v_min = None
    if not dropped:
        return None
    bias = node.bias is not None and np.any(node.bias)
    return new, Mapping(name, f"{dyn[:-1]}, decay {_g(decay)})", lif_form(decay, thr, current_decay=cur, bias=bias),
                        tuple(dropped))


@maps(N.LIFB)
def _map_lifb(g: Graph, name: str, node: N.LIFB):
    dyn = f"LIFB burst neuron (up to {node.max_burst} spikes per step, {node.reset} reset)"
    leak = _scalar(dyn, "leak", node.leak)
    thr = _scalar(dyn, "v_threshold", node.v_threshold)
    amps = np.arange(node.max_burst + 1.0) if node.amplitudes is None else _f(node.amplitudes)
    counted = np.array_equal(amps, np.arange(node.max_burst + 1.0))
    values = "" if counted else f", values {', '.join(_g(a) for a in amps[1:])}"
    dropped = [f"bursts of up to {node.max_burst} spikes per step{values} (-> one spike)",
               f"{node.reset} reset (-> hard reset to 0)"]
    if node.comparison != ">":
        dropped.append(f"'{node.comparison}' comparison (-> '>')")
    if node.v_min is not None:
        dropped.append(f"lower bound v_min {_g(float(np.min(node.v_min)))}")
    fold = _fold_spike_value(g, name, float(amps[1]), dyn)
    if fold:
        dropped.append(fold)
    gain = 1.0 if node.input_gain is None else node.input_gain
    new = _chip_lif(node.shape, leak, thr, input_gain=gain, metadata=node.metadata)
    return new, Mapping(name, f"{dyn[:-1]}, leak {_g(leak)}, threshold {_g(thr)})", lif_form(leak, thr),
                        tuple(dropped))


@maps(N.CLIF)
def _map_clif(g: Graph, name: str, node: N.CLIF):
    decay = 1.0 - 1.0 / float(node.tau)
    new = _chip_lif(node.shape, decay, float(node.v_threshold), metadata=node.metadata)
    dropped = ["complementary potential m and its sigmoid gate sigmoid(u / tau)",
               "soft reset by threshold + sigmoid(m) (-> hard reset to 0)"]
    if node.comparison != ">":
        dropped.append(f"'{node.comparison}' comparison (-> '>')")
    return new, Mapping(name, f"CLIF (tau {_g(node.tau)}, threshold {_g(node.v_threshold)})",
                        lif_form(decay, float(node.v_threshold)), tuple(dropped))


@maps(N.LNM)
def _map_lnm(g: Graph, name: str, node: N.LNM):
    c = _f(node.coefficients).reshape(-1)
    c0 = float(c[0]) if c.size > 0 else 0.0
    c1 = float(c[1]) if c.size > 1 else 0.0
    exact_decay = 1.0 + c1 if node.form == "increment" else c1
    decay = float(np.clip(exact_decay, 0.0, 1.0))
    dropped = []
    if c.size > 2 and np.any(c[2:]):
        dropped.append("polynomial terms " + ", ".join(f"c{k} = {_g(v)}" for k, v in enumerate(c) if k >= 2 and v))
    if decay != exact_decay:
        dropped.append(f"linear factor {_g(exact_decay)} outside Lava's decay range [0, 1] (-> {_g(decay)})")
    dropped.append(f"membrane clamp [{_g(node.v_min)}, {_g(node.v_max)}]")
    if node.reset != "zero":
        dropped.append(f"{node.reset} reset (-> hard reset to 0)")
    if node.v_reset:
        dropped.append(f"v_reset {_g(node.v_reset)} (-> 0)")
    if node.comparison != ">":
        dropped.append(f"'{node.comparison}' comparison (-> '>')")
    new = _chip_lif(node.shape, decay, float(node.v_threshold), bias=c0 if c0 else None, metadata=node.metadata)
    poly = " + ".join(f"{_g(v)} v^{k}" for k, v in enumerate(c))
    return new, Mapping(name, f"LNM (f(v) = {poly}, '{node.form}' form)",
                        lif_form(decay, float(node.v_threshold), bias=bool(c0)), tuple(dropped))


@maps(N.LMHT)
def _map_lmht(g: Graph, name: str, node: N.LMHT):
    dyn = f"LM-HT ({node.levels} levels, leak {_g(node.leak)}, soft reset)"
    decay = min(float(node.leak), 1.0)
    theta = float(node.v_threshold)
    dropped = [f"graded levels 0..{node.levels} (-> one binary spike)", "soft reset by the emitted amount "
               "(-> hard reset to 0)"]
    if decay != node.leak:
        dropped.append(f"leak {_g(node.leak)} > 1 (growth; -> 1)")
    if node.v_init:
        dropped.append(f"initial membrane {_g(node.v_init)} (-> 0)")
    if node.window is not None:
        dropped.append(f"state restart every {node.window} steps")
    if node.comparison != ">":
        dropped.append(f"'{node.comparison}' comparison (-> '>')")
    for e in list(g.in_edges(name)):
        mix = g.nodes[e.src]
        if isinstance(mix, N.TimeMix):
            dropped.append(_drop_time_mix(g, e.src, name))
    fold = _fold_spike_value(g, name, theta, dyn)
    if fold:
        dropped.append(fold)
    new = _chip_lif(node.shape, decay, theta, metadata=node.metadata)
    return new, Mapping(name, dyn, lif_form(decay, theta), tuple(dropped))


def _drop_time_mix(g: Graph, mix: str, neuron: str) -> str:
    """Remove the TimeMix ``mix`` before ``neuron``: its inputs feed the neuron directly.

    Why a plain drop: folding the mixing's mean row sum (the gain it applies to an input that is
    constant over the window) into the synapse was measured too, and was worse on digits_lmht
    (94.0 % vs 95.1 %, float 96.9 %)."""
    coeff = _f(g.nodes[mix].coefficients)
    ins = g.in_edges(mix)
    out_delay = max((e.delay for e in g.out_edges(mix)), default=0)
    g.edges = [e for e in g.edges if e.src != mix and e.dst != mix] + [Edge(e.src, neuron, e.delay + out_delay)
                                                                       for e in ins]
    del g.nodes[mix]
    return f"time mixing {mix} ({coeff.shape[0]} x {coeff.shape[1]}, non-causal; -> identity)"


@maps(N.RF)
def _map_rf(g: Graph, name: str, node: N.RF):
    dyn = "S5-RF resonate-and-fire (complex state, per-neuron complex decay, spikes on Re(x) > 1 without reset)"
    ins = g.in_edges(name)
    if len(ins) != 1 or not isinstance(g.nodes[ins[0].src], (N.Linear, N.Affine)) \
            or len(g.out_edges(ins[0].src)) != 1:
        raise _Unmappable(dyn, "its input is not one complex Linear/Affine of its own (the real part of the "
                          "input current cannot be taken)")
    syn = g.nodes[ins[0].src]
    syn.weight = np.real(np.asarray(syn.weight)).astype(np.float64)
    if getattr(syn, "bias", None) is not None:
        syn.bias = np.real(np.asarray(syn.bias)).astype(np.float64)
    mag = np.abs(np.asarray(node.decay, np.complex128)).reshape(-1)
    decay = float(mag.mean())
    angle = np.abs(np.angle(np.asarray(node.decay, np.complex128))).reshape(-1)
    dropped = ["imaginary part of the state and input weights (-> Re(W) into a real membrane)",
               f"rotation by arg(decay) ({_g(float(angle.min()))}..{_g(float(angle.max()))} rad per step)",
               f"per-neuron |decay| {_g(float(mag.min()))}..{_g(float(mag.max()))} (-> the mean {_g(decay)})",
               "no-reset spike rule (-> hard reset to 0)"]
    if node.readout is not None:
        dropped.append("readout matrix V (-> identity)")
    new = _chip_lif(node.shape, decay, float(node.v_threshold), metadata=node.metadata)
    return new, Mapping(name, dyn, lif_form(decay, float(node.v_threshold)), tuple(dropped))


# ----------------------------------------------------------------------------------------
# the pass, the findings
# ----------------------------------------------------------------------------------------

def _is_neuron(node: N.Node) -> bool:
    return isinstance(node, N.NEURON_TYPES)


def map_chip_native(graph: Graph) -> tuple[Graph, list[Mapping]]:
    """The chip-native approximation of a discrete float ``graph`` and the list of mappings.
    Raises :class:`ChipNativeError` (one line per node) for neurons no mapper can map."""
    g = graph.copy()
    done: list[Mapping] = []
    bad: list[Finding] = []
    for name in list(g.nodes):
        if name not in g.nodes:
            continue
        node = g.nodes[name]
        if not _is_neuron(node):
            continue
        mapper = _MAPPERS.get(type(node))
        if mapper is None:
            bad.append(Finding(name, f"{node.type_name} neuron", "no chip-native mapping for this type (discretize "
                               "continuous NIR neurons first; compile without the chip mode for the exact CPU path)"))
            continue
        try:
            res = mapper(g, name, node)
        except _Unmappable as exc:
            bad.append(Finding(name, exc.dynamics, f"{CHIP_MODE} cannot map it: {exc.why}"))
            continue
        if res is None:
            continue
        new, m = res
        new.metadata = {**new.metadata, "chip_native": m.entry()}
        g.nodes[name] = new
        done.append(m)
    if bad:
        raise ChipNativeError(bad)
    g.metadata["chip_native"] = {m.node: m.entry() for m in done}
    return g, done


def chip_findings(graph: Graph) -> list[Finding]:
    """The neurons of a discrete float ``graph`` that are not chip-native (Lava LIF), each with
    its dynamics and what ``loihi2: {neurons: chip}`` would map it to (or why it cannot)."""
    out = []
    for name, node in graph.nodes.items():
        if not _is_neuron(node):
            continue
        mapper = _MAPPERS.get(type(node))
        if mapper is None:
            out.append(Finding(name, f"{node.type_name} neuron", "no chip-native mapping"))
            continue
        try:
            res = mapper(graph.copy(), name, node)
        except _Unmappable as exc:
            out.append(Finding(name, exc.dynamics, f"{CHIP_MODE} cannot map it: {exc.why}"))
            continue
        if res is not None:
            m = res[1]
            out.append(Finding(name, m.source, f"{CHIP_MODE} maps it to {m.target}"))
    return out


def lowered_chip_problems(lowered: Graph) -> dict[str, str]:
    """For a lowered ``loihi2`` graph: node -> why it is not a Loihi 2 chip process (empty: every
    neuron is a plain Lava LIF, every synapse an integer Dense/Conv Lava keeps unchanged).
    Checks the graph's shape only (the ``.net`` writer has its own rules)."""
    problems = {}
    for name, node in lowered.nodes.items():
        if isinstance(node, (N.Input, N.Output, N.Flatten)):     # netx has a flatten layer
            continue
        if isinstance(node, IN.IntCubaLIF):
            diffs = node.lava_differences()
            if node.threshold is None:    # never fires: a Lava LIF whatever its reset/compare flags
                diffs = [d for d in diffs if not d.startswith(("reset is", "comparison is"))]
            if diffs:
                problems[name] = "; ".join(diffs)
        elif isinstance(node, IN.IntDense):
            w = np.asarray(node.weight, np.int64)
            if w.size and (w.min() < -256 or w.max() > 255):
                problems[name] = f"weights {w.min()}..{w.max()} outside Lava's 8-bit Dense range [-256, 255]"
        elif isinstance(node, IN.IntConv2d):
            if node.weight_exp != 0 or node.bias is not None:
                problems[name] = "Lava's Conv has no weight_exp and no bias"
        else:
            problems[name] = f"{node.type_name} has no Loihi 2 chip process"
    return problems


@register_pass("chip_native", lossless=False)
def chip_native(graph: Graph, ctx: CompileContext) -> Graph:
    """Map non-chip-native neurons to the closest Lava LIF (only with loihi2: {neurons: chip})."""
    if not getattr(ctx.config, "chip_native", False):
        return graph
    out, done = map_chip_native(graph)
    for m in done:
        ctx.note(m.node, chip_native=m.entry())
    return out
