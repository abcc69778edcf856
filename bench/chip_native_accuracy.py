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

from snnc.runtime.chip_accuracy import chip_native_accuracy

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "models")


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
