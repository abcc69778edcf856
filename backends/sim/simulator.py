"""The cycle-accurate numpy simulator.

Schedule: the graph's strongly connected components in topological order. A component
without a cycle (one node) is computed for all T steps at once ("node-major": one matmul over
T x B rows for a synapse, one step loop for a neuron); a component with a cycle is computed
step by step, its nodes in zero-delay topological order. Edge delays are time shifts. Both
schedules give identical results, because a node's output at step t depends only on its
inputs at steps <= t (a whole-window TimeMix, the one non-causal node, sees whole windows and
may not sit on a cycle; the streaming TimeMix of loihi2 graphs, one window late, is causal
and runs step by step like a neuron).

Arrays are ``[T, B, *shape]`` inside; the public API takes and returns ``[B, T, *shape]``.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import ShapeError, UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.shapes import infer_shapes
from snnc.ir.signals import prepare_inputs
from snnc.ir.trace import Trace

from . import kernels as K
from .allocator import tune_allocator
from .ops import shift_time


def _integer_graph(graph: Graph) -> bool:
    return graph.metadata.get("level") == "integer"


class Simulator:
    """Simulate a discrete-time graph (float nodes, or integer nodes of a lowered graph).

    ``dtype``: float dtype of float simulations (float64 default; float32 to mimic torch).
    Integer graphs always run in int64. ``event_driven``: binary integer synapses sum only
    their active inputs when the measured activity is low (None, default: chosen per layer and
    call), always (True) or never (False); the results are identical every way
    (:mod:`snnc.backends.sim.events`). ``step_by_step``: run the whole graph as one stepped
    component (every node one step at a time, the reference order) instead of node-major
    execution of its acyclic parts; the results are identical (module docstring), only slower;
    refused for graphs with a whole-window TimeMix."""

    def __init__(self, graph: Graph, *, dtype=np.float64, event_driven: bool | None = None,
                 step_by_step: bool = False):
        tune_allocator()
        self.graph = graph
        self.integer = _integer_graph(graph)
        self.dtype = np.int64 if self.integer else np.dtype(dtype).type
        self.shapes = infer_shapes(graph)
        self.kernels: dict[str, K.Kernel] = {}
        for name, node in graph.nodes.items():
            if isinstance(node, N.Input):
                continue
            ins = [self.shapes[e.src] for e in graph.in_edges(name)]
            self.kernels[name] = K.make_kernel(node, name, ins[0] if ins else None, self.shapes[name],
                                               self.dtype)
        self.schedule = self._schedule()
        if step_by_step:
            self.schedule = [[n for n in graph.evaluation_order() if not isinstance(graph.nodes[n], N.Input)]]
            self._schedule_checks(self.schedule)
        mode = {None: "auto", True: "events", False: "dense"}[event_driven]
        for k in self.kernels.values():
            if hasattr(k, "event_mode"):
                k.event_mode = mode

    def _schedule(self) -> list[list[str]]:
        comps = self.graph.components()
        self._schedule_checks([c for c in comps if self.graph.is_cyclic_component(c)])
        return comps

    def _schedule_checks(self, stepped: list[list[str]]) -> None:
        for comp in stepped:
            for name in comp:
                k = self.kernels.get(name)
                if k is not None and k.whole_window:
                    raise UnsupportedError("a whole-window node (TimeMix) cannot sit on a recurrent loop "
                                           "or run step by step", node=name)

    def run(self, inputs, *, steps: int | None = None, record: str = "outputs",
            record_states: bool = False) -> Trace:
        """Run on ``inputs``: an array [B, T, *shape] for a single-input graph, or a dict
        input name -> array. ``steps`` truncates or zero-pads the time axis. ``record``:
        'outputs' (Output nodes) or 'all' (every node)."""
        x = self._prepare_inputs(inputs, steps)
        T, B = next(iter(x.values())).shape[:2]
        out: dict[str, np.ndarray] = dict(x)
        states: dict[str, np.ndarray] = {}
        g = self.graph
        keep = g.output_names() if record == "outputs" else list(g.nodes)
        dies = self._last_use(set(keep))
        for i, comp in enumerate(self.schedule):
            if len(comp) == 1 and not any(e.src == e.dst for e in g.in_edges(comp[0])):
                name = comp[0]
                if name not in out:
                    y, st = self.kernels[name].run(self._gather(name, out, T, B), record_states)
                    out[name] = y
                    for k, v in st.items():
                        states[f"{name}.{k}"] = v
            else:
                self._run_cyclic(comp, out, states, T, B, record_states)
            for name in dies.get(i, ()):          # node-major arrays nobody reads any more
                out.pop(name, None)
        trace = Trace()
        for name in keep:
            trace.outputs[name] = np.moveaxis(out[name], 0, 1)
        for k, v in states.items():
            trace.states[k] = np.moveaxis(v, 0, 1)
        return trace

    def _last_use(self, keep: set[str]) -> dict[int, list[str]]:
        """Schedule position -> the nodes whose [T, B, ...] outputs can be dropped after it: not
        recorded, and every reader already computed (peak memory: a few layers, not the net)."""
        where = {n: i for i, comp in enumerate(self.schedule) for n in comp}
        dies: dict[int, list[str]] = {}
        for name in self.graph.nodes:
            if name in keep:
                continue
            last = max((where[e.dst] for e in self.graph.out_edges(name)), default=where[name])
            dies.setdefault(max(last, where[name]), []).append(name)
        return dies

    def _zeros(self, name, T, B):
        dt = np.complex128 if self._is_complex(name) else self.dtype
        return np.zeros((T, B, *self.shapes[name]), dt)

    def _is_complex(self, name) -> bool:
        node = self.graph.nodes[name]
        w = getattr(node, "weight", None)
        return w is not None and np.iscomplexobj(w)

    def _gather(self, name, out, T, B):
        """Summed input of ``name`` over all T steps (sources already computed)."""
        if getattr(self.kernels[name], "source", False):
            return np.zeros((T, B), self.dtype)
        total = None
        for e in self.graph.in_edges(name):
            v = shift_time(out[e.src], e.delay)
            total = v if total is None else total + v
        if total is None:
            raise ShapeError("node has no input", node=name)
        return total

    def _run_cyclic(self, comp, out, states, T, B, record_states):
        g = self.graph
        members = set(comp)
        buf = {n: None for n in comp}
        st = {n: self.kernels[n].init_state(B) for n in comp}
        rec = {n: {k: K.StepStack(T) for k in self.kernels[n].state_names} for n in comp} if record_states else {}
        external = {}
        for n in comp:
            ext = [e for e in g.in_edges(n) if e.src not in members]
            external[n] = sum((shift_time(out[e.src], e.delay) for e in ext[1:]),
                              shift_time(out[ext[0].src], ext[0].delay)) if ext else None
        internal = {n: [e for e in g.in_edges(n) if e.src in members] for n in comp}
        for t in range(T):
            for n in comp:
                x = None if external[n] is None else external[n][t]
                for e in internal[n]:
                    if t - e.delay < 0:
                        continue
                    src = buf[e.src]
                    if src is None:
                        continue
                    v = src[t - e.delay]
                    x = v if x is None else x + v
                k = self.kernels[n]
                if x is None:
                    x = np.zeros((B, *k.in_shape), self.dtype)
                y, st[n] = k.step(x, st[n], t)
                if buf[n] is None:
                    buf[n] = np.zeros((T, *y.shape), y.dtype)
                buf[n][t] = y
                for key, stack in rec.get(n, {}).items():
                    stack.put(t, st[n][key])
        for n in comp:
            out[n] = buf[n]
            for key, stack in rec.get(n, {}).items():
                states[f"{n}.{key}"] = stack.array()

    def _prepare_inputs(self, inputs, steps) -> dict[str, np.ndarray]:
        x = prepare_inputs(self.graph, inputs, steps, integer=self.integer, dtype=self.dtype)
        return {name: np.moveaxis(a, 1, 0) for name, a in x.items()}


def simulate(graph: Graph, inputs, *, steps: int | None = None, record: str = "outputs",
             record_states: bool = False, dtype=np.float64, event_driven: bool | None = None) -> Trace:
    """Convenience: ``Simulator(graph, dtype=dtype, event_driven=...).run(inputs, ...)``."""
    return Simulator(graph, dtype=dtype, event_driven=event_driven).run(inputs, steps=steps, record=record,
                                                                        record_states=record_states)
