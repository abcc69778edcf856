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
5. print one table (rich) and write ``summary.json``, ``summary.md`` and PNG plots into OUTDIR,
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
* **synaptic operations per sample** (measured): on the ``fpga`` graph's integer simulation of
  the test split, for every synapse node (a node with synapses that is not a neuron), the number
  of non-zero values arriving on its inputs over all steps times its mean fan-out
  (synapses / input size), summed over synapse nodes and divided by the number of samples. A
  spike or a graded non-zero value is one event; zeros cost nothing (event-driven hardware).
* **Loihi 2 cores**: per neuron population of the ``loihi2`` graph (one Lava process; populations
  do not share cores), ``max(1, ceil(neurons / NEURONS_PER_CORE), ceil(synapses into it /
  SYNAPSES_PER_CORE))``, summed. The per-core limits are ASSUMED, not measured and not from this
  project's docs (``/work/shared/docs`` gives none): Loihi 2 has 128 neuron cores per chip with
  up to 1 M neurons and 120 M synapses per chip (Intel's Loihi 2 brief, 2021; also
  open-neuromorphic.org/neuromorphic-computing/hardware/loihi-2-intel/), so
  ``NEURONS_PER_CORE = 8192`` (the usually quoted per-core maximum; 1 M / 128 = 7812 on average)
  and ``SYNAPSES_PER_CORE = 120 M / 128 = 937,500``. The real packing depends on the synapse
  encoding, weight width and compartment configuration, which Lava's Loihi compiler decides; the
  demo models' populations (at most 256 neurons and about 82 k synapses each) fit one core under
  any of these limits, so for them the figure is the number of populations.
* **FPGA memory bits**: the HLS resource estimate (:func:`snnc.backends.fpga.estimate_resources`)
  ``weight_bits`` (every constant array: weights, tables, per-neuron parameters, at stored width)
  / ``state_bits`` (neuron state and output/delay buffers).
* **compile ms**: :func:`~snnc.runtime.compile.compile_graph` (the target's pass pipeline) plus, for
  ``fpga``, generating the HLS C sources; not gcc's build of the C simulation (cached by content
  hash) nor Lava's own process build.

Plots (one showcase model, :data:`SHOWCASE` if present, test sample 0, ``fpga`` graph, which has
no inserted latency so its steps align with the float model's):

* ``spike_raster.png``: spikes per layer (input if it is spikes, then every neuron population);
* ``membrane_float_vs_fixed.png``: membrane potential ``v`` of a few neurons per layer, float
  simulation vs fixed point. Conversion: the lowered neuron's ``metadata['scale']`` is its state
  scale S (per neuron or per layer, chosen by ``passes/lower_integer.py``; it already includes the
  fractional state bits), the integer state is ``round(v * S)``, so the plot shows
  ``v_int / S`` in the model's units next to the float ``v``;
* ``accuracy_vs_bits.png``: test accuracy vs weight bits per model (float accuracy dashed).
"""

from __future__ import annotations

import glob
import json
import math
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field

import numpy as np

import snnc
from snnc.ir.errors import BackendError, SnncError
from snnc.ir.files import atomic_folder
from snnc.ir.graph import Graph
from snnc.ir.trace import Trace
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.digits import accuracy_from_outputs, encoded_test_split
from snnc.runtime.run import quantize_inputs, run_graph
from snnc.runtime.summary import summarize
from snnc.runtime.verify import compare_traces, run_backend

TARGETS = ("sim", "fpga", "loihi2")
#: ASSUMED Loihi 2 per-core limits (see the module docstring for the source and caveats)
NEURONS_PER_CORE = 8192
SYNAPSES_PER_CORE = 937_500
#: weight widths of the accuracy sweep (fpga target)
SWEEP_BITS = (16, 8, 6, 4, 3, 2)
#: default number of test samples also run on Lava
DEFAULT_LAVA_SAMPLES = 16
#: the model whose spikes and membranes are plotted
SHOWCASE = "digits_lif"
#: progress steps per model
_STEPS = ("float simulation", "compile", "fpga graph: sim vs C", "loihi2 graph: sim vs C", "loihi2 graph: Lava",
          "weight-bits sweep")

DEFINITIONS = {
    "neurons_synapses": "totals of the fpga compile report (bias = one connection per neuron from a constant source)",
    "synops_per_sample": "fpga graph, integer simulation of the test split: per synapse node, non-zero values "
                         "arriving over all steps x mean fan-out (synapses / input size); summed over synapse "
                         "nodes; divided by the number of samples",
    "loihi2_cores": f"per neuron population of the loihi2 graph: max(1, ceil(neurons / {NEURONS_PER_CORE}), "
                    f"ceil(synapses in / {SYNAPSES_PER_CORE})), summed; ASSUMED per-core limits (128 cores, "
                    "1 M neurons, 120 M synapses per chip: Intel Loihi 2 brief), not a Lava compiler result",
    "fpga_memory_bits": "estimate_resources total weight_bits (constant arrays) and state_bits",
    "compile_seconds": "compile_graph (+ HLS C source generation for fpga)",
    "accuracy_vs_bits": "fpga target, weights of that many bits (per output channel), state max(24, bits + 16) bits",
    "bit_exact": "compare_traces: every output and state of every node equal at every step",
}


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


def lava_unavailable() -> str | None:
    """None if Lava can run (found as run_lava finds it), else the reason."""
    from snnc.backends.lava.run import ENV_VAR, lava_importable, lava_python

    if not os.environ.get(ENV_VAR) and lava_importable():
        return None
    try:
        exe = lava_python()
    except SnncError as exc:
        return exc.detail
    probe = subprocess.run([exe, "-c", "from lava.magma.core.run_configs import Loihi2SimCfg"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        last = (probe.stderr or probe.stdout).strip().splitlines()
        return f"{exe} cannot import lava-nc ({last[-1] if last else f'exit {probe.returncode}'})"
    return None


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
    synops_per_sample: float = 0.0
    loihi2_cores: int | None = None
    loihi2_neurons: int = 0                          # the loihi2 graph can be larger (LIFB -> LIF populations)
    loihi2_synapses: int = 0
    fpga_resources: dict = field(default_factory=dict)
    accuracy_vs_bits: dict = field(default_factory=dict)

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


def _synops(lowered: Graph, trace: Trace) -> float:
    """Synaptic operations per sample (see the module docstring)."""
    total, batch = 0.0, 1
    for row in summarize(lowered):
        if not row.synapses or row.neurons:
            continue
        edges = lowered.in_edges(row.name)
        active = sum(np.count_nonzero(trace.outputs[e.src]) for e in edges)
        n_in = sum(int(np.prod(trace.outputs[e.src].shape[2:])) for e in edges)
        total += active * row.synapses / max(n_in, 1)
        batch = trace.outputs[edges[0].src].shape[0]
    return total / batch


def _loihi_cores(lowered: Graph) -> int:
    """Cores by the assumed per-core limits (see the module docstring). A synapse node's synapses
    belong to the neuron populations it feeds (directly or through stateless nodes)."""
    rows = {r.name: r for r in summarize(lowered)}
    synapses_in = {name: 0 for name, row in rows.items() if row.neurons}
    for name, row in rows.items():
        if not row.synapses or row.neurons:
            continue
        seen, todo = set(), [e.dst for e in lowered.out_edges(name)]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            if n in synapses_in:
                synapses_in[n] += row.synapses
            elif not rows[n].synapses:
                todo += [e.dst for e in lowered.out_edges(n)]
    return sum(max(1, math.ceil(rows[n].neurons / NEURONS_PER_CORE), math.ceil(syn / SYNAPSES_PER_CORE))
               for n, syn in synapses_in.items())


def _error_check(backends: list[str], exc: SnncError, samples: int) -> dict:
    return {"backends": backends, "bit_exact": False, "compared": 0, "mismatches": 0, "samples": samples,
            "first_mismatch": None, "error": str(exc)}


def run_model(path: str, *, samples: int | None = None, lava_samples: int = DEFAULT_LAVA_SAMPLES,
              lava_skip: str | None = None, bits_sweep: bool = True, tick=None) -> tuple[ModelResult, dict]:
    """Everything the demo measures for one model; returns (result, data for the plots).
    ``lava_skip``: why Lava does not run (None: run it on ``lava_samples`` samples); ``tick(label)``
    is called as each step starts."""
    from snnc.backends.fpga import estimate_resources, generate_sources

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

    tick(_STEPS[1])
    lowered = {}
    for target in TARGETS:
        t0 = time.perf_counter()
        try:
            low, report = compile_graph(graph, make_config(target))
            plan = generate_sources(low)[0] if target == "fpga" else None
        except SnncError as exc:
            res.refused[target] = exc.detail
            continue
        res.compile_seconds[target] = time.perf_counter() - t0
        lowered[target] = low
        if target == "loihi2":
            res.loihi2_neurons = int(report["totals"]["neurons"])
            res.loihi2_synapses = int(report["totals"]["synapses"])
        if target == "fpga":
            res.neurons = int(report["totals"]["neurons"])
            res.synapses = int(report["totals"]["synapses"])
            res.fpga_resources = dict(estimate_resources(plan)["total"])
    plots = {"name": name, "neuron_type": res.neuron_type, "graph": graph, "x": x, "y": y, "float_trace": float_trace}

    tick(_STEPS[2])
    if "fpga" in lowered:
        low = lowered["fpga"]
        x_int = quantize_inputs(low, {low.input_names()[0]: x})
        traces = {b: run_backend(b, low, x_int) for b in ("sim", "fpga")}
        res.checks["fpga graph: sim=C"] = _check(traces)
        res.quantized_accuracy = accuracy_from_outputs(_readout(traces["sim"], low), y)
        res.synops_per_sample = _synops(low, traces["sim"])
        plots.update(lowered=low, int_trace=traces["sim"])

    tick(_STEPS[3])
    if "loihi2" in lowered:
        low = lowered["loihi2"]
        res.loihi2_cores = _loihi_cores(low)
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

    tick(_STEPS[5])
    if bits_sweep:
        for bits in SWEEP_BITS:
            low, _ = compile_graph(graph, make_config("fpga", _sweep_config(bits)))
            res.accuracy_vs_bits[bits] = accuracy_from_outputs(_readout(run_graph(low, x), low), y)
    return res, plots


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


def _check_cell(r: ModelResult, key: str, target: str) -> str:
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


def _samples_of(results: list[ModelResult], key: str) -> str:
    counts = sorted({c["samples"] for r in results for k, c in r.checks.items() if k == key})
    return "/".join(map(str, counts)) or "-"


def table_rows(results: list[ModelResult]) -> tuple[list[str], list[list[str]]]:
    """Column heads and rows of the demo table (strings)."""
    head = ["model", "neuron", "float acc", "8-bit acc",
            f"bit-exact sim=C, fpga graph (values compared, {_samples_of(results, _CHECKS[0][0])} samples)",
            f"bit-exact sim=C, loihi2 graph (values compared, {_samples_of(results, _CHECKS[1][0])} samples)",
            f"bit-exact sim=C=Lava, loihi2 graph (values compared, {_samples_of(results, _CHECKS[2][0])} samples)",
            "neurons", "synapses", "synops/sample", "Loihi 2 cores", "FPGA mem bits weights/state",
            "compile ms sim/fpga/loihi2"]
    rows = []
    for r in results:
        comp = "/".join(f"{1000 * r.compile_seconds[t]:.0f}" if t in r.compile_seconds else "n/a" for t in TARGETS)
        mem = r.fpga_resources
        cores = "n/a (refused)" if "loihi2" in r.refused else ("n/a" if r.loihi2_cores is None else str(r.loihi2_cores))
        if r.loihi2_cores is not None and (r.loihi2_neurons, r.loihi2_synapses) != (r.neurons, r.synapses):
            cores += f" ({r.loihi2_neurons} neurons, {r.loihi2_synapses:,} synapses)"
        rows.append([r.name.replace("digits_", ""), r.neuron_type, _pct(r.float_accuracy), _pct(r.quantized_accuracy),
                     *(_check_cell(r, key, target) for key, target in _CHECKS), str(r.neurons), f"{r.synapses:,}",
                     f"{r.synops_per_sample:,.0f}", cores,
                     f"{mem['weight_bits']:,}/{mem['state_bits']:,}" if mem else "n/a", comp])
    return head, rows


def markdown(results: list[ModelResult], notes: list[str]) -> str:
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
    return "\n".join(lines) + "\n\n" + "\n\n".join(notes) + "\n"


# ----------------------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------------------


def _neuron_layers(low: Graph) -> list[str]:
    return [n for n in low.evaluation_order() if getattr(low.nodes[n], "is_neuron", False)]


def write_plots(folder: str, results: list[ModelResult], plots: dict) -> list[str]:
    """PNG files into ``folder``; [] if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    files = []
    with_int = {k: p for k, p in plots.items() if "lowered" in p}
    show = with_int.get(SHOWCASE) or next(iter(with_int.values()), None)
    if show is not None:
        files += _plot_raster(plt, folder, show)
        files += _plot_membrane(plt, folder, show)
    files += _plot_bits(plt, folder, results)
    return files


def _save(plt, fig, folder: str, name: str) -> list[str]:
    fig.tight_layout()
    fig.savefig(os.path.join(folder, name), dpi=100)
    plt.close(fig)
    return [name]


def _plot_raster(plt, folder: str, p: dict) -> list[str]:
    low, tr = p["lowered"], p["int_trace"]
    layers = [n for n in low.input_names() if not low.nodes[n].metadata.get("analog")] + _neuron_layers(low)
    fig, axes = plt.subplots(len(layers), 1, figsize=(8, 1.2 + 1.8 * len(layers)), squeeze=False, sharex=True)
    for ax, name in zip(axes[:, 0], layers):
        a = tr.outputs[name][0].reshape(tr.outputs[name].shape[1], -1)
        t, i = np.nonzero(a)
        ax.scatter(t, i, s=6 + 6 * np.minimum(np.abs(a[t, i]) - 1, 3), c="k", marker="|")
        ax.set_ylabel(f"{name}\nneuron")
        ax.set_ylim(-0.5, a.shape[1] - 0.5)
        ax.set_title(f"{name}: {len(t)} spikes" + (" (graded: size = value)" if np.abs(a).max(initial=0) > 1 else ""),
                     fontsize=8, loc="left")
    axes[-1, 0].set_xlabel("time step")
    axes[-1, 0].set_xlim(-0.5, tr.outputs[layers[-1]].shape[1] - 0.5)
    fig.suptitle(f"{p['name']} ({p['neuron_type']}): spikes per layer, test sample 0 (label {p['y'][0]}), "
                 "8-bit fpga graph", fontsize=9)
    return _save(plt, fig, folder, "spike_raster.png")


def _plot_membrane(plt, folder: str, p: dict, per_layer: int = 3) -> list[str]:
    low, tr, ft, graph = p["lowered"], p["int_trace"], p["float_trace"], p["graph"]
    keys = [f"{n}.v" for n in _neuron_layers(low)
            if f"{n}.v" in tr.states and f"{n}.v" in ft.states and "scale" in low.nodes[n].metadata]
    if not keys:
        return []
    fig, axes = plt.subplots(len(keys), 1, figsize=(8, 0.8 + 2.6 * len(keys)), squeeze=False, sharex=True)
    for ax, key in zip(axes[:, 0], keys):
        node = key.rsplit(".", 1)[0]
        shape = tr.states[key].shape[2:]
        scale = np.broadcast_to(np.asarray(low.nodes[node].metadata["scale"], np.float64), shape).reshape(-1)
        fv = ft.states[key][0].reshape(ft.states[key].shape[1], -1)
        iv = tr.states[key][0].reshape(tr.states[key].shape[1], -1) / scale
        spikes = np.abs(ft.outputs[node][0].reshape(fv.shape[0], -1)).sum(axis=0)
        some = (spikes > 0) & (spikes < 0.8 * fv.shape[0])        # neurons that spike, but not at every step
        picks = np.lexsort((-fv.std(axis=0), ~some))[:per_layer]
        thr = getattr(graph.nodes.get(node), "v_threshold", None)
        for j in picks:
            line, = ax.plot(fv[:, j], lw=2.5, alpha=0.45, label=f"neuron {j} float ({spikes[j]:g} spikes)")
            ax.plot(iv[:, j], "x", ms=5, color=line.get_color(), label=f"neuron {j} fixed point v_int / S")
            if thr is not None:
                t = np.broadcast_to(np.asarray(thr, np.float64), shape).reshape(-1)[j]
                ax.axhline(t, color=line.get_color(), lw=0.6, ls=":")
        ax.set_ylabel(f"{key} (model units)")
        ax.legend(fontsize=6, ncol=2)
    axes[-1, 0].set_xlabel("time step")
    fig.suptitle(f"{p['name']} ({p['neuron_type']}): membrane potential, float vs 8-bit fixed point "
                 "(test sample 0; dotted: threshold; resets after spikes)", fontsize=9)
    return _save(plt, fig, folder, "membrane_float_vs_fixed.png")


def _plot_bits(plt, folder: str, results: list[ModelResult]) -> list[str]:
    swept = [r for r in results if r.accuracy_vs_bits]
    if not swept:
        return []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in swept:
        bits = sorted(r.accuracy_vs_bits)
        line, = ax.plot(bits, [100 * r.accuracy_vs_bits[b] for b in bits], "o-", label=f"{r.name} ({r.neuron_type})")
        ax.axhline(100 * r.float_accuracy, color=line.get_color(), lw=0.8, ls="--")
    from matplotlib.ticker import ScalarFormatter

    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({b for r in swept for b in r.accuracy_vs_bits}))
    ax.get_xaxis().set_major_formatter(ScalarFormatter())
    ax.set_xlabel("weight bits (fpga target, per-output-channel scales)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"digits test split ({swept[0].samples} samples): accuracy vs weight bits (dashed: float)", fontsize=9)
    ax.legend(fontsize=7)
    return _save(plt, fig, folder, "accuracy_vs_bits.png")


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
             bits_sweep: bool = True, echo=print, console=None) -> tuple[list[ModelResult], dict]:
    """Run the demo and write OUTDIR atomically; returns (results, summary dict). The CLI exits 1
    unless every result is bit-exact."""
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
        lava_skip = lava_unavailable()
        if lava_skip:
            echo(f"lava: not available ({lava_skip}); the Lava column says so")
    t_start = time.perf_counter()
    results, plot_data = [], {}
    if console is None:
        console = Console()
        console = Console(width=max(console.width, 200))
    with Progress(TextColumn("{task.description:<52}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("", total=len(_STEPS) * len(paths))
        for i, path in enumerate(paths):
            tick = _Ticker(progress, task, i * len(_STEPS), os.path.basename(path))
            r, p = run_model(path, samples=samples, lava_samples=lava_samples, lava_skip=lava_skip,
                             bits_sweep=bits_sweep, tick=tick)
            progress.update(task, completed=(i + 1) * len(_STEPS), description="")
            results.append(r)
            plot_data[r.name] = p
    elapsed = time.perf_counter() - t_start
    n_lava = 0 if lava_skip or not results else min(lava_samples, results[0].samples)
    notes = [f"Digits test split ({results[0].samples if results else 0} samples per model) on the integer simulator "
             f"and the generated C; Lava on the first {n_lava}. bit-exact = every output and state of every node equal "
             f"at every step (values compared, samples). Loihi 2 cores use ASSUMED per-core limits ({NEURONS_PER_CORE} "
             f"neurons, {SYNAPSES_PER_CORE:,} synapses; see snnc/runtime/demo.py). Total {elapsed:.0f} s on "
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
            f.write(markdown(results, notes))
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
