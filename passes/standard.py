"""The float passes wrapped for pipelines (``(graph, ctx) -> graph``) and the per-target
pipelines."""

from __future__ import annotations

from snnc.ir.checks import check_parameters
from snnc.ir.graph import Graph

from . import bias_units as _bias_units  # noqa: F401  (registers 'bias_units')
from . import check_ranges as _check_ranges  # noqa: F401  (registers 'check_ranges')
from . import chip_native as _chip_native  # noqa: F401  (registers 'chip_native')
from . import decouple_burst as _decouple_burst  # noqa: F401  (registers 'decouple_burst')
from . import lower_integer as _lower_integer  # noqa: F401  (registers 'lower_integer', 'insert_latency')
from . import reparam_lmht as _reparam_lmht  # noqa: F401  (registers 'reparam_lmht')
from .discretize import discretize
from .flatten_subgraphs import flatten_subgraphs
from .fold_batchnorm import fold_batchnorm
from .fold_linear import fold_linear
from .fold_pooling import fold_pooling, fold_spike_pooling
from .pipeline import PIPELINES, CompileContext, register_pass


@register_pass("check_parameters", lossless=True)
def _check_parameters(graph: Graph, ctx: CompileContext) -> Graph:
    """Refuse invalid parameters (NaN, threshold <= 0, retention outside [0, 1], ...) before lowering."""
    check_parameters(graph)
    return graph


@register_pass("flatten_subgraphs", lossless=True)
def _flatten(graph: Graph, ctx: CompileContext) -> Graph:
    """Inline nested NIR graphs."""
    return flatten_subgraphs(graph)


@register_pass("discretize", lossless=False)
def _discretize(graph: Graph, ctx: CompileContext) -> Graph:
    """Forward-Euler discretization of continuous NIR neurons at dt."""
    return discretize(graph, ctx.config.dt)


@register_pass("fold_batchnorm", lossless=True)
def _fold(graph: Graph, ctx: CompileContext) -> Graph:
    """Fold BatchNorm into the preceding linear layers."""
    return fold_batchnorm(graph)


@register_pass("fold_pooling", lossless=True)
def _fold_pool(graph: Graph, ctx: CompileContext) -> Graph:
    """Fold sum/avg pooling between a Conv2d and its neuron into the Conv2d."""
    return fold_pooling(graph)


@register_pass("fold_linear", lossless=True)
def _fold_linear(graph: Graph, ctx: CompileContext) -> Graph:
    """Merge a dense synapse into the dense synapse after it."""
    return fold_linear(graph)


@register_pass("fold_spike_pooling", lossless=True)
def _fold_spike_pool(graph: Graph, ctx: CompileContext) -> Graph:
    """Fold sum/avg pooling between a neuron and the next synapse into that synapse."""
    return fold_spike_pooling(graph)


_FLOAT = ["flatten_subgraphs", "check_parameters", "discretize", "fold_batchnorm", "fold_linear", "fold_pooling",
          "calibrate_inputs"]
PIPELINES.update({
    # reparam_lmht acts only with the config lmht: {mapping: binary_time_multiplexed}
    "sim": _FLOAT + ["lower_integer", "reparam_lmht", "check_ranges"],
    "fpga": _FLOAT + ["lower_integer", "reparam_lmht", "check_ranges"],
    # rtl: no synapse latency; insert_latency streams LM-HT's time mixing (profile window_mixing)
    "rtl": _FLOAT + ["lower_integer", "reparam_lmht", "insert_latency", "check_ranges"],
    # Loihi 2: chip_native acts only with the config loihi2: {neurons: chip} (after discretize, so it
    # sees every neuron in its per-step form); netx has no pooling layer: pools on spike paths are
    # folded into the next synapse; burst neurons become LIF populations where that is exact (else
    # graded spikes); constant bias currents become netx bias units (always-on channels / neurons)
    "loihi2": _FLOAT[:3] + ["chip_native"] + _FLOAT[3:-1] + ["fold_spike_pooling", "calibrate_inputs",
                                                          "lower_integer", "decouple_burst", "insert_latency",
                                                          "bias_units", "check_ranges"],
})
