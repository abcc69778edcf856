"""Graph passes: each a pure function ``Graph -> Graph`` with one job."""

from snnc.ir.shapes import annotate_shapes, infer_shapes

from .discretize import discretize
from .flatten_subgraphs import flatten_subgraphs

__all__ = ["annotate_shapes", "discretize", "flatten_subgraphs", "infer_shapes"]
