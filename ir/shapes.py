"""Shape inference: the per-sample output shape of every node (no batch, no time axis).

``infer_shapes(graph)`` returns ``{node name: output shape}``; ``annotate_shapes(graph)`` is the
pass that also fills the shape fields NIR wants stored (Conv ``input_shape``, Flatten
``input_shape``, Output ``shape``).
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import ShapeError, UnsupportedError
from snnc.ir.graph import Graph


def pair(x, name: str, node: str) -> tuple[int, int]:
    arr = np.atleast_1d(np.asarray(x)).reshape(-1)
    if arr.size == 1:
        return int(arr[0]), int(arr[0])
    if arr.size == 2:
        return int(arr[0]), int(arr[1])
    raise ShapeError(f"expected one or two values, got {arr.size}", node=node, field=name)


def conv_padding(node, spatial_in: tuple[int, ...], name: str) -> tuple[int, ...]:
    """Explicit zero padding per spatial axis ('same' / 'valid' resolved as torch does;
    'same' requires stride 1 and pads (d*(k-1))//2 before)."""
    k = node.weight.shape[2:]
    nd = len(k)
    pad = node.padding
    if isinstance(pad, str):
        if pad == "valid":
            return (0,) * nd
        if pad == "same":
            dil = dims(node.dilation, nd, "dilation", name)
            return tuple((d * (kk - 1)) // 2 for d, kk in zip(dil, k))
        raise ShapeError(f"unknown padding '{pad}'", node=name, field="padding")
    return dims(pad, nd, "padding", name)


def dims(x, nd: int, fname: str, node: str) -> tuple[int, ...]:
    arr = np.atleast_1d(np.asarray(x)).reshape(-1)
    if arr.size == 1:
        return (int(arr[0]),) * nd
    if arr.size == nd:
        return tuple(int(v) for v in arr)
    raise ShapeError(f"expected {nd} values, got {arr.size}", node=node, field=fname)


def conv_output_shape(node, in_shape: tuple[int, ...], name: str) -> tuple[int, ...]:
    w = np.asarray(node.weight)
    nd = w.ndim - 2
    if len(in_shape) != nd + 1:
        raise ShapeError(f"conv input must be (C, {'H, W' if nd == 2 else 'N'}), got {in_shape}",
                         node=name)
    c_in = in_shape[0]
    if c_in != w.shape[1] * int(node.groups):
        raise ShapeError(f"input has {c_in} channels, weight expects {w.shape[1]} x groups {node.groups}",
                         node=name, field="weight")
    stride = dims(node.stride, nd, "stride", name)
    dil = dims(node.dilation, nd, "dilation", name)
    pad = conv_padding(node, in_shape[1:], name)
    out = []
    for i, size in enumerate(in_shape[1:]):
        o = math.floor((size + 2 * pad[i] - dil[i] * (w.shape[2 + i] - 1) - 1) / stride[i] + 1)
        if o <= 0:
            raise ShapeError(f"kernel larger than padded input on axis {i} (input {size})", node=name)
        out.append(o)
    return (w.shape[0], *out)


def pool_output_shape(node, in_shape: tuple[int, ...], name: str) -> tuple[int, ...]:
    if len(in_shape) != 3:
        raise ShapeError(f"pooling input must be (C, H, W), got {in_shape}", node=name)
    k = pair(node.kernel_size, "kernel_size", name)
    s = pair(node.stride, "stride", name)
    p = pair(node.padding, "padding", name)
    out = [math.floor((in_shape[1 + i] + 2 * p[i] - k[i]) / s[i] + 1) for i in range(2)]
    if min(out) <= 0:
        raise ShapeError(f"pool kernel {k} larger than input {in_shape[1:]}", node=name)
    return (in_shape[0], *out)


def flatten_output_shape(node, in_shape: tuple[int, ...], name: str) -> tuple[int, ...]:
    nd = len(in_shape)
    start = node.start_dim % nd if nd else 0
    end = node.end_dim % nd if nd else 0
    if start > end:
        raise ShapeError(f"start_dim {node.start_dim} after end_dim {node.end_dim} for input {in_shape}",
                         node=name, field="start_dim")
    return (*in_shape[:start], int(np.prod(in_shape[start:end + 1])), *in_shape[end + 1:])


def neuron_shape(node: N.Node, name: str) -> tuple[int, ...] | None:
    """Shape of a neuron population: the ``shape`` field, or (NIR neurons) the common shape
    of the parameter arrays."""
    if hasattr(node, "shape") and not isinstance(node, (N.Input, N.Output)):
        return tuple(int(s) for s in node.shape)
    shapes = {np.asarray(v).shape for k, v in node.params().items()
              if isinstance(v, np.ndarray) and np.asarray(v).ndim > 0}
    if not shapes:
        return None
    try:
        return tuple(int(s) for s in np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(f"parameter shapes {sorted(shapes)} do not broadcast", node=name) from None


def output_shape(node: N.Node, in_shape: tuple[int, ...] | None, name: str) -> tuple[int, ...]:
    """Per-sample output shape of ``node`` given the shape of its (summed) input."""
    if isinstance(node, N.Input) or getattr(node, "source", False):
        return tuple(int(s) for s in node.shape)
    if in_shape is None:
        raise ShapeError("node has no input", node=name, hint="connect it or remove it")
    if isinstance(node, N.Output):
        declared = tuple(int(x) for x in node.shape)
        if declared and int(np.prod(declared)) != int(np.prod(in_shape)):
            raise ShapeError(f"Output declares shape {declared} but receives {tuple(in_shape)}",
                             node=name, field="shape")
        return in_shape
    if isinstance(node, (N.Affine, N.Linear)):
        w = np.asarray(node.weight)
        if w.ndim != 2:
            raise ShapeError(f"weight must be 2-d (out, in), got shape {w.shape}", node=name, field="weight")
        if in_shape[-1:] != (w.shape[1],):
            raise ShapeError(f"input shape {in_shape} does not end in weight's in-features {w.shape[1]}",
                             node=name, field="weight")
        if isinstance(node, N.Affine) and np.asarray(node.bias).size not in (1, w.shape[0]):
            raise ShapeError(f"bias has {np.asarray(node.bias).size} entries for {w.shape[0]} outputs",
                             node=name, field="bias")
        return (*in_shape[:-1], w.shape[0])
    if isinstance(node, (N.Conv1d, N.Conv2d)):
        return conv_output_shape(node, in_shape, name)
    if isinstance(node, (N.SumPool2d, N.AvgPool2d)):
        return pool_output_shape(node, in_shape, name)
    if isinstance(node, N.Flatten):
        return flatten_output_shape(node, in_shape, name)
    if isinstance(node, (N.BatchNorm,)):
        if np.asarray(node.mean).size != in_shape[0]:
            raise ShapeError(f"{np.asarray(node.mean).size} channels for input {in_shape}", node=name,
                             field="mean")
        return in_shape
    if getattr(node, "whole_window", False):
        return in_shape
    if hasattr(node, "weight_real"):  # complex integer synapse (IntComplexDense)
        w = np.asarray(node.weight_real)
        if in_shape[-1:] != (w.shape[1],):
            raise ShapeError(f"input shape {in_shape} does not end in weight's in-features {w.shape[1]}",
                             node=name, field="weight_real")
        return (*in_shape[:-1], w.shape[0])
    if isinstance(node, N.Subgraph):
        raise UnsupportedError("nested graph not flattened", node=name,
                               hint="run passes.flatten_subgraphs first")
    shape = neuron_shape(node, name)
    if shape is None or shape == ():
        return in_shape
    if tuple(shape) != tuple(in_shape):
        try:
            np.broadcast_shapes(shape, in_shape)
            if np.prod(np.broadcast_shapes(shape, in_shape)) == np.prod(in_shape):
                return in_shape
        except ValueError:
            pass
        raise ShapeError(f"input shape {in_shape} does not match the node's shape {shape}", node=name)
    return shape


def infer_shapes(graph: Graph) -> dict[str, tuple[int, ...]]:
    """Output shape of every node. Raises ShapeError naming the first node whose inputs
    disagree or whose parameters do not fit its input."""
    shapes: dict[str, tuple[int, ...]] = {}
    order = graph.evaluation_order()
    pending = list(order)
    # Nodes on a cycle get their input shape from edges whose source is already known; with
    # delays, sources may come later in the order, so iterate until nothing changes.
    for _ in range(len(order) + 1):
        progress = False
        for name in list(pending):
            node = graph.nodes[name]
            in_shapes = {}
            unknown = False
            for e in graph.in_edges(name):
                if e.src in shapes:
                    in_shapes[e.src] = shapes[e.src]
                else:
                    unknown = True
            if isinstance(node, N.Input) or getattr(node, "source", False):
                in_shape = None
            elif in_shapes:
                distinct = set(in_shapes.values())
                if len(distinct) > 1:
                    detail = ", ".join(f"{s}: {sh}" for s, sh in in_shapes.items())
                    raise ShapeError(f"inputs have different shapes ({detail})", node=name)
                in_shape = distinct.pop()
            elif unknown:
                continue
            else:
                in_shape = None
            shapes[name] = output_shape(node, in_shape, name)
            if 0 in shapes[name]:
                raise ShapeError(f"zero-size output shape {shapes[name]}", node=name)
            pending.remove(name)
            progress = True
        if not pending or not progress:
            break
    if pending:
        raise ShapeError("cannot infer shapes: node is not reachable from an Input", node=pending[0],
                         hint="connect it to the graph or remove it")
    return shapes


def annotate_shapes(graph: Graph) -> Graph:
    """Pass: a copy of ``graph`` with Conv/Flatten ``input_shape`` and Output ``shape`` filled
    in from inferred shapes (NIR stores them). Output shapes that differ from the inferred
    ones only by size-1 axes are replaced (recorded in the node's metadata)."""
    out = graph.copy()
    shapes = infer_shapes(out)
    for name, node in out.nodes.items():
        ins = [shapes[e.src] for e in out.in_edges(name) if e.src in shapes]
        in_shape = ins[0] if ins else None
        if isinstance(node, (N.Conv1d, N.Conv2d)) and in_shape is not None:
            node.input_shape = tuple(in_shape[1:])
        elif isinstance(node, N.Flatten) and in_shape is not None:
            node.input_shape = tuple(in_shape)
        elif isinstance(node, N.Output) and in_shape is not None:
            declared = tuple(int(s) for s in node.shape)
            if declared != tuple(in_shape):
                node.metadata["declared_shape"] = list(declared)
                node.shape = tuple(in_shape)
    return out
