"""The snnc graph: named nodes plus edges with delays in time steps.

Structure questions (topological order, cycles, strongly connected components) are answered by
networkx on :meth:`Graph.to_networkx`; this module holds no hand-written graph walks.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import networkx as nx

from .errors import GraphError
from .nodes import Input, Node, Output, Subgraph


@dataclass(frozen=True)
class Edge:
    """Connection ``src -> dst``. At step t, ``dst`` receives ``output[src][t - delay]``
    (``delay`` in steps, >= 0). Several edges into one node are summed."""

    src: str
    dst: str
    delay: int = 0


@dataclass(eq=False)
class Graph:
    """A network: ``nodes`` by name (insertion order kept), ``edges``, and ``metadata``.

    Well-known metadata keys: ``dt`` (seconds per step, float), ``time_convention``
    (how the edge delays were chosen, e.g. ``'nirtorch'``: feed-forward 0, cycle-closing 1),
    ``producer`` (the framework that wrote the file), ``level`` (``'continuous'`` for imported
    NIR, ``'discrete'`` after discretization, ``'integer'`` after lowering), ``target``.
    """

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)

    # -- construction -------------------------------------------------------------------

    def add_node(self, name: str, node: Node) -> str:
        if name in self.nodes:
            raise GraphError(f"duplicate node name '{name}'", node=name)
        self.nodes[name] = node
        return name

    def add_edge(self, src: str, dst: str, delay: int = 0) -> Edge:
        edge = Edge(src, dst, int(delay))
        self.edges.append(edge)
        return edge

    def copy(self) -> Graph:
        """Deep copy (nodes, arrays and metadata are not shared)."""
        return copy.deepcopy(self)

    # -- queries --------------------------------------------------------------------------

    def in_edges(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == name]

    def out_edges(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.src == name]

    def input_names(self) -> list[str]:
        return [n for n, node in self.nodes.items() if isinstance(node, Input)]

    def output_names(self) -> list[str]:
        return [n for n, node in self.nodes.items() if isinstance(node, Output)]

    def to_networkx(self, *, zero_delay_only: bool = False) -> nx.MultiDiGraph:
        """A networkx MultiDiGraph with one node per IR node and one edge per IR edge
        (attribute ``delay``). With ``zero_delay_only``, only delay-0 edges are kept."""
        g = nx.MultiDiGraph()
        g.add_nodes_from(self.nodes)
        for e in self.edges:
            if zero_delay_only and e.delay > 0:
                continue
            g.add_edge(e.src, e.dst, delay=e.delay)
        return g

    def recurrent_edges(self) -> list[Edge]:
        """Edges that lie on a directed cycle (a self-loop, or dst can reach src)."""
        g = self.to_networkx()
        return [e for e in self.edges if e.src == e.dst or nx.has_path(g, e.dst, e.src)]

    def evaluation_order(self) -> list[str]:
        """Node names in an order where every zero-delay edge goes forward.

        Raises GraphError naming the nodes of a cycle whose edges all have delay 0."""
        g = self.to_networkx(zero_delay_only=True)
        try:
            return list(nx.lexicographical_topological_sort(g, key=self._order_key()))
        except nx.NetworkXUnfeasible:
            cycle = nx.find_cycle(g)
            names = " -> ".join([str(u) for u, *_ in cycle] + [str(cycle[0][0])])
            raise GraphError(
                f"cycle without delay: {names}",
                hint="every recurrent loop needs at least one edge with delay >= 1 step",
            ) from None

    def components(self) -> list[list[str]]:
        """The execution schedule every backend follows: the strongly connected components in
        topological order (ties broken by node insertion order), each component's members in
        :meth:`evaluation_order`. A component of one node without a self-loop can be computed
        for all steps at once; a larger one (a recurrent loop) must be stepped together."""
        g = self.to_networkx()
        order = {n: i for i, n in enumerate(self.evaluation_order())}
        cond = nx.condensation(g)
        comps = []
        first = {c: min(order[n] for n in cond.nodes[c]["members"]) for c in cond.nodes}
        for c in nx.lexicographical_topological_sort(cond, key=first.__getitem__):
            comps.append(sorted(cond.nodes[c]["members"], key=order.__getitem__))
        return comps

    def is_cyclic_component(self, comp: list[str]) -> bool:
        """True when ``comp`` (from :meth:`components`) is a loop: several nodes, or a self-loop."""
        return len(comp) > 1 or any(e.src == e.dst for e in self.in_edges(comp[0]))

    def _order_key(self):
        position = {name: i for i, name in enumerate(self.nodes)}
        return lambda name: position[name]

    # -- validation -----------------------------------------------------------------------

    def validate(self) -> None:
        """Check edge endpoints, delays, and that Input nodes have no in-edges and Output
        nodes no out-edges. Raises GraphError with the offending edge or node."""
        for e in self.edges:
            for end, role in ((e.src, "source"), (e.dst, "target")):
                if end not in self.nodes:
                    raise GraphError(f"edge {e.src} -> {e.dst}: {role} node '{end}' does not exist",
                                     node=end, hint="remove the edge or add the node")
            if e.delay < 0:
                raise GraphError(f"edge {e.src} -> {e.dst} has negative delay {e.delay}",
                                 node=e.dst, field="delay")
            if isinstance(self.nodes[e.dst], Input):
                raise GraphError(f"edge {e.src} -> {e.dst} enters an Input node", node=e.dst)
            if isinstance(self.nodes[e.src], Output):
                raise GraphError(f"edge {e.src} -> {e.dst} leaves an Output node", node=e.src)
        seen = set()
        for e in self.edges:
            if e in seen:
                raise GraphError(f"duplicate edge {e.src} -> {e.dst} (delay {e.delay})", node=e.dst)
            seen.add(e)
        for node in self.nodes.values():
            if isinstance(node, Subgraph):
                node.graph.validate()
        self.evaluation_order()
