"""Recognise the per-delay parts of one delayed dense layer.

The netx import (``frontend/netx``) builds a netx ``DelayDense`` layer with a per-synapse delay
matrix as one ``IntDense`` per distinct delay value: every part reads the same source (edge
delay 0), holds the synapses of its delay (the others zero) and feeds the same consumer with
edge delay 1 + d (d = the Lava delay). Two users regroup them into one layer: the ``.net`` writer
(:mod:`.netx`: one ``delay`` array) and the process-network planner (:mod:`.merged_dense`: one
Lava ``DelayDense`` with a per-synapse delay matrix instead of one process per delay value).
Graph structure only; each user checks its own numeric conditions.
"""

from __future__ import annotations

from collections.abc import Collection

from snnc.ir import intnodes as IN
from snnc.ir.graph import Graph


def part_consumer(g: Graph, name: str, ignore: Collection[str] = ()) -> str | None:
    """The node that ``name`` feeds when it has the form of a per-delay part: an ``IntDense``
    with exactly one input edge, of delay 0, and exactly one output edge (edges into nodes of
    ``ignore``, e.g. the ``.net`` writer's bias units, not counted); else None."""
    if not isinstance(g.nodes[name], IN.IntDense):
        return None
    ins = g.in_edges(name)
    if len(ins) != 1 or ins[0].delay:
        return None
    outs = [e.dst for e in g.out_edges(name) if e.dst not in ignore]
    return outs[0] if len(outs) == 1 else None


def group_consumer(g: Graph, parts: list[str], ignore: Collection[str] = ()) -> str | None:
    """The one consumer of ``parts`` when all of them are per-delay parts (:func:`part_consumer`)
    of the same source into the same consumer; else None."""
    consumers = {part_consumer(g, p, ignore) for p in parts}
    sources = {g.in_edges(p)[0].src for p in parts if g.in_edges(p)}
    if len(consumers) != 1 or None in consumers or len(sources) != 1:
        return None
    return consumers.pop()


def find_delay_groups(g: Graph, ignore: Collection[str] = ()) -> list[tuple[str, str, list[str]]]:
    """Every group of two or more per-delay parts with one source and one consumer:
    ``(source, consumer, parts)``, parts ordered by their output edge delay (then name), groups
    in graph order of their first part."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name in g.nodes:
        consumer = part_consumer(g, name, ignore)
        if consumer is not None:
            groups.setdefault((g.in_edges(name)[0].src, consumer), []).append(name)

    def delay(p: str) -> int:
        return next(e.delay for e in g.out_edges(p) if e.dst not in ignore)

    return [(src, dst, sorted(parts, key=lambda p: (delay(p), p)))
            for (src, dst), parts in groups.items() if len(parts) > 1]
