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

import math
from dataclasses import dataclass, field

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.intops import C_HEADER
from snnc.ir.shapes import infer_shapes
from snnc.ir.value_bounds import output_bounds
from snnc.ir.version import __version__

from . import neurons, sdn, synapses  # noqa: F401  (register their generators)
from . import pragmas as P
from .layers import DEFAULT_INPUT_BITS, LayerCode, LayerSpec, layer_code, partition_pragmas
from .widths import TypeTable, bits_for_bound, bits_for_range

TOP = "snnc_top"


@dataclass
class Probe:
    """A recorded array: a node output or a neuron state, ``size`` int64 values per step."""

    key: str            # Trace key: node name, or '<node>.<state>'
    kind: str           # 'output' | 'state'
    node: str
    size: int
    shape: tuple
    complex: bool = False


@dataclass
class ModelPlan:
    graph: Graph
    components: list[list[str]]
    cnames: dict[str, str]
    specs: dict[str, LayerSpec]
    codes: dict[str, LayerCode]
    history: dict[str, int]
    window: int
    types: TypeTable
    probes: list[Probe] = field(default_factory=list)

    @property
    def inputs(self) -> list[str]:
        return self.graph.input_names()

    @property
    def outputs(self) -> list[str]:
        return self.graph.output_names()

    def size(self, name: str) -> int:
        spec, code = self.specs[name], self.codes[name]
        return (2 if code.out_complex else 1) * spec.n

    def out_type(self, name: str) -> str:
        return f"{self.cnames[name]}_out_t"

    def port_type(self, name: str) -> str:
        """Type of the top function's port of an input / output node (intN_t in both branches)."""
        return f"{self.cnames[name]}_port_t"

    def reuse(self, name: str) -> int:
        return self.specs[name].reuse


def input_bits(node: N.Input) -> int:
    """Width of an Input node's values: from ``metadata['max_abs']`` (written by input
    calibration) or :data:`DEFAULT_INPUT_BITS`."""
    m = node.metadata.get("max_abs")
    if m is None:
        return DEFAULT_INPUT_BITS
    m = int(np.ceil(float(m)))
    return bits_for_range(-m, m)


def value_bounds(graph: Graph) -> dict[str, float]:
    """{node: bound of |its output values|}: the shared rules of :mod:`snnc.ir.value_bounds`, with
    every Input bounded by its port's width (:func:`input_bits`: the port type is the only limit
    the C puts on input values). A node on a recurrent loop is bounded by its own rule (an
    unbounded input at first), its consumers then by that bound."""
    ports = {n: 2.0 ** (input_bits(graph.nodes[n]) - 1) for n in graph.input_names()}
    return output_bounds(graph, ports)


def reuse_of(reuse_factor: int | dict, name: str, graph: Graph) -> int:
    """A node's reuse factor: ``reuse_factor`` (int), or ``reuse_factor[name]`` with the default
    under the key ``'default'`` (else 1)."""
    if isinstance(reuse_factor, dict):
        unknown = sorted(k for k in reuse_factor if k != "default" and k not in graph.nodes)
        if unknown:
            raise UnsupportedError(f"reuse factor given for unknown node(s) {unknown}", field="reuse_factor",
                                   hint="use node names of the lowered graph (snnc inspect OUT)")
        value = reuse_factor.get(name, reuse_factor.get("default", 1))
    else:
        value = reuse_factor
    if int(value) < 1:
        raise UnsupportedError(f"reuse factor must be >= 1, got {value}", node=name, field="reuse_factor")
    return int(value)


def plan_model(graph: Graph, reuse_factor: int | dict = 1) -> ModelPlan:
    """Shapes, widths, layer code and buffers of every node. ``reuse_factor``: one value for
    every layer, or ``{node name: R, 'default': R}`` (hls4ml's per-layer reuse). Raises
    UnsupportedError naming a node the backend cannot generate."""
    if graph.metadata.get("level") != "integer":
        raise UnsupportedError("the fpga backend needs a lowered integer graph",
                               hint="compile first: snnc compile MODEL --target fpga -o OUTDIR")
    graph.validate()
    shapes = infer_shapes(graph)
    comps = graph.components()
    bounds = value_bounds(graph)
    cnames = {name: f"n{i}" for i, name in enumerate(graph.nodes)}
    types = TypeTable()
    specs: dict[str, LayerSpec] = {}
    codes: dict[str, LayerCode] = {}
    for comp in comps:
        cyclic = graph.is_cyclic_component(comp)
        for name in comp:
            node = graph.nodes[name]
            edges = graph.in_edges(name)
            src_bits = [codes[e.src].out_bits if e.src in codes else 64 for e in edges]
            src_complex = {bool(codes[e.src].out_complex) if e.src in codes else False for e in edges}
            if len(src_complex) > 1:
                raise UnsupportedError("inputs mix complex and real values", node=name)
            in_bound = sum((bounds[e.src] for e in edges), 0.0)
            in_bits = min(64, max(src_bits, default=2) + math.ceil(math.log2(max(1, len(edges)))),
                          bits_for_bound(in_bound))
            in_shape = shapes[edges[0].src] if edges else ()
            spec = LayerSpec(name=name, cname=cnames[name], node=node, in_shape=tuple(in_shape),
                             out_shape=tuple(shapes[name]), in_bits=in_bits, in_complex=src_complex == {True},
                             types=types, reuse=reuse_of(reuse_factor, name, graph), in_bound=in_bound)
            specs[name] = spec
            if isinstance(node, N.Input):
                codes[name] = LayerCode(out_bits=input_bits(node), source=True)
                continue
            code = layer_code(spec)
            code.out_bits = min(code.out_bits, bits_for_bound(bounds[name]))
            types.add(spec.in_type, in_bits)
            if code.whole_window and cyclic:
                raise UnsupportedError("a whole-window node (TimeMix) cannot sit on a recurrent loop", node=name)
            if not edges and not code.source:
                raise UnsupportedError("node has no input", node=name)
            codes[name] = code
    for name, code in codes.items():
        types.add(f"{cnames[name]}_out_t", code.out_bits)
    for name in graph.input_names() + graph.output_names():
        types.add_port(f"{cnames[name]}_port_t", codes[name].out_bits)
    history = {name: max((e.delay for e in graph.out_edges(name)), default=0) for name in graph.nodes}
    windows = [c.whole_window for c in codes.values() if c.whole_window]
    window = math.lcm(*windows) if windows else 1
    plan = ModelPlan(graph=graph, components=comps, cnames=cnames, specs=specs, codes=codes, history=history,
                     window=window, types=types)
    for name in graph.nodes:
        plan.probes.append(Probe(key=name, kind="output", node=name, size=plan.size(name),
                                 shape=tuple(shapes[name]), complex=codes[name].out_complex))
    for name in graph.nodes:
        for sname, _, size in codes[name].states:
            n = specs[name].n        # a state of several rows per neuron (TimeMix buffers): [rows, *shape]
            shape = tuple(shapes[name]) if size == n else (size // n, *shapes[name])
            plan.probes.append(Probe(key=f"{name}.{sname}", kind="state", node=name, size=size, shape=shape))
    return plan


# ----------------------------------------------------------------------------------------
# sources
# ----------------------------------------------------------------------------------------


def _buf(plan: ModelPlan, name: str) -> str:
    return f"{plan.cnames[name]}_buf"


def _gather(plan: ModelPlan, name: str, dst: str, k: str) -> str:
    spec = plan.specs[name]
    lines = []
    for j, e in enumerate(plan.graph.in_edges(name)):
        row = f"{_buf(plan, e.src)}[{plan.history[e.src]} + {k} - {e.delay}]" if e.delay else \
            f"{_buf(plan, e.src)}[{plan.history[e.src]} + {k}]"
        val = f"(int64_t){row}[i]"
        expr = val if j == 0 else f"snnc_add({dst}[i], {val})"
        lines.append(f"for (int64_t i = 0; i < {spec.in_size}; ++i) {dst}[i] = {expr};")
    return "\n".join(lines) + "\n"


def _probe_calls(plan: ModelPlan, name: str, k: str, y: str) -> str:
    out = []
    for pid, p in enumerate(plan.probes):
        if p.node != name:
            continue
        arr = y if p.kind == "output" else dict((s, c) for s, c, _ in plan.codes[name].states)[p.key.rsplit(".", 1)[1]]
        out.append(f"SNNC_PROBE({pid}, {k}, {arr}, {p.size});")
    return "\n".join(out) + ("\n" if out else "")


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "".join(pad + line + "\n" if line.strip() else "\n" for line in text.splitlines())


def _layer_function(plan: ModelPlan, name: str) -> str:
    spec, code = plan.specs[name], plan.codes[name]
    c = plan.cnames[name]
    h = plan.history[name]
    hw = code.hw
    label = f"/* node '{name}': {type(spec.node).__name__}, in {spec.in_shape} -> out {spec.out_shape}"
    if hw is not None:
        label += (f"; reuse {hw.reuse}: {hw.lanes} lane(s), {hw.trips} x II {hw.ii}, {hw.multipliers} multiplier(s)"
                  f", {hw.cycles} cycles/step")
    label += " */\n"
    lanes_wide = hw is not None and hw.style == "unroll"      # neuron / copy layers: lanes outputs per cycle
    head = P.inline_off() + partition_pragmas(spec, hw)
    if lanes_wide:
        head += P.partition(_buf(plan, name), hw, 2, plan.size(name))
    if code.whole_window:
        body = head + (f"static {spec.in_type} xw[SNNC_WINDOW][{spec.in_size}];\n"
                f"for (int64_t k = 0; k < SNNC_WINDOW; ++k) {{\n"
                + _indent(_gather(plan, name, "xw[k]", "k"), 2) + "}\n"
                f"{plan.out_type(name)} (*const yw)[{plan.size(name)}] = &{_buf(plan, name)}[{h}];\n"
                + code.body
                + "for (int64_t k = 0; k < SNNC_WINDOW; ++k) {\n"
                + _indent(_probe_calls(plan, name, "k", "yw[k]"), 2) + "}\n")
        return label + f"static void {c}_window(void) {{\n" + _indent(body, 4) + "}\n"
    body = head
    if not code.source:
        body += f"static {spec.in_type} x[{spec.in_size}];\n"
        if lanes_wide:
            body += P.partition("x", hw, 1, spec.in_size)
        body += _gather(plan, name, "x", "k")
    body += (f"const int64_t t = snnc_t + k;\n(void)t;\n"
             f"{plan.out_type(name)} *const y = {_buf(plan, name)}[{h} + k];\n" + code.body
             + _probe_calls(plan, name, "k", "y"))
    return label + f"static void {c}_step(int64_t k) {{\n" + _indent(body, 4) + "}\n"


def _top_params(plan: ModelPlan) -> str:
    ins = [f"const {plan.port_type(n)} in_{plan.cnames[n]}[SNNC_WINDOW][{plan.size(n)}]" for n in plan.inputs]
    outs = [f"{plan.port_type(n)} out_{plan.cnames[n]}[SNNC_WINDOW][{plan.size(n)}]" for n in plan.outputs]
    return ", ".join(ins + outs + ["int64_t reset"])


#: INTERFACE modes of the top function's spike ports (``interface=`` of write_project)
INTERFACES = ("axis", "ap_memory")


def interface_pragmas(plan: ModelPlan, interface: str) -> str:
    """Block-level ``ap_ctrl_hs`` (start/done/idle/ready), the spike arrays as AXI4-Stream
    (read / written once each, in order) or ap_memory (BRAM ports), ``reset`` as a plain wire."""
    lines = ["#pragma HLS INTERFACE mode=ap_ctrl_hs port=return"]
    for n in plan.inputs:
        lines.append(f"#pragma HLS INTERFACE mode={interface} port=in_{plan.cnames[n]}")
    for n in plan.outputs:
        lines.append(f"#pragma HLS INTERFACE mode={interface} port=out_{plan.cnames[n]}")
    lines.append("#pragma HLS INTERFACE mode=ap_none port=reset")
    return "\n".join(lines) + "\n"


def model_header(plan: ModelPlan) -> str:
    lines = [f"/* {plan.graph.metadata.get('name', 'model')}: generated by snnc {__version__}. Do not edit. */",
             "#ifndef SNNC_MODEL_H", "#define SNNC_MODEL_H", "#include <stdint.h>", '#include "snnc_types.h"', "",
             f"/* time steps per call of {TOP} */", f"#define SNNC_WINDOW {plan.window}",
             f"#define SNNC_N_PROBES {len(plan.probes)}"]
    for n in plan.inputs:
        lines.append(f"#define SNNC_IN_{plan.cnames[n].upper()}_SIZE {plan.size(n)}   /* input '{n}' */")
    for n in plan.outputs:
        lines.append(f"#define SNNC_OUT_{plan.cnames[n].upper()}_SIZE {plan.size(n)}  /* output '{n}' */")
    lines += ["", "/* One window of SNNC_WINDOW steps: inputs in, outputs out; reset != 0 first restores the",
              "   initial state (start of a sample). */",
              f"void {TOP}({_top_params(plan)});", "",
              "#ifndef __SYNTHESIS__",
              "/* Recording hooks of the C simulation (not synthesized): snnc_probe[i] != NULL receives probe i",
              "   (see the probe table in snnc_model.cpp), SNNC_WINDOW rows per call. */",
              "extern int64_t *snnc_probe[SNNC_N_PROBES];",
              "#endif", "#endif /* SNNC_MODEL_H */", ""]
    return "\n".join(lines)


def model_source(plan: ModelPlan, interface: str = "axis") -> str:
    g = plan.graph
    parts = [f"/* {g.metadata.get('name', 'model')}: generated by snnc {__version__} from a lowered integer "
             "graph. Do not edit. */",
             '#include "snnc_model.h"', '#include "snnc_numerics.h"', '#include "parameters.h"', ""]
    parts.append("/* probes: id, array, values per step */")
    parts += [f"/*   {i}: {p.kind} {p.key!r}, {p.size} */" for i, p in enumerate(plan.probes)]
    parts += ["#ifndef __SYNTHESIS__", "int64_t *snnc_probe[SNNC_N_PROBES];",
              "#define SNNC_PROBE(id, k, arr, n) do { if (snnc_probe[id]) for (int64_t p_ = 0; p_ < (n); ++p_) \\",
              "    snnc_probe[id][(k) * (n) + p_] = (int64_t)(arr)[p_]; } while (0)",
              "#else", "#define SNNC_PROBE(id, k, arr, n)", "#endif", "",
              "/* steps since the last reset */", "static int64_t snnc_t;", "",
              "/* node outputs: [history + window][size] */"]
    for name in g.nodes:
        parts.append(f"static {plan.out_type(name)} {_buf(plan, name)}[{plan.history[name]} + SNNC_WINDOW]"
                     f"[{plan.size(name)}];  /* '{name}' */")
    parts.append("")
    parts.append("/* neuron state and accumulators */")
    for name in g.nodes:
        parts += [d for d in plan.codes[name].decls if not d.startswith("static const")]
    parts.append("")
    for comp in plan.components:
        for name in comp:
            if not isinstance(g.nodes[name], N.Input):
                parts.append(_layer_function(plan, name))
    reset = "snnc_t = 0;\n"
    for name in g.nodes:
        rows = plan.history[name] + plan.window
        reset += (f"for (int64_t r = 0; r < {rows}; ++r) for (int64_t i = 0; i < {plan.size(name)}; ++i) "
                  f"{_buf(plan, name)}[r][i] = 0;\n")
        reset += plan.codes[name].reset
    parts.append("static void snnc_reset_state(void) {\n" + _indent(reset, 4) + "}\n")
    top = interface_pragmas(plan, interface) + "if (reset) snnc_reset_state();\n"
    for n in plan.inputs:
        c = plan.cnames[n]
        top += (f"for (int64_t k = 0; k < SNNC_WINDOW; ++k) for (int64_t i = 0; i < {plan.size(n)}; ++i) "
                f"{_buf(plan, n)}[{plan.history[n]} + k][i] = in_{c}[k][i];\n")
        pid = list(g.nodes).index(n)          # the first probes are the node outputs, in node order
        top += (f"for (int64_t k = 0; k < SNNC_WINDOW; ++k) SNNC_PROBE({pid}, k, {_buf(plan, n)}"
                f"[{plan.history[n]} + k], {plan.size(n)});\n")
    for comp in plan.components:
        if isinstance(g.nodes[comp[0]], N.Input):
            continue
        if len(comp) == 1 and plan.codes[comp[0]].whole_window:
            top += f"{plan.cnames[comp[0]]}_window();\n"
            continue
        calls = " ".join(f"{plan.cnames[n]}_step(k);" for n in comp)
        top += f"for (int64_t k = 0; k < SNNC_WINDOW; ++k) {{ {calls} }}\n"
    for n in plan.outputs:
        c = plan.cnames[n]
        top += (f"for (int64_t k = 0; k < SNNC_WINDOW; ++k) for (int64_t i = 0; i < {plan.size(n)}; ++i) "
                f"out_{c}[k][i] = ({plan.port_type(n)})(int64_t){_buf(plan, n)}[{plan.history[n]} + k][i];\n")
    for name in g.nodes:
        h = plan.history[name]
        if h:
            top += (f"for (int64_t r = 0; r < {h}; ++r) for (int64_t i = 0; i < {plan.size(name)}; ++i) "
                    f"{_buf(plan, name)}[r][i] = {_buf(plan, name)}[r + SNNC_WINDOW][i];  /* keep history */\n")
    top += "snnc_t += SNNC_WINDOW;\n"
    parts.append(f"void {TOP}({_top_params(plan)}) {{\n" + _indent(top, 4) + "}\n")
    return "\n".join(parts)


def parameters_header(plan: ModelPlan) -> str:
    lines = ["/* Weights and tables (generated by snnc; do not edit). */", "#ifndef SNNC_PARAMETERS_H",
             "#define SNNC_PARAMETERS_H", '#include "snnc_types.h"', ""]
    for name in plan.graph.nodes:
        decls = [d for d in plan.codes[name].decls if d.startswith("static const")]
        if decls:
            lines.append(f"/* node '{name}' */")
            lines += decls
            lines.append("")
    lines += ["#endif /* SNNC_PARAMETERS_H */", ""]
    return "\n".join(lines)


def library_source(plan: ModelPlan) -> str:
    """The batch runner the ctypes runtime calls (C simulation only)."""
    ins, outs = plan.inputs, plan.outputs
    decl = []
    for n in ins:
        decl.append(f"static {plan.port_type(n)} in_{plan.cnames[n]}[SNNC_WINDOW][{plan.size(n)}];")
    for n in outs:
        decl.append(f"static {plan.port_type(n)} out_{plan.cnames[n]}[SNNC_WINDOW][{plan.size(n)}];")
    sizes = ", ".join(str(p.size) for p in plan.probes) or "0"
    body = ""
    for j, n in enumerate(ins):
        body += (f"        for (int64_t k = 0; k < SNNC_WINDOW; ++k) for (int64_t i = 0; i < {plan.size(n)}; ++i)\n"
                 f"            in_{plan.cnames[n]}[k][i] = inputs[{j}][(b * steps + w0 + k) * {plan.size(n)} + i];\n")
    body += ("        for (int64_t p = 0; p < SNNC_N_PROBES; ++p)\n"
             "            snnc_probe[p] = probes[p] ? probes[p] + (b * steps + w0) * probe_size[p] : 0;\n")
    args = ", ".join([f"in_{plan.cnames[n]}" for n in ins] + [f"out_{plan.cnames[n]}" for n in outs])
    body += f"        {TOP}({args}, w0 == 0);\n"
    for j, n in enumerate(outs):
        body += (f"        for (int64_t k = 0; k < SNNC_WINDOW; ++k) for (int64_t i = 0; i < {plan.size(n)}; ++i)\n"
                 f"            outputs[{j}][(b * steps + w0 + k) * {plan.size(n)} + i] = "
                 f"(int64_t)out_{plan.cnames[n]}[k][i];\n")
    return f"""/* Batch runner for the snnc ctypes runtime (C simulation only; not part of the HLS design). */
#include "../firmware/snnc_model.h"

{chr(10).join(decl)}
static const int64_t probe_size[SNNC_N_PROBES + 1] = {{{sizes}}};

extern "C" {{
int64_t snnc_lib_window(void) {{ return SNNC_WINDOW; }}
int64_t snnc_lib_n_probes(void) {{ return SNNC_N_PROBES; }}

/* inputs[j]: int64 [batch][steps][size of input j]; outputs[j]: int64 [batch][steps][size of output j];
   probes[p]: int64 [batch][steps][size of probe p] or NULL. Returns 0, or -1 when steps is not a
   multiple of SNNC_WINDOW. */
int64_t snnc_lib_run(const int64_t *const *inputs, int64_t *const *outputs, int64_t *const *probes,
                     int64_t batch, int64_t steps) {{
    if (steps % SNNC_WINDOW != 0) return -1;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t w0 = 0; w0 < steps; w0 += SNNC_WINDOW) {{
{body}      }}
    for (int64_t p = 0; p < SNNC_N_PROBES; ++p) snnc_probe[p] = 0;
    return 0;
}}
}}
"""


def testbench_source(plan: ModelPlan) -> str:
    """C simulation testbench: reads tb_data/tb_input.dat, writes tb_data/csim_output.dat and
    compares with tb_data/tb_output_expected.dat when present (exit 1 on any difference)."""
    ins, outs = plan.inputs, plan.outputs
    decl = "\n".join([f"static {plan.port_type(n)} in_{plan.cnames[n]}[SNNC_WINDOW][{plan.size(n)}];" for n in ins]
                     + [f"static {plan.port_type(n)} out_{plan.cnames[n]}[SNNC_WINDOW][{plan.size(n)}];"
                        for n in outs])
    read = ""
    for n in ins:
        read += (f"            for (int64_t i = 0; i < {plan.size(n)}; ++i) {{\n"
                 f"                long long v;\n"
                 f"                if (fscanf(fin, \"%lld\", &v) != 1) {{ fprintf(stderr, \"tb: short input\\n\"); "
                 f"return 2; }}\n"
                 f"                in_{plan.cnames[n]}[k][i] = v;\n            }}\n")
    write = ""
    for n in outs:
        write += (f"            for (int64_t i = 0; i < {plan.size(n)}; ++i) {{\n"
                  f"                const long long v = (long long)out_{plan.cnames[n]}[k][i];\n"
                  f"                fprintf(fout, \"%lld \", v);\n"
                  f"                if (fexp) {{ long long e; if (fscanf(fexp, \"%lld\", &e) != 1 || e != v) "
                  f"++mismatches; ++compared; }}\n            }}\n")
    args = ", ".join([f"in_{plan.cnames[n]}" for n in ins] + [f"out_{plan.cnames[n]}" for n in outs])
    return f"""/* C simulation testbench (gcc or Vitis HLS csim). Input file: first line "B T", then B*T lines,
   each the values of every input (in input order) at one step; output: B*T lines of output values. */
#include <stdio.h>
#include "../firmware/snnc_model.h"

{decl}

int main(int argc, char **argv) {{
    const char *in_path = argc > 1 ? argv[1] : "tb_data/tb_input.dat";
    const char *out_path = argc > 2 ? argv[2] : "tb_data/csim_output.dat";
    const char *exp_path = argc > 3 ? argv[3] : "tb_data/tb_output_expected.dat";
    FILE *fin = fopen(in_path, "r");
    if (!fin) {{ fprintf(stderr, "tb: cannot open %s\\n", in_path); return 2; }}
    FILE *fout = fopen(out_path, "w");
    if (!fout) {{ fprintf(stderr, "tb: cannot write %s\\n", out_path); fclose(fin); return 2; }}
    FILE *fexp = fopen(exp_path, "r");
    long long batch = 0, steps = 0, mismatches = 0, compared = 0;
    if (fscanf(fin, "%lld %lld", &batch, &steps) != 2 || steps % SNNC_WINDOW != 0) {{
        fprintf(stderr, "tb: bad header (need 'B T' with T a multiple of %d)\\n", (int)SNNC_WINDOW);
        return 2;
    }}
    for (long long b = 0; b < batch; ++b)
        for (long long w0 = 0; w0 < steps; w0 += SNNC_WINDOW) {{
            for (int64_t k = 0; k < SNNC_WINDOW; ++k) {{
{read}            }}
            {TOP}({args}, w0 == 0);
            for (int64_t k = 0; k < SNNC_WINDOW; ++k) {{
{write}                fprintf(fout, "\\n");
            }}
        }}
    fclose(fin);
    fclose(fout);
    if (fexp) {{
        fclose(fexp);
        printf("snnc tb: %lld of %lld output values differ from %s\\n", mismatches, compared, exp_path);
        return mismatches ? 1 : 0;
    }}
    printf("snnc tb: wrote %s (no expected file to compare)\\n", out_path);
    return 0;
}}
"""


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
        "firmware/snnc_model.cpp": model_source(plan, interface),
        "firmware/parameters.h": parameters_header(plan),
        "firmware/snnc_model.h": model_header(plan),
        "lib/snnc_lib.cpp": library_source(plan),
        "tb/tb_snnc.cpp": testbench_source(plan),
    }
    files["firmware/snnc_types.h"] = plan.types.header()     # after every layer added its types
    return plan, files


__all__ = ["INTERFACES", "TOP", "ModelPlan", "Probe", "generate_sources", "plan_model"]
