"""One entry point for model files: picks the importer by file content/extension."""

from __future__ import annotations

import os

from snnc.ir.errors import FileFormatError
from snnc.ir.graph import Graph


def load_model(path: str | os.PathLike, **options) -> Graph:
    """Load ``.nir`` (NIR HDF5) files; ``.net`` (lava-dl netx) files once that importer exists.
    ``options`` are passed to the importer (see :func:`snnc.frontend.nir_import.load_nir`)."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".net":
        try:
            from snnc.frontend.netx_import import load_net
        except ImportError:
            raise FileFormatError(".net import is not available in this version", file=path) from None
        return load_net(path, **options)
    if ext not in (".nir", ".h5", ".hdf5", ""):
        raise FileFormatError(f"unknown model file extension '{ext}'", file=path,
                              hint="snnc reads .nir (NIR) and .net (lava-dl netx) files")
    from snnc.frontend.nir_import import load_nir

    return load_nir(path, **options)
