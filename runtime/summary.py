"""Model summary text: what ``snnc inspect`` prints (counting rules: :mod:`snnc.ir.counts`)."""

from __future__ import annotations

from snnc.ir.counts import NodeSummary, summarize, synapse_count
from snnc.ir.graph import Graph

__all__ = ["NodeSummary", "format_summary", "summarize", "synapse_count"]


def format_summary(graph: Graph) -> str:
    """Text table of nodes and edges (recurrent edges marked) plus totals."""
    rows = summarize(graph)
    w = max([len(r.name) for r in rows] + [4])
    tw = max([len(r.type) for r in rows] + [4])
    lines = [f"{'node':<{w}}  {'type':<{tw}}  {'shape':<16} {'params':>9} {'neurons':>8} {'synapses':>10}  notes"]
    for r in rows:
        lines.append(f"{r.name:<{w}}  {r.type:<{tw}}  {str(tuple(r.shape)):<16} {r.params:>9} "
                     f"{r.neurons:>8} {r.synapses:>10}  {r.detail}")
    rec = set(graph.recurrent_edges())
    lines.append("")
    lines.append("edges:")
    for e in graph.edges:
        mark = "  (recurrent)" if e in rec else ""
        lines.append(f"  {e.src} -> {e.dst}  delay {e.delay}{mark}")
    meta = graph.metadata
    lines.append("")
    lines.append(f"totals: {len(rows)} nodes, {sum(r.params for r in rows)} parameters, "
                 f"{sum(r.neurons for r in rows)} neurons, {sum(r.synapses for r in rows)} synapses, "
                 f"{len(rec)} recurrent edges")
    info = [f"{k}={meta[k]}" for k in ("dt", "dt_source", "time_convention", "level", "target") if k in meta]
    if info:
        lines.append("metadata: " + ", ".join(info))
    return "\n".join(lines)
