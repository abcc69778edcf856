"""The demo's plots (PNG, matplotlib; skipped when matplotlib is missing).

Plots (one showcase model, :data:`SHOWCASE` if present, test sample 0, ``fpga`` graph, which has
no inserted latency so its steps align with the float model's):

* ``spike_raster.png``: spikes per layer (input if it is spikes, then every neuron population),
  the predicted class (argmax of the output summed over time) marked in the output layer and
  named in the title with the label;
* ``membrane_float_vs_fixed.png``: per layer, the membrane potential ``v`` of two neurons, float
  (line) and fixed point (dots), with the threshold as a labelled line; below it the error panel,
  fixed minus float. Conversion: the lowered neuron's ``metadata['scale']`` is its state scale S
  (per neuron or per layer, chosen by ``passes/lower_integer.py``; it already includes the
  fractional state bits), the integer state is ``round(v * S)``, so the plot shows ``v_int / S``
  in the model's units next to the float ``v``;
* ``accuracy_vs_bits.png``: test accuracy vs weight bits per model, the y axis zoomed to the band
  of interest (from a little below the lowest accuracy at >= 4 bits to 100 %); points below the
  band are drawn on its lower edge with their value; each model's float accuracy is a dashed,
  labelled line.
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


def _predicted(p: dict) -> int:
    """The class of test sample 0 on the fpga graph: argmax of the Output node summed over time."""
    out = p["lowered"].output_names()[0]
    return int(np.argmax(p["int_trace"].outputs[out][0].reshape(p["int_trace"].outputs[out].shape[1], -1).sum(0)))


def _plot_raster(plt, folder: str, p: dict) -> list[str]:
    low, tr = p["lowered"], p["int_trace"]
    layers = [n for n in low.input_names() if not low.nodes[n].metadata.get("analog")] + _neuron_layers(low)
    pred, label = _predicted(p), int(p["y"][0])
    out_src = {e.src for e in low.in_edges(low.output_names()[0])}
    fig, axes = plt.subplots(len(layers), 1, figsize=(9, 1.4 + 1.9 * len(layers)), squeeze=False, sharex=True)
    T = tr.outputs[layers[-1]].shape[1]
    for ax, name in zip(axes[:, 0], layers):
        a = tr.outputs[name][0].reshape(tr.outputs[name].shape[1], -1)
        t, i = np.nonzero(a)
        spiking = np.isin(a, (0, 1)).all() or np.abs(a).max(initial=0) <= 8
        if spiking:
            ax.scatter(t, i, s=8 + 8 * np.minimum(np.abs(a[t, i]) - 1, 3), c="k", marker="|")
            what = f"{len(t)} spikes" + (" (graded: size = value)" if np.abs(a).max(initial=0) > 1 else "")
        else:                                           # a readout: values, not spikes
            ax.imshow(a.T, aspect="auto", origin="lower", cmap="coolwarm", interpolation="nearest")
            what = "readout values (colour)"
        if name in out_src:
            ax.axhspan(pred - 0.5, pred + 0.5, color="tab:green" if pred == label else "tab:red", alpha=0.25, lw=0)
            ax.text(T - 0.5, pred, f" predicted {pred}", va="center", ha="left", fontsize=9,
                    color="tab:green" if pred == label else "tab:red", clip_on=False)
            ax.set_yticks(range(a.shape[1]))
        ax.set_ylabel(f"{name}\nneuron", fontsize=9)
        ax.set_ylim(-0.5, a.shape[1] - 0.5)
        ax.set_title(f"{name}: {what}", fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("time step")
    axes[-1, 0].set_xlim(-0.5, T - 0.5)
    verdict = "correct" if pred == label else "wrong"
    fig.suptitle(f"{p['name']} ({p['neuron_type']}), 8-bit fpga graph, test sample 0: label {label}, "
                 f"predicted {pred} ({verdict})", fontsize=10)
    return _save(plt, fig, folder, "spike_raster.png")


def _plot_membrane(plt, folder: str, p: dict, per_layer: int = 2) -> list[str]:
    low, tr, ft, graph = p["lowered"], p["int_trace"], p["float_trace"], p["graph"]
    keys = [f"{n}.v" for n in _neuron_layers(low)
            if f"{n}.v" in tr.states and f"{n}.v" in ft.states and "scale" in low.nodes[n].metadata]
    if not keys:
        return []
    fig, axes = plt.subplots(2 * len(keys), 1, figsize=(10, 0.8 + 4.2 * len(keys)), squeeze=False, sharex=True,
                             gridspec_kw={"height_ratios": [3, 1.3] * len(keys)})
    for k, key in enumerate(keys):
        ax, err_ax = axes[2 * k, 0], axes[2 * k + 1, 0]
        node = key.rsplit(".", 1)[0]
        shape = tr.states[key].shape[2:]
        scale = np.broadcast_to(np.asarray(low.nodes[node].metadata["scale"], np.float64), shape).reshape(-1)
        fv = ft.states[key][0].reshape(ft.states[key].shape[1], -1)
        iv = tr.states[key][0].reshape(tr.states[key].shape[1], -1) / scale
        spikes = np.abs(ft.outputs[node][0].reshape(fv.shape[0], -1)).sum(axis=0)
        some = (spikes > 0) & (spikes < 0.8 * fv.shape[0])        # neurons that spike, but not at every step
        picks = np.lexsort((-fv.std(axis=0), ~some))[:per_layer]
        thr = getattr(graph.nodes.get(node), "v_threshold", None)
        steps = np.arange(fv.shape[0])
        colors = ("tab:blue", "tab:orange", "tab:purple")
        for c, j in zip(colors, picks):
            ax.plot(steps, fv[:, j], "-", color=c, lw=2, label=f"neuron {j}, float ({spikes[j]:g} spikes)")
            ax.plot(steps, iv[:, j], "o", color=c, ms=4, mfc="white", label=f"neuron {j}, 8-bit fixed point")
            err_ax.plot(steps, iv[:, j] - fv[:, j], "o-", color=c, ms=3, lw=1, label=f"neuron {j}")
        if thr is not None:
            t = np.broadcast_to(np.asarray(thr, np.float64), shape).reshape(-1)[picks]
            for value in np.unique(t):
                ax.axhline(value, color="crimson", lw=1.6, ls="--")
                ax.text(0, value, f"threshold {value:g}", color="crimson", fontsize=8, va="bottom", ha="left")
        ax.set_ylabel(f"{key}\n(model units)", fontsize=9)
        ax.set_title(f"{node}: membrane potential", fontsize=9, loc="left")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        err_ax.axhline(0, color="0.4", lw=0.8)
        err_ax.set_ylabel("fixed - float", fontsize=9)
        err = np.abs(iv[:, picks] - fv[:, picks]).max(initial=0)
        err_ax.set_title(f"{node}: error, fixed minus float (largest {err:.3g})", fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("time step")
    fig.suptitle(f"{p['name']} ({p['neuron_type']}): membrane potential, float vs 8-bit fixed point, test sample 0 "
                 "(resets after spikes)", fontsize=10)
    return _save(plt, fig, folder, "membrane_float_vs_fixed.png")


def _band(swept: list) -> tuple[float, float]:
    """(low, high) of the accuracy axis in %: a little below the lowest accuracy at >= 4 bits or
    float, to 100 %."""
    values = [100 * r.float_accuracy for r in swept]
    values += [100 * a for r in swept for b, a in r.accuracy_vs_bits.items() if int(b) >= 4]
    lo = min(values)
    return max(0.0, np.floor(lo - max(1.0, 0.25 * (100 - lo)))), 100.0


def _plot_bits(plt, folder: str, results: list) -> list[str]:
    swept = [r for r in results if r.accuracy_vs_bits]
    if not swept:
        return []
    from matplotlib.ticker import ScalarFormatter

    lo, hi = _band(swept)
    fig, ax = plt.subplots(figsize=(9, 5.2))
    all_bits = sorted({int(b) for r in swept for b in r.accuracy_vs_bits})
    floats: dict[float, list] = {}
    below: dict[int, list] = {}
    for r in swept:
        bits = sorted(int(b) for b in r.accuracy_vs_bits)
        acc = np.array([100 * r.accuracy_vs_bits[b] for b in bits])
        short = r.name.replace("digits_", "")
        line, = ax.plot(bits, np.maximum(acc, lo), "o-", label=f"{short} ({r.neuron_type})")
        for b, a in zip(bits, acc):
            if a < lo:                                 # below the band: a triangle on the edge, value in the box
                ax.plot([b], [lo], "v", color=line.get_color(), ms=9, clip_on=False)
                below.setdefault(b, []).append(f"{short} {a:.0f} %")
        f = round(100 * r.float_accuracy, 1)
        ax.axhline(f, color=line.get_color(), lw=1, ls="--")
        floats.setdefault(f, []).append((short, line.get_color()))
    for f, models in floats.items():                   # one label per float accuracy (models may share one)
        ax.annotate(f"float {f:.1f} %: " + ", ".join(m for m, _ in models), (1.0, f),
                    xycoords=("axes fraction", "data"), textcoords="offset points", xytext=(6, 0), va="center",
                    fontsize=8, color=models[0][1], annotation_clip=False)
    if below:
        text = "below the axis:\n" + "\n".join(f"{b} bits: " + ", ".join(v) for b, v in sorted(below.items()))
        ax.text(0.98, 0.03, text, transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.6"})
    ax.set_xscale("log", base=2)
    ax.set_xticks(all_bits)
    ax.get_xaxis().set_major_formatter(ScalarFormatter())
    ax.set_ylim(lo, hi)
    ax.grid(True, alpha=0.3)
    ax.set_xlabel("weight bits (fpga target, per-output-channel scales)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"digits test split ({swept[0].samples} samples): accuracy vs weight bits\n"
                 f"dashed: float model; axis from {lo:.0f} % (triangles on the lower edge: below the axis, "
                 "values in the box)",
                 fontsize=9)
    ax.legend(fontsize=8, loc="upper right", ncol=2)
    return _save(plt, fig, folder, "accuracy_vs_bits.png")
