"""snnc's NeuroBench metrics (runtime/workload_metrics.py) equal what ``neurobench`` computes on
the same torch layers and data, for every digits example (8 test samples each).

The torch model given to NeuroBench: the model's connection layers as ``nn.Linear`` with the
trained weights and biases (the graph holds the exported torch weights exactly), and its neuron
layers replaying snnc's float simulation of them (which equals the torch model's layers: the
examples refuse to save a model whose simulation differs from torch), registered as NeuroBench
activation modules as a user registers snnc's ``SpikingNeuron`` layers. NeuroBench runs its own
hooks, binarization and counting on that. Footprint is NeuroBench's on the real architecture
(``examples/train_digits.py``'s builder; it depends on shapes only).

One difference, by NeuroBench's definition: S5-RF's input layer is ``RFDense`` (a complex
linear map), not an ``nn.Linear``, so NeuroBench does not see it as a connection layer; snnc
counts it (it is work the hardware does). For ``rf`` the test checks that snnc's numbers
without that layer equal NeuroBench's, and that the difference is exactly that layer's count."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

import snnc
from snnc.ir import nodes as N
from snnc.runtime.digits import encoded_test_split
from snnc.runtime.run import run_graph
from snnc.runtime.workload_metrics import (
    activation_sparsity,
    connection_weights,
    footprint,
    synaptic_operations,
)

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
nb_benchmarks = pytest.importorskip("neurobench.benchmarks")
from neurobench.metrics.static import ConnectionSparsity, Footprint  # noqa: E402
from neurobench.metrics.workload import ActivationSparsity, SynapticOperations  # noqa: E402
from neurobench.models import TorchModel  # noqa: E402
from torch import nn  # noqa: E402

TYPES = ("lif", "cubalif", "lifb", "clif", "rf", "lmht", "lnm")
SAMPLES = 8


class _Replay(nn.Module):
    """A layer that returns what snnc's float simulation of it output: float64[T, B, ...]."""

    def __init__(self, out: np.ndarray):
        super().__init__()
        self.out = torch.from_numpy(np.ascontiguousarray(np.swapaxes(out, 0, 1)))

    def forward(self, x):
        return self.out


class _Neuron(_Replay):
    """A neuron layer (NeuroBench activation module)."""


class _TimeFirst(nn.Module):
    def __init__(self, seq: nn.Sequential):
        super().__init__()
        self.seq = seq

    def forward(self, x):                 # NeuroBench data: [B, T, F]; snnc's torch layers: [T, B, F]
        return self.seq(x.transpose(0, 1))


def _torch_model(graph, trace) -> nn.Module:
    layers = []
    for name in graph.evaluation_order():
        node = graph.nodes[name]
        if isinstance(node, (N.Input, N.Output)):
            continue
        if isinstance(node, (N.Affine, N.Linear)) and not np.iscomplexobj(node.weight):
            w = torch.from_numpy(np.asarray(node.weight, np.float64))
            lin = nn.Linear(w.shape[1], w.shape[0], bias=isinstance(node, N.Affine)).double()
            with torch.no_grad():
                lin.weight.copy_(w)
                if isinstance(node, N.Affine):
                    lin.bias.copy_(torch.from_numpy(np.asarray(node.bias, np.float64)))
            layers.append(lin)
        elif getattr(node, "is_neuron", False) or isinstance(node, N.NEURON_TYPES):
            layers.append(_Neuron(trace.outputs[name]))
        else:                             # RFDense (complex), LM-HT's time mixing: part of a torch layer
            layers.append(_Replay(np.real(trace.outputs[name])))
    return _TimeFirst(nn.Sequential(*layers))


def _architecture(neuron_type: str, graph) -> nn.Module:
    spec_path = snnc.__file__.rsplit("/", 1)[0] + "/examples/train_digits.py"
    spec = importlib.util.spec_from_file_location("snnc_train_digits", spec_path)
    td = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = td                   # its dataclasses look their module up
    spec.loader.exec_module(td)
    s = td.SPECS[neuron_type]
    return s.make(s.steps, s.hidden)


def _neurobench(model: nn.Module, x: np.ndarray, y: np.ndarray) -> dict:
    wrapped = TorchModel(model)
    wrapped.add_activation_module(_Neuron)
    data = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    loader = torch.utils.data.DataLoader(data, batch_size=len(y))
    bench = nb_benchmarks.Benchmark(wrapped, loader, [], [],
                                    [[Footprint, ConnectionSparsity], [SynapticOperations, ActivationSparsity]])
    return bench.run(quiet=True)


@pytest.mark.parametrize("neuron_type", TYPES)
def test_snnc_metrics_equal_neurobench(repo_root, neuron_type):
    graph = snnc.load(str(repo_root / "examples" / "models" / f"digits_{neuron_type}.nir"))
    x, y, _ = encoded_test_split(graph, SAMPLES)
    trace = run_graph(graph, x, record="all")
    nb = _neurobench(_torch_model(graph, trace), np.asarray(x, np.float64), np.asarray(y))

    ops = synaptic_operations(graph, trace)
    complex_layers = [n for n, w in connection_weights(graph).items() if np.iscomplexobj(w)]
    extra = {"AC": 0.0, "MAC": 0.0}
    for n in complex_layers:                      # not an nn.Linear: NeuroBench does not count it
        count, kind = ops["per_layer"][n]
        extra[kind] += count
    assert (neuron_type == "rf") == bool(complex_layers)
    assert ops["Effective_ACs"] - extra["AC"] == pytest.approx(nb["SynapticOperations"]["Effective_ACs"], abs=1e-9)
    assert ops["Effective_MACs"] - extra["MAC"] == pytest.approx(nb["SynapticOperations"]["Effective_MACs"], abs=1e-9)
    dense_extra = sum(trace.outputs[n].shape[1] * connection_weights(graph)[n].size for n in complex_layers)
    assert ops["Dense"] - dense_extra == pytest.approx(nb["SynapticOperations"]["Dense"])
    if complex_layers:
        assert sum(extra.values()) > 0           # the difference is that layer's operations, not zero
    assert activation_sparsity(graph, trace) == pytest.approx(nb["ActivationSparsity"], abs=1e-12)

    real = [w for w in connection_weights(graph).values() if not np.iscomplexobj(w)]
    zeros = sum(int(w.size - np.count_nonzero(w)) for w in real) / sum(w.size for w in real)
    assert round(zeros, 4) == nb["ConnectionSparsity"]
    # Footprint: NeuroBench counts parameters and buffers; the exported graph records the parameter
    # count only, so snnc's figure is short by the neuron layers' constant buffers (lif: beta,
    # threshold, v_reset of two layers = 6 float32 = 24 bytes; 4 to 72 bytes over the examples)
    arch = _architecture(neuron_type, graph)
    buffers = sum(b.numel() * b.element_size() for b in arch.buffers())
    assert footprint(graph) == sum(p.numel() * p.element_size() for p in arch.parameters())
    assert footprint(graph) + buffers == int(Footprint()(TorchModel(arch)))
    assert buffers <= 72
