"""Reuse factor -> parallel lanes, pipeline II and the HLS pragmas that ask for them.

One record per layer (:class:`LayerHW`) is computed from the layer's loop shape and its reuse
factor ``R`` (hls4ml's meaning: how many times one operator is reused per pass of the layer).
The generated pragmas and the resource estimate (:mod:`.resources`) both read it, so the estimate
describes the design the code asks for.

Loop shape of every layer kind (:func:`layer_hw` arguments): a *lane loop* of ``P`` independent
operations (the output neurons of a dense synapse, the output channels of a conv tap, the window
taps of a time mix, the neurons of a neuron layer).

* ``lanes = ceil(P / R)`` copies of the lane body (``multipliers = lanes x multiplies per
  lane``; 0 for spike inputs, whose synapses only add weights);
* style 'pipeline' (synapses, pooling, time mixing): ``#pragma HLS PIPELINE II=ii`` on the loop
  around the lane loop (``trips`` iterations per step: the inputs of a dense synapse, the input
  pixels x kernel taps of a conv), ``ii = ceil(P / lanes)``, and the lane loop fully unrolled
  (``#pragma HLS UNROLL``): the tool shares each operator over ``ii`` cycles (hls4ml's dense
  "II = reuse factor");
* style 'unroll' (neuron and copy layers): the neuron loop itself gets ``#pragma HLS UNROLL
  factor=lanes`` and ``#pragma HLS PIPELINE II=1`` (``trips = ceil(P / lanes)`` iterations);
* every array the lane body reads or writes (weights, per-neuron parameters, states,
  accumulators, a neuron layer's output buffer) gets ``#pragma HLS ARRAY_PARTITION ... cyclic
  factor=lanes`` (``complete`` when lanes cover it) on its lane dimension;
* every layer function is its own module (``#pragma HLS INLINE off``);
* cycles per step = ``trips x ii + PIPELINE_DEPTH`` (whole-window layers: spread over the window).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: assumed latency of a pipelined layer loop, in cycles
PIPELINE_DEPTH = 8


@dataclass(frozen=True)
class LayerHW:
    """Hardware shape of one layer at its reuse factor (all counts per time step)."""

    reuse: int            # requested reuse factor R (>= 1)
    parallel: int         # P: independent operations of the lane loop
    trips: int            # iterations of the pipelined loop per step
    lanes: int            # ceil(P / R): parallel copies of the lane body
    ii: int               # initiation interval of the pipelined loop
    multipliers: int      # lanes x multiplies per lane (DSP48 each, up to 18 x 27)
    style: str            # 'pipeline' (synapses: lane loop unrolled inside) | 'unroll' (neuron loop itself)
    event_driven: bool = False   # the pipelined loop runs only for non-zero inputs (conv)

    @property
    def cycles(self) -> int:
        """Clock cycles per step, worst case: trips x II (+ the pipeline's fill latency)."""
        return self.trips * self.ii + PIPELINE_DEPTH if self.parallel else 0

    def expected_cycles(self, activity: float) -> int:
        """Cycles per step when a fraction ``activity`` of the inputs is non-zero (the worst case
        :attr:`cycles` unless the layer is event-driven)."""
        if not self.event_driven or not self.parallel:
            return self.cycles
        return math.ceil(min(1.0, max(0.0, activity)) * self.trips) * self.ii + PIPELINE_DEPTH


def layer_hw(reuse: int, parallel: int, trips: int, mults_per_lane: int, style: str = "pipeline",
             event_driven: bool = False) -> LayerHW:
    """The :class:`LayerHW` of a layer whose lane loop has ``parallel`` operations inside a
    pipelined loop of ``trips`` iterations (style 'pipeline'), or whose neuron loop of
    ``parallel`` neurons is itself unrolled by ``lanes`` and pipelined at II=1 (style 'unroll':
    ``ceil(P / lanes)`` iterations)."""
    R = max(1, int(reuse))
    P = max(0, int(parallel))
    lanes = max(1, math.ceil(P / R)) if P else 0
    if style == "unroll":
        trips, ii = (math.ceil(P / lanes) if lanes else 0), 1
    else:
        ii = math.ceil(P / lanes) if lanes else 1
    return LayerHW(reuse=R, parallel=P, trips=max(0, int(trips)), lanes=lanes, ii=ii,
                   multipliers=lanes * int(mults_per_lane), style=style, event_driven=event_driven)


def pipeline(hw: LayerHW) -> str:
    """Pragma of the pipelined loop of a synapse layer (first line of its body)."""
    return f"#pragma HLS PIPELINE II={hw.ii}\n"


def unroll() -> str:
    """Pragma of a lane loop inside a pipelined loop: fully unrolled (operators shared over II)."""
    return "#pragma HLS UNROLL\n"


def lane_loop(hw: LayerHW) -> str:
    """Pragmas of the neuron loop of a neuron / copy layer: ``lanes`` neurons per cycle."""
    text = "#pragma HLS PIPELINE II=1\n"
    if hw.lanes > 1:
        text = f"#pragma HLS UNROLL factor={hw.lanes}\n" + text
    return text


def partition(var: str, hw: LayerHW, dim: int, extent: int) -> str:
    """ARRAY_PARTITION of ``var`` along ``dim`` (1-based) into ``lanes`` banks (nothing when one
    bank suffices; ``complete`` when every element gets its own register)."""
    if hw.lanes <= 1 or extent <= 1:
        return ""
    if hw.lanes >= extent:
        return f"#pragma HLS ARRAY_PARTITION variable={var} complete dim={dim}\n"
    return f"#pragma HLS ARRAY_PARTITION variable={var} cyclic factor={hw.lanes} dim={dim}\n"


def inline_off() -> str:
    return "#pragma HLS INLINE off\n"


def banks(hw: LayerHW, extent: int) -> int:
    """Memory banks an array of ``extent`` elements along its lane dimension is split into."""
    if hw.lanes <= 1 or extent <= 1:
        return 1
    return min(hw.lanes, extent)
