"""snnc: a deployment compiler for spiking neural networks.

    import snnc
    graph = snnc.load("model.nir")       # any NIR file, or an snnc-written one
    snnc.save(graph, "copy.nir")

Subpackages: ``snnc.frontend`` (importers), ``snnc.ir`` (graph IR), ``snnc.passes``,
``snnc.backends`` (sim, fpga, lava), ``snnc.runtime`` (run, verify, CLI).
"""

from snnc.ir.errors import SnncError
from snnc.ir.graph import Edge, Graph
from snnc.ir.version import __version__


def load(path, **options) -> Graph:
    """Load a model file (``.nir``, or a lava-dl netx ``.net``) into a Graph with inferred shapes.
    ``options`` go to :func:`snnc.frontend.nir_import.load_nir` or
    :func:`snnc.frontend.netx_import.load_net`."""
    from snnc.frontend.loader import load_model

    return load_model(path, **options)


def save(graph: Graph, path, *, overwrite: bool = True) -> None:
    """Write ``graph`` to a ``.nir`` file (atomically)."""
    from snnc.ir.nir_io import write_nir
    from snnc.ir.shapes import annotate_shapes

    write_nir(path, annotate_shapes(graph), overwrite=overwrite)


__all__ = ["Edge", "Graph", "SnncError", "__version__", "load", "save"]
