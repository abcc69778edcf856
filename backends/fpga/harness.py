"""The C-simulation harness of a planned model: the batch runner behind the ctypes runtime
(``lib/snnc_lib.cpp``) and the testbench (``tb/tb_snnc.cpp``); neither is synthesized."""

from __future__ import annotations

from .plan import TOP, ModelPlan
from .widths import c_literal


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
        bits = plan.codes[n].out_bits
        lo, hi = c_literal(-(1 << (bits - 1))), c_literal((1 << (bits - 1)) - 1)
        body += (f"        for (int64_t k = 0; k < SNNC_WINDOW; ++k) for (int64_t i = 0; i < {plan.size(n)}; ++i) {{\n"
                 f"            const int64_t v = inputs[{j}][(b * steps + w0 + k) * {plan.size(n)} + i];\n"
                 f"            bad |= (v < {lo}) | (v > {hi});   /* beyond the {bits}-bit port */\n"
                 f"            in_{plan.cnames[n]}[k][i] = ({plan.port_type(n)})v;\n        }}\n")
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
   probes[p]: int64 [batch][steps][size of probe p] or NULL. Returns 0, -1 when steps is not a
   multiple of SNNC_WINDOW, or -2 (after the run) when an input value lies beyond its port's range. */
int64_t snnc_lib_run(const int64_t *const *inputs, int64_t *const *outputs, int64_t *const *probes,
                     int64_t batch, int64_t steps) {{
    if (steps % SNNC_WINDOW != 0) return -1;
    int64_t bad = 0;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t w0 = 0; w0 < steps; w0 += SNNC_WINDOW) {{
{body}      }}
    for (int64_t p = 0; p < SNNC_N_PROBES; ++p) snnc_probe[p] = 0;
    return bad ? -2 : 0;
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
