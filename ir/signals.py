"""Input arrays of a run, normalized once for every backend.

A run takes, per Input node, an array ``[B, T, *shape]`` (or ``[T, *shape]`` for one sample); a
single-input graph also takes the bare array instead of a dict. :func:`prepare_inputs` checks
names and shapes, truncates or zero-pads the time axis to ``steps``, and for integer graphs
refuses non-integer values and returns ``int64``.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, SnncError
from .graph import Graph


def prepare_inputs(graph: Graph, inputs, steps: int | None = None, *, integer: bool | None = None,
                   dtype=np.float64) -> dict[str, np.ndarray]:
    """{input name: array [B, T, *shape]} (int64 for integer graphs, else ``dtype``).
    ``integer`` defaults to ``graph.metadata['level'] == 'integer'``."""
    if integer is None:
        integer = graph.metadata.get("level") == "integer"
    names = graph.input_names()
    if not isinstance(inputs, dict):
        if len(names) != 1:
            raise SnncError(f"graph has {len(names)} inputs {names}: pass a dict of arrays")
        inputs = {names[0]: inputs}
    missing = [n for n in names if n not in inputs]
    if missing:
        raise SnncError(f"no data for input node(s) {missing}")
    res = {}
    for name in names:
        a = np.asarray(inputs[name])
        shape = tuple(int(s) for s in graph.nodes[name].shape)
        if a.shape[2:] != shape:
            if a.ndim == len(shape) + 1 and a.shape[1:] == shape:
                a = a[None]
            else:
                raise ShapeError(f"input array has shape {a.shape}; expected (B, T, {', '.join(map(str, shape))})",
                                 node=name)
        if steps is not None:
            if a.shape[1] >= steps:
                a = a[:, :steps]
            else:
                a = np.concatenate([a, np.zeros((a.shape[0], steps - a.shape[1], *shape), a.dtype)], 1)
        if integer:
            if a.dtype.kind in "fc" and not np.array_equal(a, np.round(a)):
                raise SnncError("integer graph needs integer-valued inputs", node=name)
            a = np.asarray(a, dtype=np.int64)
        else:
            a = np.asarray(a, dtype=dtype)
        res[name] = a
    return res
