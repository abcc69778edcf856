"""Import presets: each framework's own reading of the neurons it exports to NIR.

A NIR file does not say how the exporting framework ran its neurons; where the framework's
forward pass differs from NIR's semantics (``docs/frameworks.md`` has the numbers), a preset
turns the imported graph into the discrete graph that reproduces that forward pass spike for
spike. Without a preset snnc follows NIR. ``snnc.load(path, preset=...)`` and
``snnc.frontend.from_nir(graph, preset=...)`` apply them; explicit ``dt`` / ``reset`` options
override a preset's defaults.

========  ===========================================================================================
preset    what it changes (module docstring of each ``_preset_*`` function has the equations)
========  ===========================================================================================
snntorch  dt = 1e-4 s (the exporter's hard-coded step, ``tau = dt / (1 - beta)``); ``Leaky``'s default
          reset by subtraction applied one step late (``reset_delay=True``); the recurrent synapse of
          ``RLeaky`` / ``RSynaptic`` sees last step's spikes, so its bias already acts at step 0
          (delay on the spike edge). ``reset='zero'`` for nets trained with ``reset_mechanism='zero'``.
norse     Norse's ``to_nir`` writes ``tau = dt * tau_true`` (``dt / tau_inv``): time constants are
          divided by the export dt (default 1e-3 s, or the ``dt`` option) before the Euler step;
          ``LIFCell`` (CubaLIF) adds its input to the current without the ``dt / tau_syn`` factor.
sinabs    IF as Sinabs's ``IAF`` (several spikes per step, reset by subtraction, membrane bounded
          below by -threshold, dt ignored).
rockpool  ``LIFTorch``: exponential decays ``exp(-dt/tau)``, input added before the synaptic decay,
          spike ``v >= threshold``, reset by subtraction; dt solved from the exporter's
          ``r = tau_mem * exp(-dt/tau_mem) / dt``.
spyx      dt = 1 (``to_nir``'s default); the spike is tested on the membrane *before* the step's update:
          a one-step delay on each neuron's input edge, LIF as snnTorch's delayed subtraction (LIFB),
          IF / CuBaLIF with a same-step subtract reset; input gain 1 (``r = beta`` is the decay); the
          recurrent export's input edge moved from ``w_rec`` onto the neuron; channels-last Flatten.
========  ===========================================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError, UnsupportedError
from snnc.ir.graph import Edge, Graph
from snnc.passes.discretize import discretize


@dataclass(frozen=True)
class Preset:
    """One framework's reading. ``defaults``: import options it sets (graph metadata keys
    ``dt``, ``reset_mode``, ...); ``rewrite(graph) -> graph`` turns the imported continuous graph
    into the framework's discrete graph (None: metadata only, the discretize pass does the rest)."""

    name: str
    defaults: dict = field(default_factory=dict)
    rewrite: Callable[[Graph], Graph] | None = None


PRESETS: dict[str, Preset] = {}


def preset(name: str, **defaults):
    """Decorator registering ``rewrite`` as preset ``name`` with its default options."""
    def deco(fn):
        PRESETS[name] = Preset(name, defaults, fn)
        return fn
    return deco


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ParameterError(f"unknown preset '{name}'", field="preset", hint=f"choose from {sorted(PRESETS)}")
    return PRESETS[name]


def _a(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def delay_on_spike_edge(graph: Graph) -> Graph:
    """Move each recurrent delay from ``synapse -> neuron`` to the synapse's input edge
    ``neuron -> synapse``: the recurrent synapse sees the spikes of step t-1 (zero at step 0),
    so its bias reaches step 0 (snnTorch's RLeaky/RSynaptic, Rockpool's ``w_rec``)."""
    out = graph.copy()
    for e in [e for e in out.edges if e.delay]:
        ins, outs = out.in_edges(e.src), out.out_edges(e.src)
        if len(ins) == 1 and len(outs) == 1 and ins[0].delay == 0 and \
                isinstance(out.nodes[e.src], (N.Affine, N.Linear, N.Conv2d)):
            out.edges[out.edges.index(ins[0])] = Edge(ins[0].src, ins[0].dst, e.delay)
            out.edges[out.edges.index(e)] = Edge(e.src, e.dst, 0)
    return out


def _discrete(graph: Graph) -> Graph:
    out = discretize(graph)
    out.metadata["preset_discretized"] = True
    return out


# ------------------------------------------------------------------------------------------
# snnTorch
# ------------------------------------------------------------------------------------------


@preset("snntorch", dt=1e-4, reset_mode="subtract", reset_timing="delayed")
def _preset_snntorch(graph: Graph) -> Graph:
    """snnTorch 1.0 ``Leaky`` (``_neurons/leaky.py``), default ``reset_mechanism='subtract'``,
    ``reset_delay=True``: the reset term of step t is the spike of step t-1,

        m_t = beta * m_{t-1} + x_t - thr * z_{t-1},     z_t = 1[m_t > thr]

    With p_t = m_t - (thr / beta) z_t this is m_t = beta p_{t-1} + x_t: an LIFB with
    ``leak = beta``, ``v_threshold = thr``, ``threshold_step = thr / beta``, ``max_burst = 1``,
    ``comparison '>'`` (exact; needs beta > 0). Reset to zero with ``reset_delay=True``
    (``mem = (1 - reset) * mem`` before the update) is snnc's same-step reset to zero.
    ``Synaptic`` (CubaLIF) with the delayed subtraction has no exact snnc node: refused."""
    graph = delay_on_spike_edge(graph)
    reset = graph.metadata.get("reset_mode", "subtract")
    graph.metadata["reset_mode"] = "zero" if reset == "subtract" else reset
    out = _discrete(graph)
    out.metadata["reset_mode"] = reset
    if reset != "subtract":
        return out
    for name, node in list(out.nodes.items()):
        if not isinstance(node, N.DiscreteLIF) or node.v_threshold is None:
            continue
        if node.current_decay is not None:
            raise UnsupportedError(
                "snnTorch Synaptic/RSynaptic with reset by subtraction one step late (reset_delay=True) has "
                "no exact snnc neuron", node=name, field="reset",
                hint="train with reset_mechanism='zero' and load with reset='zero', or load without the preset "
                     "(NIR: reset in the same step)")
        beta = _a(node.voltage_decay)
        if (beta <= 0).any():
            raise ParameterError("snnTorch's delayed subtract reset needs beta > 0", node=name, field="beta",
                                 hint="load with reset='zero' or without the preset")
        thr = _a(node.v_threshold)
        lifb = N.LIFB(shape=node.shape, leak=beta, v_threshold=thr, max_burst=1,
                      threshold_step=np.broadcast_to(thr / beta, np.broadcast_shapes(thr.shape, beta.shape)).copy(),
                      input_gain=_a(node.input_gain) * _a(node.current_gain), reset="subtract", comparison=">")
        lifb.metadata = {**node.metadata, "reset_timing": "delayed"}
        out.nodes[name] = lifb
        if node.bias is not None and np.any(node.bias):
            raise UnsupportedError("a neuron bias with snnTorch's delayed reset", node=name, field="v_leak")
    return out


# ------------------------------------------------------------------------------------------
# Norse
# ------------------------------------------------------------------------------------------

_TAU_FIELDS = ("tau", "tau_syn", "tau_mem")


@preset("norse", dt=1e-3)
def _preset_norse(graph: Graph) -> Graph:
    """Norse 1.1 ``to_nir`` (``utils/export_nir.py``) writes ``tau = dt / tau_inv`` = dt * tau
    (tau in s): time constants are divided by the export dt (the graph's dt, Norse's default
    1e-3 s) and the graph is discretized at that dt, so the Euler factor is Norse's
    ``dt * tau_inv``. ``LIFCell`` (``functional/lif.py``, ``lif_feed_forward_step``):

        j_t = (1 - dt tau_syn_inv) j_{t-1} + x_t        (the input jump, no dt/tau_syn factor)
        v_t = v_{t-1} + dt tau_mem_inv (v_leak - v_{t-1} + j_t)

    i.e. snnc's CubaLIF with input gain w_in instead of w_in * dt/tau_syn."""
    dt = float(graph.metadata["dt"])
    out = graph.copy()
    for node in out.nodes.values():
        for f in _TAU_FIELDS:
            if isinstance(node, (N.LIF, N.LI, N.CubaLIF, N.CubaLI)) and hasattr(node, f):
                setattr(node, f, _a(getattr(node, f)) / dt)
    cuba = {n for n, node in out.nodes.items() if isinstance(node, (N.CubaLIF, N.CubaLI))}
    w_in = {n: _a(1.0 if out.nodes[n].w_in is None else out.nodes[n].w_in) for n in cuba}
    out = _discrete(out)
    out.metadata["time_constants_divided_by"] = dt
    for n in cuba:
        out.nodes[n].input_gain = w_in[n] * np.ones_like(_a(out.nodes[n].input_gain))
    return out


# ------------------------------------------------------------------------------------------
# Sinabs (the discretize pass reads the metadata: IF -> LIFB count neuron)
# ------------------------------------------------------------------------------------------

# sinabs.nir.from_nir: IF -> IAFSqueeze(spike_threshold=thr, min_v_mem=-thr) with the IAF defaults
# MultiSpike (several spikes per step) and MembraneSubtract (sinabs/nir.py, layers/iaf.py)
PRESETS["sinabs"] = Preset("sinabs", {"reset_mode": "subtract", "if_spikes": "multi", "if_v_min": "neg_threshold",
                                      "max_spikes": 64, "integrator": "per_step"}, lambda graph: _discrete(graph))


# ------------------------------------------------------------------------------------------
# Rockpool
# ------------------------------------------------------------------------------------------


def rockpool_dt(tau, r) -> float:
    """Solve Rockpool's export ``r = tau * exp(-dt / tau) / dt`` for dt (s): with u = dt / tau,
    ``r u = exp(-u)`` has one positive root (bisection to float64 precision)."""
    tau, r = float(np.ravel(tau)[0]), float(np.ravel(r)[0])
    if not (tau > 0 and r > 0):
        raise ParameterError("cannot recover Rockpool's dt from tau and r", field="r")
    lo, hi = 0.0, 1.0
    while r * hi < np.exp(-hi):
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if r * mid < np.exp(-mid) else (lo, mid)
    return 0.5 * (lo + hi) * tau


@preset("rockpool", reset_mode="subtract")
def _preset_rockpool(graph: Graph) -> Graph:
    """Rockpool 3.1 ``LIFTorch`` (``nn/modules/torch/lif_torch.py``, ``forward``), per step:

        I_t = beta * (I_{t-1} + x_t)            beta = exp(-dt / tau_syn)
        v_t = alpha * v_{t-1} + I_t (+ bias)    alpha = exp(-dt / tau_mem)
        n_t = 1[v_t >= thr] * floor(v_t / thr), clipped to max_spikes_per_dt;  v_t -= n_t * thr

    The exporter writes ``r = tau_mem * alpha / dt`` (dt solved back, :func:`rockpool_dt`) and
    drops the bias (v_leak = 0). Recurrent weights arrive on the spike edge with one step of
    delay. Multi-spike output with a synaptic current has no snnc node: the preset reads one
    spike per step (``max_spikes_per_dt=1``, Xylo's setting) and says so in the metadata."""
    graph = delay_on_spike_edge(graph)
    dts = [rockpool_dt(node.tau_mem, node.r) for node in graph.nodes.values() if isinstance(node, N.CubaLIF)]
    dts += [rockpool_dt(node.tau, node.r) for node in graph.nodes.values() if isinstance(node, (N.LIF, N.LI))]
    if graph.metadata.get("dt_source") != "option" and dts:
        graph.metadata["dt"], graph.metadata["dt_source"] = float(np.median(dts)), "preset"
    dt = float(graph.metadata["dt"])
    out = _discrete(graph)
    for name, node in graph.nodes.items():
        d = out.nodes[name]
        if isinstance(node, (N.CubaLIF, N.CubaLI)):
            beta, alpha = np.exp(-dt / _a(node.tau_syn)), np.exp(-dt / _a(node.tau_mem))
            d.current_decay, d.input_gain, d.voltage_decay, d.current_gain = beta, beta, alpha, _a(1.0)
        elif isinstance(node, (N.LIF, N.LI)):
            d.voltage_decay, d.input_gain, d.current_gain = np.exp(-dt / _a(node.tau)), _a(1.0), _a(1.0)
        else:
            continue
        d.bias = None
        if d.v_threshold is not None:
            d.comparison, d.reset = ">=", "subtract"
        d.metadata["spikes_per_step"] = "single"
    return out


# ------------------------------------------------------------------------------------------
# Spyx
# ------------------------------------------------------------------------------------------


@preset("spyx", dt=1.0, reset_mode="subtract")
def _preset_spyx(graph: Graph) -> Graph:
    """Spyx 1.0 (``spyx/nn.py``; dt = the ``to_nir`` dt, default 1). Per step, with the state V
    of the step before (zero at step 0):

        LIF, RLIF:  s_t = 1[V_{t-1} > thr];  V_t = beta V_{t-1} + x_t (+ W s_t) - thr s_t
        IF, RIF:    the same with beta = 1
        CuBaLIF, RCuBaLIF:  s_t = 1[V_{t-1} > thr];  I_t = alpha I_{t-1} + x_t (+ W s_t);
                            V_t = beta (V_{t-1} - thr s_t) + I_t
        PSU_LIF (exported as LI + Threshold):  V_t = beta V_{t-1} + x_t;  s_t = 1[V_t > thr]

    With z_t = 1[V_t > thr] (the test on the *updated* state), s_t = z_{t-1}: a Spyx neuron is
    D N, where D is a one-step delay (zero at step 0) and N the neuron that tests its new state:
    for LIF, ``V_t = beta V_{t-1} + x_t - thr z_{t-1}`` is snnTorch's delayed subtraction, an LIFB
    (``threshold_step = thr / beta``, one spike, ``'>'``; needs beta > 0); for IF and CuBaLIF the
    reset acts before the decay, which is snnc's DiscreteLIF with a same-step subtract reset.
    A neuron from zero state with zero input stays silent (thr > 0), so D N = N D: the delay goes
    on the neuron's feed-forward input edge (after the synapse's bias, which Spyx's next layer
    already sees at step 0), the recurrence keeps NIR's one step (``W s_t = W z_{t-1}``).

    The export is read as Spyx's own ``from_nir`` reads it: ``r = beta`` is the decay and the
    input enters with gain 1 (NIR would scale it by ``(1 - beta) beta``); the recurrent subgraph
    ``input -> w_rec -> lif <-> w_rec`` means ``x + W s`` (the input edge is moved onto the
    neuron); a Linear after a Flatten of a ``(C, H, W)`` tensor holds Spyx's channels-last
    (H, W, C) flatten order (its columns are permuted to snnc's (C, H, W) order)."""
    graph = _spyx_fix_recurrent(_spyx_fix_flatten(graph))
    dt = float(graph.metadata["dt"])
    read = {}
    for name, node in graph.nodes.items():
        if isinstance(node, N.LIF):
            read[name] = ("lif", _a(node.r), None)
        elif isinstance(node, N.CubaLIF):
            read[name] = ("cuba", _a(node.r), 1.0 - dt / _a(node.tau_syn))
        elif isinstance(node, N.IF):
            read[name] = ("if", _a(1.0), None)
        elif isinstance(node, N.LI):       # PSU_LIF's reset-free membrane (a Threshold node follows)
            read[name] = ("li", 1.0 - dt / _a(node.tau), None)
        elif isinstance(node, (N.CubaLI, N.I)):
            raise UnsupportedError(f"Spyx exports no {node.type_name}; this graph is not Spyx's", node=name,
                                   field="preset", hint="load without the preset or with the exporting framework's")
    out = _discrete(graph)
    for name, (kind, beta, alpha) in read.items():
        node = out.nodes[name]
        if kind == "li":                   # V_t = beta V_{t-1} + x_t, tested in the same step: no delay
            node.voltage_decay, node.input_gain, node.current_gain, node.bias = beta, _a(1.0), _a(1.0), None
            continue
        thr = _a(node.v_threshold)
        if kind == "lif":
            if (beta <= 0).any():
                raise ParameterError("Spyx's LIF (spike from the previous step's membrane) needs beta > 0 in snnc",
                                     node=name, field="beta", hint="train with beta > 0 or load without the preset")
            new = N.LIFB(shape=node.shape, leak=beta * np.ones(node.shape), v_threshold=thr, max_burst=1,
                         threshold_step=np.broadcast_to(thr / beta, node.shape).copy(),
                         input_gain=np.ones(node.shape), reset="subtract", comparison=">")
            new.metadata = {**node.metadata, "reset_timing": "delayed"}
            out.nodes[name] = new
        else:
            node.voltage_decay, node.input_gain, node.current_gain = beta * np.ones(node.shape), _a(1.0), _a(1.0)
            node.current_decay = None if alpha is None else alpha
            node.bias, node.reset, node.comparison = None, "subtract", ">"
        out.nodes[name].metadata["spike_timing"] = "previous step's membrane (input edge delayed one step)"
        feed = [e for e in out.in_edges(name) if not _closes_cycle(out, e)]
        for e in feed:
            out.edges[out.edges.index(e)] = Edge(e.src, e.dst, e.delay + 1)
    return out


def _closes_cycle(graph: Graph, edge: Edge) -> bool:
    """True if ``edge.dst`` reaches ``edge.src`` (the edge belongs to a recurrent loop)."""
    seen, todo = set(), [edge.dst]
    while todo:
        n = todo.pop()
        if n == edge.src:
            return True
        if n not in seen:
            seen.add(n)
            todo += [e.dst for e in graph.out_edges(n)]
    return False


def _spyx_fix_recurrent(graph: Graph) -> Graph:
    """Spyx's recurrent subgraph ``prev -> w_rec -> lif -> w_rec`` is run by Spyx as
    ``lif(x + W s)``: move the external in-edge of ``w_rec`` onto the neuron."""
    out = graph.copy()
    for name, node in graph.nodes.items():
        if not isinstance(node, (N.Linear, N.Affine)):
            continue
        ins, outs = out.in_edges(name), out.out_edges(name)
        if len(outs) != 1 or len(ins) != 2:
            continue
        lif = outs[0].dst
        back = [e for e in ins if e.src == lif]
        if len(back) != 1 or not isinstance(out.nodes[lif], (N.LIF, N.CubaLIF, N.IF)):
            continue
        ext = next(e for e in ins if e.src != lif)
        out.edges[out.edges.index(ext)] = Edge(ext.src, lif, ext.delay)
        out.metadata.setdefault("import_notes", []).append(
            f"spyx: recurrent layer '{lif}': input moved from '{name}' (w_rec) onto the neuron, as Spyx runs it")
    return out


def _spyx_fix_flatten(graph: Graph) -> Graph:
    """A Linear/Affine after a Flatten of a (C, H, W) tensor: Spyx flattens channels-last
    (H, W, C); permute the weight columns to snnc's (C, H, W) order."""
    out = graph.copy()
    for name, node in graph.nodes.items():
        if not isinstance(node, N.Flatten):
            continue
        shape = None if node.input_shape is None else tuple(node.input_shape)
        if shape is None or len(shape) != 3:
            continue
        for e in graph.out_edges(name):
            syn = out.nodes[e.dst]
            if not isinstance(syn, (N.Linear, N.Affine)):
                raise UnsupportedError("a Spyx Flatten of a (C, H, W) tensor must feed a Linear", node=e.dst,
                                       field="preset", hint="put the Linear right after spyx.nn.Flatten")
            c, h, w = shape
            wt = _a(syn.weight)
            syn.weight = wt.reshape(wt.shape[0], h, w, c).transpose(0, 3, 1, 2).reshape(wt.shape[0], -1)
    return out
