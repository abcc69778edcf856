"""Running a model file on inputs: load, discretize if needed, simulate.

Input arrays: ``(T, *input_shape)`` (one sample) or ``(B, T, *input_shape)``; traces come back
as ``(B, T, ...)``. ``.npz`` inputs hold one array per Input node name.

``layout='lava'`` (the CLI's ``--layout lava``): arrays in Lava's order instead, time last and
the spatial axes reversed, as Lava's ``RingBuffer`` data and sink buffers hold them:
``(W, H, C, T)`` / ``(N, T)`` for one sample, with a leading batch axis ``(B, W, H, C, T)`` for
several. The conversion reverses every axis after the batch axis (snnc's ``(T, C, H, W)`` reversed
is Lava's ``(W, H, C, T)``).
"""

from __future__ import annotations

import io
import os

import numpy as np

from snnc.backends.sim import Simulator, Trace
from snnc.ir import nodes as N
from snnc.ir.errors import FileFormatError, ShapeError, SnncError
from snnc.ir.files import atomic_write_bytes
from snnc.ir.graph import Graph
from snnc.passes.discretize import discretize

_CONTINUOUS = (N.I, N.IF, N.LI, N.LIF, N.CubaLI, N.CubaLIF, N.Delay)


def prepare_for_simulation(graph: Graph, dt: float | None = None) -> Graph:
    """Discretize continuous NIR neurons (if any) at ``dt`` (default: the graph's dt)."""
    if any(isinstance(n, _CONTINUOUS) for n in graph.nodes.values()) or dt is not None:
        return discretize(graph, dt)
    return graph


LAYOUTS = ("snnc", "lava")


def to_snnc_layout(a: np.ndarray, *, batch: bool) -> np.ndarray:
    """Lava's time-last order -> snnc's: reverse every axis (after the batch axis when ``batch``)."""
    a = np.asarray(a)
    if not batch:
        return np.ascontiguousarray(a.transpose(tuple(range(a.ndim))[::-1]))
    return np.ascontiguousarray(a.transpose((0,) + tuple(range(1, a.ndim))[::-1]))


def to_lava_layout(a: np.ndarray) -> np.ndarray:
    """A trace array (B, T, ...) -> Lava's order: (..., T) reversed per sample, (B, ..., T) for B > 1
    and the bare (..., T) (e.g. (W, H, C, T)) for one sample."""
    a = to_snnc_layout(a, batch=True)
    return a[0] if a.shape[0] == 1 else a


def load_array(path: str, what: str) -> np.ndarray:
    """One numeric ``.npy`` array (errors name the file and the option ``what``)."""
    if not os.path.exists(path):
        raise FileFormatError(f"{what}: file not found", file=path)
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as exc:  # numpy raises several types for a bad file
        raise FileFormatError(f"{what}: not a readable .npy file ({type(exc).__name__})", file=path) from None
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "biuf":
        raise FileFormatError(f"{what}: expected one numeric .npy array", file=path)
    return a


def _from_lava(a: np.ndarray, shape: tuple, path: str, name: str) -> np.ndarray:
    """A Lava-layout input array ((*shape[::-1], T) or (B, *shape[::-1], T), or the flat (N, T) /
    (B, N, T) vector netx's first dense synapse reads, N = prod(shape), C order) -> snnc's (B, T, *shape)."""
    lava = tuple(shape)[::-1]
    if a.ndim == len(shape) + 1 and a.shape[:-1] == lava:
        return to_snnc_layout(a, batch=False)[None]
    if a.ndim == len(shape) + 2 and a.shape[1:-1] == lava:
        return to_snnc_layout(a, batch=True)
    n = int(np.prod(shape))
    if len(shape) > 1 and a.ndim in (2, 3) and a.shape[-2] == n:     # the flat (N, T) vector a dense synapse reads
        flat = to_snnc_layout(a, batch=a.ndim == 3)
        flat = flat[None] if a.ndim == 2 else flat
        return flat.reshape(flat.shape[:2] + tuple(shape))
    raise ShapeError(f"input array shape {a.shape} does not fit Lava's layout ({', '.join(map(str, lava))}, T) "
                     f"or (B, {', '.join(map(str, lava))}, T) (--layout lava)", file=path, node=name)


def load_inputs(path: str, graph: Graph, layout: str = "snnc") -> dict[str, np.ndarray]:
    """Read ``.npy`` (single input) or ``.npz`` (arrays named by Input node) and bring each
    array to (B, T, *shape) (``layout='lava'``: the arrays are in Lava's time-last order, module
    docstring). Errors name the file and the expected shape."""
    if layout not in LAYOUTS:
        raise SnncError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if not os.path.exists(path):
        raise FileFormatError("input file not found", file=path)
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:  # numpy raises several types for a bad file
        raise FileFormatError(f"not a readable .npy/.npz file ({type(exc).__name__})", file=path) from None
    names = graph.input_names()
    if isinstance(data, np.ndarray):
        if len(names) != 1:
            raise FileFormatError(f"model has {len(names)} inputs {names}: give an .npz with one array each",
                                  file=path)
        arrays = {names[0]: data}
    else:
        arrays = {k: data[k] for k in data.files}
        missing = [n for n in names if n not in arrays]
        if missing:
            raise FileFormatError(f"no array for input node(s) {missing} (found {sorted(arrays)})", file=path)
    out = {}
    for name in names:
        a = arrays[name]
        shape = tuple(graph.nodes[name].shape)
        if a.dtype.kind not in "biuf":
            raise FileFormatError(f"input '{name}' has dtype {a.dtype}; expected numbers", file=path)
        if layout == "lava":
            a = _from_lava(a, shape, path, name)
        if a.shape[1:] == shape:
            a = a[None]
        if a.shape[2:] != shape:
            raise ShapeError(f"input array shape {a.shape} does not fit (T, {shape}) or (B, T, {shape})",
                             file=path, node=name)
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise FileFormatError(f"input '{name}' contains NaN or inf", file=path)
        out[name] = a
    return out


def quantize_inputs(graph: Graph, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For a lowered integer graph: real-valued inputs -> integers, x_int = round(x * scale) with
    each Input node's ``metadata['scale']`` (1 for spikes), clipped to the input range of
    analog inputs. Float graphs get their inputs unchanged."""
    if graph.metadata.get("level") != "integer":
        return inputs
    out = {}
    for name, x in inputs.items():
        meta = graph.nodes[name].metadata
        scale = float(meta.get("scale", 1.0))
        xf = np.asarray(x, np.float64)
        if not meta.get("analog") and not np.array_equal(xf, np.round(xf)):
            raise SnncError("non-integer input values for an input compiled for spikes / integer payloads (they "
                            "would be rounded)", node=name,
                            hint="compile with calibration data (config 'calibration') or set the Input node's "
                                 "metadata analog=True and max_abs before compiling, so the input is quantized")
        q = np.round(xf * scale)
        if meta.get("analog"):
            lim = float(meta.get("max_abs", np.inf))
            q = np.clip(q, -lim, lim)
        out[name] = q.astype(np.int64)
    return out


def run_graph(graph: Graph, inputs, *, steps: int | None = None, record: str = "outputs",
              record_states: bool = False, dt: float | None = None, dtype=np.float64) -> Trace:
    """Simulate ``graph`` (discretized first if needed) on ``inputs`` (B, T, ...). A
    time-multiplexed graph (``metadata['substeps']`` = L, see ``passes.reparam_lmht``) runs
    L sub-steps per step: step t's input is presented on its first sub-step, and the trace
    comes back per step (outputs summed over each block, states after its last sub-step)."""
    if record not in ("outputs", "all"):
        raise SnncError(f"record must be 'outputs' or 'all', got '{record}'")
    graph = prepare_for_simulation(graph, dt)
    if isinstance(inputs, dict):
        inputs = quantize_inputs(graph, inputs)
    elif graph.metadata.get("level") == "integer":
        inputs = quantize_inputs(graph, {graph.input_names()[0]: inputs})
    sim = Simulator(graph, dtype=dtype)
    substeps = int(graph.metadata.get("substeps", 1))
    if substeps > 1:     # time-multiplexed (passes.reparam_lmht): per-step data in and out
        from snnc.passes.reparam_lmht import expand_inputs, reduce_trace

        sub = sim.run(expand_inputs(graph, inputs, steps), record=record, record_states=record_states)
        return reduce_trace(graph, sub)
    return sim.run(inputs, steps=steps, record=record, record_states=record_states)


def save_trace(trace: Trace, path: str, *, overwrite: bool = True, layout: str = "snnc") -> None:
    """Write one array per node (and ``<node>.<state>`` per recorded state) to ``path``
    (.npz) atomically: (B, T, ...) arrays, or with ``layout='lava'`` Lava's time-last order
    (module docstring)."""
    if layout not in LAYOUTS:
        raise SnncError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    arrays = {**trace.outputs, **trace.states}
    if layout == "lava":
        arrays = {k: to_lava_layout(v) for k, v in arrays.items()}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue(), overwrite=overwrite)
