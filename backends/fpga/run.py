"""Run a lowered graph as generated C (gcc build, loaded with ctypes): the fpga backend's C
simulation, with the simulator's interface and Trace keys.

    from snnc.backends.fpga import run_fpga
    trace = run_fpga(lowered, x, record="all", record_states=True)    # x: int [B, T, *shape]
"""

from __future__ import annotations

import ctypes

import numpy as np

from snnc.ir.errors import SnncError, UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.signals import prepare_inputs
from snnc.ir.trace import Trace

from .build import DEFAULT_OPT, build

_LIBS: dict[str, ctypes.CDLL] = {}


_PTRS = ctypes.POINTER(ctypes.c_void_p)     # int64_t *const *: an array of data pointers


def _load(path: str) -> ctypes.CDLL:
    lib = _LIBS.get(path)
    if lib is None:
        lib = ctypes.CDLL(path)
        lib.snnc_lib_run.restype = ctypes.c_int64
        lib.snnc_lib_run.argtypes = [_PTRS, _PTRS, _PTRS, ctypes.c_int64, ctypes.c_int64]
        lib.snnc_lib_window.restype = ctypes.c_int64
        _LIBS[path] = lib
    return lib


def _pointers(arrays: list[np.ndarray | None]):
    """A C array of the arrays' data pointers (NULL for None)."""
    arr = (ctypes.c_void_p * max(1, len(arrays)))()
    for i, a in enumerate(arrays):
        if a is not None:
            arr[i] = a.ctypes.data
    return arr


class CModel:
    """A graph's generated C, built (or taken from the cache) and loaded once; :meth:`run` as
    often as needed (the C twin of :class:`snnc.backends.sim.Simulator`)."""

    def __init__(self, graph: Graph, *, opt: str = DEFAULT_OPT, fast: bool = True):
        """``fast``: build the fast C-simulation bodies (default) or the HLS bodies (False)."""
        self.graph = graph
        self.plan, self.lib_path, self.cache_hit = build(graph, opt=opt, fast=fast)
        self.lib = _load(self.lib_path)
        plan = self.plan
        self._inputs, self._outputs, self._names = list(plan.inputs), list(plan.outputs), list(graph.nodes)
        self._out_sizes = [plan.size(n) for n in self._outputs]
        self._port_ranges = {n: (-(1 << (plan.codes[n].out_bits - 1)), (1 << (plan.codes[n].out_bits - 1)) - 1)
                             for n in self._inputs}

    def run(self, inputs, *, steps: int | None = None, record: str = "outputs", record_states: bool = False) -> Trace:
        """``inputs``: [B, T, *shape] for a single-input graph or {input name: array}. Returns a
        Trace like the simulator's: outputs [B, T, *shape] int64 (complex128 for complex synapse
        outputs), states '<node>.<state>'."""
        plan, graph = self.plan, self.graph
        if record not in ("outputs", "all"):
            raise SnncError(f"record must be 'outputs' or 'all', got '{record}'")
        x = prepare_inputs(graph, inputs, steps, integer=True)
        B, T = next(iter(x.values())).shape[:2]
        if T % plan.window:
            raise UnsupportedError(f"run length {T} is not a multiple of the model's window {plan.window} (TimeMix)",
                                   hint=f"use --steps {plan.window * max(1, T // plan.window)}")
        ins = [np.ascontiguousarray(x[n].reshape(B, T, -1)) for n in self._inputs]
        outs = [np.zeros((B, T, size), np.int64) for size in self._out_sizes]
        probes = [None] * len(plan.probes)
        if record == "all" or record_states:
            skip = set(self._inputs) | set(self._outputs)
            for i, p in enumerate(plan.probes):
                if (p.kind == "output" and record == "all" and p.node not in skip) or (p.kind == "state"
                                                                                       and record_states):
                    probes[i] = np.zeros((B, T, p.size), np.int64)
        rc = self.lib.snnc_lib_run(_pointers(ins), _pointers(outs), _pointers(probes), B, T)
        if rc == -2:              # checked while the C copied the inputs into its ports
            self._port_error(x)
        if rc != 0:
            raise SnncError(f"generated C refused the run (code {rc})")
        trace = Trace()
        by_probe = {p.key: (p, a) for p, a in zip(plan.probes, probes) if a is not None}
        names = self._names
        for name in (names if record == "all" else self._outputs):
            if name in x:
                trace.outputs[name] = x[name]
                continue
            raw = outs[self._outputs.index(name)] if name in self._outputs else by_probe[name][1]
            trace.outputs[name] = _decode(raw, plan.probes[names.index(name)], B, T)
        if record != "all":          # the simulator's key order: graph order
            trace.outputs = {n: trace.outputs[n] for n in names if n in trace.outputs}
        for key, (p, a) in by_probe.items():
            if p.kind == "state":
                trace.states[key] = a.reshape(B, T, *p.shape)
        return trace

    def _port_error(self, x: dict) -> None:
        for name, a in x.items():
            lo, hi = self._port_ranges[name]
            if a.size and (a.min() < lo or a.max() > hi):
                raise SnncError(f"input values in [{a.min()}, {a.max()}] exceed the generated "
                                f"{self.plan.codes[name].out_bits}-bit input port [{lo}, {hi}]", node=name,
                                hint="set the Input node's metadata 'max_abs' (input calibration does) "
                                     "before compiling")


def run_fpga(graph: Graph, inputs, steps: int | None = None, record: str = "outputs",
             record_states: bool = False) -> Trace:
    """Run ``graph`` (an integer graph) through its generated C: ``CModel(graph).run(...)``."""
    return CModel(graph).run(inputs, steps=steps, record=record, record_states=record_states)


def _decode(raw: np.ndarray, p, B: int, T: int) -> np.ndarray:
    if p.complex:
        n = p.size // 2
        return (raw[..., :n].astype(np.complex128) + 1j * raw[..., n:].astype(np.complex128)).reshape(B, T, *p.shape)
    return raw.reshape(B, T, *p.shape)
