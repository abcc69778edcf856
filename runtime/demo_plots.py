"""The demo's plots (PNG, matplotlib; skipped when matplotlib is missing).

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

import os

import numpy as np

from snnc.ir.graph import Graph

#: the model whose spikes and membranes are plotted
SHOWCASE = "digits_lif"


# ----------------------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------------------


def _neuron_layers(low: Graph) -> list[str]:
    return [n for n in low.evaluation_order() if getattr(low.nodes[n], "is_neuron", False)]


def write_plots(folder: str, results: list, plots: dict) -> list[str]:
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


def _plot_bits(plt, folder: str, results: list) -> list[str]:
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


