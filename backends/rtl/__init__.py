"""RTL backend: synthesizable Verilog for lowered integer graphs, its cycle-accurate Verilator
simulation (bit-exact with the simulator) and open-source synthesis / place and route.

* :func:`emit_rtl` — write the Verilog, memory files and report of a graph (:mod:`.emit`)
* :func:`run_rtl` — simulate it under Verilator, returning a :class:`snnc.ir.trace.Trace` (:mod:`.run`)
* :func:`synth` — yosys synthesis + nextpnr place and route: LUT/FF/BRAM/DSP, fmax (:mod:`.synth`)
* :func:`estimate` / :func:`compare` — pre-synthesis resource and latency estimate (:mod:`.estimate`)

Why hand-emitted Verilog (not amaranth): the design is a handful of small fixed templates (a
sequencer, a dense/convolution MAC loop, an element-wise neuron pipeline) whose only variable
part is integer arithmetic with exact widths; emitting that arithmetic from Python as
width-annotated wires (:mod:`.netlist`) keeps the generated text short, readable and directly
consumable by Verilator and yosys, with no extra dependency at emit time and no second
simulator to keep consistent. See README.md for the architecture and the interface.
"""

from .emit import design_report, emit_rtl
from .estimate import compare, estimate
from .plan import make_plan
from .run import run_rtl
from .synth import synth

__all__ = ["compare", "design_report", "emit_rtl", "estimate", "make_plan", "run_rtl", "synth"]
