"""Hardware-aware fine-tuning for Loihi 2: a trained float graph -> its chip-native torch model
(Lava LIF layers with Loihi 2's quantization in the loop, :mod:`.chip_lif`) -> a few epochs of
training -> an exported graph whose neurons are all plain Lava LIF.

    chip = chip_model_from_graph(graph)      # passes.chip_native's mapping, as ChipBlocks
    finetune(chip, data, labels, epochs=10)  # data: array (B, T, F) or epoch -> array
    g = export_chip(chip, steps=T)           # snnc Graph: Linear (no bias) -> DiscreteLIF chain

Supported graphs: a chain ``Input -> (Linear | Affine) -> neuron -> ... -> Output`` whose neurons
:func:`snnc.passes.chip_native.map_chip_native` maps to Lava LIFs (every digits example). An
Affine bias becomes the neuron's bias (Lava's ``bias``): exact without a synaptic current; with
a current decay alpha it is b / (1 - alpha), the current's steady state, which fine-tuning then
adjusts (so no constant-source bias column is needed on the chip).

The loss is cross-entropy on the output summed over the last T steps: with Lava's timing in
the loop those are the steps a compiled ``loihi2`` graph's output is read at. Deterministic for a
given torch build and thread count when seeded (``seed``; callers set
``torch.use_deterministic_algorithms(True)`` and one thread, as examples/finetune_chip.py does).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.passes.chip_native import map_chip_native

from .chip_lif import ChipBlock, ChipLIF
from .export import export

#: width of quantized analog inputs (the loihi2 lowering's 8-bit signed samples)
INPUT_BITS = 8


class ChipNet(nn.Module):
    """A chain of :class:`ChipBlock` s (``blocks``: neuron name -> block, in order); ``names``:
    (synapse name, neuron name) per block, as in the source graph. ``input_scale``: integer scale
    of an analog input (inputs are rounded onto it in the quantized loop), None for spikes."""

    def __init__(self, blocks: list[tuple[str, str, ChipBlock]], input_scale: float | None = None,
                 metadata: dict | None = None) -> None:
        super().__init__()
        self.blocks = nn.ModuleDict(OrderedDict((neuron, block) for _, neuron, block in blocks))
        self.names = [(syn, neuron) for syn, neuron, _ in blocks]
        self.input_scale = input_scale
        self.metadata = dict(metadata or {})

    def set_mode(self, *, quantize: bool, lava_timing: bool) -> ChipNet:
        for b in self.blocks.values():
            b.quantize, b.lava_timing = quantize, lava_timing
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = next(iter(self.blocks.values()))
        if self.input_scale is not None and first.quantize:
            lim = (1 << (INPUT_BITS - 1)) - 1
            x = torch.clamp(torch.round(x * self.input_scale), -lim, lim) / self.input_scale
        for b in self.blocks.values():
            x = b(x)
        return x


def _chain(g: Graph) -> list[str]:
    """The node names from the one Input to the one Output, refusing anything but a chain."""
    ins = g.input_names()
    if len(ins) != 1 or len(g.output_names()) != 1:
        raise UnsupportedError("fine-tuning needs one Input and one Output")
    order, name = [ins[0]], ins[0]
    while not isinstance(g.nodes[name], N.Output):
        outs = g.out_edges(name)
        if len(outs) != 1 or len(g.in_edges(outs[0].dst)) != 1 or outs[0].delay:
            raise UnsupportedError("fine-tuning supports a feed-forward chain of layers only", node=name)
        name = outs[0].dst
        order.append(name)
    return order


def chip_model_from_graph(graph: Graph, *, surrogate: str = "fast_sigmoid") -> ChipNet:
    """The chip-native torch model of a discrete float ``graph`` (mapped by
    :func:`~snnc.passes.chip_native.map_chip_native` first; its mappings are kept in
    ``ChipNet.metadata['chip_native']``), weights and parameters copied from the graph."""
    g, _ = map_chip_native(graph)
    order = _chain(g)
    inp = g.nodes[order[0]]
    analog = bool(inp.metadata.get("analog"))
    input_scale = ((1 << (INPUT_BITS - 1)) - 1) / float(inp.metadata.get("max_abs", 1.0)) if analog else None
    blocks, sigma = [], input_scale or 1.0
    body = order[1:-1]
    if len(body) % 2:
        raise UnsupportedError("fine-tuning needs synapse -> neuron pairs", node=body[-1])
    for syn_name, neuron_name in zip(body[::2], body[1::2]):
        syn, node = g.nodes[syn_name], g.nodes[neuron_name]
        if not isinstance(syn, (N.Linear, N.Affine)) or not isinstance(node, N.DiscreteLIF):
            raise UnsupportedError(f"expected a Linear/Affine -> LIF pair, got {syn.type_name} -> {node.type_name}",
                                   node=neuron_name)
        n = int(node.shape[0])
        gain = np.broadcast_to(np.asarray(node.input_gain, float) * np.asarray(node.current_gain, float), (n,))
        w = np.asarray(syn.weight, float) * gain[:, None]
        alpha = None if node.current_decay is None else float(np.asarray(node.current_decay).reshape(-1)[0])
        b = gain * np.asarray(getattr(syn, "bias", None) if getattr(syn, "bias", None) is not None else 0.0)
        if alpha is not None:
            b = b / (1.0 - alpha)
        b = b + (0.0 if node.bias is None else np.asarray(node.bias, float))
        fc = nn.Linear(w.shape[1], n, bias=False)
        with torch.no_grad():
            fc.weight.copy_(torch.from_numpy(w))
        thr = None if node.v_threshold is None else float(np.asarray(node.v_threshold).reshape(-1)[0])
        neuron = ChipLIF(n, beta=float(np.asarray(node.voltage_decay).reshape(-1)[0]), threshold=thr, alpha=alpha,
                         bias=np.broadcast_to(b, (n,)).copy(), surrogate=surrogate)
        blocks.append((syn_name, neuron_name, ChipBlock(fc, neuron, input_scale=sigma)))
        sigma = 1.0
    return ChipNet(blocks, input_scale, {"chip_native": g.metadata.get("chip_native", {})})


def _seq_first(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(np.asarray(x, np.float32).transpose(1, 0, 2)))


def logits(net: ChipNet, x: np.ndarray, batch: int = 512) -> np.ndarray:
    """Output summed over the last T steps (B, classes) for inputs x (B, T, F), eval mode."""
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(net(_seq_first(x[i:i + batch]))[-x.shape[1]:].sum(0).double().numpy())
    return np.concatenate(out)


def finetune(net: ChipNet, data: np.ndarray | Callable[[int], np.ndarray], labels: np.ndarray, *,
             epochs: int = 10, lr: float = 1e-3, batch: int = 64, seed: int = 0, log=None) -> float:
    """Train ``net`` (quantized, Lava timing) for ``epochs`` on ``data`` (B, T, F), or
    ``data(epoch)`` for a fresh encoding per epoch, with Adam and a cosine schedule; returns the
    seconds spent. ``log(text)`` gets one line per epoch."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net.set_mode(quantize=True, lava_timing=True)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    y_all = torch.from_numpy(np.asarray(labels, np.int64))
    t0 = time.perf_counter()
    for epoch in range(epochs):
        net.train()
        x_all = _seq_first(data(epoch) if callable(data) else data)
        steps = x_all.shape[0]
        perm = torch.randperm(len(y_all), generator=gen)
        total, correct = 0.0, 0
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            out = net(x_all[:, idx])[-steps:].sum(0)
            loss = nn.functional.cross_entropy(out, y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            correct += int((out.argmax(1) == y_all[idx]).sum())
        sched.step()
        if log is not None:
            log(f"  epoch {epoch + 1:3d}/{epochs}: loss {total / len(perm):.4f}, train acc {correct / len(perm):.4f}")
    return time.perf_counter() - t0


def export_chip(net: ChipNet, steps: int) -> Graph:
    """The float graph of ``net`` (float master weights, neurons as chip-native DiscreteLIF with
    bias, synapses Linear without bias; node names as in the source graph). Its loihi2 lowering
    quantizes exactly as the fine-tuning loop did. An analog input is marked analog with
    ``max_abs`` (so compiled graphs quantize it to 8 bits, as the loop did)."""
    seq = nn.Sequential(OrderedDict(
        (name, mod) for (syn, neuron), block in zip(net.names, net.blocks.values())
        for name, mod in ((syn, block.fc), (neuron, block.neuron))))
    first = next(iter(net.blocks.values()))
    g = export(seq, torch.zeros(steps, 1, first.fc.in_features, dtype=first.fc.weight.dtype))
    if net.input_scale is not None:
        lim = (1 << (INPUT_BITS - 1)) - 1
        g.nodes["input"].metadata.update(analog=True, max_abs=lim / net.input_scale)
    g.metadata["chip_native_source"] = net.metadata.get("chip_native", {})
    return g
