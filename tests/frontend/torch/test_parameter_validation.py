"""Invalid neuron parameters are ParameterErrors naming the parameter as the user wrote it, at
every entry: torch layers, export, NIR import, compile. The README's PyTorch example runs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import snnc  # noqa: E402
from snnc.frontend.torch import CLIF, IF, LIF, LIFB, CubaLIF, export  # noqa: E402
from snnc.ir import nodes as N  # noqa: E402
from snnc.ir.errors import ParameterError  # noqa: E402
from snnc.ir.graph import Graph  # noqa: E402


@pytest.mark.parametrize("make, field, hint", [
    (lambda: LIF(32), "beta", "first argument is beta, not the layer size"),
    (lambda: LIF(beta=-0.1), "beta", "retention"),
    (lambda: CubaLIF(alpha=1.5), "alpha", "first argument is alpha"),
    (lambda: CubaLIF(beta=torch.tensor([0.5, 1.2])), "beta", "retention"),
    (lambda: LIF(threshold=0.0), "threshold", None),
    (lambda: IF(threshold=-1.0), "threshold", None),
    (lambda: LIFB(leak=2.0), "leak", "retention"),
    (lambda: LIFB(threshold=0), "threshold", None),
    (lambda: CLIF(tau=0.5), "tau", "exceed 1"),
])
def test_torch_layer_refuses_out_of_range(make, field, hint):
    with pytest.raises(ParameterError, match=rf"field '{field}': {field} = ") as exc:
        make()
    if hint:
        assert hint in str(exc.value)


def test_export_refuses_beta_changed_after_construction():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), LIF(beta=0.9))
    model[1].beta.fill_(1.5)
    with pytest.raises(ParameterError, match=r"field 'beta': beta = 1.5 is outside \[0, 1\]"):
        export(model, torch.zeros(2, 1, 4))


def _nir_graph(**lif) -> Graph:
    g = Graph()
    g.add_node("x", N.Input(shape=(2,)))
    g.add_node("w", N.Linear(weight=np.eye(2)))
    g.add_node("n", N.LIF(**{"tau": np.full(2, 1e-2), "r": np.ones(2), "v_leak": np.zeros(2),
                             "v_threshold": np.ones(2), **lif}))
    g.add_node("y", N.Output(shape=(2,)))
    for a, b in (("x", "w"), ("w", "n"), ("n", "y")):
        g.add_edge(a, b)
    return g


@pytest.mark.parametrize("lif, field", [({"tau": np.full(2, -1e-2)}, "tau"),
                                        ({"v_threshold": np.zeros(2)}, "v_threshold")])
def test_nir_import_refuses(tmp_path, lif, field):
    path = tmp_path / "bad.nir"
    from snnc.ir.nir_io import write_nir

    write_nir(path, _nir_graph(**lif))
    with pytest.raises(ParameterError, match=rf"node 'n', field '{field}'"):
        snnc.load(path)


@pytest.mark.parametrize("target", ["sim", "fpga", "loihi2"])
def test_compile_refuses_retention_above_one(target):
    """A graph built in code (no importer ran) is still checked when compiled for any target."""
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph

    g = export(torch.nn.Sequential(torch.nn.Linear(4, 3, bias=False), LIF(beta=0.9)), torch.zeros(2, 1, 4))
    neuron = next(n for n, node in g.nodes.items() if isinstance(node, N.DiscreteLIF))
    g.nodes[neuron].voltage_decay = np.array(32.0)
    with pytest.raises(ParameterError, match=rf"node '{neuron}', field 'beta': beta = 32 is outside \[0, 1\]"):
        compile_graph(g, make_config(target))


def test_readme_pytorch_example_runs(tmp_path, monkeypatch, repo_root):
    """The README's "From PyTorch" code block, executed as written."""
    text = Path(repo_root, "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    code = next(b for b in blocks if "from snnc.frontend.torch import" in b)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the documented example
    graph = scope["graph"]
    assert (tmp_path / "model.nir").exists()
    neurons = [n for n in graph.nodes.values() if isinstance(n, N.DiscreteLIF)]
    assert [float(n.voltage_decay) for n in neurons] == [float(np.float32(0.9))] * 2   # torch float32
    assert snnc.load(tmp_path / "model.nir").nodes.keys() == graph.nodes.keys()
