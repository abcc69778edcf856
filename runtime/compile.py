"""Compile a model for a target and write the artifact folder atomically.

OUTDIR contents: ``model.nir`` (the lowered integer graph, readable by ``snnc.load``),
``report.json`` (per node: widths, scales, parameter errors, overflow findings, neuron and
synapse counts; the target's resource estimate; ``generated`` holds the only non-deterministic
fields), and the target's deployment artifacts (:class:`snnc.runtime.targets.Target`: ``hls/``,
the HLS project, for fpga; ``lava/``, the Lava network and netx ``.net``, for loihi2). The
folder is built in a temporary sibling and renamed into place; an existing OUTDIR is refused
unless ``force``.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

import snnc
from snnc.ir.counts import summarize
from snnc.ir.errors import ConfigError, SnncError
from snnc.ir.files import atomic_folder
from snnc.ir.graph import Graph
from snnc.ir.nir_io import write_nir
from snnc.passes import standard as _standard  # noqa: F401  (registers the pipelines)
from snnc.passes.pipeline import PIPELINES, CompileContext, run_pipeline
from snnc.passes.targets import CompileConfig, load_config, make_config

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
    if config.profile.has_chip_neurons and not config.chip_native:
        report["chip_findings"] = chip_native_findings(graph, config)
    return lowered, _jsonable(report)


def chip_native_findings(graph: Graph, config: CompileConfig) -> dict:
    """For the exact ``loihi2`` compile: {neuron: {"dynamics", "remedy"}} of every neuron that
    Loihi 2's standard LIF cannot express (:func:`snnc.passes.chip_native.chip_findings` on the
    discretized graph), naming the mode that would map it; the Lava emitter joins it with the
    per-node chip / cpu-only status."""
    from snnc.passes.chip_native import chip_findings

    pipeline = PIPELINES[config.profile.name]
    head = pipeline[:pipeline.index("discretize") + 1]
    discrete = run_pipeline(graph, head, CompileContext(config=config))
    return {f.node: {"dynamics": f.dynamics, "remedy": f.remedy} for f in chip_findings(discrete)}


def compile_model(graph: Graph, *, target: str | None = None, config_path: str | None = None, strict: bool = False,
                  dt: float | None = None, source: str | None = None, dump=None) -> tuple[Graph, dict, CompileConfig]:
    """What ``snnc compile`` does before writing: resolve the configuration (``--config`` file,
    else ``--target``), then lower ``graph``. A graph that is already a lowered integer graph
    (an imported lava-dl ``.net``) is not lowered again: it is the deployed network itself, and
    it compiles only for its own target or one whose emitter takes any integer graph as it is
    (``Target.takes_any_integer_graph``: fpga, rtl). Returns (lowered, report, config)."""
    import dataclasses

    if config_path:
        config = load_config(config_path, target)
    elif target:
        config = make_config(target)
    else:
        raise ConfigError("no target", field="target", hint="pass --target (e.g. fpga, loihi2, sim) or --config FILE")
    if strict:
        config = dataclasses.replace(config, strict=True)
    if dt is not None:
        config = dataclasses.replace(config, dt=dt)
    if graph.metadata.get("level") != "integer":
        lowered, report = compile_graph(graph, config, dump=dump)
        return lowered, report, config
    from snnc.runtime.targets import TARGETS

    own = graph.metadata.get("target")
    name = config.profile.name
    if name != own and not TARGETS[name].takes_any_integer_graph:
        able = sorted({own} | {t for t, rec in TARGETS.items() if rec.takes_any_integer_graph})
        raise SnncError(f"already a lowered integer graph for {own}: it cannot be re-lowered for {name}",
                        file=source, hint="compile it with " + " or ".join(f"--target {t}" for t in able))
    return graph, integer_graph_report(graph, config), config


def integer_graph_report(graph: Graph, config: CompileConfig) -> dict:
    """The compile report of a graph that needed no lowering (e.g. an imported ``.net``)."""
    rows = summarize(graph)
    report = {
        "snnc_version": snnc.__version__, "target": config.profile.name, "source_level": "integer",
        "pipeline": [], "dt": graph.metadata.get("dt"),
        "totals": {"neurons": sum(r.neurons for r in rows), "synapses": sum(r.synapses for r in rows),
                   "overflow_possible": []},
        "nodes": {r.name: {"type": r.type, "shape": list(r.shape), "neurons": r.neurons, "synapses": r.synapses,
                           "latency": int(graph.nodes[r.name].hw.get("latency", 0))} for r in rows},
    }
    return _jsonable(report)


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
                    elapsed_s: float | None = None, target=None, options=None) -> list[str]:
    """Write OUTDIR atomically: build in a temporary sibling folder, then rename. ``target``
    (a :class:`snnc.runtime.targets.Target`) adds its deployment artifacts (with ``options``, an
    :class:`~snnc.runtime.targets.EmitOptions`). Returns the target's summary lines (paths filled in)."""
    from snnc.runtime.targets import EmitOptions, write_deployment

    lines: list[str] = []
    with atomic_folder(outdir, overwrite=force, prefix=".snnc-compile-") as tmp:
        if target is not None:
            lines = write_deployment(target, lowered, tmp, options or EmitOptions(), report)
        write_nir(os.path.join(tmp, ARTIFACT_GRAPH), lowered)
        full = dict(report)
        full["generated"] = {"unix_time": time.time(), "compile_seconds": elapsed_s}
        with open(os.path.join(tmp, ARTIFACT_REPORT), "w") as f:
            json.dump(full, f, indent=1, sort_keys=True)
            f.write("\n")
    if target is not None and target.artifact_dir:
        folder = os.path.join(outdir, target.artifact_dir)
        lines = [line.replace("{dir}", folder) for line in lines]
    return lines


def load_artifact(path: str) -> Graph:
    """The lowered graph of a compiled OUTDIR (or a lowered .nir file)."""
    if os.path.isdir(path):
        p = os.path.join(path, ARTIFACT_GRAPH)
        if not os.path.exists(p):
            raise SnncError(f"not a compiled snnc folder (no {ARTIFACT_GRAPH})", file=path)
        path = p
    return snnc.load(path)
