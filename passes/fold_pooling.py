"""Passes: fold sum/average pooling into an adjacent synapse (both exact in real arithmetic).

``fold_pooling`` (every target). A pool between a synapse and its neuron (snnTorch's
``Conv2d -> AvgPool2d -> Leaky``) is folded into the Conv2d before it. With the conv's stride s,
dilation d, kernel K and the pool's kernel k, stride q, factor c (1 for SumPool2d, 1/k^2 per axis
pair for AvgPool2d), per spatial axis:

    pool(conv(x))[i] = c * sum_{a<k} sum_{u<K} W[u] x[(i q + a) s + u d] + c k^2 b
                     = sum_{m} W'[m] x[i (q s) + m] + b'
    W'[a s + u d] += c W[u]   (kernel (k-1) s + (K-1) d + 1, dilation 1),  stride q s,  b' = c k^2 b

The conv's zero padding stays as it is; the output size is the same (floor((floor(A/s) - m)/q) =
floor((A/s - m)/q)). Requires pool padding 0 and a conv whose only consumer is the pool.

``fold_spike_pooling`` (``loihi2``: netx has no pooling layer). A pool between a neuron and the
next synapse is folded into that synapse: a Conv2d (kernel K, stride s, dilation d, padding 0)
becomes ``W'[u d q + a] += c W[u]`` (kernel (K-1) d q + k), stride s q; a ``Flatten -> Linear/Affine``
gets the pool's window sum spread over its input columns (``W'[o, y, x] = c sum_{i,j: (y,x) in
window(i,j)} W[o, i, j]``). The neuron's output reaches the synapse unchanged. A padded Conv2d is
folded only when the pool tiles its input exactly (k = q, H and W multiples of q); padding p becomes
p q. Exact for any input; on binary spikes the synapse sums integers, so the integer lowering sees
the same values. Not used for ``sim``/``fpga``: the upsampled kernel multiplies the synapse's
weights by q^2, which costs memory there.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Edge, Graph
from snnc.ir.shapes import conv_padding, dims, infer_shapes, pair

_POOLS = (N.SumPool2d, N.AvgPool2d)
_NEURONS = (N.DiscreteLIF, N.LIFB, N.LMHT, N.CLIF, N.RF, N.LNM, N.IF, N.LIF, N.CubaLIF, N.LI, N.CubaLI, N.I)


def _pool_params(pool: N.Node, name: str) -> tuple[tuple[int, int], tuple[int, int], float]:
    k = pair(pool.kernel_size, "kernel_size", name)
    q = pair(pool.stride, "stride", name)
    if pair(pool.padding, "padding", name) != (0, 0):
        raise UnsupportedError("a padded pool cannot be folded into a synapse", node=name, field="padding",
                               hint="use padding 0 (the conv before or after can pad instead)")
    c = 1.0 / (k[0] * k[1]) if isinstance(pool, N.AvgPool2d) else 1.0
    return k, q, c


def _rewire(g: Graph, removed: str, keep: str) -> None:
    """Remove node ``removed`` (one input, from ``keep``): its out-edges leave ``keep``."""
    (e_in,) = g.in_edges(removed)
    g.edges = [e for e in g.edges if e.dst != removed and e.src != removed] + \
        [Edge(keep, e.dst, e.delay + e_in.delay) for e in g.out_edges(removed)]
    del g.nodes[removed]


def _new_conv(old: N.Conv2d, weight: np.ndarray, stride, padding, bias) -> N.Conv2d:
    out = N.Conv2d(input_shape=old.input_shape, weight=weight, stride=tuple(int(s) for s in stride),
                   padding=tuple(int(p) for p in padding), dilation=(1, 1), groups=old.groups, bias=bias)
    out.metadata, out.quant, out.hw = dict(old.metadata), dict(old.quant), dict(old.hw)
    return out


def fold_pooling(graph: Graph) -> Graph:
    """Fold every sum/avg pool that sits between a Conv2d and a neuron into the Conv2d."""
    g = graph.copy()
    shapes = infer_shapes(g)
    for name in [n for n, node in g.nodes.items() if isinstance(node, _POOLS)]:
        ins, outs = g.in_edges(name), g.out_edges(name)
        if len(ins) != 1 or not outs or not all(isinstance(g.nodes[e.dst], _NEURONS) for e in outs):
            continue
        src = ins[0].src
        conv = g.nodes[src]
        if not isinstance(conv, N.Conv2d):
            if isinstance(conv, (N.Affine, N.Linear)):
                raise UnsupportedError("pooling after a dense synapse", node=name,
                                       hint="pool before the Flatten/Linear, or drop the pool")
            continue
        if len(g.out_edges(src)) != 1:
            raise UnsupportedError("the conv before this pool also feeds other nodes; cannot fold the pool",
                                   node=name, hint="pool each branch after its own neuron")
        k, q, c = _pool_params(g.nodes[name], name)
        w = _weights(conv.weight)
        s = dims(conv.stride, 2, "stride", src)
        d = dims(conv.dilation, 2, "dilation", src)
        pad = conv_padding(conv, shapes[ins[0].src][1:], src)
        K = w.shape[2:]
        new = np.zeros(w.shape[:2] + tuple((k[i] - 1) * s[i] + (K[i] - 1) * d[i] + 1 for i in range(2)), w.dtype)
        for a in range(k[0]):
            for b in range(k[1]):
                for u in range(K[0]):
                    for v in range(K[1]):
                        new[:, :, a * s[0] + u * d[0], b * s[1] + v * d[1]] += c * w[:, :, u, v]
        bias = None if conv.bias is None else _weights(conv.bias) * (c * k[0] * k[1])
        g.nodes[src] = _new_conv(conv, new, (q[0] * s[0], q[1] * s[1]), pad, bias)
        g.nodes[src].metadata["folded_pool"] = name
        _rewire(g, name, src)
    return g


def _weights(w) -> np.ndarray:
    """Weights as float64, or complex128 for a complex synapse (an S5-RF input layer): folding
    must keep the imaginary part."""
    w = np.asarray(w)
    return w.astype(np.complex128 if np.iscomplexobj(w) else np.float64)


def fold_spike_pooling(graph: Graph) -> Graph:
    """Fold every sum/avg pool between a neuron and the next synapse (Conv2d, or Flatten ->
    Linear/Affine) into that synapse."""
    g = graph.copy()
    shapes = infer_shapes(g)
    for name in [n for n, node in g.nodes.items() if isinstance(node, _POOLS)]:
        ins, outs = g.in_edges(name), g.out_edges(name)
        if len(ins) != 1 or len(outs) != 1 or not isinstance(g.nodes[ins[0].src], _NEURONS):
            continue
        k, q, c = _pool_params(g.nodes[name], name)
        in_shape = shapes[ins[0].src]
        dst = outs[0].dst
        node = g.nodes[dst]
        if isinstance(node, N.Conv2d) and len(g.in_edges(dst)) == 1:
            w = _weights(node.weight)
            s = dims(node.stride, 2, "stride", dst)
            d = dims(node.dilation, 2, "dilation", dst)
            pad = conv_padding(node, shapes[name][1:], dst)
            if any(pad):
                if k != q or in_shape[1] % q[0] or in_shape[2] % q[1]:
                    raise UnsupportedError("a padded conv after a pool that does not tile its input exactly",
                                           node=dst, field="padding",
                                           hint="use kernel_size = stride dividing the input, or padding 0")
                pad = (pad[0] * q[0], pad[1] * q[1])
            K = w.shape[2:]
            new = np.zeros(w.shape[:2] + tuple((K[i] - 1) * d[i] * q[i] + k[i] for i in range(2)), w.dtype)
            for u in range(K[0]):
                for v in range(K[1]):
                    for a in range(k[0]):
                        for b in range(k[1]):
                            new[:, :, u * d[0] * q[0] + a, v * d[1] * q[1] + b] += c * w[:, :, u, v]
            g.nodes[dst] = _new_conv(node, new, (s[0] * q[0], s[1] * q[1]), pad, node.bias)
        elif isinstance(node, N.Flatten) and len(g.out_edges(dst)) == 1 and \
                isinstance(g.nodes[g.out_edges(dst)[0].dst], (N.Linear, N.Affine)) and \
                len(g.in_edges(g.out_edges(dst)[0].dst)) == 1 and node.start_dim in (0, -3) and node.end_dim == -1:
            lin_name = g.out_edges(dst)[0].dst
            lin = g.nodes[lin_name]
            C, Hp, Wp = shapes[name]
            w = _weights(lin.weight).reshape(-1, C, Hp, Wp)
            new = np.zeros((w.shape[0], C) + tuple(in_shape[1:]), w.dtype)
            for i in range(Hp):
                for j in range(Wp):
                    new[:, :, i * q[0]:i * q[0] + k[0], j * q[1]:j * q[1] + k[1]] += c * w[:, :, i:i + 1, j:j + 1]
            new = new.reshape(w.shape[0], -1)
            kw = {"weight": new} if isinstance(lin, N.Linear) else {"weight": new, "bias": lin.bias}
            folded = type(lin)(**kw)
            folded.metadata, folded.quant, folded.hw = dict(lin.metadata), dict(lin.quant), dict(lin.hw)
            g.nodes[lin_name] = folded
            node.input_shape = None
        else:
            continue
        g.nodes[dst].metadata["folded_pool"] = name
        e_in = ins[0]
        g.edges = [e for e in g.edges if name not in (e.src, e.dst)] + \
            [Edge(e_in.src, dst, e_in.delay + outs[0].delay)]
        del g.nodes[name]
    return g
