"""Importers: NIR files (:mod:`.nir_import`), lava-dl ``.net`` files, torch models
(:mod:`.torch`, needs the ``torch`` extra)."""

from .loader import load_model
from .nir_import import from_nir, load_nir

__all__ = ["from_nir", "load_model", "load_nir"]
