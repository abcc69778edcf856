"""Graph passes: each a pure function ``Graph -> Graph`` with one job."""

from .discretize import discretize
from .flatten_subgraphs import flatten_subgraphs
from .infer_shapes import annotate_shapes, infer_shapes

__all__ = ["annotate_shapes", "discretize", "flatten_subgraphs", "infer_shapes"]
