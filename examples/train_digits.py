"""Train one small SNN per neuron type on scikit-learn's 8x8 digits and export it to snnc.

Models (``examples/models/digits_<type>.nir``; the architecture of each is in :data:`SPECS`):

    input (T, 64) -> Linear(64, H) -> <neuron type> (H) -> Linear(H, 10) -> <readout> (10) -> output

The class is the argmax over classes of the output summed over the T steps
(:func:`snnc.runtime.digits.accuracy_from_outputs`). After training, every model is exported
with :func:`snnc.frontend.torch.export` and simulated by snnc's float simulator on the whole
test split; the script prints the torch accuracy (float32 and float64) and the simulator's,
and refuses to save a model whose simulator accuracy differs from torch's (float64).

Graph metadata written: ``neuron_type``, ``digits_steps`` (T), ``digits_encoding`` ('rate' |
'current'), ``digits_test_seed`` (seed of the test split's encoding, 1), ``digits_hidden`` (H),
``float_test_accuracy`` (snnc float simulator, whole test split), ``torch_test_accuracy``,
``train_epochs``, ``train_seconds``.

    .venv/bin/python examples/train_digits.py                      # all seven, a few minutes on CPU
    .venv/bin/python examples/train_digits.py --only lmht --epochs 2 --out /tmp/m --force

Runs are deterministic for a given torch build and thread count (seeded per model,
``torch.use_deterministic_algorithms``, one intra-op thread).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

import snnc
from snnc.frontend.torch import CLIF, LI, LIF, LIFB, LMHT, LNM, RF, CubaLIF, RFDense, export
from snnc.ir.errors import SnncError
from snnc.ir.files import check_writable_target
from snnc.runtime.digits import N_CLASSES, N_FEATURES, accuracy_from_outputs, encode, load_digits_split
from snnc.runtime.run import run_graph

HERE = os.path.dirname(os.path.abspath(__file__))
#: seed of the test split's input encoding (bench/quantization_accuracy.py uses the same)
TEST_SEED = 1


@dataclass(frozen=True)
class Spec:
    """One model: neuron type, input encoding, T, hidden size, default epochs, learning rate and
    the builder ``make(T, H) -> nn.Sequential`` (layers take [T, B, ...])."""

    neuron_type: str
    encoding: str
    steps: int
    hidden: int
    epochs: int
    lr: float
    make: Callable[[int, int], nn.Sequential]


def _lif(T, H):
    return nn.Sequential(OrderedDict(fc1=nn.Linear(N_FEATURES, H), lif1=LIF(beta=0.9),
                                     fc2=nn.Linear(H, N_CLASSES), lif2=LIF(beta=0.9)))


def _cubalif(T, H):
    return nn.Sequential(OrderedDict(fc1=nn.Linear(N_FEATURES, H), cubalif1=CubaLIF(alpha=0.5, beta=0.9),
                                     fc2=nn.Linear(H, N_CLASSES), cubalif2=CubaLIF(alpha=0.5, beta=0.9)))


def _lifb(T, H):
    return nn.Sequential(OrderedDict(fc1=nn.Linear(N_FEATURES, H), lifb1=LIFB.count_neuron(0.9, 1.0, 4),
                                     fc2=nn.Linear(H, N_CLASSES), lifb2=LIFB.count_neuron(0.9, 1.0, 4)))


def _clif(T, H):
    return nn.Sequential(OrderedDict(fc1=nn.Linear(N_FEATURES, H), clif1=CLIF(),
                                     fc2=nn.Linear(H, N_CLASSES), readout=LI(beta=0.8)))


def _rf(T, H):
    return nn.Sequential(OrderedDict(fc1=RFDense(N_FEATURES, H), rf1=RF(H),
                                     fc2=nn.Linear(H, N_CLASSES), readout=LI(beta=0.8)))


def _lmht(T, H):
    return nn.Sequential(OrderedDict(fc1=nn.Linear(N_FEATURES, H), lmht1=LMHT(T, levels=2),
                                     fc2=nn.Linear(H, N_CLASSES), readout=LI(beta=0.8)))


def _lnm(T, H):
    return nn.Sequential(OrderedDict(fc1=nn.Linear(N_FEATURES, H), lnm1=LNM(degree=2),
                                     fc2=nn.Linear(H, N_CLASSES), lnm2=LNM(degree=2)))


SPECS: dict[str, Spec] = {s.neuron_type.lower(): s for s in [
    Spec("LIF", "rate", 16, 64, 30, 5e-3, _lif),
    Spec("CubaLIF", "rate", 16, 64, 30, 5e-3, _cubalif),
    Spec("LIFB", "rate", 16, 64, 30, 5e-3, _lifb),
    Spec("CLIF", "current", 8, 64, 30, 5e-3, _clif),
    Spec("RF", "rate", 16, 128, 30, 5e-3, _rf),
    Spec("LMHT", "current", 4, 64, 30, 5e-3, _lmht),
    Spec("LNM", "rate", 16, 64, 30, 5e-3, _lnm),
]}


def seq_first(x: np.ndarray, dtype=torch.float32) -> torch.Tensor:
    """(B, T, 64) numpy -> [T, B, 64] tensor (the torch layers are time-first)."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(1, 0, 2))).to(dtype)


def torch_outputs(model: nn.Module, x: np.ndarray, dtype=torch.float32, batch: int = 512) -> np.ndarray:
    """Model outputs (B, T, 10) in ``dtype``, eval mode."""
    model.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            outs.append(model(seq_first(x[i:i + batch], dtype)).transpose(0, 1).double().numpy())
    return np.concatenate(outs)


def parameter_count(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def train(spec: Spec, epochs: int, seed: int = 0, log=print) -> tuple[nn.Module, float]:
    """Train the model of ``spec`` for ``epochs``; returns (model, seconds)."""
    torch.manual_seed(seed)
    x_train, y_train, _, _ = load_digits_split()
    model = spec.make(spec.steps, spec.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=spec.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    y_all = torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        x_all = seq_first(encode(x_train, spec.steps, spec.encoding, seed=100 + epoch))   # fresh rate samples
        perm = torch.randperm(len(y_all), generator=gen)
        total, correct = 0.0, 0
        for i in range(0, len(perm), 64):
            idx = perm[i:i + 64]
            logits = model(x_all[:, idx]).sum(0)
            loss = nn.functional.cross_entropy(logits, y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == y_all[idx]).sum())
        sched.step()
        log(f"  epoch {epoch + 1:3d}/{epochs}: loss {total / len(perm):.4f}, train acc {correct / len(perm):.4f}")
    return model, time.perf_counter() - t0


def export_and_check(spec: Spec, model: nn.Module, seconds: float, epochs: int, log=print) -> snnc.Graph:
    """Export ``model``, simulate the test split with snnc's float simulator, compare with torch."""
    _, _, x_test, y_test = load_digits_split()
    x = encode(x_test, spec.steps, spec.encoding, seed=TEST_SEED)
    acc32 = accuracy_from_outputs(torch_outputs(model, x, torch.float32), y_test)
    acc64 = accuracy_from_outputs(torch_outputs(model.double(), x, torch.float64), y_test)
    graph = export(model, torch.zeros(spec.steps, 1, N_FEATURES, dtype=torch.float64))
    model.float()
    out = run_graph(graph, x).outputs[graph.output_names()[0]]
    acc_sim = accuracy_from_outputs(out, y_test)
    log(f"  test accuracy: torch float32 {acc32:.4f}, torch float64 {acc64:.4f}, snnc float simulator {acc_sim:.4f}"
        f" ({len(y_test)} samples)")
    if acc_sim != acc64:
        raise SnncError(f"snnc float simulator accuracy {acc_sim:.4f} differs from torch (float64) {acc64:.4f}",
                        node=spec.neuron_type)
    if spec.encoding == "current":
        # analog pixel input in [0, 1]: compiled graphs quantize it to 8 bits (without this mark the
        # integer lowering takes the input for spikes, scale 1, and rounds the pixels to 0/1)
        graph.nodes["input"].metadata.update(analog=True, max_abs=1.0)
    graph.metadata.update(neuron_type=spec.neuron_type, digits_steps=spec.steps, digits_encoding=spec.encoding,
                          digits_test_seed=TEST_SEED, digits_hidden=spec.hidden, float_test_accuracy=acc_sim,
                          torch_test_accuracy=acc32, train_epochs=epochs, train_seconds=round(seconds, 1),
                          parameter_count=parameter_count(model),
                          producer="snnc examples/train_digits.py")
    return graph


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=sorted(SPECS), metavar="TYPE",
                    help=f"train only this neuron type (repeatable): {', '.join(SPECS)}")
    ap.add_argument("--epochs", type=int, default=None, help="epochs per model (default: per model, see SPECS)")
    ap.add_argument("--out", default=os.path.join(HERE, "models"), help="output folder (default examples/models)")
    ap.add_argument("--force", action="store_true", help="overwrite existing model files")
    ap.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    args = ap.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        ap.error("--epochs must be >= 1")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    names = args.only or list(SPECS)
    paths = {n: os.path.join(args.out, f"digits_{n}.nir") for n in names}
    try:
        for p in paths.values():                     # refuse before spending time on training
            check_writable_target(p, args.force)
    except SnncError as exc:
        print(f"train_digits: error: {exc}", file=sys.stderr)
        return 1
    epoch_log = (lambda s: None) if args.quiet else print
    rows = []
    for name in names:
        spec = SPECS[name]
        epochs = args.epochs or spec.epochs
        print(f"== {spec.neuron_type}: T={spec.steps}, {spec.encoding} encoding, H={spec.hidden}, {epochs} epochs")
        model, seconds = train(spec, epochs, log=epoch_log)
        graph = export_and_check(spec, model, seconds, epochs)
        snnc.save(graph, paths[name], overwrite=args.force)
        size = os.path.getsize(paths[name])
        print(f"  trained in {seconds:.1f} s; wrote {paths[name]} ({size / 1024:.0f} KiB)")
        rows.append((spec.neuron_type, graph.metadata["float_test_accuracy"], seconds))
    print("\n| type | float test accuracy (torch = snnc sim) | training time |")
    print("| --- | --- | --- |")
    for t, acc, s in rows:
        print(f"| {t} | {100 * acc:.1f} % | {s:.0f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
