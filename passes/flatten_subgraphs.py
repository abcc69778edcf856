"""Pass: inline nested graphs (NIR ``NIRGraph`` nodes) into one flat graph.

Inner nodes are renamed ``<subgraph>.<inner>``. An edge into the subgraph node feeds the inner
Input node(s); an edge out of it leaves from the inner Output node(s). Inner Input/Output nodes
are kept as pass-through nodes only if needed; here they are removed and their edges joined.
"""

from __future__ import annotations

from snnc.ir import nodes as N
from snnc.ir.errors import GraphError
from snnc.ir.graph import Edge, Graph


def flatten_subgraphs(graph: Graph) -> Graph:
    if not any(isinstance(n, N.Subgraph) for n in graph.nodes.values()):
        return graph.copy()
    out = Graph(metadata=dict(graph.metadata))
    entry: dict[str, list[tuple[str, int]]] = {}   # subgraph name -> [(inner dst, delay)]
    exit_: dict[str, list[tuple[str, int]]] = {}   # subgraph name -> [(inner src, delay)]
    inner_edges: list[Edge] = []
    for name, node in graph.nodes.items():
        if not isinstance(node, N.Subgraph):
            out.nodes[name] = node
            continue
        sub = flatten_subgraphs(node.graph)
        ins, outs = set(sub.input_names()), set(sub.output_names())
        if not ins or not outs:
            raise GraphError("nested graph needs at least one Input and one Output node", node=name)
        for iname, inode in sub.nodes.items():
            if iname not in ins and iname not in outs:
                out.nodes[f"{name}.{iname}"] = inode
        entry[name] = [(f"{name}.{e.dst}", e.delay) for e in sub.edges if e.src in ins]
        exit_[name] = [(f"{name}.{e.src}", e.delay) for e in sub.edges if e.dst in outs]
        inner_edges += [Edge(f"{name}.{e.src}", f"{name}.{e.dst}", e.delay)
                        for e in sub.edges if e.src not in ins and e.dst not in outs]
    for e in graph.edges:
        srcs = exit_.get(e.src, [(e.src, 0)])
        dsts = entry.get(e.dst, [(e.dst, 0)])
        for s, d1 in srcs:
            for d, d2 in dsts:
                out.edges.append(Edge(s, d, e.delay + d1 + d2))
    out.edges += inner_edges
    return out
