"""Accuracy of a digits model in Loihi 2's chip-native mode (``loihi2: {neurons: chip}``,
passes/chip_native.py) next to its float and exact-8-bit loihi2 accuracy, on the digits test
split in the integer simulator (latency-aligned readout, :func:`snnc.runtime.digits.lowered_accuracy`).
Used by ``snnc demo`` and ``bench/chip_native_accuracy.py``."""

from __future__ import annotations

import os

import snnc
from snnc.ir.errors import SnncError
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.digits import accuracy_from_outputs, encoded_test_split, lowered_accuracy
from snnc.runtime.run import run_graph

#: the configuration of the chip-native mode
CHIP = {"loihi2": {"neurons": "chip"}}


def chip_native_accuracy(path: str, samples: int | None = None) -> dict:
    """Accuracies (fractions) of one digits model on the first ``samples`` test digits (all when
    None): ``float`` (float simulator), ``exact`` (loihi2, today's path; NaN if refused, reason in
    ``exact_error``), ``chip`` (loihi2 with ``neurons: chip``; NaN if refused, ``chip_error``),
    ``recorded_float`` (the model's ``float_test_accuracy`` metadata), ``mappings`` (what the chip
    mode changed, per node) and ``samples``."""
    g = snnc.load(path)
    x, y, steps = encoded_test_split(g, samples)
    out = g.output_names()[0]
    row = {"model": os.path.basename(path)[:-len(".nir")], "neuron_type": g.metadata.get("neuron_type"),
           "samples": int(len(y)), "T": steps, "recorded_float": g.metadata.get("float_test_accuracy"),
           "float": accuracy_from_outputs(run_graph(g, x).outputs[out], y), "mappings": {}}
    for key, overrides in (("exact", None), ("chip", CHIP)):
        try:
            low, _ = compile_graph(g, make_config("loihi2", overrides))
        except SnncError as exc:
            row[key], row[f"{key}_error"] = float("nan"), str(exc)
            continue
        row[key] = lowered_accuracy(low, x, y)
        if key == "chip":
            row["mappings"] = dict(low.metadata.get("chip_native", {}))
    return row


def chip_mode_accuracy(graph, x, y) -> tuple[float, str | None]:
    """(accuracy of ``graph`` compiled for loihi2 in the chip-native mode on inputs ``x`` and labels
    ``y``, None) or (NaN, the refusal) when the mode cannot map it."""
    try:
        low, _ = compile_graph(graph, make_config("loihi2", CHIP))
    except SnncError as exc:
        return float("nan"), str(exc)
    return lowered_accuracy(low, x, y), None
