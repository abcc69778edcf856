"""Pass: fold inference-mode BatchNorm nodes into the linear layers before them.

For y = BN(x) = x * s + h per channel c, with s = weight / sqrt(var + eps),
h = bias - mean * s:

* if every predecessor of the BN is a Linear / Affine / Conv1d / Conv2d node whose only
  consumer is the BN, each predecessor's weight rows (output channel c) are multiplied by s[c]
  and its bias by s; the shift h is added to the bias of the first predecessor (exact in real
  arithmetic: BN(sum_k W_k x_k + b_k) = sum_k (s W_k) x_k + (s sum_k b_k + h));
* otherwise (BN after a residual sum that includes an identity branch, or directly after the
  input) the BN is replaced by an equivalent per-channel synapse: a depthwise 1x1 Conv2d
  (groups = C) for (C, H, W) inputs, a diagonal Affine for (C,) inputs. Nothing is dropped.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.shapes import infer_shapes

_LINEAR = (N.Linear, N.Affine, N.Conv1d, N.Conv2d)


def bn_scale_shift(bn: N.BatchNorm) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (s, h) with BN(x) = s x + h (float64)."""
    s = np.asarray(bn.weight, np.float64) / np.sqrt(np.asarray(bn.var, np.float64) + bn.eps)
    h = np.asarray(bn.bias, np.float64) - np.asarray(bn.mean, np.float64) * s
    return s, h


def _scaled(node: N.Node, s: np.ndarray, add_bias: np.ndarray | None) -> N.Node:
    w = np.asarray(node.weight, np.float64)
    w = w * s.reshape((-1,) + (1,) * (w.ndim - 1))
    old_b = getattr(node, "bias", None)
    b = np.zeros(w.shape[0]) if old_b is None else np.asarray(old_b, np.float64) * s
    if add_bias is not None:
        b = b + add_bias
    if isinstance(node, N.Linear):
        out = N.Affine(weight=w, bias=b)
    else:
        out = type(node)(**{**node.params(), "weight": w, "bias": b})
    out.metadata, out.quant, out.hw = dict(node.metadata), dict(node.quant), dict(node.hw)
    return out


def _as_synapse(bn: N.BatchNorm, in_shape: tuple, name: str) -> N.Node:
    s, h = bn_scale_shift(bn)
    c = s.size
    if len(in_shape) == 1:
        return N.Affine(weight=np.diag(s), bias=h)
    if len(in_shape) == 3:
        return N.Conv2d(input_shape=tuple(in_shape[1:]), weight=s.reshape(c, 1, 1, 1), stride=(1, 1),
                        padding=(0, 0), dilation=(1, 1), groups=c, bias=h)
    if len(in_shape) == 2:
        return N.Conv1d(input_shape=(in_shape[1],), weight=s.reshape(c, 1, 1), stride=1, padding=0,
                        dilation=1, groups=c, bias=h)
    raise UnsupportedError(f"BatchNorm on input of rank {len(in_shape)}", node=name)


def fold_batchnorm(graph: Graph) -> Graph:
    out = graph.copy()
    shapes = infer_shapes(out)
    for name in [n for n, node in out.nodes.items() if isinstance(node, N.BatchNorm)]:
        bn = out.nodes[name]
        ins = out.in_edges(name)
        foldable = ins and all(
            isinstance(out.nodes[e.src], _LINEAR) and not getattr(out.nodes[e.src], "level", None) == "integer"
            and e.delay == 0
            and [o.dst for o in out.out_edges(e.src)] == [name]
            for e in ins)
        if not foldable:
            in_shape = shapes[ins[0].src] if ins else shapes[name]
            out.nodes[name] = _as_synapse(bn, in_shape, name)
            continue
        s, h = bn_scale_shift(bn)
        for i, e in enumerate(ins):
            out.nodes[e.src] = _scaled(out.nodes[e.src], s, h if i == 0 else None)
        # bypass the BN node: predecessors connect straight to its successors
        succ = out.out_edges(name)
        out.edges = [e for e in out.edges if e.dst != name and e.src != name]
        for e_in in ins:
            for e_out in succ:
                out.add_edge(e_in.src, e_out.dst, e_in.delay + e_out.delay)
        del out.nodes[name]
    return out
