"""Fine-tune the chip-native form of every digits example for Loihi 2 and export it.

For each ``examples/models/digits_<type>.nir``: map it to Loihi 2's chip-native neurons
(passes/chip_native.py: hard-reset Lava LIF everywhere), build the torch equivalent with Lava's
quantization and timing in the loop (snnc.frontend.torch.finetune), train a few epochs on the
digits training split, export it and write ``digits_<type>_chip.nir``. The script measures on
the whole test split: the source model's float accuracy, the chip-native mode before fine-tuning
(``loihi2: {neurons: chip}`` on the source model), and after (the exported model's float
accuracy and its loihi2 chip-native compile in the integer simulator), and prints the table.

    .venv/bin/python examples/finetune_chip.py --force            # all seven, ~2 min on one CPU thread
    .venv/bin/python examples/finetune_chip.py --only rf --epochs 1 --out /tmp/m --force

Metadata of the written model: the source's ``digits_*`` keys, ``neuron_type`` ("LIF (chip-native
<source type>)"), ``source_model``, ``source_float_test_accuracy``, ``float_test_accuracy`` (snnc
float simulator), ``chip_test_accuracy_before`` / ``chip_test_accuracy`` (loihi2 chip mode,
integer simulator, before / after fine-tuning), ``finetune_epochs``, ``finetune_lr``,
``finetune_seconds``, ``chip_native_source`` (what the mapping changed per node).

Runs are deterministic for a given torch build (seeded, ``torch.use_deterministic_algorithms``,
one intra-op thread).
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

import snnc
from snnc.frontend.torch.finetune import chip_model_from_graph, export_chip, finetune
from snnc.ir.errors import SnncError
from snnc.ir.files import check_writable_target
from snnc.passes.targets import make_config
from snnc.runtime import digits as D
from snnc.runtime.compile import compile_graph
from snnc.runtime.run import run_graph

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = ("lif", "cubalif", "lifb", "clif", "rf", "lmht", "lnm")
CHIP = {"loihi2": {"neurons": "chip"}}
#: one recipe for every model (chosen among 10 ep / 1e-3, 20 ep / 1e-3, 15 ep / 3e-3)
EPOCHS, LR = 15, 3e-3


def chip_accuracy(graph: snnc.Graph, x, y) -> float:
    """Test accuracy of ``graph`` compiled for loihi2 in the chip-native mode (integer simulator)."""
    low, _ = compile_graph(graph, make_config("loihi2", CHIP))
    return D.lowered_accuracy(low, x, y)


def run(kind: str, models: str, epochs: int, lr: float, samples: int | None, log=print) -> tuple[snnc.Graph, dict]:
    """Fine-tune one model; returns (exported graph, table row)."""
    src = snnc.load(os.path.join(models, f"digits_{kind}.nir"))
    meta = src.metadata
    steps, mode = int(meta["digits_steps"]), str(meta["digits_encoding"])
    x, y, _ = D.encoded_test_split(src, samples)
    x_train, y_train, _, _ = D.load_digits_split()
    if samples:
        x_train, y_train = x_train[:samples], y_train[:samples]
    row = {"type": meta.get("neuron_type", kind), "before": chip_accuracy(src, x, y),
           "float": D.accuracy_from_outputs(run_graph(src, x).outputs["output"], y)}
    net = chip_model_from_graph(src)
    row["seconds"] = finetune(net, lambda e: D.encode(x_train, steps, mode, seed=100 + e), y_train, epochs=epochs,
                              lr=lr, log=log)
    g = export_chip(net, steps)
    row["tuned_float"] = D.accuracy_from_outputs(run_graph(g, x).outputs["output"], y)
    row["after"] = chip_accuracy(g, x, y)
    g.metadata.update({k: v for k, v in meta.items() if k.startswith("digits_")})
    g.metadata.update(neuron_type=f"LIF (chip-native {row['type']})", source_model=f"digits_{kind}.nir",
                      source_float_test_accuracy=row["float"], float_test_accuracy=row["tuned_float"],
                      chip_test_accuracy_before=row["before"], chip_test_accuracy=row["after"],
                      finetune_epochs=epochs, finetune_lr=lr, finetune_seconds=round(row["seconds"], 1),
                      producer="snnc examples/finetune_chip.py")
    return g, row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=TYPES, metavar="TYPE", help=f"one of {', '.join(TYPES)}")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--lr", type=float, default=LR)
    ap.add_argument("--samples", type=int, default=None, help="first N train and test digits only (smoke runs)")
    ap.add_argument("--models", default=os.path.join(HERE, "models"), help="folder of the source models")
    ap.add_argument("--out", default=os.path.join(HERE, "models"), help="output folder (default examples/models)")
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    ap.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    args = ap.parse_args(argv)
    if args.epochs < 1:
        ap.error("--epochs must be >= 1")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    kinds = args.only or list(TYPES)
    paths = {k: os.path.join(args.out, f"digits_{k}_chip.nir") for k in kinds}
    try:
        for p in paths.values():
            check_writable_target(p, args.force)
    except SnncError as exc:
        print(f"finetune_chip: error: {exc}", file=sys.stderr)
        return 1
    rows = []
    for kind in kinds:
        print(f"== {kind}: {args.epochs} epochs, lr {args.lr:g}")
        log = (lambda s: None) if args.quiet else print
        g, row = run(kind, args.models, args.epochs, args.lr, args.samples, log=log)
        snnc.save(g, paths[kind], overwrite=args.force)
        print(f"  wrote {paths[kind]}: chip-native {100 * row['before']:.1f} % -> {100 * row['after']:.1f} % "
              f"(float {100 * row['float']:.1f} %), {row['seconds']:.1f} s")
        rows.append((kind, row))
    print("\n| model | float | chip-native before fine-tuning | after: float | after: loihi2 chip-native | "
          "vs float (points) | training time |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind, r in rows:
        print(f"| {kind} | {100 * r['float']:.1f} % | {100 * r['before']:.1f} % | {100 * r['tuned_float']:.1f} % | "
              f"{100 * r['after']:.1f} % | {100 * (r['after'] - r['float']):+.1f} | {r['seconds']:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
