"""Importers: NIR files (:mod:`.nir_import`), lava-dl ``.net`` files (:mod:`.netx_import`), torch
models (:mod:`.torch`, needs the ``torch`` extra)."""

from .loader import load_model
from .netx_import import load_net
from .nir_import import from_nir, load_nir

__all__ = ["from_nir", "load_model", "load_net", "load_nir"]
