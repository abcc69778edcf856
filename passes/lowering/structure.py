"""Lowering of the nodes that carry values without arithmetic of their own: Input, Output,
Flatten, sum and average pooling (as sums; the 1/k^2 of an average is folded into the next
scale) and LM-HT's TimeMix (lowered with its neuron's synapses,
:func:`~snnc.passes.lowering.synapses.drive`)."""

from __future__ import annotations

from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.shapes import pair

from .context import INPUT_BITS, LoweringContext, NodeLowering, lowers


@lowers(N.Input)
class InputLowering(NodeLowering):
    """Inputs stay; spikes (or other integer data) have scale ``metadata['scale']`` (1), analog
    inputs (``metadata['analog']``, range ``max_abs``) become INPUT_BITS-bit signed samples."""

    def lower(self, lw: LoweringContext, name: str, node: N.Input) -> None:
        lw.out.nodes[name] = node
        lw.src_scale(name)

    def scale(self, lw: LoweringContext, name: str, node: N.Input) -> float:
        if node.metadata.get("analog"):
            # analog input (e.g. direct pixel encoding): INPUT_BITS-bit signed samples
            return ((1 << (INPUT_BITS - 1)) - 1) / float(node.metadata.get("max_abs", 1.0))
        return float(node.metadata.get("scale", 1.0))


@lowers(N.Output)
class OutputLowering(NodeLowering):
    def lower(self, lw: LoweringContext, name: str, node: N.Output) -> None:
        lw.out.nodes[name] = node


def _common_input_scale(lw: LoweringContext, name: str) -> float:
    ins = {lw.src_scale(e.src) for e in lw.g.in_edges(name)}
    if len(ins) != 1:
        raise UnsupportedError("inputs with different scales", node=name)
    return ins.pop()


@lowers(N.SumPool2d, N.Flatten)
class PassThroughLowering(NodeLowering):
    """Sum pooling and Flatten stay as they are; their output has their input's scale."""

    def lower(self, lw: LoweringContext, name: str, node: N.Node) -> None:
        lw.out.nodes[name] = node

    def scale(self, lw: LoweringContext, name: str, node: N.Node) -> float:
        return _common_input_scale(lw, name)


@lowers(N.AvgPool2d)
class AvgPoolLowering(NodeLowering):
    """AvgPool2d -> SumPool2d: the output is k_h * k_w times the average, so its scale is the
    input's times k_h * k_w."""

    def lower(self, lw: LoweringContext, name: str, node: N.AvgPool2d) -> None:
        lw.out.nodes[name] = N.SumPool2d(kernel_size=node.kernel_size, stride=node.stride, padding=node.padding,
                                         metadata=dict(node.metadata))

    def scale(self, lw: LoweringContext, name: str, node: N.AvgPool2d) -> float:
        s = _common_input_scale(lw, name)
        k = pair(node.kernel_size, "kernel_size", name)
        return s * (k[0] * k[1])


@lowers(N.TimeMix)
class TimeMixLowering(NodeLowering):
    """Lowered with the LM-HT neuron it feeds (whole-window here; a streaming target's
    ``insert_latency`` makes it causal, one window late)."""

    def lower(self, lw: LoweringContext, name: str, node: N.TimeMix) -> None:
        if not all(isinstance(lw.g.nodes[c], N.LMHT) for c in lw.consumers(name)):
            raise UnsupportedError("TimeMix must feed LMHT neurons", node=name)
