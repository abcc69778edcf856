"""Graphs returned by other frameworks' NIR exporters load into snnc without workarounds in the
user's code and simulate like the framework's own forward pass (issues 3 and 18). The fixes
live in snnc: NIR's failing type check is tolerated (:mod:`snnc.frontend.nir_compat`), the
batch axis the exporters keep in the Input is dropped with a note
(:mod:`snnc.frontend.batch_axis`), Norse's squared dt is undone by ``preset='norse'``."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.sim import simulate
from snnc.frontend import from_nir
from snnc.frontend.nir_compat import tolerant_nir
from snnc.frontend.nir_import import ImportNote
from snnc.ir.errors import ParameterError
from snnc.passes import discretize

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _norse_net():
    norse = pytest.importorskip("norse.torch")
    torch.manual_seed(0)
    return norse, norse.SequentialState(torch.nn.Linear(4, 6), norse.LIFBoxCell(), torch.nn.Linear(6, 3),
                                        norse.LIFBoxCell())


def test_norse_export_matches_norse_forward():
    """Norse 1.1.0 ``to_nir`` writes tau = dt / tau_mem_inv (norse/torch/utils/export_nir.py:37)
    and keeps the sample's batch axis in the Input shape. ``preset='norse'`` divides the time
    constants by Norse's dt (1e-3 s) and the Input's batch axis is dropped with a note: every
    layer spikes exactly as Norse."""
    norse, m = _norse_net()
    with pytest.warns(ImportNote, match=r"batch axis of size 1 dropped, shape \(1, 4\) -> \(4,\)"):
        g = from_nir(norse.to_nir(m, torch.randn(1, 4)), preset="norse")
    assert g.metadata["batch_axis_dropped"] == {"input": [1, 4]}
    assert g.nodes[g.input_names()[0]].shape == (4,)
    x = (torch.rand(3, 30, 4) < 0.5).float() * 30
    state, first, out = None, [], []
    with torch.no_grad():
        for t in range(30):
            o, state = m(x[:, t], state)
            out.append(o.numpy())
    s1 = None
    with torch.no_grad():
        for t in range(30):
            z, s1 = norse.LIFBoxCell(p=m[1].p)(m[0](x[:, t]), s1)
            first.append(z.numpy())
    tr = simulate(g, x.numpy().astype(np.float64), record="all")
    lif_names = [n for n, node in g.nodes.items() if node.metadata.get("discretized_from") == "LIF"]
    assert np.array_equal(tr.outputs[lif_names[0]], np.stack(first, 1))
    assert np.stack(first, 1).sum() > 0, "vacuous: first layer never spikes"
    assert np.array_equal(tr.outputs[g.output_names()[0]], np.stack(out, 1))


def test_norse_without_preset_names_the_preset():
    """NIR's reading of Norse's tau (1e-5 s for tau_mem = 10 ms) is unstable at any usual dt:
    the error says which preset reads the file as Norse meant it."""
    norse, m = _norse_net()
    g = from_nir(norse.to_nir(m, torch.randn(1, 4)))
    with pytest.raises(ParameterError, match="preset='norse'"):
        discretize(g)


def test_snntorch_export_matches_snntorch_forward():
    """snnTorch 1.0.0 ``export_to_nir`` of Sequential(Linear, Leaky, Linear, Leaky) fails NIR
    1.0.8's type inference (Input [1, 4] -> Affine [4]); inside ``tolerant_nir`` it returns the
    graph, and snnc reproduces snnTorch's spikes at dt = 1e-4 (reset to zero here: snnc's
    default and snnTorch's ``reset_mechanism='zero'`` agree)."""
    snn = pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), snn.Leaky(beta=0.8, init_hidden=True, reset_mechanism="zero"),
                              torch.nn.Linear(6, 3),
                              snn.Leaky(beta=0.9, init_hidden=True, output=True, reset_mechanism="zero"))
    with tolerant_nir() as notes:
        graph = export_to_nir(net, torch.randn(1, 4))
    assert any("type mismatch" in n for n in notes)
    g = from_nir(graph, dt=1e-4)
    x = (torch.rand(2, 25, 4) < 0.5).float() * 2
    from snntorch import utils as snn_utils

    snn_utils.reset(net)
    ref = []
    with torch.no_grad():
        for t in range(25):
            spk, _ = net(x[:, t])
            ref.append(spk.numpy())
    ref = np.stack(ref, 1)
    tr = simulate(discretize(g), x.numpy().astype(np.float64))
    assert ref.sum() > 0, "vacuous: no output spikes"
    assert np.array_equal(tr.outputs[g.output_names()[0]], ref)
