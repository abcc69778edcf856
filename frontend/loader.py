"""One entry point for model files: picks the importer by file content/extension."""

from __future__ import annotations

import os

from snnc.ir.errors import ConfigError, FileFormatError
from snnc.ir.graph import Graph

#: options of :func:`snnc.frontend.nir_import.load_nir`
NIR_OPTIONS = ("dt", "reset", "integrator", "v_min", "preset")


def load_model(path: str | os.PathLike, **options) -> Graph:
    """Load ``.nir`` (NIR HDF5) or ``.net`` (lava-dl netx HDF5) files. ``options`` are passed to
    the importer (:func:`snnc.frontend.nir_import.load_nir`,
    :func:`snnc.frontend.netx_import.load_net`); an option the importer does not know is a
    ConfigError."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".net":
        from snnc.frontend.netx_import import load_net

        return load_net(path, **options)
    if ext not in (".nir", ".h5", ".hdf5", ""):
        raise FileFormatError(f"unknown model file extension '{ext}'", file=path,
                              hint="snnc reads .nir (NIR) and .net (lava-dl netx) files")
    unknown = sorted(set(options) - set(NIR_OPTIONS))
    if unknown:
        raise ConfigError(f"option(s) {unknown} do not apply to NIR files", file=path,
                          hint=f"NIR import options: {', '.join(NIR_OPTIONS)}")
    from snnc.frontend.nir_import import load_nir

    return load_nir(path, **options)
