"""A compiled graph's outputs in the model's time and units, and how far they are from the float
model's.

* **Latency**: a streaming target adds steps (Lava: one per connection process;
  ``passes.lower_integer.insert_latency`` stores each node's added shift in ``hw['latency']``).
  Node n's output at step ``t + l_n`` is the model's output at step t, so a run of T model steps
  takes T + L steps (L = the largest latency of an Output node; inputs zero-padded) and
  :func:`align` reads steps ``l_n .. l_n + T - 1`` of each node (its states too).
* **Dequantization**: an Output node's ``metadata['scale']`` S (scalar or per neuron) is the
  factor of the integer lowering, value_int = round(value * S); :func:`dequantize` divides by it
  (spike outputs have S = 1).
* **Float vs fixed** (:func:`float_vs_fixed`): the float graph and the lowered graph on the same
  inputs (the integer inputs / the Input node's scale for the float model), the fixed outputs
  aligned and dequantized. Spike outputs: the per-neuron spike-count difference; readouts (any
  output that is not 0/1 spikes): the absolute error, also relative to the float readout's
  largest magnitude; both: how often the class (argmax of the output summed over time) agrees.
"""

from __future__ import annotations

import numpy as np

from snnc.ir.graph import Graph
from snnc.ir.trace import Trace


def node_latency(graph: Graph, name: str) -> int:
    """Steps node ``name`` of a lowered graph lags the model (``hw['latency']``, 0 if absent)."""
    return int(graph.nodes[name].hw.get("latency", 0))


def output_latency(graph: Graph) -> int:
    """L: the largest latency of an Output node (0 for float graphs and non-streaming targets)."""
    return max((node_latency(graph, n) for n in graph.output_names()), default=0)


def latency_note(graph: Graph) -> str | None:
    """One line for the CLI, or None when the graph has no latency."""
    lat = output_latency(graph)
    if not lat:
        return None
    return (f"target latency: {lat} step{'s' if lat != 1 else ''} (the output of model step t appears at step "
            f"t + {lat}; --align shifts it back)")


def pad_inputs(graph: Graph, inputs: dict[str, np.ndarray], steps: int | None = None) -> tuple[dict, int]:
    """(inputs with L zero steps appended after the first ``steps`` (default: all) steps, T)."""
    lat = output_latency(graph)
    T = int(steps if steps is not None else next(iter(inputs.values())).shape[1])
    out = {}
    for name, a in inputs.items():
        a = np.asarray(a)[:, :T]
        if a.shape[1] < T:
            a = np.concatenate([a, np.zeros((a.shape[0], T - a.shape[1], *a.shape[2:]), a.dtype)], axis=1)
        out[name] = np.concatenate([a, np.zeros((a.shape[0], lat, *a.shape[2:]), a.dtype)], axis=1)
    return out, T


def align(graph: Graph, trace: Trace, steps: int) -> Trace:
    """``trace`` (B, T + L, ...) of a run on :func:`pad_inputs` inputs -> (B, T, ...) in the model's
    time: node n's arrays (outputs, and states '<n>.<state>') from step ``l_n`` on."""

    def cut(name: str, a: np.ndarray) -> np.ndarray:
        lat = node_latency(graph, name) if name in graph.nodes else 0
        return a[:, lat:lat + steps]

    return Trace(outputs={k: cut(k, v) for k, v in trace.outputs.items()},
                 states={k: cut(k.rsplit(".", 1)[0], v) for k, v in trace.states.items()})


def output_scale(graph: Graph, name: str) -> np.ndarray:
    """The Output node's scale S (float64, broadcastable to its shape; 1 if absent)."""
    return np.asarray(graph.nodes[name].metadata.get("scale", 1.0), np.float64)


def dequantize(graph: Graph, trace: Trace) -> Trace:
    """Output nodes' arrays / their scale (float64); other arrays unchanged."""
    outs = {k: (v / output_scale(graph, k) if k in graph.output_names() else v) for k, v in trace.outputs.items()}
    return Trace(outputs=outs, states=dict(trace.states))


def float_inputs(lowered: Graph, inputs_int: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The float model's view of integer inputs: x_int / the Input node's ``metadata['scale']``."""
    return {k: np.asarray(v, np.float64) / float(lowered.nodes[k].metadata.get("scale", 1.0))
            for k, v in inputs_int.items()}


def _is_spikes(a: np.ndarray) -> bool:
    return bool(np.isin(a, (0.0, 1.0)).all())


def compare_float_fixed(float_out: dict[str, np.ndarray], fixed_out: dict[str, np.ndarray]) -> dict:
    """Per Output node: ``kind`` ('spikes' | 'readout') and the agreement numbers (module docstring).
    Arrays (B, T, ...) in model time and units."""
    res = {}
    for name, f in float_out.items():
        q = np.asarray(fixed_out[name], np.float64)
        f = np.asarray(f, np.float64)
        B = f.shape[0]
        same_class = (f.reshape(B, f.shape[1], -1).sum(1).argmax(-1) == q.reshape(B, q.shape[1], -1).sum(1).argmax(-1))
        row = {"class_agreement": float(same_class.mean()), "samples": int(B)}
        if _is_spikes(f):
            cf, cq = f.sum(axis=1), q.sum(axis=1)           # spike counts per sample and neuron
            d = np.abs(cq - cf)
            row.update(kind="spikes", spikes_float=int(cf.sum()), spikes_fixed=int(round(cq.sum())),
                       spike_count_diff_mean=float(d.mean()), spike_count_diff_max=float(d.max(initial=0)),
                       equal_counts=float((d == 0).mean()))
        else:
            err = np.abs(q - f)
            span = float(np.abs(f).max(initial=0)) or 1.0
            row.update(kind="readout", max_abs_error=float(err.max(initial=0)),
                       rms_error=float(np.sqrt((err ** 2).mean())) if err.size else 0.0,
                       relative_max_error=float(err.max(initial=0)) / span, float_max_abs=span)
        res[name] = row
    return res


def float_vs_fixed(float_graph: Graph, lowered: Graph, inputs_int: dict[str, np.ndarray],
                   steps: int | None = None) -> dict:
    """Run the float model and the lowered graph (integer simulator, inputs padded by the target
    latency, outputs aligned and dequantized) on the same inputs; :func:`compare_float_fixed`."""
    from snnc.runtime.run import run_graph
    from snnc.runtime.verify import run_backend

    padded, T = pad_inputs(lowered, inputs_int, steps)
    fixed = dequantize(lowered, align(lowered, run_backend("sim", lowered, padded, record="outputs",
                                                           record_states=False), T))
    x_float = float_inputs(lowered, {k: v[:, :T] for k, v in padded.items()})
    flt = run_graph(float_graph, x_float, steps=T)
    outs = [n for n in lowered.output_names() if n in flt.outputs]
    return compare_float_fixed({n: flt.outputs[n] for n in outs}, {n: fixed.outputs[n] for n in outs})


def format_float_vs_fixed(result: dict) -> list[str]:
    """One line per Output node."""
    lines = []
    for name, r in result.items():
        if r["kind"] == "spikes":
            lines.append(f"float vs fixed, output '{name}' (spikes): {r['spikes_float']} vs {r['spikes_fixed']} "
                         f"spikes; spike-count difference per neuron mean {r['spike_count_diff_mean']:.3g}, max "
                         f"{r['spike_count_diff_max']:g}; equal counts {100 * r['equal_counts']:.1f} %; same class "
                         f"{100 * r['class_agreement']:.1f} % of {r['samples']} samples")
        else:
            lines.append(f"float vs fixed, output '{name}' (readout, dequantized): max abs error "
                         f"{r['max_abs_error']:.3g} ({100 * r['relative_max_error']:.2f} % of the float range "
                         f"{r['float_max_abs']:.3g}), RMS {r['rms_error']:.3g}; same class "
                         f"{100 * r['class_agreement']:.1f} % of {r['samples']} samples")
    return lines
