"""Named pass pipelines per target.

A :class:`Pass` wraps a pure function ``(graph, ctx) -> graph`` with a name and whether it is
lossless; a pipeline is a list of pass names resolved in :data:`PASSES`. ``run_pipeline``
applies them in order, records per-pass node counts in ``ctx.log`` and, with ``dump``, calls
``dump(name, graph)`` after each pass (``snnc compile --dump-ir``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from snnc.ir.graph import Graph

from .targets import CompileConfig


@dataclass
class CompileContext:
    """What passes may read (the config, calibration inputs) and write (report entries)."""

    config: CompileConfig
    calibration: dict | None = None              # input name -> array (B, T, *shape)
    report: dict = field(default_factory=dict)    # node name -> dict of findings
    log: list = field(default_factory=list)       # (pass name, number of nodes after)
    warnings: list = field(default_factory=list)

    def note(self, node: str, **items) -> None:
        self.report.setdefault(node, {}).update(items)


@dataclass(frozen=True)
class Pass:
    name: str
    fn: Callable[[Graph, CompileContext], Graph]
    lossless: bool
    doc: str = ""


PASSES: dict[str, Pass] = {}


def register_pass(name: str, *, lossless: bool):
    """Decorator: make ``fn(graph, ctx) -> graph`` available to pipelines under ``name``."""
    def deco(fn):
        PASSES[name] = Pass(name, fn, lossless, (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "")
        return fn
    return deco


PIPELINES: dict[str, list[str]] = {}


def run_pipeline(graph: Graph, names: list[str], ctx: CompileContext,
                 dump: Callable[[str, Graph], None] | None = None) -> Graph:
    for name in names:
        graph = PASSES[name].fn(graph, ctx)
        ctx.log.append((name, len(graph.nodes)))
        if dump is not None:
            dump(name, graph)
    return graph
