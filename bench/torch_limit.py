"""The float32 PyTorch equivalent of a lowered integer graph: the limit the simulator is measured
against (issue 20).

Same layer shapes, same connectivity and edge delays, float32, stepped in time the way a
hand-written torch SNN loop runs (one step after the other, layers in order):

* ``IntDense`` / ``IntComplexDense`` -> ``F.linear`` (complex: one linear per part);
  ``IntConv2d`` -> ``F.conv2d`` (stride, padding, dilation, groups); ``SumPool2d`` /
  ``AvgPool2d`` -> ``F.avg_pool2d``; ``Flatten`` -> reshape;
* every neuron node -> the minimal LIF update ``v = 0.9 v + x; s = v > 1; v = v * (1 - s)``
  (4 elementwise ops; real neuron models cost more: this is a lower bound on any exact
  simulation of the same shapes);
* an edge of delay d reads the source's output of step t - d (a ring of past outputs);
* ``IntTimeMix`` and other nodes without weights pass their input on.

No integer semantics at all: the figure is a speed limit, not a result.
"""

from __future__ import annotations

import graphlib

import numpy as np
import torch
import torch.nn.functional as F

from snnc.ir.shapes import conv_padding, dims, infer_shapes

SYNAPSES = ("IntDense", "IntConv2d", "IntComplexDense", "Linear", "Affine", "Conv2d")
PASS = ("Input", "Output", "Flatten", "IntTimeMix", "ConstantSource")


class TorchLimit:
    """``TorchLimit(graph).run(x)`` with ``x`` the simulator's input dict {name: [B, T, *shape]}."""

    def __init__(self, graph):
        self.g = graph
        self.shapes = infer_shapes(graph)
        self.ops = {name: self._op(name, node) for name, node in graph.nodes.items()}
        ts = graphlib.TopologicalSorter({n: [e.src for e in graph.in_edges(n) if e.delay == 0] for n in graph.nodes})
        self.order = list(ts.static_order())
        self.ring = {n: 1 + max((e.delay for e in graph.out_edges(n)), default=0) for n in graph.nodes}

    def _op(self, name, node):
        kind = type(node).__name__
        shape = self.shapes[name]
        if kind in ("IntDense", "Linear", "Affine"):
            w = torch.tensor(np.asarray(node.weight, np.float32))
            return lambda x: F.linear(x, w)
        if kind == "IntComplexDense":
            wr = torch.tensor(np.asarray(node.weight_real, np.float32))
            wi = torch.tensor(np.asarray(node.weight_imag, np.float32))
            return lambda x: F.linear(x, wr) + F.linear(x, wi)
        if kind in ("IntConv2d", "Conv2d"):
            w = torch.tensor(np.asarray(node.weight, np.float32))
            in_shape = self.shapes[self.g.in_edges(name)[0].src]
            stride, dil = dims(node.stride, 2, "stride", name), dims(node.dilation, 2, "dilation", name)
            pad = conv_padding(node, tuple(in_shape[1:]), name)
            groups = int(node.groups)
            return lambda x: F.conv2d(x.reshape(-1, *in_shape), w, None, stride, pad, dil, groups)
        if kind in ("SumPool2d", "AvgPool2d"):
            k, s, p = tuple(node.kernel_size), tuple(node.stride), tuple(node.padding)
            return lambda x: F.avg_pool2d(x, k, s, p)
        if kind in PASS:
            return lambda x: x.reshape(x.shape[0], *shape)
        return "neuron"

    def run(self, inputs: dict[str, np.ndarray]) -> float:
        """Run all steps; returns the sum of the Output nodes' values (keeps the work live)."""
        first = next(iter(inputs.values()))
        B, T = first.shape[:2]
        xs = {k: torch.from_numpy(np.ascontiguousarray(np.moveaxis(v, 1, 0)).astype(np.float32))
              for k, v in inputs.items()}
        hist = {n: [None] * self.ring[n] for n in self.g.nodes}
        v = {n: torch.zeros((B, *self.shapes[n])) for n, op in self.ops.items() if op == "neuron"}
        decay = torch.tensor(0.9)
        total = 0.0
        with torch.no_grad():
            for t in range(T):
                for n in self.order:
                    if n in xs:
                        y = xs[n][t]
                    else:
                        x = None
                        for e in self.g.in_edges(n):
                            if t - e.delay < 0:
                                continue
                            src = hist[e.src][(t - e.delay) % self.ring[e.src]]
                            x = src if x is None else x + src
                        if x is None:
                            x = torch.zeros((B, *self.shapes[self.g.in_edges(n)[0].src])) if self.g.in_edges(n) \
                                else torch.zeros((B, *self.shapes[n]))
                        op = self.ops[n]
                        if op == "neuron":
                            h = decay * v[n] + x
                            y = (h > 1.0).float()
                            v[n] = h * (1.0 - y)
                        else:
                            y = op(x)
                    hist[n][t % self.ring[n]] = y
                for n in self.g.output_names():
                    total += float(hist[n][t % self.ring[n]].sum())
        return total
