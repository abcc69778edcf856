"""snnc IR: plain-data nodes (:mod:`.nodes`), the graph (:mod:`.graph`), ``.nir`` I/O
(:mod:`.nir_io`), integer semantics shared by all backends (:mod:`.intops`), errors."""

from . import intneurons, intnodes, intsdn, nodes
from .errors import (
    BackendError,
    ConfigError,
    FileFormatError,
    GraphError,
    OverflowRisk,
    ParameterError,
    ShapeError,
    SnncError,
    UnsupportedError,
)
from .graph import Edge, Graph
from .nir_io import read_nir, write_nir

__all__ = [
    "BackendError", "ConfigError", "Edge", "FileFormatError", "Graph", "GraphError", "OverflowRisk",
    "ParameterError", "ShapeError", "SnncError", "UnsupportedError", "intneurons", "intnodes", "nodes",
    "intsdn", "read_nir", "write_nir",
]
