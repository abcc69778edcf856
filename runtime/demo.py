"""``snnc demo``: the main job on the shipped example models, end to end.

For every ``examples/models/digits_*.nir`` (one trained SNN per seed neuron type):

1. compile for every target (``sim``, ``fpga``, ``loihi2``), timing each compile; a refusal
   (LM-HT's non-causal T x T mixing cannot stream on Loihi 2) is shown as ``n/a`` with the reason;
2. run the digits test split through the float simulator (float accuracy) and the 8-bit ``fpga``
   integer graph (quantized accuracy);
3. run the same integer inputs through the generated C (``fpga`` graph: sim vs C) and, on a
   subset of ``--lava-samples`` samples (Lava's CPU simulation costs seconds per network), through
   Lava (``loihi2`` graph: sim vs C vs Lava), comparing every output and every state at every step;
4. print one table and write ``summary.json``, ``summary.md`` and PNG plots (spike raster per
   layer, membrane potential float vs fixed point, accuracy vs weight bits) into OUTDIR.

Counting rules (also in summary.json):

* **synaptic operations per sample**: over the run, for every synapse node of the ``fpga`` graph,
  the number of non-zero values entering it times its fan-out (synapses / inputs), summed over
  steps and synapse nodes, averaged over samples;
* **Loihi 2 cores**: per neuron population of the ``loihi2`` graph, ``max(ceil(neurons / 8192),
  ceil(synapses into it / 937_500))``, summed. ASSUMED per-core limits, derived from Intel's
  published Loihi 2 chip figures (128 neuron cores, up to 1 M neurons and 120 M synapses per
  chip); the real limits depend on the synapse encoding and compartment configuration, which
  Lava's compiler decides. Not a measurement.
* **FPGA memory bits**: the HLS resource estimate's weight memory (``backends/fpga/resources.py``).
"""

from __future__ import annotations

import glob
import json
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

import snnc
from snnc.ir.errors import SnncError
from snnc.ir.graph import Graph
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.digits import accuracy_from_outputs, encode, load_digits_split
from snnc.runtime.files import atomic_folder
from snnc.runtime.run import quantize_inputs, run_graph
from snnc.runtime.summary import summarize
from snnc.runtime.verify import compare_traces, run_backend

TARGETS = ("sim", "fpga", "loihi2")
NEURONS_PER_CORE = 8192
SYNAPSES_PER_CORE = 937_500
PLOT_BITS = (16, 8, 6, 4)


def example_models(folder: str | None = None) -> list[str]:
    folder = folder or os.path.join(os.path.dirname(os.path.abspath(snnc.__file__)), "examples", "models")
    paths = sorted(glob.glob(os.path.join(folder, "digits_*.nir")))
    if not paths:
        raise SnncError("no digits_*.nir models found", file=folder,
                        hint="the trained examples come with the repository (examples/train_digits.py makes them)")
    return paths


@dataclass
class ModelResult:
    name: str
    neuron_type: str
    steps: int
    float_accuracy: float = math.nan
    quantized_accuracy: float = math.nan
    compile_seconds: dict = field(default_factory=dict)
    refused: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)       # backend set -> {bit_exact, compared, mismatches, samples}
    neurons: int = 0
    synapses: int = 0
    synops_per_sample: float = 0.0
    loihi2_cores: int | None = None
    fpga_memory_bits: int = 0
    accuracy_vs_bits: dict = field(default_factory=dict)

    @property
    def bit_exact(self) -> bool:
        return all(c["bit_exact"] for c in self.checks.values())


def _digits(graph: Graph, samples: int | None):
    steps = int(graph.metadata.get("digits_steps", 16))
    mode = str(graph.metadata.get("digits_encoding", "rate"))
    _, _, x_test, y_test = load_digits_split()
    if samples:
        x_test, y_test = x_test[:samples], y_test[:samples]
    x = encode(x_test, steps, mode, seed=int(graph.metadata.get("digits_test_seed", 1)))
    return x, y_test, steps


def _readout(trace, lowered: Graph) -> np.ndarray:
    out = lowered.output_names()[0]
    scale = np.asarray(lowered.nodes[out].metadata.get("scale", 1.0), np.float64)
    return trace.outputs[out] / scale


def _check(backends: list[str], lowered: Graph, x_int: dict) -> tuple[dict, dict]:
    traces = {b: run_backend(b, lowered, x_int) for b in backends}
    cmp = compare_traces(traces)
    return {"bit_exact": cmp.bit_exact, "compared": cmp.compared, "mismatches": cmp.mismatches,
            "samples": int(next(iter(x_int.values())).shape[0]), "first_mismatch": cmp.first_mismatch}, traces


def _synops(lowered: Graph, trace) -> float:
    from snnc.ir import intneurons as INN
    from snnc.ir import intnodes as IN

    rows = {r.name: r for r in summarize(lowered)}
    total = 0.0
    batch = None
    for name, node in lowered.nodes.items():
        if not isinstance(node, (IN.IntDense, IN.IntConv2d, INN.IntComplexDense)):
            continue
        edges = lowered.in_edges(name)
        active = sum(np.count_nonzero(trace.outputs[e.src]) for e in edges)
        n_in = sum(int(np.prod(trace.outputs[e.src].shape[2:])) for e in edges)
        fan_out = rows[name].synapses / max(n_in, 1)
        total += active * fan_out
        batch = trace.outputs[edges[0].src].shape[0]
    return total / max(batch or 1, 1)


def _loihi_cores(lowered: Graph) -> int:
    rows = {r.name: r for r in summarize(lowered)}
    cores = 0
    for name, row in rows.items():
        if row.neurons:
            syn = sum(rows[e.src].synapses for e in lowered.in_edges(name) if e.src in rows)
            cores += max(math.ceil(row.neurons / NEURONS_PER_CORE), math.ceil(syn / SYNAPSES_PER_CORE), 1)
    return cores


def run_model(path: str, *, samples: int | None, lava_samples: int, lava: bool, progress=None,
              bits_sweep: bool = True) -> tuple[ModelResult, dict]:
    """Everything the demo measures for one model; returns (result, data for the plots)."""
    graph = snnc.load(path)
    name = os.path.basename(path)[: -len(".nir")]
    res = ModelResult(name=name, neuron_type=str(graph.metadata.get("neuron_type", "?")),
                      steps=int(graph.metadata.get("digits_steps", 16)))
    x, y, _ = _digits(graph, samples)
    out = graph.output_names()[0]
    float_trace = run_graph(graph, x, record="all", record_states=True)
    res.float_accuracy = accuracy_from_outputs(float_trace.outputs[out], y)
    lowered = {}
    for target in TARGETS:
        t0 = time.perf_counter()
        try:
            lowered[target], report = compile_graph(graph, make_config(target))
        except SnncError as exc:
            res.refused[target] = str(exc)
            continue
        res.compile_seconds[target] = time.perf_counter() - t0
        if target == "fpga":
            res.neurons = int(report["totals"]["neurons"])
            res.synapses = int(report["totals"]["synapses"])
    plots = {"graph": graph, "x": x, "float_trace": float_trace}
    if "fpga" in lowered:
        low = lowered["fpga"]
        x_int = quantize_inputs(low, {low.input_names()[0]: x})
        check, traces = _check(["sim", "fpga"], low, x_int)
        res.checks["sim,fpga (fpga graph)"] = check
        res.quantized_accuracy = accuracy_from_outputs(_readout(traces["sim"], low), y)
        res.synops_per_sample = _synops(low, traces["sim"])
        from snnc.backends.fpga import estimate_resources, plan_model

        res.fpga_memory_bits = int(estimate_resources(plan_model(low))["total"]["weight_bits"])
        plots.update(lowered=low, int_trace=traces["sim"])
    if progress:
        progress()
    if "loihi2" in lowered:
        low = lowered["loihi2"]
        res.loihi2_cores = _loihi_cores(low)
        backends = ["sim", "fpga"] + (["lava"] if lava and lava_samples > 0 else [])
        n = lava_samples if "lava" in backends else min(len(y), 64)
        x_int = quantize_inputs(low, {low.input_names()[0]: x[:n]})
        check, _ = _check(backends, low, x_int)
        res.checks[",".join(backends) + " (loihi2 graph)"] = check
    if progress:
        progress()
    if bits_sweep:
        for bits in PLOT_BITS:
            low, _ = compile_graph(graph, make_config("fpga", {"weights": {"bits": bits}}))
            res.accuracy_vs_bits[bits] = accuracy_from_outputs(_readout(run_graph(low, x), low), y)
    return res, plots


# ----------------------------------------------------------------------------------------
# output
# ----------------------------------------------------------------------------------------


def _pct(v: float) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f} %"


def _check_cell(r: ModelResult, graph: str) -> str:
    for k, c in r.checks.items():
        if k.endswith(f"({graph} graph)"):
            who = "" if graph == "fpga" or "lava" in k else " sim=C only"
            return f"{'yes' if c['bit_exact'] else 'NO'} ({c['compared']:,}){who}"
    reason = r.refused.get(graph, "")
    return "n/a (non-causal mixing)" if "non-causal" in reason else ("n/a" if not reason else f"n/a ({reason[:40]})")


def table_rows(results: list[ModelResult]) -> tuple[list[str], list[list[str]]]:
    head = ["model", "neuron", "float acc", "8-bit acc", "bit-exact sim=C (fpga)", "bit-exact sim=C=Lava (loihi2)",
            "neurons", "synapses", "synops/sample", "Loihi 2 cores", "FPGA mem bits", "compile ms sim/fpga/loihi2"]
    rows = []
    for r in results:
        comp = "/".join(f"{1000 * r.compile_seconds[t]:.0f}" if t in r.compile_seconds else "n/a" for t in TARGETS)
        rows.append([r.name.replace("digits_", ""), r.neuron_type, _pct(r.float_accuracy), _pct(r.quantized_accuracy),
                     _check_cell(r, "fpga"), _check_cell(r, "loihi2"), str(r.neurons), str(r.synapses),
                     f"{r.synops_per_sample:,.0f}", "n/a" if r.loihi2_cores is None else str(r.loihi2_cores),
                     f"{r.fpga_memory_bits:,}", comp])
    return head, rows


def markdown(results: list[ModelResult], note: str) -> str:
    head, rows = table_rows(results)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n" + note + "\n"


def write_plots(folder: str, results: list[ModelResult], plots: dict) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    files = []
    # spike raster per layer, one sample, first model with an fpga graph
    first = next((p for p in plots.values() if "lowered" in p), None)
    if first is not None:
        low, tr = first["lowered"], first["int_trace"]
        layers = [n for n, node in low.nodes.items() if getattr(node, "is_neuron", False)]
        fig, axes = plt.subplots(len(layers), 1, figsize=(8, 2.2 * len(layers)), squeeze=False)
        for ax, name in zip(axes[:, 0], layers):
            a = tr.outputs[name][0].reshape(tr.outputs[name].shape[1], -1)
            t, i = np.nonzero(a)
            ax.scatter(t, i, s=4, c="k")
            ax.set_ylabel(f"{name}\nneuron")
            ax.set_xlim(-0.5, a.shape[0] - 0.5)
        axes[-1, 0].set_xlabel("time step")
        fig.suptitle(f"{low.metadata.get('source_file', 'model')}: spikes of sample 0 (fpga integer graph)")
        fig.tight_layout()
        files.append("spike_raster.png")
        fig.savefig(os.path.join(folder, files[-1]), dpi=100)
        plt.close(fig)
    # membrane float vs fixed point: a model whose float and integer states share names
    for p in plots.values():
        if "lowered" not in p:
            continue
        low, tr, ft = p["lowered"], p["int_trace"], p["float_trace"]
        pairs = [k for k in tr.states if k in ft.states and k.endswith(".v")
                 and "scale" in low.nodes[k.rsplit(".", 1)[0]].metadata]
        if not pairs:
            continue
        key = pairs[0]
        node = key.rsplit(".", 1)[0]
        scale = np.broadcast_to(np.asarray(low.nodes[node].metadata["scale"], np.float64),
                                tr.states[key].shape[2:]).reshape(-1)
        fig, ax = plt.subplots(figsize=(8, 3.5))
        fv = ft.states[key][0].reshape(ft.states[key].shape[1], -1)
        iv = tr.states[key][0].reshape(tr.states[key].shape[1], -1)
        for j in range(min(3, fv.shape[1])):
            line, = ax.plot(fv[:, j], label=f"neuron {j} float")
            ax.plot(iv[:, j] / scale[j], "--", color=line.get_color(), label=f"neuron {j} fixed point / scale")
        ax.set_xlabel("time step")
        ax.set_ylabel(f"{key} (model units)")
        ax.set_title(f"{low.metadata.get('source_file', 'model')}: membrane, float vs 8-bit fixed point (sample 0)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        files.append("membrane_float_vs_fixed.png")
        fig.savefig(os.path.join(folder, files[-1]), dpi=100)
        plt.close(fig)
        break
    # accuracy vs weight bits
    swept = [r for r in results if r.accuracy_vs_bits]
    if swept:
        fig, ax = plt.subplots(figsize=(6, 4))
        for r in swept:
            bits = sorted(r.accuracy_vs_bits)
            ax.plot(bits, [100 * r.accuracy_vs_bits[b] for b in bits], "o-", label=r.name)
        ax.set_xlabel("weight bits (fpga target)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title("digits: accuracy vs weight bits")
        ax.legend(fontsize=7)
        fig.tight_layout()
        files.append("accuracy_vs_bits.png")
        fig.savefig(os.path.join(folder, files[-1]), dpi=100)
        plt.close(fig)
    return files


def run_demo(outdir: str, *, models: str | None = None, only: list[str] | None = None, samples: int | None = None,
             lava_samples: int = 8, lava: bool = True, plots: bool = True, force: bool = False,
             bits_sweep: bool = True, echo=print) -> tuple[list[ModelResult], dict]:
    """Run the demo, write OUTDIR atomically; returns (results, summary dict)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    if os.path.exists(outdir) and not force:
        raise SnncError("output folder exists", file=outdir, hint="pass --force to replace it")
    paths = example_models(models)
    if only:
        paths = [p for p in paths if os.path.basename(p) in {f"digits_{o.lower()}.nir" for o in only}]
        if not paths:
            raise SnncError(f"no example model for {list(only)}", hint="types: lif, cubalif, lifb, clif, rf, lmht, lnm")
    if lava:
        from snnc.backends.lava.run import lava_python

        try:
            lava_python()
        except SnncError as exc:
            echo(f"lava: not available ({exc}); running without it")
            lava = False
    t_start = time.perf_counter()
    results, plot_data = [], {}
    console = Console()
    console = Console(width=max(console.width, 170))
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("models", total=2 * len(paths))
        for path in paths:
            progress.update(task, description=f"{os.path.basename(path)}")
            r, p = run_model(path, samples=samples, lava_samples=lava_samples, lava=lava,
                             progress=lambda: progress.advance(task), bits_sweep=bits_sweep)
            results.append(r)
            plot_data[r.name] = p
    elapsed = time.perf_counter() - t_start
    note = (f"Digits test split ({'all' if not samples else samples} samples per model; Lava on the first "
            f"{lava_samples if lava else 0}); bit-exact = every output and state of every node equal at every "
            f"step. Loihi 2 cores use assumed per-core limits ({NEURONS_PER_CORE} neurons, {SYNAPSES_PER_CORE:,} "
            f"synapses; see snnc/runtime/demo.py). Total {elapsed:.0f} s.")
    summary = {"models": [{**{k: v for k, v in r.__dict__.items()}, "bit_exact": r.bit_exact} for r in results],
               "seconds": elapsed, "samples": samples, "lava_samples": lava_samples if lava else 0,
               "loihi2_core_limits_assumed": {"neurons": NEURONS_PER_CORE, "synapses": SYNAPSES_PER_CORE}}
    head, rows = table_rows(results)
    table = Table(title="snnc demo: digits example models, every target and backend")
    for h in head:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    echo(note)
    with atomic_folder(outdir, overwrite=force, prefix=".snnc-demo-") as tmp:
        files = write_plots(tmp, results, plot_data) if plots else []
        summary["plots"] = files
        with open(os.path.join(tmp, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1, default=_json_default)
            f.write("\n")
        with open(os.path.join(tmp, "summary.md"), "w") as f:
            f.write(markdown(results, note))
    if plots and not summary["plots"]:
        echo("plots: matplotlib is not installed; skipped")
    echo(f"wrote {outdir}: summary.json, summary.md" + "".join(f", {p}" for p in summary["plots"]))
    return results, summary


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
