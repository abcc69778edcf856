"""Random valid float (discrete-time) graphs with mixed neuron kinds, shapes and recurrence, as a
user's trained model would arrive, for the compile-and-verify fuzzing of issue 8.

``random_float_graph(seed)``: an optional conv front end (Conv2d -> LIF-type -> pool -> Flatten),
then 1-3 blocks Linear/Affine -> neuron (LIF, CubaLIF, IF, LIFB, CLIF, RF behind a complex
Linear, LM-HT with optional whole-window TimeMix, LNM), optional recurrent Linear with delay
1-2, then Output. ``merge_graphs`` puts several lowered graphs side by side in one graph (names
prefixed) so one C build or one Lava network checks many cases at once.
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import nodes as N
from snnc.ir.graph import Graph

KINDS = ("lif", "cuba", "if", "lifb", "clif", "rf", "lmht", "lnm")


def _lif(rng, shape, kind):
    thr = float(rng.uniform(0.5, 1.5))
    return N.DiscreteLIF(shape=shape, voltage_decay=np.asarray(1.0 if kind == "if" else rng.uniform(0.6, 0.98)),
                         current_gain=np.asarray(1.0), input_gain=np.asarray(1.0),
                         current_decay=np.asarray(rng.uniform(0.3, 0.9)) if kind == "cuba" else None,
                         v_threshold=np.asarray(thr), v_reset=np.asarray(0.0),
                         reset=str(rng.choice(["zero", "subtract"])), comparison=str(rng.choice([">", ">="])))


def _neuron(rng, kind, n):
    shape = (n,)
    if kind in ("lif", "cuba", "if"):
        return _lif(rng, shape, kind)
    if kind == "lifb":
        return N.LIFB(shape=shape, leak=np.asarray(rng.uniform(0.6, 0.95)),
                      v_threshold=np.asarray(rng.uniform(0.4, 1.0)),
                      max_burst=int(rng.integers(1, 4)), reset=str(rng.choice(["subtract", "zero"])))
    if kind == "clif":
        return N.CLIF(shape=shape, tau=float(rng.uniform(1.5, 4.0)), v_threshold=float(rng.uniform(0.5, 1.2)))
    if kind == "rf":
        return N.RF(shape=shape, decay=rng.uniform(0.8, 0.97, n) * np.exp(1j * rng.uniform(0.1, 1.2, n)),
                    v_threshold=float(rng.uniform(0.5, 1.5)))
    if kind == "lmht":
        return N.LMHT(shape=shape, leak=float(rng.uniform(0.8, 1.2)), v_threshold=float(rng.uniform(0.5, 1.2)),
                      levels=int(rng.integers(1, 4)), window=None)
    if kind == "lnm":
        return N.LNM(shape=shape, coefficients=np.array([0.0, -float(rng.uniform(0.05, 0.4)),
                                                         float(rng.uniform(-0.1, 0.1))]),
                     v_threshold=float(rng.uniform(0.6, 1.2)), reset=str(rng.choice(["zero", "subtract"])))
    raise ValueError(kind)


def random_float_graph(seed: int, *, timemix: bool = True, input_width: int | None = None) -> Graph:
    """``input_width``: force a vector input of that width (graphs that can share one Input)."""
    rng = np.random.default_rng(seed)
    g = Graph(metadata={"dt": 1e-3, "name": f"fuzz_{seed}"})
    if rng.random() < 0.25 and input_width is None:
        c, h, w = int(rng.integers(1, 3)), int(rng.integers(5, 9)), int(rng.integers(5, 9))
        g.add_node("input", N.Input(shape=(c, h, w)))
        co, k = int(rng.integers(2, 5)), int(rng.integers(2, 4))
        conv_kw = {"input_shape": (h, w), "weight": rng.standard_normal((co, c, k, k)) * 0.8, "stride": (1, 1),
                   "padding": (1, 1), "dilation": (1, 1), "groups": 1,
                   "bias": rng.standard_normal(co) * 0.2 if rng.random() < 0.5 else None}
        g.add_node("conv", N.Conv2d(**conv_kw))
        oh, ow = h + 2 - k + 1, w + 2 - k + 1
        g.add_node("conv_lif", _lif(rng, (co, oh, ow), str(rng.choice(["lif", "if"]))))
        g.add_edge("input", "conv")
        g.add_edge("conv", "conv_lif")
        prev = "conv_lif"
        if rng.random() < 0.6:
            pool = N.SumPool2d if rng.random() < 0.5 else N.AvgPool2d
            g.add_node("pool", pool(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0)))
            g.add_edge(prev, "pool")
            prev = "pool"
            oh, ow = oh // 2, ow // 2
        g.add_node("flat", N.Flatten(input_shape=None))
        g.add_edge(prev, "flat")
        prev, width = "flat", co * oh * ow
    else:
        width = int(rng.integers(3, 16)) if input_width is None else int(input_width)
        g.add_node("input", N.Input(shape=(width,)))
        prev = "input"
    for b in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(KINDS))
        n = int(rng.integers(2, 12))
        scale = float(rng.uniform(0.5, 2.0)) / math.sqrt(width)
        if kind == "rf":
            w = (rng.standard_normal((n, width)) + 1j * rng.standard_normal((n, width))) * scale
            g.add_node(f"fc{b}", N.Linear(weight=w))
        elif rng.random() < 0.4:
            g.add_node(f"fc{b}", N.Affine(weight=rng.standard_normal((n, width)) * scale,
                                          bias=rng.standard_normal(n) * 0.1))
        else:
            g.add_node(f"fc{b}", N.Linear(weight=rng.standard_normal((n, width)) * scale))
        g.add_edge(prev, f"fc{b}")
        src = f"fc{b}"
        if kind == "lmht" and timemix and rng.random() < 0.3:
            tw = 4
            g.add_node(f"mix{b}", N.TimeMix(coefficients=rng.uniform(0.0, 0.6, (tw, tw))))
            g.add_edge(src, f"mix{b}")
            src = f"mix{b}"
        g.add_node(f"nrn{b}", _neuron(rng, kind, n))
        g.add_edge(src, f"nrn{b}")
        if kind in ("lif", "cuba", "if", "lifb") and rng.random() < 0.35:
            g.add_node(f"rec{b}", N.Linear(weight=rng.standard_normal((n, n)) * 0.3))
            g.add_edge(f"nrn{b}", f"rec{b}")
            g.add_edge(f"rec{b}", f"nrn{b}", int(rng.integers(1, 3)))
        prev, width = f"nrn{b}", n
    g.add_node("output", N.Output(shape=(width,)))
    g.add_edge(prev, "output")
    return g


def merge_graphs(graphs: list[Graph], *, shared_input: bool = False) -> Graph:
    """One integer graph holding ``graphs`` side by side (node names prefixed ``g<i>.``).
    ``shared_input``: the graphs' single Input nodes (same shape) become one node ``input``, so
    the result is connected (what a Lava process network needs)."""
    meta = dict(graphs[0].metadata)
    meta["name"] = f"merged_{len(graphs)}"
    out = Graph(metadata=meta)

    def rename(i, g, name):
        return "input" if shared_input and name in g.input_names() else f"g{i}.{name}"

    for i, g in enumerate(graphs):
        for name, node in g.nodes.items():
            new = rename(i, g, name)
            if new not in out.nodes:
                out.add_node(new, node)
        for e in g.edges:
            out.add_edge(rename(i, g, e.src), rename(i, g, e.dst), e.delay)
    return out


def window_of(graph: Graph) -> int:
    ws = [int(np.asarray(n.coefficients).shape[0]) for n in graph.nodes.values() if isinstance(n, INN.IntTimeMix)]
    return math.lcm(*ws) if ws else 1
