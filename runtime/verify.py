"""Run one lowered graph on several backends and compare every output and state, bit for bit.

Backends are looked up by name in the registry :data:`snnc.runtime.targets.BACKENDS`; ``fpga``
and ``lava`` are imported lazily so that a missing toolchain only matters when that backend is
asked for.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import numpy as np

from snnc.ir.errors import BackendError, SnncError
from snnc.ir.graph import Graph
from snnc.ir.trace import Trace
from snnc.runtime.targets import BACKENDS, backend
from snnc.runtime.vectors import random_inputs, vectors_for_testbench

__all__ = ["Comparison", "choose_backends", "compare_traces", "random_inputs", "run_backend", "vectors_for_testbench",
           "verify"]


def run_backend(name: str, graph: Graph, inputs, *, steps=None, record="all", record_states=True,
                substep_inputs: bool = False) -> Trace:
    """Run ``graph`` on backend ``name``. A time-multiplexed graph (``metadata['substeps']`` = L,
    :mod:`snnc.passes.reparam_lmht`) takes per-step inputs and returns a per-step trace on every
    backend alike (inputs spread over sub-steps, outputs summed per block), unless
    ``substep_inputs`` (inputs and trace at the sub-step rate)."""
    run = backend(name).run
    if int(graph.metadata.get("substeps", 1)) > 1 and not substep_inputs:
        from snnc.passes.reparam_lmht import expand_inputs, reduce_trace

        trace = run(graph, expand_inputs(graph, inputs, steps), None, record, record_states)
        return reduce_trace(graph, trace)
    return run(graph, inputs, steps, record, record_states)


@dataclass
class Comparison:
    backends: list[str]
    compared: int = 0
    mismatches: int = 0
    first_mismatch: dict | None = None
    per_array: dict = field(default_factory=dict)
    unobserved: dict = field(default_factory=dict)    # output -> which backend cannot read it and why

    @property
    def bit_exact(self) -> bool:
        return self.mismatches == 0 and self.compared > 0

    def to_json(self) -> dict:
        out = {"bit_exact": self.bit_exact, "mismatches": self.mismatches, "compared": self.compared,
               "first_mismatch": self.first_mismatch, "backends": self.backends}
        if self.unobserved:
            out["unobserved"] = dict(self.unobserved)
        return out


def compare_traces(traces: dict[str, Trace]) -> Comparison:
    """Compare every array of the first backend's trace with the others' (exact equality).
    ``first_mismatch``: the earliest step over all arrays, with node, index and each value."""
    names = list(traces)
    ref = traces[names[0]]
    result = Comparison(backends=names)
    best = None
    for other in names[1:]:
        tr = traces[other]
        for kind, ref_arrays, arrays in (("output", ref.outputs, tr.outputs), ("state", ref.states, tr.states)):
            for key, a in ref_arrays.items():
                if key not in arrays and kind == "output" and key in tr.unobserved:
                    result.unobserved[key] = f"{other}: {tr.unobserved[key]}"
                    continue
                if key not in arrays:
                    raise BackendError(f"backend {other} did not record {kind} '{key}'")
                b = arrays[key]
                if a.shape != b.shape:
                    raise BackendError(f"{kind} '{key}': shape {a.shape} ({names[0]}) vs {b.shape} ({other})")
                diff = a != b
                result.compared += int(a.size)
                n_bad = int(diff.sum())
                result.mismatches += n_bad
                result.per_array[f"{kind}:{key}:{other}"] = n_bad
                if n_bad:
                    idx = np.argwhere(diff)
                    # axes (B, T, ...): earliest step first
                    first = idx[np.lexsort((idx[:, 0], idx[:, 1]))[0]]
                    cand = (int(first[1]), key)
                    if best is None or cand < best[0]:
                        node, _, state = key.partition(".") if kind == "state" else (key, "", "")
                        values = {n: _scalar(traces[n], kind, key, first) for n in names}
                        best = (cand, {"node": node if kind == "output" else key.rsplit(".", 1)[0],
                                       "array": key, "kind": kind, "sample": int(first[0]), "step": int(first[1]),
                                       "neuron": [int(i) for i in first[2:]], "values": values})
    result.first_mismatch = best[1] if best else None
    return result


def _scalar(trace: Trace, kind: str, key: str, index) -> float | int | str:
    arr = (trace.outputs if kind == "output" else trace.states).get(key)
    if arr is None:
        return "missing"
    v = arr[tuple(index)]
    return v.item() if hasattr(v, "item") else v


def choose_backends(requested: list[str] | None) -> tuple[list[str], dict[str, str]]:
    """(backends to run, {skipped backend: why}). ``requested`` None: every registered backend of
    the default set (``Backend.default_verify``; rtl is asked for by name, its Verilator build is
    slow) that can run here (:attr:`Backend.unavailable`), the others skipped with their reason.
    Named backends are run as asked; one that cannot run here is an error naming the reason."""
    if requested is None:
        run, skipped = [], {}
        for name, b in BACKENDS.items():
            if not b.default_verify:
                continue
            why = b.unavailable()
            if why:
                skipped[name] = why
            else:
                run.append(name)
        if len(run) < 2:
            raise SnncError(f"verify needs two backends that can run here; only {run} can "
                            f"({'; '.join(f'{k}: {v}' for k, v in skipped.items())})",
                            hint="install gcc for fpga, or the Lava env for lava")
        return run, skipped
    for name in requested:
        why = backend(name).unavailable()
        if why:
            raise SnncError(f"backend '{name}' cannot run here: {why}",
                            hint="leave out --backends to run what is available")
    return list(requested), {}


def verify(graph: Graph, backends: list[str], inputs, *, steps=None, on_backend=None) -> tuple[Comparison,
                                                                                              dict[str, Trace]]:
    """Run ``graph`` on each backend with the same integer ``inputs``; compare bit for bit.
    ``on_backend(name)`` is called as each backend starts (progress display)."""
    if len(backends) < 2:
        raise SnncError("verify needs at least two backends", hint="e.g. --backends sim,fpga")
    if len(set(backends)) != len(backends):
        raise SnncError(f"backend listed twice in {backends}", hint="name each backend once")
    traces = {}
    for b in backends:
        if on_backend is not None:
            on_backend(b)
        traces[b] = run_backend(b, graph, inputs, steps=steps)
    return compare_traces(traces), traces


def graph_digest(path: str) -> str:
    """sha256 of a model file (or of a compiled folder's model.nir)."""
    if os.path.isdir(path):
        path = os.path.join(path, "model.nir")
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
