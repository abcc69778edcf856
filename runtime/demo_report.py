"""The demo's report: the table (rich and Markdown) and the counting rules written into
``summary.json`` (:data:`DEFINITIONS`). Results come from :func:`snnc.runtime.demo.run_model`."""

from __future__ import annotations

import math

from snnc.backends.lava.resources import NEURONS_PER_CORE, SYNAPSES_PER_CORE
from snnc.runtime.targets import TARGETS

DEFINITIONS = {
    "neurons_synapses": "totals of the fpga compile report (bias = one connection per neuron from a constant source)",
    "neurobench": "NeuroBench's definitions (snnc.runtime.workload_metrics, checked against the neurobench "
                  "package), float model's simulation of the test split: Effective_ACs / Effective_MACs per sample = "
                  "non-zero input x non-zero weight pairs per connection layer and step (AC: spike inputs, MAC: "
                  "other inputs; biases excluded); ActivationSparsity = zeros / values over neuron layer outputs; "
                  "ConnectionSparsity = zero weights / weights; Footprint = float32 parameter bytes (NeuroBench "
                  "also adds buffers: the neuron layers' constants, 4-72 bytes here)",
    "neurobench_8bit": "the same counts on the 8-bit fpga graph's integer simulation",
    "loihi2_cores": f"per neuron population of the loihi2 graph: max(1, ceil(neurons / {NEURONS_PER_CORE}), "
                    f"ceil(synapses in / {SYNAPSES_PER_CORE})), summed; ASSUMED per-core limits (128 cores, "
                    "1 M neurons, 120 M synapses per chip: Intel Loihi 2 brief), not a Lava compiler result",
    "fpga_memory_bits": "estimate_resources total weight_bits (constant arrays) and state_bits",
    "compile_seconds": "compile_graph + the target's resource estimate",
    "accuracy_vs_bits": "fpga target, weights of that many bits (per output channel), state max(24, bits + 16) bits",
    "bit_exact": "compare_traces: every output and state of every node equal at every step",
    "chip_accuracy": "loihi2 with loihi2: {neurons: chip} (every neuron the closest hard-reset Lava LIF), integer "
                     "simulator, latency-aligned; in parentheses the fine-tuned digits_<type>_chip.nir",
    "chip_cpu_only": "nodes of the exact loihi2 graph that are custom Lava processes (CPU only; a chip needs neuron "
                     "microcode): snnc.backends.lava.chip.chip_status",
}


# ----------------------------------------------------------------------------------------
# the table
# ----------------------------------------------------------------------------------------

def _short_reason(reason: str) -> str:
    """The first clause of a refusal: 'LM-HT's T x T time mixing is non-causal'."""
    text = reason.split(" (", 1)[0].split(": ", 1)[0]
    return text if len(text) <= 60 else text[:57] + "..."


def _pct(v: float) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f} %"


_CHECKS = (("fpga graph: sim=C", "fpga"), ("loihi2 graph: sim=C", "loihi2"), ("loihi2 graph: sim=C=Lava", "loihi2"))


def _check_cell(r, key: str, target: str) -> str:
    if target in r.refused:
        return f"n/a (refused: {_short_reason(r.refused[target])})" if key == "loihi2 graph: sim=C" else "n/a (refused)"
    c = r.checks.get(key)
    if c is None:
        if key.endswith("Lava") and r.lava:
            return r.lava if r.lava.startswith("skipped") else f"lava: not available ({r.lava})"
        return "n/a"
    if c.get("error"):
        return f"ERROR ({_short_reason(c['error'])})"
    return f"{'yes' if c['bit_exact'] else 'NO'} ({c['compared']:,})"


def _samples_of(results: list, key: str) -> str:
    counts = sorted({c["samples"] for r in results for k, c in r.checks.items() if k == key})
    return "/".join(map(str, counts)) or "-"


def _neurobench_cells(nb: dict) -> list[str]:
    if not nb:
        return ["n/a"] * 4
    return [f"{nb['Effective_ACs']:,.0f}/{nb['Effective_MACs']:,.0f}", f"{nb['ActivationSparsity']:.3f}",
            f"{nb['ConnectionSparsity']:.3f}", f"{nb['Footprint']:,}"]


def table_rows(results: list) -> tuple[list[str], list[list[str]]]:
    """Column heads and rows of the demo table (strings)."""
    head = ["model", "neuron", "float acc", "8-bit acc", "chip-native acc (fine-tuned)",
            "runs on Loihi 2 chip (exact loihi2 graph)",
            f"bit-exact sim=C, fpga graph (values compared, {_samples_of(results, _CHECKS[0][0])} samples)",
            f"bit-exact sim=C, loihi2 graph (values compared, {_samples_of(results, _CHECKS[1][0])} samples)",
            f"bit-exact sim=C=Lava, loihi2 graph (values compared, {_samples_of(results, _CHECKS[2][0])} samples)",
            "neurons", "synapses", "Effective_ACs/MACs per sample", "ActivationSparsity", "ConnectionSparsity",
            "Footprint (bytes)", "Loihi 2 cores", "FPGA mem bits weights/state",
            "compile ms " + "/".join(TARGETS)]
    rows = []
    for r in results:
        comp = "/".join(f"{1000 * r.compile_seconds[t]:.0f}" if t in r.compile_seconds else "n/a" for t in TARGETS)
        mem = r.fpga_resources
        cores = "n/a (refused)" if "loihi2" in r.refused else ("n/a" if r.loihi2_cores is None else str(r.loihi2_cores))
        if r.loihi2_cores is not None and (r.loihi2_neurons, r.loihi2_synapses) != (r.neurons, r.synapses):
            cores += f" ({r.loihi2_neurons} neurons, {r.loihi2_synapses:,} synapses)"
        chip_acc = _pct(r.chip_accuracy) + ("" if math.isnan(r.chip_tuned_accuracy)
                                            else f" ({_pct(r.chip_tuned_accuracy)})")
        on_chip = "n/a (refused)" if "loihi2" in r.refused else (
            "yes" if not r.chip_cpu_only else f"no ({', '.join(r.chip_cpu_only)})")
        rows.append([r.name.replace("digits_", ""), r.neuron_type, _pct(r.float_accuracy), _pct(r.quantized_accuracy),
                     chip_acc, on_chip,
                     *(_check_cell(r, key, target) for key, target in _CHECKS), str(r.neurons), f"{r.synapses:,}",
                     *_neurobench_cells(r.neurobench), cores,
                     f"{mem['weight_bits']:,}/{mem['state_bits']:,}" if mem else "n/a", comp])
    return head, rows


#: what each figure shows (the Markdown summary links every one)
FIGURES = {
    "spike_raster.png": "Spikes per layer of one test sample, with the predicted class",
    "membrane_float_vs_fixed.png": "Membrane potential, float vs 8-bit fixed point, with threshold and error panel",
    "accuracy_vs_bits.png": "Test accuracy vs weight bits (float accuracy dashed)",
}


def markdown(results: list, notes: list[str], figures: list[str] = ()) -> str:
    head, rows = table_rows(results)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows]
    swept = [r for r in results if r.accuracy_vs_bits]
    if swept:
        bits = sorted({b for r in swept for b in r.accuracy_vs_bits}, reverse=True)
        lines += ["", "Test accuracy vs weight bits (fpga target):", "",
                  "| model | float | " + " | ".join(f"{b}-bit" for b in bits) + " |", "|" + "---|" * (len(bits) + 2)]
        lines += [f"| {r.name.replace('digits_', '')} | {_pct(r.float_accuracy)} | "
                  + " | ".join(_pct(r.accuracy_vs_bits.get(b, math.nan)) for b in bits) + " |" for r in swept]
    if figures:
        lines += ["", "Figures:", ""]
        lines += [f"- [{FIGURES.get(f, f)}]({f})" for f in figures]
        lines += [""] + [f"![{FIGURES.get(f, f)}]({f})" for f in figures]
    return "\n".join(lines) + "\n\n" + "\n\n".join(notes) + "\n"


