"""The HDF5 layout of a lava-dl netx ``.net`` file (docs/netx_format.md#file-layout), read field by field:
``/layer/<i>`` groups numbered 0..n-1, each with a ``type`` string and datasets; every error is an
:mod:`snnc.ir.errors` exception naming the file, ``layer/<i>`` and the field."""

from __future__ import annotations

import h5py
import numpy as np

from snnc.ir.errors import FileFormatError, ParameterError, ShapeError, SnncError
from snnc.ir.netx_rules import INT32_LIMIT


def short(exc: BaseException) -> str:
    """The first line of an exception's message (at most 200 characters)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def type_string(value, err) -> str:
    """A netx ``type`` dataset value (S10 array of shape (1,), bytes scalar, or str) -> str."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "SUO" or value.size < 1:
            raise err(f"must be a string, got {value.dtype} array of shape {value.shape}")
        value = value.reshape(-1)[0]
    if isinstance(value, bytes):
        try:
            return value.decode("ascii").strip("\x00").strip()
        except UnicodeDecodeError:
            raise err("is not an ASCII string") from None
    if isinstance(value, str):
        return value.strip()
    raise err(f"must be a string, got {type(value).__name__}")


class Layer:
    """One ``/layer/<i>`` group: typed field access whose errors name file, layer and field."""

    def __init__(self, path: str, index: int, group: h5py.Group):
        self.path, self.i, self.g = path, index, group
        self.node = f"layer/{index}"

    def error(self, cls, message: str, field: str | None = None, hint: str | None = None) -> SnncError:
        return cls(message, file=self.path, node=self.node, field=field, hint=hint)

    def call(self, field: str, fn, *args, **kwargs):
        """``fn(*args, **kwargs)``, an SnncError it raises re-raised for this layer and ``field``."""
        try:
            return fn(*args, **kwargs)
        except SnncError as exc:
            raise self.error(type(exc), exc.detail, field, exc.hint) from None

    def has(self, key: str) -> bool:
        try:
            return key in self.g
        except (KeyError, ValueError, TypeError):
            return False

    def dataset(self, key: str, *, required: bool = True):
        if not self.has(key):
            if required:
                raise self.error(FileFormatError, "missing field", key)
            return None
        obj = self.g[key]
        if not isinstance(obj, h5py.Dataset):
            raise self.error(FileFormatError, "is a group, expected a dataset", key)
        try:
            return obj[()]
        except (OSError, ValueError, TypeError, RuntimeError) as exc:
            raise self.error(FileFormatError, f"unreadable ({short(exc)})", key) from None

    def group(self, key: str, what: str) -> h5py.Group:
        """The sub-group ``key`` (e.g. ``neuron``); a dataset there is a FileFormatError."""
        obj = self.g[key]
        if not isinstance(obj, h5py.Group):
            raise self.error(FileFormatError, f"is a dataset, expected a group of {what}", key)
        return obj

    def type_name(self, key: str = "type") -> str:
        return type_string(self.dataset(key), lambda m: self.error(FileFormatError, m, key))

    def integers(self, key: str, *, required: bool = True, value=None, what: str = "") -> np.ndarray | None:
        """A numeric field as int64, refusing NaN/inf, fractions and values outside int32
        (netx casts with ``astype(int)`` / ``astype(np.int32)``, which would truncate or wrap)."""
        v = self.dataset(key, required=required) if value is None else value
        if v is None:
            return None
        a = np.asarray(v)
        if a.dtype.kind not in "biuf":
            raise self.error(ParameterError, f"must be numeric, got {a.dtype}", key)
        if a.dtype.kind == "f":
            if not np.isfinite(a).all():
                raise self.error(ParameterError, "contains NaN or inf", key)
            if np.any(a != np.round(a)):
                bad = a.reshape(-1)[np.flatnonzero(a.reshape(-1) != np.round(a.reshape(-1)))[0]]
                raise self.error(ParameterError, f"must hold integers{what}, got {float(bad)!r}", key,
                                 hint="netx would truncate it with astype(int); slayer writes integer values")
        if a.size and np.abs(a.astype(np.float64)).max() >= INT32_LIMIT:
            raise self.error(ParameterError, f"value {float(np.abs(a.astype(np.float64)).max()):g} outside int32 "
                             "(Lava stores it in int32)", key)
        return a.astype(np.int64)

    def scalar(self, key: str, *, required: bool = True, value=None) -> int | None:
        a = self.integers(key, required=required, value=value)
        if a is None:
            return None
        if a.size != 1:
            raise self.error(ParameterError, f"must be a single value, got shape {a.shape}", key)
        return int(a.reshape(-1)[0])

    def shape(self, key: str = "shape") -> tuple[int, ...]:
        a = self.integers(key)
        if a.ndim != 1 or a.size == 0:
            raise self.error(ShapeError, f"must be a 1-d list of sizes, got shape {a.shape}", key)
        if np.any(a <= 0):
            raise self.error(ShapeError, f"zero-size or negative layer shape {tuple(int(s) for s in a)}", key,
                             hint="every layer needs at least one neuron")
        return tuple(int(s) for s in a)


def read_layers(path: str, f: h5py.File, num_layers: int | None) -> list[Layer]:
    """The file's layers in netx's order (``/layer/0``, ``/layer/1``, ...; only the first
    ``num_layers`` when given, as netx's ``num_layers``)."""
    if "layer" not in f or not isinstance(f["layer"], h5py.Group):
        raise FileFormatError("no 'layer' group: not a lava-dl netx .net file", file=path)
    root = f["layer"]
    keys = list(root.keys())
    if not keys:
        raise FileFormatError("the 'layer' group is empty", file=path, node="layer")
    missing = [str(i) for i in range(len(keys)) if str(i) not in root]
    if missing:
        raise FileFormatError(f"layer names must be 0..{len(keys) - 1} (netx reads them by index); "
                              f"'{missing[0]}' is missing, found {sorted(keys)[:8]}", file=path, node="layer")
    count = len(keys) if num_layers is None else min(len(keys), int(num_layers))
    layers = []
    for i in range(count):
        grp = root[str(i)]
        if not isinstance(grp, h5py.Group):
            raise FileFormatError("is a dataset, expected a layer group", file=path, node=f"layer/{i}")
        layers.append(Layer(path, i, grp))
    return layers
