"""Accuracy cost of Loihi 2's chip-native approximation mode on the digits example models.

For every ``examples/models/digits_<type>.nir`` (and, when present, its fine-tuned
``digits_<type>_chip.nir``, written by examples/finetune_chip.py): the float accuracy (snnc's
float simulator), the exact 8-bit ``loihi2`` path (today's lowering, custom Lava processes where
the neuron needs them) and the chip-native mode (``loihi2: {neurons: chip}``,
passes/chip_native.py: every neuron a plain Lava LIF), each on the digits test split in the
integer simulator. The loihi2 graphs carry one step of latency per synapse, so they run
T + latency steps (inputs zero-padded) and the output is read at steps latency .. latency + T - 1.

    .venv/bin/python bench/chip_native_accuracy.py [--models examples/models] [--samples N]
"""

from __future__ import annotations

import argparse
import glob
import os
import time

import snnc
from snnc.ir.errors import SnncError
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.digits import accuracy_from_outputs, encoded_test_split, lowered_accuracy
from snnc.runtime.run import run_graph

CHIP = {"loihi2": {"neurons": "chip"}}
MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "models")


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


def _pct(v) -> str:
    return "n/a" if v is None or v != v else f"{100 * v:.1f} %"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=MODELS, help="folder with digits_*.nir (default examples/models)")
    ap.add_argument("--samples", type=int, default=None, help="first N test digits only (default: all 450)")
    ap.add_argument("--mappings", action="store_true", help="also print what the chip mode changed per node")
    args = ap.parse_args()
    paths = sorted(p for p in glob.glob(os.path.join(args.models, "digits_*.nir")) if not p.endswith("_chip.nir"))
    if not paths:
        raise SystemExit(f"no digits_*.nir models in {args.models} (run examples/train_digits.py)")
    t0 = time.perf_counter()
    print("| model | float | exact 8-bit loihi2 | chip-native | chip-native, fine-tuned (float / loihi2 chip) |")
    print("| --- | --- | --- | --- | --- |")
    notes = []
    for p in paths:
        r = chip_native_accuracy(p, args.samples)
        tuned = p[:-len(".nir")] + "_chip.nir"
        cell = "-"
        if os.path.exists(tuned):
            t = chip_native_accuracy(tuned, args.samples)
            cell = f"{_pct(t['float'])} / {_pct(t['chip'])}"
        print(f"| {r['model'].replace('digits_', '')} | {_pct(r['float'])} | {_pct(r['exact'])} | {_pct(r['chip'])} "
              f"| {cell} |")
        for key in ("exact_error", "chip_error"):
            if key in r:
                notes.append(f"{r['model']} {key[:-6]}: {r[key]}")
        if args.mappings:
            notes += [f"{r['model']} {node}: {m['from']} -> {m['to']}; dropped: {'; '.join(m['dropped'])}"
                      for node, m in r["mappings"].items()]
    n = r["samples"]
    print(f"\n({time.perf_counter() - t0:.0f} s; {n} test digits; integer simulator, loihi2 target, latency-aligned)")
    for line in notes:
        print("- " + line)


if __name__ == "__main__":
    main()
