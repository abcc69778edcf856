"""Float vs quantized test accuracy of the digits example models (issue 4: measured quality).

For every ``examples/models/digits_*.nir`` (metadata ``digits_steps`` = T and
``digits_encoding`` = 'rate' | 'current', ``digits_test_seed``, written by examples/train_digits.py;
models with direct encoding mark their Input analog, so it is quantized to 8 bits), compile for the
``fpga`` target at 8, 6 and 4 weight bits (per-channel scales, 24-bit state), run the digits
test split through the float simulator and the integer simulator, and print a markdown table.

    .venv/bin/python bench/quantization_accuracy.py [--models examples/models] [--limit N]
"""

from __future__ import annotations

import argparse
import glob
import os
import time

import numpy as np

import snnc
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.digits import accuracy_from_outputs, encoded_test_split
from snnc.runtime.run import run_graph

BITS = (8, 6, 4)


def evaluate(path: str, limit: int | None) -> dict:
    g = snnc.load(path)
    x, y_test, steps = encoded_test_split(g, limit)
    mode = str(g.metadata.get("digits_encoding", "rate"))
    out = g.output_names()[0]
    row = {"model": os.path.basename(path), "T": steps, "encoding": mode,
           "float": accuracy_from_outputs(run_graph(g, x).outputs[out], y_test)}
    for bits in BITS:
        low, _ = compile_graph(g, make_config("fpga", {"weights": {"bits": bits}}))
        scale = np.asarray(low.nodes[out].metadata.get("scale", 1.0), np.float64)   # dequantize readouts
        row[f"int{bits}"] = accuracy_from_outputs(run_graph(low, x).outputs[out] / scale, y_test)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=os.path.join(os.path.dirname(__file__), "..", "examples", "models"))
    ap.add_argument("--limit", type=int, default=None, help="use only the first N test samples")
    args = ap.parse_args()
    paths = sorted(p for p in glob.glob(os.path.join(args.models, "digits_*.nir")) if not p.endswith("_chip.nir"))
    if not paths:
        raise SystemExit(f"no digits_*.nir models in {args.models} (run examples/train_digits.py)")
    print("| model | T | encoding | float | 8-bit | 6-bit | 4-bit | loss at 8 bits (points) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    t0 = time.perf_counter()
    for p in paths:
        r = evaluate(p, args.limit)
        print(f"| {r['model']} | {r['T']} | {r['encoding']} | {100 * r['float']:.1f} % | {100 * r['int8']:.1f} % | "
              f"{100 * r['int6']:.1f} % | {100 * r['int4']:.1f} % | {100 * (r['float'] - r['int8']):+.1f} |")
    print(f"\n({time.perf_counter() - t0:.0f} s; digits test split of scikit-learn's 8x8 digits, fpga target, "
          "per-channel weight scales, 24-bit state)")


if __name__ == "__main__":
    main()
