"""export(model) -> Graph: the float simulator reproduces the torch forward (identical spikes,
states within 1e-5) for every neuron type, a conv net, a residual net and recurrent nets;
``snnc.save`` / ``snnc.load`` round trips give the same simulation."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import snnc  # noqa: E402
from snnc.backends.sim import simulate  # noqa: E402
from snnc.frontend.torch import (  # noqa: E402
    CLIF,
    IF,
    LI,
    LIF,
    LIFB,
    LMHT,
    LNM,
    RF,
    CubaLIF,
    Recurrent,
    RFDense,
    SpikingNeuron,
    SumPool2d,
    TimeDistributed,
    export,
    hippo_legs_init,
)
from snnc.ir import nodes as N  # noqa: E402
from snnc.ir.errors import ParameterError, UnsupportedError  # noqa: E402

ATOL = 1e-5


@pytest.fixture(autouse=True)
def float64_default():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    yield
    torch.set_default_dtype(old)


def _randomize_batchnorm(model: nn.Module, rng) -> None:
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(torch.as_tensor(rng.normal(0, 0.3, c)))
            m.running_var.copy_(torch.as_tensor(rng.uniform(0.5, 2.0, c)))
            m.weight.data.copy_(torch.as_tensor(rng.uniform(0.5, 1.5, c)))
            m.bias.data.copy_(torch.as_tensor(rng.normal(0.2, 0.3, c)))


def check_export(model: nn.Module, x: torch.Tensor, tmp_path=None, dtype=np.float64):
    """Export, simulate (in ``dtype``), compare every neuron's output and states with the torch
    layers'; with ``tmp_path`` also save/load and re-simulate. Returns (graph, trace, torch output)."""
    model.eval()
    for m in model.modules():
        if isinstance(m, SpikingNeuron):
            m.record_states = True
    g = export(model, x)
    assert g.metadata["level"] == "discrete" and g.metadata["dt"] > 0
    with torch.no_grad():
        y = model(x)
    xb = x.transpose(0, 1).numpy()
    tr = simulate(g, xb, record="all", record_states=True, dtype=dtype)
    out_sim = tr.outputs["output"]
    y_bt = y.transpose(0, 1).numpy()
    assert out_sim.shape == y_bt.shape
    checked = 0
    for name, node in g.nodes.items():
        if not isinstance(node, N.NEURON_TYPES):
            continue
        path = node.metadata["torch_module"]
        mod = model.get_submodule(path) if path else model
        ref = mod.output.transpose(0, 1).numpy()
        if isinstance(node, N.DiscreteLIF) and node.v_threshold is None:
            np.testing.assert_allclose(tr.outputs[name], ref, rtol=0, atol=ATOL, err_msg=name)
        else:
            assert np.array_equal(tr.outputs[name], ref), f"spikes of {name} differ"
        for s in mod.state_names:
            np.testing.assert_allclose(tr.states[f"{name}.{s}"], mod.states[s].transpose(0, 1).numpy(),
                                       rtol=0, atol=ATOL, err_msg=f"{name}.{s}")
        if isinstance(node, N.LMHT):
            mix = next(e.src for e in g.in_edges(name))
            np.testing.assert_allclose(tr.outputs[mix], mod.mixed.transpose(0, 1).numpy(), rtol=0, atol=ATOL)
        checked += 1
    assert checked, "no neuron nodes were compared"
    np.testing.assert_allclose(out_sim, y_bt, rtol=0, atol=ATOL)
    if tmp_path is not None:
        path = tmp_path / "model.nir"
        snnc.save(g, path)
        g2 = snnc.load(path)
        assert set(g2.nodes) == set(g.nodes) and sorted(g2.edges, key=str) == sorted(g.edges, key=str)
        tr2 = simulate(g2, xb, record="all", record_states=True, dtype=dtype)
        for k in tr.outputs:
            assert np.array_equal(tr2.outputs[k], tr.outputs[k]), k
        for k in tr.states:
            assert np.array_equal(tr2.states[k], tr.states[k]), k
    return g, tr, y


def _assert_all_fire(g, tr):
    """Every spiking node fires sometimes, but not always (so the comparison is not trivial)."""
    for name, node in g.nodes.items():
        analog = isinstance(node, N.DiscreteLIF) and node.v_threshold is None
        if isinstance(node, N.NEURON_TYPES) and not analog:
            rate = float(np.mean(tr.outputs[name] != 0))
            assert 0 < rate < 1, f"{name} ({type(node).__name__}) fires at rate {rate}"


# ------------------------------------------------------------------------------------------
# one model per neuron type
# ------------------------------------------------------------------------------------------


def _s5rf_classifier():
    """The authors' classifier shape: 3 RF layers (layer 0 zoh with the eigenvector readout V,
    then dirac), a skip (spikes + input) around the middle layer, real readout, LI."""
    class S5RF(nn.Module):
        def __init__(self):
            super().__init__()
            _, V, Vinv = hippo_legs_init(8, 2)
            kw = dict(num_blocks=2, dt_min=0.1, dt_max=0.8)
            self.d0, self.rf0 = RFDense(6, 8, vinv=Vinv), RF(8, discretization="zoh", readout=V, **kw)
            self.d1, self.rf1 = RFDense(8, 8), RF(8, **kw)
            self.d2, self.rf2 = RFDense(8, 8), RF(8, **kw)
            self.out, self.li = RFDense(8, 3, complex_output=False), LI(0.8, learn_beta=True)
            with torch.no_grad():
                for d in (self.d0, self.d1, self.d2):
                    d.weight.mul_(4.0)

        def forward(self, x):
            s0 = self.rf0(self.d0(x))
            s1 = self.rf1(self.d1(s0)) + s0
            s2 = self.rf2(self.d2(s1))
            return self.li(self.out(s2))

    return S5RF()


MODELS = {
    "lif": lambda: nn.Sequential(nn.Linear(6, 10), LIF(0.9), nn.Linear(10, 4), LIF(0.8, reset="subtract",
                                                                                  comparison=">=")),
    "cubalif": lambda: nn.Sequential(nn.Linear(6, 10), CubaLIF(0.5, 0.9, learn_beta=True), nn.Linear(10, 4),
                                     LI(0.8)),
    "if": lambda: nn.Sequential(nn.Linear(6, 10), IF(reset="subtract"), nn.Linear(10, 4, bias=False), IF()),
    "lifb": lambda: nn.Sequential(nn.Linear(6, 10), LIFB.count_neuron(0.8, 0.5, 4), nn.Linear(10, 4),
                                  LIFB.braincog()),
    "clif": lambda: nn.Sequential(nn.Linear(6, 10), CLIF(), nn.Linear(10, 4), CLIF()),
    "rf": _s5rf_classifier,
    "lmht": lambda: nn.Sequential(nn.Linear(6, 10), LMHT(4, levels=2), nn.Linear(10, 4), LMHT(4, levels=4)),
    "lnm": lambda: nn.Sequential(nn.Linear(6, 10), LNM(coefficients=[0.02, -0.4, 0.05]), nn.Linear(10, 4),
                                 LNM(coefficients=[0.0, -0.3, 0.05, -0.01], reset="subtract")),
}
FIRST_NEURON = {"lif": N.DiscreteLIF, "cubalif": N.DiscreteLIF, "if": N.DiscreteLIF, "lifb": N.LIFB,
                "clif": N.CLIF, "rf": N.RF, "lmht": N.LMHT, "lnm": N.LNM}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_neuron_model_export_matches_torch(kind, tmp_path):
    model = MODELS[kind]()
    rng = np.random.default_rng(0)
    if kind == "rf":
        x = torch.as_tensor((rng.random((10, 3, 6)) < 0.5).astype(float))
    else:
        x = torch.as_tensor(rng.uniform(0, 3, (8, 3, 6)))
    if isinstance(model, nn.Sequential):
        with torch.no_grad():                       # drive the second neuron layer too
            model[2].weight.mul_(4.0)
            if model[2].bias is not None:
                model[2].bias.add_(0.3)
    g, tr, _ = check_export(model, x, tmp_path)
    assert any(isinstance(node, FIRST_NEURON[kind]) for node in g.nodes.values())
    _assert_all_fire(g, tr)


@pytest.mark.parametrize("kind", ["lif", "lifb", "clif", "lmht", "lnm", "rf"])
def test_float32_model_matches_float32_simulation(kind):
    """A float32 torch model (the usual training dtype) against the simulator in float32."""
    model = MODELS[kind]().float()
    rng = np.random.default_rng(1)
    if kind == "rf":
        x = torch.as_tensor((rng.random((10, 3, 6)) < 0.5).astype(np.float32))
    else:
        x = torch.as_tensor(rng.uniform(0, 3, (8, 3, 6)).astype(np.float32))
    g, tr, _ = check_export(model, x, dtype=np.float32)
    assert tr.outputs["output"].dtype == np.float32


def test_rf_input_scale_is_folded_into_complex_weights():
    model = _s5rf_classifier()
    g = export(model, torch.zeros(4, 1, 6))
    assert not any(isinstance(n, N.Scale) for n in g.nodes.values())
    for name in ("rf0", "rf1", "rf2"):
        (edge,) = g.in_edges(name)
        syn = g.nodes[edge.src]
        assert isinstance(syn, N.Linear) and np.iscomplexobj(syn.weight)
    rf0 = g.nodes["rf0"]
    assert rf0.readout is not None and np.all(np.abs(rf0.decay) < 1)
    assert {e.src for e in g.in_edges("d2")} == {"rf1", "rf0"}       # the skip is a fan-in
    assert np.isrealobj(g.nodes["out"].weight)


def test_lmht_exports_timemix_then_neuron():
    model = MODELS["lmht"]()
    g = export(model, torch.zeros(8, 1, 6))
    assert [type(g.nodes[n]).__name__ for n in ("0", "1_mix", "1")] == ["Affine", "TimeMix", "LMHT"]
    assert g.nodes["1"].window == 4 and np.allclose(g.nodes["1_mix"].coefficients, 0.25)


# ------------------------------------------------------------------------------------------
# conv, residual, recurrent
# ------------------------------------------------------------------------------------------


def test_conv2d_net(tmp_path):
    model = nn.Sequential(
        TimeDistributed(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4)),
        LIF(0.9),
        TimeDistributed(nn.AvgPool2d(2), nn.Conv2d(4, 6, 3, stride=2, bias=False), nn.BatchNorm2d(6)),
        CLIF(),
        SumPool2d(2),
        nn.Flatten(start_dim=2),
        nn.Linear(6, 5),
        LI(0.7),
    )
    _randomize_batchnorm(model, np.random.default_rng(1))
    x = torch.as_tensor(np.random.default_rng(2).uniform(0, 2, (6, 2, 2, 12, 12)))
    g, tr, _ = check_export(model, x, tmp_path)
    kinds = [type(n).__name__ for n in g.nodes.values()]
    assert kinds.count("BatchNorm") == 2 and "AvgPool2d" in kinds and "SumPool2d" in kinds
    _assert_all_fire(g, tr)


def test_conv1d_net(tmp_path):
    model = nn.Sequential(
        TimeDistributed(nn.Conv1d(3, 4, 3, padding=1), nn.BatchNorm1d(4)),
        LIFB.count_neuron(0.9, 0.5, 3),
        TimeDistributed(nn.Conv1d(4, 4, 3, padding="same", dilation=2, groups=2), nn.Flatten(),
                        nn.BatchNorm1d(32)),
        LNM(),
        nn.Linear(32, 3),
        LIF(),
    )
    _randomize_batchnorm(model, np.random.default_rng(3))
    with torch.no_grad():
        model[4].weight.mul_(3.0)
    x = torch.as_tensor(np.random.default_rng(4).uniform(0, 2, (7, 2, 3, 8)))
    g, tr, _ = check_export(model, x, tmp_path)
    assert isinstance(g.nodes["2_module_0"], N.Conv1d)
    _assert_all_fire(g, tr)


class _ResidualNet(nn.Module):
    """PreAct-style block: spikes of the first neuron skip over two convs and are added to the
    analog conv output (fan-in), as CLIF's ResNet; a scaled second skip; torch.flatten."""

    def __init__(self):
        super().__init__()
        self.stem = TimeDistributed(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4))
        self.sn0 = LIF(0.8)
        self.block = nn.Sequential(TimeDistributed(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)), CLIF(),
                                   TimeDistributed(nn.Conv2d(4, 4, 3, padding=1)))
        self.sn1 = LIF(0.9, reset="subtract")
        self.pool = SumPool2d(4)
        self.fc = nn.Linear(16, 3)
        self.out = LI(0.9)

    def forward(self, x):
        s = self.sn0(self.stem(x))
        y = self.sn1(self.block(s) + s)
        y = y + 0.5 * s
        return self.out(self.fc(torch.flatten(self.pool(y), 2)))


def test_residual_net(tmp_path):
    model = _ResidualNet()
    _randomize_batchnorm(model, np.random.default_rng(5))
    x = torch.as_tensor(np.random.default_rng(6).uniform(0, 2, (5, 2, 2, 8, 8)))
    g, tr, _ = check_export(model, x, tmp_path)
    assert {e.src for e in g.in_edges("sn1")} == {"block_2_module", "sn0"}
    assert len(g.in_edges("pool")) == 2                                 # y + 0.5 * s
    assert all(e.delay == 0 for e in g.edges)
    _assert_all_fire(g, tr)


def test_recurrent_net(tmp_path):
    model = nn.Sequential(
        nn.Linear(5, 12),
        Recurrent(LIF(0.9), nn.Linear(12, 12)),
        nn.Linear(12, 6),
        Recurrent(CLIF(), nn.Linear(6, 6, bias=False)),
        nn.Linear(6, 6),
        Recurrent(LIFB.count_neuron(0.8, 0.5, 3), nn.Sequential(nn.Linear(6, 6), nn.Linear(6, 6))),
        nn.Linear(6, 3),
        LI(0.8),
    )
    with torch.no_grad():
        model[1].recurrent.weight.mul_(2.0)
        model[2].weight.mul_(3.0)
        model[4].weight.mul_(3.0)
    x = torch.as_tensor(np.random.default_rng(7).uniform(0, 2, (15, 3, 5)))
    g, tr, _ = check_export(model, x, tmp_path)
    rec = [e for e in g.edges if e.delay]
    assert {(e.src, e.dst) for e in rec} == {("1_neuron", "1_recurrent"), ("3_neuron", "3_recurrent"),
                                             ("5_neuron", "5_recurrent_0")}
    assert all(e.delay == 1 for e in rec)
    assert {e.src for e in g.in_edges("1_neuron")} == {"0", "1_recurrent"}
    _assert_all_fire(g, tr)


def test_recurrent_rf_keeps_complex_scale(tmp_path):
    model = nn.Sequential(RFDense(5, 8), Recurrent(RF(8, dt_min=0.1, dt_max=0.8), RFDense(8, 8)),
                          nn.Linear(8, 2), LI(0.5))
    with torch.no_grad():
        model[0].weight.mul_(4.0)
    x = torch.as_tensor((np.random.default_rng(8).random((12, 2, 5)) < 0.5).astype(float))
    g, tr, _ = check_export(model, x, tmp_path)
    scale = g.nodes["1_neuron_bbar"]
    assert isinstance(scale, N.Scale) and len(g.in_edges("1_neuron_bbar")) == 2
    _assert_all_fire(g, tr)


def test_single_layer_model_and_identity_recurrence(tmp_path):
    x = torch.as_tensor(np.random.default_rng(9).uniform(0, 1.5, (6, 2, 4)))
    g, _, _ = check_export(LIF(0.7), x, tmp_path)
    assert list(g.nodes) == ["input", "discretelif", "output"]
    g, _, _ = check_export(nn.Sequential(Recurrent(LIF(0.7, reset="subtract"), nn.Identity())), x, tmp_path)
    assert [(e.src, e.dst, e.delay) for e in g.edges if e.delay] == [("0_neuron", "0_neuron", 1)]


# ------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------


def test_unsupported_modules_are_named():
    x = torch.zeros(4, 3, 3)
    with pytest.raises(UnsupportedError, match=r"node '1'.*BatchNorm1d.*TimeDistributed"):
        export(nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), LIF()), x)     # runs in torch, wrong axes
    with pytest.raises(UnsupportedError, match=r"node '1'.*ReLU"):
        export(nn.Sequential(nn.Linear(3, 3), nn.ReLU()), x)
    with pytest.raises(UnsupportedError, match="time/batch"):
        export(nn.Sequential(nn.Linear(3, 3), nn.Flatten()), x)
    with pytest.raises(UnsupportedError, match="spiking layers"):
        export(nn.Sequential(TimeDistributed(LIF())), x)
    with pytest.raises(ParameterError, match="whole windows"):
        Recurrent(LMHT(4), nn.Linear(3, 3))


def test_export_restores_training_mode():
    model = nn.Sequential(TimeDistributed(nn.Linear(3, 3), nn.BatchNorm1d(3)), LIF())
    model.train()
    before = model[0].module[1].running_mean.clone()
    export(model, torch.randn(4, 2, 3))
    assert model.training and model[0].module[1].training
    assert torch.equal(model[0].module[1].running_mean, before)        # exported in eval mode
