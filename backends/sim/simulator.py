"""The cycle-accurate numpy simulator.

Schedule: the graph's strongly connected components in topological order, run over blocks of
Tb time steps (time-blocked execution, :mod:`snnc.backends.sim.blocks`: the whole schedule for
steps t0 .. t0 + Tb - 1, then the next block, states and delay histories carried over; Tb sized
so all nodes' block arrays together are a few tens of MB, and the block's heap pages are reused by the next
block). Within a block, a component without a cycle (one node) is computed for all the block's
steps at once ("node-major": one matmul over Tb x B rows for a synapse, one step loop for a
neuron); a component with a cycle is computed
step by step, its nodes in zero-delay topological order. Edge delays are time shifts. Both
schedules give identical results, because a node's output at step t depends only on its
inputs at steps <= t (a whole-window TimeMix, the one non-causal node, sees whole windows and
may not sit on a cycle; the streaming TimeMix of loihi2 graphs, one window late, is causal
and runs step by step like a neuron).

Samples are independent, so the batch of an integer graph whose blocks would be only a few
steps long runs as groups of samples, one group after the other (:meth:`Simulator.sample_groups`):
each group's blocks are longer within the same memory budget.

Arrays are ``[T, B, *shape]`` inside; the public API takes and returns ``[B, T, *shape]``.
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import ShapeError, UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.shapes import infer_shapes
from snnc.ir.signals import prepare_inputs
from snnc.ir.trace import Trace
from snnc.ir.value_bounds import output_bounds

from . import blocks as BL
from . import kernels as K
from .allocator import tune_allocator
from .ops import shift_time

#: shortest block the simulator runs when splitting the batch into groups allows a longer one
#: (:meth:`Simulator.sample_groups`). Measured on PilotNet at batch 32, 12 steps
#: (bench/sim_blocking.py, settings interleaved in one process, min of 6 rounds, us per
#: sample-step): groups of 32 samples x blocks of 2 steps 694, 8 x 8 671, 4 x 12 686, 1 x 12 807
MIN_BLOCK_STEPS = 8


def _integer_graph(graph: Graph) -> bool:
    return graph.metadata.get("level") == "integer"


class Simulator:
    """Simulate a discrete-time graph (float nodes, or integer nodes of a lowered graph).

    ``dtype``: float dtype of float simulations (float64 default; float32 to mimic torch).
    Integer graphs run in int64 semantics; results and states are int64. Inside, a kernel may
    compute in int32 where the graph's proven bounds or the block's measured ones allow it
    (:mod:`.narrow_lif`) and pass bool spikes / int32 sums to readers that take them
    (:meth:`_narrowing`); the values are those of int64 arithmetic. ``event_driven``: binary integer synapses sum only
    their active inputs when the measured activity is low (None, default: chosen per layer and
    call), always (True) or never (False); the results are identical every way
    (:mod:`snnc.backends.sim.events`). ``step_by_step``: run the whole graph as one stepped
    component (every node one step at a time, the reference order) instead of node-major
    execution of its acyclic parts; the results are identical (module docstring), only slower;
    refused for graphs with a whole-window TimeMix. ``block_steps``: steps per block (default:
    :meth:`steps_per_block`, from the layer sizes and the batch); ``group_samples``: samples
    per group of the batch of an integer graph (default: :meth:`sample_groups`); every block
    size and group size gives identical results."""

    def __init__(self, graph: Graph, *, dtype=np.float64, event_driven: bool | None = None,
                 step_by_step: bool = False, block_steps: int | None = None, group_samples: int | None = None):
        tune_allocator()
        self.block_steps = block_steps
        self.group_samples = group_samples
        self._step_bytes_cache: int | None = None
        self.graph = graph
        self.integer = _integer_graph(graph)
        self.dtype = np.int64 if self.integer else np.dtype(dtype).type
        self.shapes = infer_shapes(graph)
        self.kernels: dict[str, K.Kernel] = {}
        #: node -> its incoming edges (the graph's edge list scanned once, not per block)
        self.in_edges = {name: graph.in_edges(name) for name in graph.nodes}
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
        if self.integer:
            self._narrowing()
        mode = {None: "auto", True: "events", False: "dense"}[event_driven]
        for k in self.kernels.values():
            if hasattr(k, "event_mode"):
                k.event_mode = mode

    def _narrowing(self) -> None:
        """Narrow integer arrays between kernels of an integer graph. Every kernel with an
        ``input_bound`` gets the bound of its summed input that holds for every input
        (:func:`snnc.ir.value_bounds.output_bounds` without assumptions; inf when the graph does
        not bound it). A kernel with ``narrow_output`` may write a narrower integer dtype (the
        same values) when every reader takes one (``takes_narrow_input``), reads it over its
        only edge (nothing adds it to another array) and runs node-major (not on a cycle);
        recorded results are widened back to int64 (:class:`.blocks.Record`)."""
        bounds = output_bounds(self.graph, assumptions=False)
        stepped = {n for comp in self.schedule if not self._acyclic(comp) for n in comp}
        for name, k in self.kernels.items():
            if hasattr(k, "input_bound"):
                edges = self.in_edges[name]
                k.input_bound = sum(bounds.get(e.src, math.inf) for e in edges) if edges else math.inf
            if hasattr(k, "narrow_output") and name not in stepped:
                readers = self.graph.out_edges(name)
                k.narrow_output = bool(readers) and all(
                    getattr(self.kernels.get(e.dst), "takes_narrow_input", False) and len(self.in_edges[e.dst]) == 1
                    and e.dst not in stepped for e in readers)

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
        'outputs' (Output nodes) or 'all' (every node). The batch runs as one or more groups of
        samples (:meth:`sample_groups`), whose results are put side by side."""
        x = self._prepare_inputs(inputs, steps)
        T, B = next(iter(x.values())).shape[:2]
        groups = self.sample_groups(T, B)
        if len(groups) == 1:
            return self._run_group(x, record, record_states)
        parts = [self._run_group({k: v[:, b0:b1] for k, v in x.items()}, record, record_states) for b0, b1 in groups]
        trace = Trace()
        for field in ("outputs", "states"):
            for key in getattr(parts[0], field):
                getattr(trace, field)[key] = np.concatenate([getattr(p, field)[key] for p in parts], axis=0)
        return trace

    def sample_groups(self, T: int, B: int) -> list[tuple[int, int]]:
        """The batch's samples ``[(b0, b1), ...]`` as groups run one after the other. Samples are
        independent (no kernel couples them), so groups give the results of one pass over the
        whole batch, bit for bit. A batch whose blocks would be shorter than
        :data:`MIN_BLOCK_STEPS` (and than the run) is split into groups of as many samples as
        the block budget holds at that many steps: every block has fixed costs (carrying the
        delay histories, each kernel's setup per call) that a block of 2 steps pays per 2
        steps. Forced by ``group_samples`` (samples per group) when given. Integer graphs
        only: their float BLAS sums are proven exact, while a float graph's sums may round
        differently over another number of rows (a float graph runs as one group)."""
        size = self.group_samples
        if not self.integer:
            return [(0, B)]
        if size is None:
            want = min(T, MIN_BLOCK_STEPS)
            if self.block_steps is not None or self.steps_per_block(T, B) >= want:
                return [(0, B)]
            size = max(1, BL.BLOCK_BYTES // max(1, self._sample_step_bytes() * want))
        size = max(1, int(size))
        return [(b, min(B, b + size)) for b in range(0, B, size)]

    def _run_group(self, x: dict, record: str, record_states: bool) -> Trace:
        """:meth:`run` on one group of samples, ``x``: input name -> [T, B, *shape]."""
        T, B = next(iter(x.values())).shape[:2]
        g = self.graph
        keep = g.output_names() if record == "outputs" else list(g.nodes)
        tb = self.steps_per_block(T, B)
        single = tb >= T
        rec = {n: BL.Record(T, single, widen=self.integer) for n in keep}
        hist = self._histories(T, tb, single)
        traces = self._traces(T, B) if record_states else {}
        carry: dict = {}
        dies = self._last_use(set(keep))
        for t0 in range(0, max(T, 1), tb):
            t1 = min(T, t0 + tb)
            out: dict[str, np.ndarray] = {}
            for name, a in x.items():
                self._emit(name, a[t0:t1], out, rec, hist, t0)
            for i, comp in enumerate(self.schedule):
                if self._acyclic(comp):
                    name = comp[0]
                    if name not in out:
                        k, x_in = self.kernels[name], self._gather(name, out, hist, t1 - t0, B)
                        into = self._into(name, hist, t1 - t0, B)
                        if into is not None:
                            y = k.apply_into(x_in, into)
                        else:
                            y, carry[name] = k.run_block(x_in, carry.get(name), t0, traces.get(name))
                        self._emit(name, y, out, rec, hist, t0)
                else:
                    self._run_cyclic(i, comp, out, hist, carry, traces, t0, t1, B)
                    for name in comp:
                        self._emit(name, out[name], out, rec, hist, t0)
                for name in dies.get(i, ()):          # block arrays nobody reads any more
                    out.pop(name, None)
                    if single:                        # (no later block reads the history either)
                        hist.pop(name, None)
            if t1 < T:
                for h in hist.values():
                    h.advance()
        trace = Trace()
        for name in keep:
            trace.outputs[name] = np.moveaxis(rec[name].buf, 0, 1)
        for name, stacks in traces.items():
            for k, stack in stacks.items():
                v = stack.array()
                if v is None:                         # T == 0
                    v = np.zeros((0, B, *self.shapes[name]), self.dtype)
                trace.states[f"{name}.{k}"] = np.moveaxis(v, 0, 1)
        return trace

    def steps_per_block(self, T: int, B: int) -> int:
        """Steps per block of a run of T steps at batch B (:func:`.blocks.block_steps`: a node's
        block array about :data:`.blocks.BLOCK_BYTES`; the whole run with a whole-window node)."""
        step_bytes = B * self._sample_step_bytes()
        windows = [int(np.asarray(k.node.coefficients).shape[0]) for k in self.kernels.values() if k.whole_window]
        return BL.block_steps(T, step_bytes, window=math.lcm(*windows) if windows else 1, forced=self.block_steps)

    def _into(self, name, hist, n, B):
        """Where a stateless kernel that writes into a given array (``writes_into``) puts its
        block: the rows of its delay history (:meth:`.blocks.History.out_rows`; readers over
        a delay then read it in place), None otherwise. The dtype is the one the kernel is
        expected to write (``block_dtype``); a kernel that writes another returns its own array
        and the history copies it."""
        h = hist.get(name)
        k = self.kernels[name]
        if h is None or not k.writes_into:
            return None
        return h.out_rows(n, (B, *self.shapes[name]), k.block_dtype)

    def _sample_step_bytes(self) -> int:
        """Bytes of all nodes' values of one step of one sample (:meth:`_value_bytes` each;
        computed once: the shapes and the narrow outputs are fixed when the simulator is built)."""
        if self._step_bytes_cache is None:
            self._step_bytes_cache = sum(int(np.prod(s, dtype=np.int64)) * self._value_bytes(n)
                                         for n, s in self.shapes.items())
        return self._step_bytes_cache

    def _value_bytes(self, name) -> int:
        """Bytes per value a node stands for in the block budget: complex 16; a kernel's narrow
        output its own width (``narrow_itemsize``); else 8 -- also for Inputs and for kernels
        that return a view of their input (Flatten, Output), which allocate nothing themselves:
        their 8 bytes stand in for the temporaries the kernels allocate besides their outputs
        (the matmul's float sums, the int32 states). Counting them as 0 made the dense MLP's
        blocks at batch 256 54 steps instead of 23 and its first run 2.5x its warm one instead of
        1.0x (the block's arrays then overflow the heap glibc keeps, allocator.py)."""
        if self._is_complex(name):
            return 16
        k = self.kernels.get(name)
        return int(getattr(k, "narrow_itemsize", 8)) if getattr(k, "narrow_output", False) else 8

    def _histories(self, T: int, tb: int, single: bool) -> dict:
        """Node -> what carries its delayed output: a :class:`.blocks.History` (the block written
        in place, readers get views) for a kernel that writes into a given array; else a
        :class:`.blocks.Ring` of its last D steps, or, in a run of one block, nothing (a
        reader shifts the node's block array when it reads it: the copy is then still in
        cache for the sum it goes into; keeping every delayed part of NTIDIGITS in a buffer
        of its own instead made its batch-1 run 207-215 -> 246-251 us per step in
        bench/sim_networks.py, BENCHMARKS.md)."""
        hist: dict = {}
        for name, d in self._history_depths(T).items():
            if getattr(self.kernels.get(name), "writes_into", False):
                hist[name] = BL.History(d, tb, single)
            elif not single:
                hist[name] = BL.Ring(d)
        return hist

    def _history_depths(self, T: int) -> dict[str, int]:
        """Node -> steps of its output a later block needs: its largest outgoing delay (at most
        T; an edge of a longer delay only ever delivers the zeros before step 0)."""
        depth: dict[str, int] = {}
        for e in self.graph.edges:
            if e.delay > 0:
                depth[e.src] = max(depth.get(e.src, 0), min(e.delay, T))
        return depth

    def _traces(self, T, B) -> dict[str, dict[str, K.StepStack]]:
        cyclic = {n for comp in self.schedule for n in comp if not self._acyclic(comp)}
        order = [n for comp in self.schedule for n in comp if n in self.kernels]
        return {n: {k: K.StepStack(T) if n in cyclic else K.StepStack(T, B) for k in self.kernels[n].state_names}
                for n in order if self.kernels[n].stateful or n in cyclic}

    def _acyclic(self, comp) -> bool:
        return len(comp) == 1 and not any(e.src == e.dst for e in self.in_edges[comp[0]])

    @staticmethod
    def _emit(name, y, out, rec, hist, t0) -> None:
        """A node's block output: readers in this block, the recorded result, the history."""
        out[name] = y
        if name in rec:
            rec[name].write(t0, y)
        if name in hist:
            hist[name].write(y, t0)

    def _last_use(self, keep: set[str]) -> dict[int, list[str]]:
        """Schedule position -> the nodes whose block arrays can be dropped after it: every reader
        already computed (recorded results and delay histories keep their own copies)."""
        where = {n: i for i, comp in enumerate(self.schedule) for n in comp}
        dies: dict[int, list[str]] = {}
        for name in self.graph.nodes:
            last = max((where[e.dst] for e in self.graph.out_edges(name)), default=where.get(name, -1))
            dies.setdefault(max(last, where.get(name, -1)), []).append(name)
        return dies

    def _is_complex(self, name) -> bool:
        node = self.graph.nodes[name]
        w = getattr(node, "weight", None)
        return w is not None and np.iscomplexobj(w)

    def _source(self, e, out, hist, n):
        """The block's values arriving over edge ``e`` (``n`` steps)."""
        if e.delay == 0:
            return out[e.src]
        h = hist.get(e.src)
        if h is None:                                 # one block: the whole run's time shift
            return shift_time(out[e.src], e.delay)
        if e.delay > h.D:                             # longer than the run: only zeros arrive
            return np.zeros_like(out[e.src])
        return h.delayed(e.delay)

    def _gather(self, name, out, hist, n, B):
        """Summed input of ``name`` over the block's ``n`` steps (sources already computed)."""
        if getattr(self.kernels[name], "source", False):
            return np.zeros((n, B), self.dtype)
        total = None
        for e in self.in_edges[name]:
            v = self._source(e, out, hist, n)
            total = v if total is None else total + v
        if total is None:
            raise ShapeError("node has no input", node=name)
        return total

    def _run_cyclic(self, i, comp, out, hist, carry, traces, t0, t1, B):
        """A recurrent component step by step over the block ``t0 .. t1 - 1``; its states carry
        over in ``carry[i]``, steps of earlier blocks come from the delay histories."""
        n_steps = t1 - t0
        members = set(comp)
        buf = {n: None for n in comp}
        st = carry.get(i) or {n: self.kernels[n].init_state(B) for n in comp}
        external = {}
        for n in comp:
            ext = [e for e in self.in_edges[n] if e.src not in members]
            external[n] = sum((self._source(e, out, hist, n_steps) for e in ext[1:]),
                              self._source(ext[0], out, hist, n_steps)) if ext else None
        internal = {n: [e for e in self.in_edges[n] if e.src in members] for n in comp}
        for tt in range(n_steps):
            t = t0 + tt
            for n in comp:
                x = None if external[n] is None else external[n][tt]
                for e in internal[n]:
                    if t - e.delay < 0:
                        continue
                    if e.delay <= tt:
                        src = buf[e.src]
                        if src is None:
                            continue
                        v = src[tt - e.delay]
                    else:                             # a step of an earlier block
                        v = hist[e.src].row(t - e.delay)
                    x = v if x is None else x + v
                k = self.kernels[n]
                if x is None:
                    x = np.zeros((B, *k.in_shape), self.dtype)
                y, st[n] = k.step(x, st[n], t)
                if buf[n] is None:
                    buf[n] = np.zeros((n_steps, *y.shape), y.dtype)
                buf[n][tt] = y
                for key, stack in traces.get(n, {}).items():
                    stack.put(t, st[n][key])
        carry[i] = st
        for n in comp:
            out[n] = buf[n] if buf[n] is not None else np.zeros((0, B, *self.shapes[n]), self.dtype)

    def _prepare_inputs(self, inputs, steps) -> dict[str, np.ndarray]:
        x = prepare_inputs(self.graph, inputs, steps, integer=self.integer, dtype=self.dtype)
        return {name: np.moveaxis(a, 1, 0) for name, a in x.items()}


def simulate(graph: Graph, inputs, *, steps: int | None = None, record: str = "outputs",
             record_states: bool = False, dtype=np.float64, event_driven: bool | None = None) -> Trace:
    """Convenience: ``Simulator(graph, dtype=dtype, event_driven=...).run(inputs, ...)``."""
    return Simulator(graph, dtype=dtype, event_driven=event_driven).run(inputs, steps=steps, record=record,
                                                                        record_states=record_states)
