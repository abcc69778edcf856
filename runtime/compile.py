"""Compile a model for a target and write the artifact folder atomically.

OUTDIR contents: ``model.nir`` (the lowered integer graph, readable by ``snnc.load``),
``report.json`` (per node: widths, scales, parameter errors, overflow findings, neuron and
synapse counts; for the fpga target the ``resources`` estimate; ``generated`` holds the only
non-deterministic fields), and for the fpga target ``hls/``, the HLS project
(:mod:`snnc.backends.fpga.project`). The folder is built in
a temporary sibling and renamed into place; an existing OUTDIR is refused unless ``force``.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

import snnc
from snnc.ir.errors import SnncError
from snnc.ir.files import atomic_folder
from snnc.ir.graph import Graph
from snnc.ir.nir_io import write_nir
from snnc.passes import standard as _standard  # noqa: F401  (registers the pipelines)
from snnc.passes.pipeline import PIPELINES, CompileContext, run_pipeline
from snnc.passes.targets import CompileConfig
from snnc.runtime.summary import summarize

ARTIFACT_GRAPH = "model.nir"
ARTIFACT_REPORT = "report.json"


def compile_graph(graph: Graph, config: CompileConfig, *, dump=None) -> tuple[Graph, dict]:
    """Run the target's pipeline; return the lowered graph and the report dict."""
    ctx = CompileContext(config=config, calibration=_calibration_data(graph, config))
    lowered = run_pipeline(graph, PIPELINES[config.profile.name], ctx, dump=dump)
    rows = {r.name: r for r in summarize(lowered)}
    nodes = {}
    for name, node in lowered.nodes.items():
        entry = {"type": node.type_name, "shape": list(rows[name].shape), "neurons": rows[name].neurons,
                 "synapses": rows[name].synapses, "latency": int(node.hw.get("latency", 0))}
        entry.update(ctx.report.get(name, {}))
        nodes[name] = entry
    report = {
        "snnc_version": snnc.__version__,
        "target": config.profile.name,
        "profile": {"weight_bits": config.profile.weight_bits,
                    "weight_granularity": config.profile.weight_granularity,
                    "state_bits": config.profile.state_bits, "state_overflow": config.profile.state_overflow,
                    "decay_bits": config.profile.decay_bits, "synapse_latency": config.profile.synapse_latency},
        "dt": graph.metadata.get("dt"),
        "pipeline": [name for name, _ in ctx.log],
        "totals": {"neurons": sum(r.neurons for r in rows.values()),
                   "synapses": sum(r.synapses for r in rows.values()),
                   "overflow_possible": sorted(n for n, v in ctx.report.items() if v.get("overflow") == "possible")},
        "nodes": nodes,
    }
    return lowered, _jsonable(report)


def _calibration_data(graph: Graph, config: CompileConfig) -> dict | None:
    if not config.calibration_inputs:
        return None
    from snnc.runtime.run import load_inputs

    return load_inputs(config.calibration_inputs, graph)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist()) if x.size <= 16 else {"min": float(x.min()), "max": float(x.max()),
                                                            "size": int(x.size)}
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return str(x)
    return x


def write_artifacts(outdir: str, lowered: Graph, report: dict, *, force: bool = False,
                    elapsed_s: float | None = None, extra=None) -> None:
    """Write OUTDIR atomically: build in a temporary sibling folder, then rename. ``extra``: a
    function called with the temporary folder to add more files (e.g. the HLS project)."""
    with atomic_folder(outdir, overwrite=force, prefix=".snnc-compile-") as tmp:
        if extra is not None:
            extra(tmp)
        write_nir(os.path.join(tmp, ARTIFACT_GRAPH), lowered)
        full = dict(report)
        full["generated"] = {"unix_time": time.time(), "compile_seconds": elapsed_s}
        with open(os.path.join(tmp, ARTIFACT_REPORT), "w") as f:
            json.dump(full, f, indent=1, sort_keys=True)
            f.write("\n")


def load_artifact(path: str) -> Graph:
    """The lowered graph of a compiled OUTDIR (or a lowered .nir file)."""
    if os.path.isdir(path):
        p = os.path.join(path, ARTIFACT_GRAPH)
        if not os.path.exists(p):
            raise SnncError(f"not a compiled snnc folder (no {ARTIFACT_GRAPH})", file=path)
        path = p
    return snnc.load(path)
