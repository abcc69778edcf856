"""The firmware sources of a planned model (:class:`~.plan.ModelPlan`): ``snnc_model.cpp`` (one
function per layer and the top function with its INTERFACE pragmas), ``snnc_model.h`` and
``parameters.h``. The structure and schedule are described in :mod:`.codegen`.

The fast C-simulation branch (:mod:`.fastpath`, ctypes build only) differs in two places of the
schedule, values unchanged: an input whose port has its node's C type and no history rows is read
in place from the top function's port (HLS copies it into the node's buffer), and with a window of
one step a node's history rows form a ring, row ``r`` at ``(<c>_base + r) mod (history + 1)``,
rotated after each step instead of copied (``<c>_ROW(r)`` is ``r`` in the HLS branch)."""

from __future__ import annotations

from snnc.ir import nodes as N
from snnc.ir.version import __version__

from . import pragmas as P
from .fastpath import FAST_HEADER_NAME, fast_branch
from .layers import partition_pragmas
from .plan import TOP, ModelPlan
from .widths import std_type


def _buf(plan: ModelPlan, name: str) -> str:
    return f"{plan.cnames[name]}_buf"


def _ring(plan: ModelPlan, name: str) -> bool:
    """True when the fast C-simulation branch keeps ``name``'s history rows in a ring rotated once
    per step instead of copied (window 1; the HLS branch copies them)."""
    return plan.window == 1 and plan.history[name] > 0


def _row(plan: ModelPlan, name: str, logical: str) -> str:
    """``name``'s output row ``logical`` (0 .. history + window - 1; an index expression): through
    the ``<c>_ROW`` macro when the row is in a ring (:func:`_ring`)."""
    return f"{_buf(plan, name)}[{plan.cnames[name]}_ROW({logical})]" if _ring(plan, name) else \
        f"{_buf(plan, name)}[{logical}]"


def _port_in_place(plan: ModelPlan, name: str) -> bool:
    """True when the fast C-simulation branch reads input ``name`` in place from the top function's
    port (no history rows, same plain C type; the HLS branch copies it into the node's buffer)."""
    return plan.history[name] == 0 and std_type(plan.types.bits[plan.out_type(name)]) == \
        std_type(plan.types.bits[plan.port_type(name)])


def _gather(plan: ModelPlan, name: str, dst: str, k: str) -> str:
    spec = plan.specs[name]
    lines = []
    for j, e in enumerate(plan.graph.in_edges(name)):
        row = _row(plan, e.src, f"{plan.history[e.src]} + {k} - {e.delay}" if e.delay else
                   f"{plan.history[e.src]} + {k}")
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
                f"{plan.out_type(name)} (*const yw)[{plan.size(name)}] = &{_row(plan, name, str(h))};\n"
                + code.body
                + "for (int64_t k = 0; k < SNNC_WINDOW; ++k) {\n"
                + _indent(_probe_calls(plan, name, "k", "yw[k]"), 2) + "}\n")
        return label + f"static void {c}_window(void) {{\n" + _indent(body, 4) + "}\n"
    body = head
    if not code.source:
        gather = f"static {spec.in_type} x[{spec.in_size}];\n"
        if lanes_wide:
            gather += P.partition("x", hw, 1, spec.in_size)
        gather += _gather(plan, name, "x", "k")
        body += _direct_input(plan, name, gather)
    body += (f"const int64_t t = snnc_t + k;\n(void)t;\n"
             f"{plan.out_type(name)} *const y = {_row(plan, name, f'{h} + k')};\n" + code.body
             + _probe_calls(plan, name, "k", "y"))
    return label + f"static void {c}_step(int64_t k) {{\n" + _indent(body, 4) + "}\n"


def _direct_input(plan: ModelPlan, name: str, gather: str) -> str:
    """``gather`` (copy the summed input into ``x``), or in the fast C-simulation branch a pointer
    to the source's output row when the node has one input edge whose plain C type is the
    input's (no copy; HLS keeps the copy and its partitioning)."""
    edges = plan.graph.in_edges(name)
    spec = plan.specs[name]
    if len(edges) != 1 or spec.in_complex:
        return gather
    e = edges[0]
    if std_type(plan.types.bits[spec.in_type]) != std_type(plan.types.bits[plan.out_type(e.src)]) \
            or plan.size(e.src) != spec.in_size:
        return gather
    row = _row(plan, e.src, f"{plan.history[e.src]} + k{f' - {e.delay}' if e.delay else ''}")
    return fast_branch(f"const {spec.in_type} *const x = {row};\n", gather)


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
             '#include "snnc_model.h"', '#include "snnc_numerics.h"', '#include "parameters.h"',
             f'#include "{FAST_HEADER_NAME}"', ""]
    parts.append("/* probes: id, array, values per step */")
    parts += [f"/*   {i}: {p.kind} {p.key!r}, {p.size} */" for i, p in enumerate(plan.probes)]
    parts += ["#ifndef __SYNTHESIS__", "int64_t *snnc_probe[SNNC_N_PROBES];",
              "#define SNNC_PROBE(id, k, arr, n) do { if (snnc_probe[id]) for (int64_t p_ = 0; p_ < (n); ++p_) \\",
              "    snnc_probe[id][(k) * (n) + p_] = (int64_t)(arr)[p_]; } while (0)",
              "#else", "#define SNNC_PROBE(id, k, arr, n)", "#endif", "",
              "/* steps since the last reset */", "static int64_t snnc_t;", "",
              "/* node outputs: [history + window][size] */"]
    for name in g.nodes:
        decl = (f"static {plan.out_type(name)} {_buf(plan, name)}[{plan.history[name]} + SNNC_WINDOW]"
                f"[{plan.size(name)}];  /* '{name}' */")
        if name in plan.inputs and _port_in_place(plan, name):
            decl = fast_branch(f"static const {plan.out_type(name)} (*{_buf(plan, name)})[{plan.size(name)}];"
                               f"  /* '{name}': the top function's port, read in place */", decl).rstrip("\n")
        parts.append(decl)
    rings = [name for name in g.nodes if _ring(plan, name)]
    if rings:
        parts += ["/* output rows: HLS copies the history rows after each step; the fast C simulation",
                  "   keeps them in a ring (row r at (base + r) mod rows) and rotates it instead */",
                  "#if SNNC_FAST_ACTIVE"]
        for name in rings:
            c = plan.cnames[name]
            parts += [f"static int64_t {c}_base;",
                      f"#define {c}_ROW(r) (({c}_base + (r)) % ({plan.history[name]} + SNNC_WINDOW))"]
        parts.append("#else")
        parts += [f"#define {plan.cnames[name]}_ROW(r) (r)" for name in rings]
        parts.append("#endif")
    parts.append("")
    parts.append("/* neuron state and accumulators */")
    for name in g.nodes:
        parts += [d for d in plan.codes[name].decls if not d.startswith("static const")]
    fast = [d for name in g.nodes for d in plan.codes[name].fast_decls]
    if fast:
        parts += ["", "/* arrays of the fast C-simulation branch (ctypes build only, never synthesized) */",
                  "#if SNNC_FAST_ACTIVE", *fast, "#endif"]
    parts.append("")
    for comp in plan.components:
        for name in comp:
            if not isinstance(g.nodes[name], N.Input):
                parts.append(_layer_function(plan, name))
    reset = "snnc_t = 0;\n"
    for name in g.nodes:     # the history rows (outputs before step 0) are zero; every step writes its own row
        rows = plan.history[name]
        if rows:
            if _ring(plan, name):
                reset += f"#if SNNC_FAST_ACTIVE\n{plan.cnames[name]}_base = 0;\n#endif\n"
            reset += (f"for (int64_t r = 0; r < {rows}; ++r) for (int64_t i = 0; i < {plan.size(name)}; ++i) "
                      f"{_row(plan, name, 'r')}[i] = 0;\n")
        reset += plan.codes[name].reset
    parts.append("static void snnc_reset_state(void) {\n" + _indent(reset, 4) + "}\n")
    top = interface_pragmas(plan, interface) + "if (reset) snnc_reset_state();\n"
    for n in plan.inputs:
        c = plan.cnames[n]
        copy = (f"for (int64_t k = 0; k < SNNC_WINDOW; ++k) for (int64_t i = 0; i < {plan.size(n)}; ++i) "
                f"{_row(plan, n, f'{plan.history[n]} + k')}[i] = in_{c}[k][i];\n")
        top += fast_branch(f"{_buf(plan, n)} = in_{c};", copy) if _port_in_place(plan, n) else copy
        pid = list(g.nodes).index(n)          # the first probes are the node outputs, in node order
        top += (f"for (int64_t k = 0; k < SNNC_WINDOW; ++k) SNNC_PROBE({pid}, k, "
                f"{_row(plan, n, f'{plan.history[n]} + k')}, {plan.size(n)});\n")
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
                f"out_{c}[k][i] = ({plan.port_type(n)})(int64_t){_row(plan, n, f'{plan.history[n]} + k')}[i];\n")
    for name in g.nodes:
        h = plan.history[name]
        if h:
            copy = (f"for (int64_t r = 0; r < {h}; ++r) for (int64_t i = 0; i < {plan.size(name)}; ++i) "
                    f"{_buf(plan, name)}[r][i] = {_buf(plan, name)}[r + SNNC_WINDOW][i];  /* keep history */\n")
            c = plan.cnames[name]
            top += fast_branch(f"{c}_base = ({c}_base + SNNC_WINDOW) % ({h} + SNNC_WINDOW);", copy) \
                if _ring(plan, name) else copy
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
