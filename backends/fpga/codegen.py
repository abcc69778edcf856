"""Generate the C/C++ sources of an HLS project from a lowered integer graph.

The model is one top function, ``snnc_top``, that advances the network by one *window* of
``SNNC_WINDOW`` time steps: 1 step, or the TimeMix window length for graphs with whole-window
layers (LM-HT's T x T mixing, latency 0: sim/fpga graphs). A streaming TimeMix (latency =
window, loihi2 graphs) is an ordinary per-step layer with static window buffers. State lives in
file-scope ``static`` arrays (fixed sizes, no dynamic memory); the top's ``reset`` argument
restores the initial state before the window.

Schedule (the simulator's, :meth:`snnc.ir.graph.Graph.components`): the graph's strongly
connected components in topological order; a component of one node is computed for every step
of the window, a recurrent component step by step with its members in zero-delay order, a
whole-window node once per window. Every node writes its output into a buffer
``[H + SNNC_WINDOW][size]`` whose first ``H`` rows keep the outputs of the previous ``H`` steps
(``H`` = the largest delay on the node's outgoing edges); an edge with delay ``d`` reads row
``H + k - d`` at window step ``k``. Rows before step 0 are zero, as in the simulator.

Files (relative to the project folder): ``firmware/snnc_model.cpp`` (layers + top),
``firmware/snnc_model.h`` (sizes, prototype), ``firmware/snnc_types.h`` (storage types:
``ap_int`` under ``__SYNTHESIS__``), ``firmware/parameters.h`` (weights and tables),
``firmware/snnc_numerics.h`` (:data:`snnc.ir.intops.C_HEADER`), ``lib/snnc_lib.cpp`` (the
batch runner behind the ctypes runtime; not synthesized), ``tb/tb_snnc.cpp`` (C simulation
testbench).
"""

from __future__ import annotations

from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.intops import C_HEADER

from .fastpath import FAST_HEADER, FAST_HEADER_NAME
from .firmware import INTERFACES, model_header, model_source, parameters_header
from .harness import library_source, testbench_source
from .plan import TOP, ModelPlan, Probe, plan_model, value_bounds


def generate_sources(graph: Graph, reuse_factor: int | dict = 1, interface: str = "axis"
                     ) -> tuple[ModelPlan, dict[str, str]]:
    """(plan, {relative path: file text}) of the whole project's C sources. ``reuse_factor``: see
    :func:`plan_model`; ``interface``: 'axis' or 'ap_memory' ports for the spike arrays."""
    if interface not in INTERFACES:
        raise UnsupportedError(f"unknown HLS interface '{interface}'", field="interface",
                               hint=f"one of {', '.join(INTERFACES)}")
    plan = plan_model(graph, reuse_factor)
    files = {
        "firmware/snnc_numerics.h": C_HEADER,
        f"firmware/{FAST_HEADER_NAME}": FAST_HEADER,
        "firmware/snnc_model.cpp": model_source(plan, interface),
        "firmware/parameters.h": parameters_header(plan),
        "firmware/snnc_model.h": model_header(plan),
        "lib/snnc_lib.cpp": library_source(plan),
        "tb/tb_snnc.cpp": testbench_source(plan),
    }
    files["firmware/snnc_types.h"] = plan.types.header()     # after every layer added its types
    return plan, files


__all__ = ["INTERFACES", "TOP", "ModelPlan", "Probe", "generate_sources", "plan_model", "value_bounds"]
