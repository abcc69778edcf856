"""``snnc demo``: the main job on the shipped example models, end to end.

For every ``examples/models/digits_*.nir`` (one trained SNN per seed neuron type; the folder next to
the installed package, ``os.path.dirname(snnc.__file__)/examples/models``, or ``--models``):

1. compile for every target (``sim``, ``fpga``, ``loihi2``), timing each compile; a target that
   refuses a model (a compile error naming why, e.g. a non-causal node on a streaming target) is
   shown as ``n/a (refused: reason)`` in the table, not a crash;
2. run the digits test split through the float simulator (float accuracy) and the 8-bit ``fpga``
   integer graph (quantized accuracy: the Output node's ``metadata['scale']`` dequantizes the
   readout, as in ``bench/quantization_accuracy.py``);
3. compare backends bit for bit on the same integer inputs (:func:`~snnc.runtime.verify.compare_traces`:
   every output and every state of every node at every step):

   * ``fpga`` graph: integer simulator vs generated C, whole test split;
   * ``loihi2`` graph: integer simulator vs generated C, whole test split, and simulator vs C vs
     Lava (``Loihi2SimCfg`` fixed point) on the first ``--lava-samples`` samples: Lava's CPU
     simulation builds a network per sample and costs about 0.4-1.2 s per sample here;

4. sweep the weight width (:data:`SWEEP_BITS`, ``fpga`` target; state max(24, bits + 16) bits, as
   16-bit weights saturate the default 24-bit state) for accuracy vs weight bits;
5. the Loihi 2 chip verdict of the exact ``loihi2`` graph (:func:`snnc.backends.lava.chip.chip_status`:
   yes, or no with the nodes that are custom Lava processes, CPU only) and the accuracy of the
   chip-native mode (:func:`snnc.runtime.chip_accuracy.chip_mode_accuracy`; with the fine-tuned
   ``digits_<type>_chip.nir`` when it is shipped);
6. print one table (rich) and write ``summary.json``, ``summary.md`` and PNG plots into OUTDIR,
   atomically (:func:`~snnc.ir.files.atomic_folder`; an existing OUTDIR only with ``force``).

Lava is found the way :func:`snnc.backends.lava.run.run_lava` finds it (in-process when lava-nc is
importable and ``$SNNC_LAVA_PYTHON`` is unset, else ``$SNNC_LAVA_PYTHON`` or ``<repo>/.venv-lava``);
when it is missing the table says ``lava: not available (reason)`` and the rest still runs.

Counting rules (also in ``summary.json`` under ``definitions``):

* **neurons, synapses**: the ``fpga`` compile report's totals (``snnc compile``/``inspect``
  counting: dense out x in, complex dense once per connection; a bias is one connection per neuron
  from a constant source, as the lowered graph implements it). Where the ``loihi2`` graph is
  larger (LIFB becomes ``max_burst`` times as many LIF neurons with lateral connections), the
  cores cell adds its counts.
* **NeuroBench metrics** (:mod:`snnc.runtime.workload_metrics`, NeuroBench's definitions and
  names, cross-checked against ``neurobench`` by ``tests/runtime/test_neurobench_metrics.py``):
  ``Effective_ACs`` / ``Effective_MACs`` per sample (non-zero input x non-zero weight pairs per
  connection layer and step; AC when the layer's inputs are spikes, else MAC; biases excluded),
  ``ActivationSparsity`` (zeros / values over the neuron layers' outputs), ``ConnectionSparsity``
  (zero weights / weights), ``Footprint`` (float32 parameters, bytes). Measured on the float
  model's simulation of the test split (what NeuroBench measures on the torch model); the same
  counts on the 8-bit ``fpga`` graph's integer simulation go to ``summary.json``
  (``neurobench_8bit``: quantization zeroes small weights and can flip a few spikes).
* **Loihi 2 cores**: :func:`snnc.backends.lava.resources.estimate_cores` on the ``loihi2`` graph
  (ASSUMED per-core limits; the module says where they come from).
* **FPGA memory bits**: the HLS resource estimate (:func:`snnc.backends.fpga.estimate_resources`)
  ``weight_bits`` (every constant array: weights, tables, per-neuron parameters, at stored width)
  / ``state_bits`` (neuron state and output/delay buffers).
* **compile ms**: :func:`~snnc.runtime.compile.compile_graph` (the target's pass pipeline) plus the
  target's resource estimate (:class:`snnc.runtime.targets.Target`); not gcc's build of the C
  simulation (cached by content hash) nor Lava's own process build.

Reporting (table, summary.md) is :mod:`snnc.runtime.demo_report`; plots :mod:`snnc.runtime.demo_plots`.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import platform
import time
from dataclasses import dataclass, field

import numpy as np

import snnc
from snnc.backends.lava.chip import chip_status
from snnc.backends.lava.mapping import plan_network
from snnc.backends.lava.resources import NEURONS_PER_CORE, SYNAPSES_PER_CORE
from snnc.ir.errors import BackendError, SnncError
from snnc.ir.files import atomic_folder
from snnc.ir.graph import Graph
from snnc.ir.trace import Trace
from snnc.passes.targets import make_config
from snnc.runtime.chip_accuracy import chip_mode_accuracy
from snnc.runtime.compile import compile_graph
from snnc.runtime.demo_plots import write_plots
from snnc.runtime.demo_report import DEFINITIONS, markdown, table_rows
from snnc.runtime.digits import accuracy_from_outputs, encoded_test_split
from snnc.runtime.run import quantize_inputs, run_graph
from snnc.runtime.targets import BACKENDS, TARGETS, EmitOptions
from snnc.runtime.verify import compare_traces, run_backend
from snnc.runtime.workload_metrics import (
    activation_sparsity,
    connection_sparsity,
    synaptic_operations,
    workload_metrics,
)

#: weight widths of the accuracy sweep (fpga target)
SWEEP_BITS = (16, 8, 6, 4, 3, 2)
#: default number of test samples also run on Lava
DEFAULT_LAVA_SAMPLES = 16
#: progress steps per model
_STEPS = ("float simulation", "compile", "fpga graph: sim vs C", "loihi2 graph: sim vs C", "loihi2 graph: Lava",
          "weight-bits sweep")



def example_models(folder: str | None = None) -> list[str]:
    """The ``digits_*.nir`` files of ``folder`` (default: the package's ``examples/models``),
    without the fine-tuned chip-native ``digits_*_chip.nir`` (the chip-native form of a model,
    not a model of its own: examples/finetune_chip.py)."""
    folder = folder or os.path.join(os.path.dirname(os.path.abspath(snnc.__file__)), "examples", "models")
    paths = sorted(p for p in glob.glob(os.path.join(folder, "digits_*.nir")) if not p.endswith("_chip.nir"))
    if not paths:
        raise SnncError("no digits_*.nir models found", file=folder,
                        hint="the trained examples come with the repository (examples/train_digits.py makes them)")
    return paths


@dataclass
class ModelResult:
    name: str
    neuron_type: str
    steps: int
    samples: int = 0
    float_accuracy: float = math.nan
    quantized_accuracy: float = math.nan
    compile_seconds: dict = field(default_factory=dict)
    refused: dict = field(default_factory=dict)      # target -> reason
    checks: dict = field(default_factory=dict)       # "<graph>: <backends>" -> {bit_exact, compared, ...}
    lava: str = ""                                   # why Lava did not run ("" if it ran)
    neurons: int = 0
    synapses: int = 0
    neurobench: dict = field(default_factory=dict)       # NeuroBench metrics of the float model
    neurobench_8bit: dict = field(default_factory=dict)  # the same counts on the 8-bit fpga graph
    loihi2_cores: int | None = None
    loihi2_neurons: int = 0                          # the loihi2 graph can be larger (LIFB -> LIF populations)
    loihi2_synapses: int = 0
    fpga_resources: dict = field(default_factory=dict)
    accuracy_vs_bits: dict = field(default_factory=dict)
    chip_accuracy: float = math.nan                  # loihi2 chip-native mode (passes/chip_native.py)
    chip_tuned_accuracy: float = math.nan            # its fine-tuned digits_<type>_chip.nir, when shipped
    chip_cpu_only: list = field(default_factory=list)  # nodes of the exact loihi2 graph that run only on a CPU

    @property
    def bit_exact(self) -> bool:
        return bool(self.checks) and all(c["bit_exact"] for c in self.checks.values())

    def to_json(self) -> dict:
        return {**self.__dict__, "bit_exact": self.bit_exact}


def _sweep_config(bits: int) -> dict:
    """fpga config of the weight sweep: ``bits``-bit weights, state max(24, bits + 16) bits (the
    default 24-bit state leaves 16-bit weights too little headroom: they saturate)."""
    return {"weights": {"bits": bits}, "state": {"bits": max(24, bits + 16)}}


def _readout(trace: Trace, lowered: Graph) -> np.ndarray:
    """The Output node's trace in model units (integer / the Output node's scale)."""
    out = lowered.output_names()[0]
    scale = np.asarray(lowered.nodes[out].metadata.get("scale", 1.0), np.float64)
    return trace.outputs[out] / scale


def _head(trace: Trace, n: int) -> Trace:
    """The first ``n`` samples of a trace."""
    return Trace(outputs={k: v[:n] for k, v in trace.outputs.items()},
                 states={k: v[:n] for k, v in trace.states.items()})


def _check(traces: dict[str, Trace]) -> dict:
    cmp = compare_traces(traces)
    return {"backends": list(traces), "bit_exact": cmp.bit_exact, "compared": cmp.compared,
            "mismatches": cmp.mismatches, "samples": int(next(iter(traces[cmp.backends[0]].outputs.values())).shape[0]),
            "first_mismatch": cmp.first_mismatch}


def _plain(metrics: dict) -> dict:
    """JSON-ready: floats, and per-layer (ops, kind) pairs as lists."""
    return {k: ({n: [float(a), b] for n, (a, b) in v.items()} if k == "per_layer" else v) for k, v in metrics.items()}


def _error_check(backends: list[str], exc: SnncError, samples: int) -> dict:
    return {"backends": backends, "bit_exact": False, "compared": 0, "mismatches": 0, "samples": samples,
            "first_mismatch": None, "error": str(exc)}


def run_model(path: str, *, samples: int | None = None, lava_samples: int = DEFAULT_LAVA_SAMPLES,
              lava_skip: str | None = None, bits_sweep: bool = True, tick=None) -> tuple[ModelResult, dict]:
    """Everything the demo measures for one model; returns (result, data for the plots).
    ``lava_skip``: why Lava does not run (None: run it on ``lava_samples`` samples); ``tick(label)``
    is called as each step starts."""
    tick = tick or (lambda label: None)
    graph = snnc.load(path)
    name = os.path.basename(path)[: -len(".nir")]
    res = ModelResult(name=name, neuron_type=str(graph.metadata.get("neuron_type", "?")),
                      steps=int(graph.metadata.get("digits_steps", 16)))
    x, y, _ = encoded_test_split(graph, samples)
    res.samples = int(len(y))
    out = graph.output_names()[0]

    tick(_STEPS[0])
    float_trace = run_graph(graph, x, record="all", record_states=True)
    res.float_accuracy = accuracy_from_outputs(float_trace.outputs[out], y)
    res.neurobench = _plain(workload_metrics(graph, float_trace))

    tick(_STEPS[1])
    lowered = {}
    for target in TARGETS:
        t0 = time.perf_counter()
        try:
            low, report = compile_graph(graph, make_config(target))
            est = TARGETS[target].estimate
            estimate = est(low, EmitOptions()) if est is not None else None
        except SnncError as exc:
            res.refused[target] = exc.detail
            continue
        res.compile_seconds[target] = time.perf_counter() - t0
        lowered[target] = low
        if target == "loihi2":
            res.chip_cpu_only = list(chip_status(plan_network(low))["cpu_only"])
            res.loihi2_cores = int(estimate["total"]["cores"])
            res.loihi2_neurons = int(report["totals"]["neurons"])
            res.loihi2_synapses = int(report["totals"]["synapses"])
        if target == "fpga":
            res.neurons = int(report["totals"]["neurons"])
            res.synapses = int(report["totals"]["synapses"])
            res.fpga_resources = dict(estimate["total"])
    plots = {"name": name, "neuron_type": res.neuron_type, "graph": graph, "x": x, "y": y, "float_trace": float_trace}

    tick(_STEPS[2])
    if "fpga" in lowered:
        low = lowered["fpga"]
        x_int = quantize_inputs(low, {low.input_names()[0]: x})
        traces = {b: run_backend(b, low, x_int) for b in ("sim", "fpga")}
        res.checks["fpga graph: sim=C"] = _check(traces)
        res.quantized_accuracy = accuracy_from_outputs(_readout(traces["sim"], low), y)
        ops = synaptic_operations(low, traces["sim"])
        res.neurobench_8bit = _plain({"Effective_ACs": ops["Effective_ACs"], "Effective_MACs": ops["Effective_MACs"],
                                      "ActivationSparsity": activation_sparsity(low, traces["sim"]),
                                      "ConnectionSparsity": connection_sparsity(low)})
        plots.update(lowered=low, int_trace=traces["sim"])

    tick(_STEPS[3])
    if "loihi2" in lowered:
        low = lowered["loihi2"]
        x_int = quantize_inputs(low, {low.input_names()[0]: x})
        traces = {b: run_backend(b, low, x_int) for b in ("sim", "fpga")}
        res.checks["loihi2 graph: sim=C"] = _check(traces)
        n = min(lava_samples, len(y))
        if lava_skip is None and n > 0:
            tick(f"{_STEPS[4]} ({n} samples)")
            head = {k: v[:n] for k, v in x_int.items()}
            try:
                lava_trace = run_backend("lava", low, head)
            except BackendError as exc:        # a Lava run that fails is a failed check, not a crash
                res.checks["loihi2 graph: sim=C=Lava"] = _error_check(["sim", "fpga", "lava"], exc, n)
            else:
                res.checks["loihi2 graph: sim=C=Lava"] = _check({"sim": _head(traces["sim"], n),
                                                                 "fpga": _head(traces["fpga"], n), "lava": lava_trace})
        else:
            res.lava = lava_skip or "skipped (--lava-samples 0)"      # n == 0

    res.chip_accuracy, _ = chip_mode_accuracy(graph, x, y)
    tuned = path[:-len(".nir")] + "_chip.nir"
    if os.path.exists(tuned):
        res.chip_tuned_accuracy, _ = chip_mode_accuracy(snnc.load(tuned), x, y)

    tick(_STEPS[5])
    if bits_sweep:
        for bits in SWEEP_BITS:
            low, _ = compile_graph(graph, make_config("fpga", _sweep_config(bits)))
            res.accuracy_vs_bits[bits] = accuracy_from_outputs(_readout(run_graph(low, x), low), y)
    return res, plots


# ----------------------------------------------------------------------------------------
# the demo
# ----------------------------------------------------------------------------------------


class _Ticker:
    """Moves the progress bar as :func:`run_model`'s steps start."""

    def __init__(self, progress, task, first: int, prefix: str):
        self.progress, self.task, self.first, self.prefix, self.started = progress, task, first, prefix, 0

    def __call__(self, label: str) -> None:
        done = self.first + min(self.started, len(_STEPS) - 1)
        self.progress.update(self.task, completed=done, description=f"{self.prefix}: {label}")
        self.started += 1


def run_demo(outdir: str, *, models: str | None = None, only: list[str] | None = None, samples: int | None = None,
             lava_samples: int = DEFAULT_LAVA_SAMPLES, lava: bool = True, plots: bool = True, force: bool = False,
             bits_sweep: bool = True, echo=print, console=None,
             progress: bool = True) -> tuple[list[ModelResult], dict]:
    """Run the demo and write OUTDIR atomically; returns (results, summary dict). The CLI exits 1
    unless every result is bit-exact. ``progress``: show the progress bar (on stderr; the CLI asks
    for it only on a terminal without ``--quiet``)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    if os.path.exists(outdir) and not force:
        raise SnncError("output folder exists", file=outdir, hint="pass --force to replace it")
    paths = example_models(models)
    if only:
        wanted = {f"digits_{o.lower()}.nir" for o in only}
        paths = [p for p in paths if os.path.basename(p) in wanted]
        if not paths:
            raise SnncError(f"no example model for {list(only)}", hint="types: lif, cubalif, lifb, clif, rf, lmht, lnm")
    if not lava:
        lava_skip = "skipped (--no-lava)"
    elif lava_samples == 0:
        lava_skip = "skipped (--lava-samples 0)"
    else:
        lava_skip = BACKENDS["lava"].unavailable()
        if lava_skip:
            echo(f"lava: not available ({lava_skip}); the Lava column says so")
    t_start = time.perf_counter()
    results, plot_data = [], {}
    if console is None:
        console = Console()
        console = Console(width=max(console.width, 330))
    bar = Progress(TextColumn("{task.description:<52}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True) if progress else None
    with bar if bar is not None else contextlib.nullcontext():
        task = bar.add_task("", total=len(_STEPS) * len(paths)) if bar is not None else None
        for i, path in enumerate(paths):
            tick = _Ticker(bar, task, i * len(_STEPS), os.path.basename(path)) if bar is not None else None
            r, p = run_model(path, samples=samples, lava_samples=lava_samples, lava_skip=lava_skip,
                             bits_sweep=bits_sweep, tick=tick)
            if bar is not None:
                bar.update(task, completed=(i + 1) * len(_STEPS), description="")
            results.append(r)
            plot_data[r.name] = p
    elapsed = time.perf_counter() - t_start
    n_lava = 0 if lava_skip or not results else min(lava_samples, results[0].samples)
    notes = [f"Digits test split ({results[0].samples if results else 0} samples per model) on the integer simulator "
             f"and the generated C; Lava on the first {n_lava}. bit-exact = every output and state of every node equal "
             f"at every step (values compared, samples). Loihi 2 cores use ASSUMED per-core limits ({NEURONS_PER_CORE} "
             f"neurons, {SYNAPSES_PER_CORE:,} synapses; see snnc/backends/lava/resources.py). Total {elapsed:.0f} s on "
             f"{os.cpu_count()} CPU cores."]
    notes += [f"refused: {r.name} for {t}: {why}" for r in results for t, why in r.refused.items()]
    notes += [f"error: {r.name} {k}: {c['error']}" for r in results for k, c in r.checks.items() if c.get("error")]
    summary = {"models": [r.to_json() for r in results], "seconds": elapsed, "samples": samples,
               "lava_samples": n_lava, "lava": lava_skip or "ran", "weight_bits_sweep": list(SWEEP_BITS) if bits_sweep
               else [], "loihi2_core_limits_assumed": {"neurons": NEURONS_PER_CORE, "synapses": SYNAPSES_PER_CORE},
               "definitions": DEFINITIONS, "table": dict(zip(("head", "rows"), table_rows(results))),
               "host": {"python": platform.python_version(), "cpus": os.cpu_count()}}
    head, rows = table_rows(results)
    table = Table(title="snnc demo: digits example models on every target and backend")
    for h in head:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for note in notes:
        echo(note)
    with atomic_folder(outdir, overwrite=force, prefix=".snnc-demo-") as tmp:
        files = write_plots(tmp, results, plot_data) if plots else []
        summary["plots"] = files
        with open(os.path.join(tmp, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1, default=_json_default)
            f.write("\n")
        with open(os.path.join(tmp, "summary.md"), "w") as f:
            f.write(markdown(results, notes, files))
    if plots and not files:
        echo("plots: matplotlib is not installed; skipped")
    echo(f"wrote {outdir}: summary.json, summary.md" + "".join(f", {p}" for p in files))
    return results, summary


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
