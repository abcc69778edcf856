"""Pass: discretize continuous-time NIR neurons into :class:`~snnc.ir.nodes.DiscreteLIF` nodes.

Forward Euler with step ``dt`` (seconds), the convention of snnTorch's and Norse's NIR
importers (docs/neurons.md#discretization). With a = dt / tau_syn and b = dt / tau_mem:

    CubaLIF / CubaLI:  i_t = (1 - a) i_{t-1} + a * w_in * x_t
                       v_t = (1 - b) v_{t-1} + b * r * i_t + b * v_leak
    LIF / LI:          v_t = (1 - b) v_{t-1} + b * r * x_t + b * v_leak        (b = dt / tau)
    IF / I:            v_t = v_{t-1} + g * r * x_t
        g = 1 with ``integrator='per_step'`` (default: Norse's and Sinabs's reading of NIR IF,
        whose importers ignore dt for IF), g = dt with ``integrator='euler'`` (NIR's ODE literally).

Spike test ``v > v_threshold`` (NIR, strict) and reset to ``v_reset`` in the same step
(``reset='zero'``), or by subtraction of the threshold (``reset='subtract'``, an import option
for files whose exporter meant it, e.g. Sinabs IAF). ``v_min`` (optional) bounds the membrane
from below (Sinabs ``min_v_mem``).

NIR ``IF`` with ``metadata['if_spikes'] == 'multi'`` (Sinabs's default ``MultiSpike``) becomes a
soft-reset count neuron, ``LIFB(leak=1, threshold_step=v_threshold, max_burst=max_spikes,
reset='subtract', comparison='>=')``: n = #{k : v >= k*theta}; ``if_v_min='neg_threshold'``
bounds v from below by -v_threshold after the reset (Sinabs ``min_v_mem=-thr`` from its importer).

A uniform NIR ``Delay`` becomes a delay on its outgoing edges (round(delay / dt) steps).
Requires dt <= every tau (else the Euler update is unstable: an error, not a silent result).
"""

from __future__ import annotations

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError, UnsupportedError
from snnc.ir.graph import Edge, Graph

INTEGRATORS = ("per_step", "euler")


def _a(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _ratio(dt: float, tau, name: str, fname: str) -> np.ndarray:
    tau = _a(tau)
    if (tau <= 0).any():
        raise ParameterError("time constant must be > 0", node=name, field=fname)
    r = dt / tau
    if (r > 1).any():
        raise ParameterError(
            f"dt = {dt:g} s exceeds {fname} = {float(tau.min()):g} s: forward Euler is unstable",
            node=name, field=fname,
            hint="pass a smaller dt (--dt); a graph from Norse's to_nir (tau = dt * tau) loads with preset='norse'")
    return r


def discretize_node(node: N.Node, name: str, dt: float, *, reset: str = "zero",
                    integrator: str = "per_step", v_min: dict | None = None, if_spikes: str = "single",
                    max_spikes: int = 64, if_v_min: str | None = None, shape: tuple | None = None) -> N.Node:
    """The discrete-time node for one continuous NIR neuron (others returned unchanged)."""
    if not isinstance(node, (N.I, N.IF, N.LI, N.LIF, N.CubaLI, N.CubaLIF)):
        return node
    from snnc.ir.shapes import neuron_shape

    shape = shape or neuron_shape(node, name) or (1,)   # scalar parameters: the population's inferred shape
    if isinstance(node, N.IF) and if_spikes == "multi":
        # several spikes per step (Sinabs MultiSpike): the soft-reset count neuron
        gain = 1.0 if integrator == "per_step" else dt
        thr = _a(node.v_threshold)
        out = N.LIFB(shape=tuple(shape), leak=_a(1.0), v_threshold=thr, max_burst=int(max_spikes),
                     threshold_step=thr, input_gain=gain * _a(node.r), reset="subtract", comparison=">=",
                     v_min=-thr if if_v_min == "neg_threshold" else None)
        out.metadata = {**node.metadata, "discretized_from": "IF", "spikes_per_step": "multi"}
        return out
    kw: dict = {}
    if isinstance(node, (N.I, N.IF)):
        gain = 1.0 if integrator == "per_step" else dt
        kw.update(voltage_decay=_a(1.0), current_gain=_a(1.0), input_gain=gain * _a(node.r))
    elif isinstance(node, (N.LI, N.LIF)):
        b = _ratio(dt, node.tau, name, "tau")
        kw.update(voltage_decay=1.0 - b, current_gain=_a(1.0), input_gain=b * _a(node.r),
                  bias=b * _a(node.v_leak))
    else:
        a = _ratio(dt, node.tau_syn, name, "tau_syn")
        b = _ratio(dt, node.tau_mem, name, "tau_mem")
        w_in = _a(1.0 if node.w_in is None else node.w_in)
        kw.update(current_decay=1.0 - a, input_gain=a * w_in, voltage_decay=1.0 - b,
                  current_gain=b * _a(node.r), bias=b * _a(node.v_leak))
    if kw.get("bias") is not None and not np.any(kw["bias"]):
        kw["bias"] = None
    if isinstance(node, (N.IF, N.LIF, N.CubaLIF)):
        kw["v_threshold"] = _a(node.v_threshold)
        kw["v_reset"] = _a(0.0 if node.v_reset is None else node.v_reset)
        kw["reset"] = reset
        kw["comparison"] = ">"
    else:
        kw["reset"] = "none"
    if v_min is not None and name in v_min:
        kw["v_min"] = _a(v_min[name])
    elif if_v_min == "neg_threshold" and isinstance(node, N.IF):
        kw["v_min"] = -_a(node.v_threshold)
    out = N.DiscreteLIF(shape=tuple(shape), **kw)
    out.metadata = dict(node.metadata)
    out.metadata["discretized_from"] = node.type_name
    return out


def discretize(graph: Graph, dt: float | None = None, *, reset: str | None = None,
               integrator: str | None = None) -> Graph:
    """Pass: every continuous NIR neuron becomes a DiscreteLIF at step ``dt`` (default: the
    graph's ``metadata['dt']``); uniform Delay nodes become edge delays.

    ``reset`` and ``integrator`` default to the graph's import options (``metadata``
    ``reset_mode`` / ``integrator``), else 'zero' / 'per_step'."""
    dt = float(dt if dt is not None else graph.metadata.get("dt", 0) or 0)
    if not dt > 0:
        raise ParameterError(f"dt must be > 0 seconds, got {dt}", field="dt", hint="pass --dt")
    reset = reset or graph.metadata.get("reset_mode", "zero")
    integrator = integrator or graph.metadata.get("integrator", "per_step")
    if integrator not in INTEGRATORS:
        raise ParameterError(f"integrator '{integrator}' not in {INTEGRATORS}", field="integrator")
    v_min = graph.metadata.get("v_min")
    out = Graph(metadata=dict(graph.metadata))
    out.metadata.update(dt=dt, level="discrete", reset_mode=reset, integrator=integrator)
    delay_steps: dict[str, int] = {}
    from snnc.ir.shapes import infer_shapes

    shapes = infer_shapes(graph) if not any(isinstance(n, N.Subgraph) for n in graph.nodes.values()) else {}
    for name, node in graph.nodes.items():
        if isinstance(node, N.Subgraph):
            raise UnsupportedError("nested graph not flattened", node=name,
                                   hint="run passes.flatten_subgraphs first")
        if isinstance(node, N.Delay):
            d = _a(node.delay)
            if d.size == 0 or not np.all(d == d.reshape(-1)[0]):
                raise UnsupportedError("per-element delays are not supported; only a uniform delay",
                                       node=name, field="delay")
            delay_steps[name] = int(round(float(d.reshape(-1)[0]) / dt))
            continue
        out.nodes[name] = discretize_node(
            node, name, dt, reset=reset, integrator=integrator, v_min=v_min,
            if_spikes=graph.metadata.get("if_spikes", "single"), max_spikes=int(graph.metadata.get("max_spikes", 64)),
            if_v_min=graph.metadata.get("if_v_min"), shape=shapes.get(name))
    # splice uniform delays into edges
    edges = list(graph.edges)
    while any(e.src in delay_steps or e.dst in delay_steps for e in edges):
        spliced = []
        for e in edges:
            if e.dst in delay_steps:
                for o in (o for o in edges if o.src == e.dst):
                    spliced.append(Edge(e.src, o.dst, e.delay + delay_steps[e.dst] + o.delay))
            elif e.src in delay_steps:
                continue
            else:
                spliced.append(e)
        edges = spliced
    out.edges = edges
    return out
