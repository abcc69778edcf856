"""Importers: NIR files (:mod:`.nir_import`), lava-dl ``.net`` files, torch models
(:mod:`.torch`, needs the ``torch`` extra)."""

from .loader import load_model
from .nir_import import load_nir

__all__ = ["load_model", "load_nir"]
