"""Every refusal met in the framework corpus names what to change."""

from __future__ import annotations

import pytest

from snnc.frontend import from_nir
from snnc.frontend.frameworks import from_framework
from snnc.ir.errors import ConfigError, FileFormatError, ParameterError, UnsupportedError

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def test_norse_to_nir_skipped_layer_names_from_framework():
    """Norse's own to_nir leaves a None node for AvgPool2d: the import says which call exports it."""
    norse = pytest.importorskip("norse.torch")
    net = norse.SequentialState(torch.nn.Conv2d(2, 4, 3), torch.nn.AvgPool2d(2), norse.LIFBoxCell())
    from snnc.frontend.nir_compat import tolerant_nir

    with tolerant_nir():
        g = norse.to_nir(net, torch.zeros(1, 2, 8, 8))
    with pytest.raises(FileFormatError, match=r"no NIR node for this layer.*from_framework\(model, sample, 'norse'\)"):
        from_nir(g, preset="norse")


def test_snntorch_synaptic_delayed_subtract_names_reset_zero():
    snn = pytest.importorskip("snntorch")
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), snn.Synaptic(alpha=0.5, beta=0.9, init_hidden=True, output=True))
    with pytest.raises(UnsupportedError, match="reset_mechanism='zero' and load with reset='zero'"):
        from_framework(net, torch.zeros(1, 4), "snntorch")
    g = from_framework(net, torch.zeros(1, 4), "snntorch", reset="zero")     # what the message says works
    assert g.metadata["reset_mode"] == "zero"


def test_unknown_framework_and_preset():
    with pytest.raises(ConfigError, match="choose from"):
        from_framework(None, None, "keras")
    from snnc.ir import nodes as N
    from snnc.ir.graph import Graph

    g = Graph()
    g.add_node("x", N.Input(shape=(2,)))
    g.add_node("y", N.Output(shape=(2,)))
    g.add_edge("x", "y")
    from snnc.frontend.nir_import import _finish_import

    with pytest.raises(ParameterError, match=r"unknown preset 'lava'.*choose from \['norse', 'rockpool'"):
        _finish_import(g, dt=None, reset=None, integrator=None, v_min=None, preset="lava")

