"""Reading and writing ``.nir`` files (NIR's HDF5 layout, nir 1.0.8 ``serialization.py``).

Layout: root dataset ``version``; group ``node`` = the graph: ``type`` = 'NIRGraph',
``nodes/<name>/`` (``type`` = class name, one dataset per field, optional ``metadata`` group),
``edges`` (E, 2) strings, optional ``metadata`` group.

* A graph of NIR-standard nodes is written exactly as ``nir.write`` would (same keys), so
  ``nir.read`` loads it. snnc's extra information goes into NIR ``metadata`` groups:
  graph metadata ``snnc_edge_delays`` (int64[E], aligned with ``edges``), ``dt``,
  ``time_convention``, ...; node metadata ``_snnc`` holds ``quant`` and ``hw`` annotations.
* snnc's own node types are written in the same layout with their class name as ``type``;
  ``nir.read`` cannot load those (it rejects unknown types), snnc reads them back exactly.

Reading uses h5py directly (not ``nir.read``), so that foreign files with quirks load and every
problem is reported as a :class:`~snnc.ir.errors.FileFormatError` naming file, node and field.
"""

from __future__ import annotations

import os
import typing
from dataclasses import MISSING, fields

import h5py
import numpy as np

from .errors import FileFormatError, SnncError
from .files import atomic_file
from .graph import Edge, Graph
from .nodes import NODE_TYPES, Node, QuantSpec, Subgraph
from .version import __version__

#: NIR version string written into files (the NIR release whose layout we follow)
NIR_FORMAT_VERSION = "1.0.8"

#: field name in the file -> field name in the dataclass, per node type
_FILE_KEYS = {
    "Input": {"shape": "shape"},
    "Output": {"shape": "shape"},
    "Flatten": {"input_type": "input_shape"},
}
_BASE_FIELDS = ("metadata", "quant", "hw")


# ----------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------


def write_nir(path: str | os.PathLike, graph: Graph, *, overwrite: bool = True) -> None:
    """Write ``graph`` to ``path`` atomically (temporary file in the same folder, then rename).

    Conv and Flatten nodes need their ``input_shape``: run
    :func:`snnc.ir.shapes.annotate_shapes` first (``snnc.save`` does)."""
    with atomic_file(path, overwrite=overwrite, suffix=".nir.tmp") as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("version", data=NIR_FORMAT_VERSION, dtype=h5py.string_dtype())
        meta_graph = Graph(nodes=graph.nodes, edges=graph.edges,
                           metadata={**graph.metadata, "snnc_version": __version__})
        _write_graph(f.create_group("node"), meta_graph)


def _write_graph(group: h5py.Group, graph: Graph) -> None:
    group.create_dataset("type", data="NIRGraph", dtype=h5py.string_dtype())
    nodes = group.create_group("nodes")
    for name, node in graph.nodes.items():
        _write_node(nodes.create_group(name), name, node)
    edges = np.array([[e.src, e.dst] for e in graph.edges], dtype=object).reshape(-1, 2)
    group.create_dataset("edges", data=edges, dtype=h5py.string_dtype())
    meta = dict(graph.metadata)
    meta["snnc_edge_delays"] = np.array([e.delay for e in graph.edges], dtype=np.int64)
    _write_value(group, "metadata", meta)


def _write_node(group: h5py.Group, name: str, node: Node) -> None:
    if isinstance(node, Subgraph):
        _write_graph(group, node.graph)
        return
    group.create_dataset("type", data=node.type_name, dtype=h5py.string_dtype())
    to_file = {v: k for k, v in _FILE_KEYS.get(node.type_name, {}).items()}
    defaults = {f.name: f.default for f in fields(node)}
    none_fields = []
    for fname in node.param_fields():
        value = getattr(node, fname)
        if fname in getattr(node, "omit_defaults", ()) and value == defaults.get(fname):
            continue   # a field added later with a default keeping the old meaning: older files stay identical
        if value is None:
            if defaults.get(fname, None) is not None:
                none_fields.append(fname)  # None where the default is not: must be recorded
            continue
        key = to_file.get(fname, fname)
        if node.type_name == "Conv1d" and fname == "input_shape":
            value = int(value[0])  # NIR stores Conv1d's input length as one int
        elif isinstance(value, tuple):
            value = np.asarray(value, dtype=np.int64)
        _write_value(group, key, value)
    meta = dict(node.metadata)
    snnc_meta = {}
    if node.quant:
        snnc_meta["quant"] = {k: _quant_to_dict(q) for k, q in node.quant.items()}
    if node.hw:
        snnc_meta["hw"] = dict(node.hw)
    if none_fields:
        snnc_meta["none_fields"] = none_fields
    if snnc_meta:
        meta["_snnc"] = snnc_meta
    if meta:
        _write_value(group, "metadata", meta)


def _quant_to_dict(q: QuantSpec) -> dict:
    return {"bits": q.bits, "frac_bits": q.frac_bits, "signed": q.signed,
            "overflow": q.overflow, "scale": q.scale}


def _write_value(group: h5py.Group, key: str, value) -> None:
    if isinstance(value, dict):
        sub = group.create_group(key)
        for k, v in value.items():
            if v is not None:
                _write_value(sub, str(k), v)
    elif isinstance(value, str):
        group.create_dataset(key, data=value, dtype=h5py.string_dtype())
    elif isinstance(value, np.ndarray):
        if value.dtype == object:
            raise SnncError(f"cannot write object array in field '{key}'", field=key)
        group.create_dataset(key, data=value, compression="gzip" if value.size > 16 else None)
    elif isinstance(value, (list, tuple)):
        arr = np.asarray(value)
        if arr.dtype.kind in "US":
            group.create_dataset(key, data=arr.astype(object), dtype=h5py.string_dtype())
        else:
            group.create_dataset(key, data=arr)
    elif isinstance(value, (bool, int, float, complex, np.generic)):
        group.create_dataset(key, data=value)
    else:
        raise SnncError(f"cannot write value of type {type(value).__name__} in field '{key}'",
                        field=key)


# ----------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------


def read_nir(path: str | os.PathLike) -> Graph:
    """Read a ``.nir`` file into a :class:`Graph` (no shape inference, no conventions applied:
    see :func:`snnc.frontend.nir_import.load_nir` for that). Edge delays come from the
    graph metadata ``snnc_edge_delays`` when present, else 0."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileFormatError("file not found", file=path)
    if os.path.isdir(path):
        raise FileFormatError("is a folder, not a .nir file", file=path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise FileFormatError(f"not a readable HDF5/NIR file ({_short(exc)})", file=path,
                              hint="is the file complete? NIR files are HDF5") from None
    try:
        with f:
            if "node" not in f or not isinstance(f["node"], h5py.Group):
                raise FileFormatError("no 'node' group: not a NIR graph file", file=path)
            return _read_graph(f["node"], "")
    except SnncError as exc:
        raise exc.with_file(path) from None
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise FileFormatError(f"corrupted NIR file ({_short(exc)})", file=path) from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _read_graph(group: h5py.Group, prefix: str) -> Graph:
    gtype = _read_str(group, "type", prefix or "<root>")
    if gtype != "NIRGraph":
        raise FileFormatError(f"top-level node has type '{gtype}', expected 'NIRGraph'",
                              node=prefix or None, field="type")
    if "nodes" not in group:
        raise FileFormatError("graph has no 'nodes' group", node=prefix or None, field="nodes")
    graph = Graph()
    for name, sub in group["nodes"].items():
        full = f"{prefix}{name}"
        if not isinstance(sub, h5py.Group):
            raise FileFormatError("node entry is not a group", node=full)
        graph.nodes[name] = _read_node(sub, full)
    edges = _read_edges(group, prefix)
    meta = _read_dict(group["metadata"]) if "metadata" in group else {}
    delays = meta.pop("snnc_edge_delays", None)
    if delays is not None:
        delays = np.atleast_1d(np.asarray(delays, dtype=np.int64))
        if delays.shape != (len(edges),):
            raise FileFormatError(f"snnc_edge_delays has {delays.size} entries for {len(edges)} edges",
                                  node=prefix or None, field="metadata/snnc_edge_delays")
    graph.edges = [Edge(s, d, int(delays[i]) if delays is not None else 0)
                   for i, (s, d) in enumerate(edges)]
    graph.metadata = meta
    return graph


def _read_edges(group: h5py.Group, prefix: str) -> list[tuple[str, str]]:
    if "edges" not in group:
        raise FileFormatError("graph has no 'edges' dataset", node=prefix or None, field="edges")
    raw = group["edges"][()]
    arr = np.asarray(raw, dtype=object)
    if arr.size == 0:
        return []
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise FileFormatError(f"edges must be an (E, 2) array of names, got shape {arr.shape}",
                              node=prefix or None, field="edges")
    return [(_to_str(a), _to_str(b)) for a, b in arr]


def _to_str(x) -> str:
    return x.decode("utf8") if isinstance(x, bytes) else str(x)


def _read_str(group: h5py.Group, key: str, node: str) -> str:
    if key not in group:
        raise FileFormatError(f"missing '{key}'", node=node, field=key)
    val = group[key][()]
    if isinstance(val, np.ndarray) and val.size == 1:
        val = val.reshape(-1)[0]
    if not isinstance(val, (bytes, str)):
        raise FileFormatError(f"'{key}' is not a string", node=node, field=key)
    return _to_str(val)


def _read_dict(group: h5py.Group) -> dict:
    out = {}
    for k, v in group.items():
        if isinstance(v, h5py.Group):
            out[k] = _read_dict(v)
        else:
            out[k] = _plain(v[()])
    return out


def _plain(val):
    """h5py value -> python value: bytes -> str, numpy scalar -> python scalar."""
    if isinstance(val, bytes):
        return val.decode("utf8")
    if isinstance(val, np.generic):
        return val.item()
    if isinstance(val, np.ndarray) and val.dtype == object:
        return [_to_str(x) for x in val.reshape(-1)]
    return val


def _read_node(group: h5py.Group, name: str) -> Node:
    ntype = _read_str(group, "type", name)
    if ntype == "NIRGraph":
        return Subgraph(graph=_read_graph(group, name + "."))
    cls = NODE_TYPES.get(ntype)
    if cls is None:
        known = ", ".join(sorted(NODE_TYPES))
        raise FileFormatError(f"unknown node type '{ntype}'", node=name, field="type",
                              hint=f"snnc knows: {known}")
    file_to_field = _FILE_KEYS.get(ntype, {})
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in fields(cls):
        if f.name in _BASE_FIELDS:
            continue
        key = next((k for k, v in file_to_field.items() if v == f.name), f.name)
        if key in group and isinstance(group[key], h5py.Dataset):
            kwargs[f.name] = _convert(group[key][()], hints[f.name], name, f.name)
        elif f.name == "input_shape":
            kwargs[f.name] = None      # Conv/Flatten without input_shape: inferred from the Input on import
        elif f.default is MISSING and f.default_factory is MISSING:
            raise FileFormatError(f"{ntype} node is missing required field '{key}'",
                                  node=name, field=key)
    meta = _read_dict(group["metadata"]) if "metadata" in group else {}
    snnc_meta = meta.pop("_snnc", {})
    for fname in snnc_meta.get("none_fields", []):
        if fname in {f.name for f in fields(cls)}:
            kwargs[fname] = None
    try:
        node = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise FileFormatError(f"invalid {ntype} node ({_short(exc)})", node=name) from None
    node.metadata = meta
    node.quant = {k: QuantSpec(bits=int(q["bits"]), frac_bits=int(q["frac_bits"]),
                               signed=bool(q["signed"]), overflow=str(q["overflow"]),
                               scale=float(q["scale"]))
                  for k, q in snnc_meta.get("quant", {}).items()}
    node.hw = dict(snnc_meta.get("hw", {}))
    return node


def _convert(value, hint, node: str, fname: str):
    """Convert an h5py value to the dataclass field's declared type."""
    if isinstance(value, bytes):
        value = value.decode("utf8")
    kinds = _hint_kinds(hint)
    if isinstance(value, str):
        if "str" in kinds or "Any" in kinds:
            return value
        raise FileFormatError(f"expected a number/array, found string '{value}'", node=node, field=fname)
    arr = np.asarray(value)
    if arr.dtype == object:
        raise FileFormatError("unsupported object array", node=node, field=fname)
    if "tuple" in kinds:
        return tuple(int(x) for x in arr.reshape(-1))
    if "bool" in kinds and arr.size == 1 and arr.dtype.kind in "biu":
        return bool(arr.reshape(-1)[0])
    if "ndarray" in kinds:
        return arr if isinstance(value, np.ndarray) else np.asarray(value)
    if "int" in kinds:
        if arr.size != 1:
            raise FileFormatError(f"expected one integer, found shape {arr.shape}", node=node, field=fname)
        return int(arr.reshape(-1)[0])
    if "float" in kinds:
        if arr.size != 1:
            raise FileFormatError(f"expected one number, found shape {arr.shape}", node=node, field=fname)
        return float(arr.reshape(-1)[0])
    if "Any" in kinds:
        if arr.ndim == 0:
            return arr.item()
        return tuple(int(x) for x in arr.reshape(-1)) if arr.dtype.kind in "iu" else arr
    return value


def _hint_kinds(hint) -> set[str]:
    if hint is typing.Any:
        return {"Any"}
    args = typing.get_args(hint)
    if args:
        out = set()
        for a in args:
            out |= _hint_kinds(a)
        return out
    if hint is type(None):
        return set()
    return {getattr(hint, "__name__", str(hint))}
