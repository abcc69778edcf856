"""Integer lowering of S5-RF neurons with a readout matrix V (layer 0 with zoh/bilinear
discretization, docs/neurons.md#s5-rf): y_t = V x_t, spike on Re(y_t) > 1.

The lowering uses existing integer node kinds only (IntDense for the input current, the
complex rotation and the readout; IntCubaLIF as the state register and as the stateless
threshold). Stated tolerance: the 16-bit 'sim' profile reproduces the float spikes of a
torch-exported model exactly on these inputs (measured: 1.0 for every RF layer); the 8-bit
'fpga' profile on >= 95 % (measured 0.98-0.997)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from snnc.backends.sim import simulate  # noqa: E402
from snnc.frontend.torch import LI, RF, RFDense, export, hippo_legs_init  # noqa: E402
from snnc.ir import intneurons as INN  # noqa: E402
from snnc.ir import intnodes as IN  # noqa: E402
from snnc.ir import nodes as N  # noqa: E402
from snnc.ir.errors import UnsupportedError  # noqa: E402
from snnc.passes.targets import make_config  # noqa: E402
from snnc.runtime.compile import compile_graph  # noqa: E402
from snnc.runtime.run import run_graph  # noqa: E402


class _S5RF(nn.Module):
    """The authors' classifier shape (s5rf/model/classifier.py): layer 0 with the eigenvector
    readout V, a dirac layer with a skip (spikes + input), a real readout into a leaky integrator."""

    def __init__(self, disc: str):
        super().__init__()
        _, V, Vinv = hippo_legs_init(8, 2)
        kw = dict(num_blocks=2, dt_min=0.1, dt_max=0.8)
        self.d0, self.rf0 = RFDense(6, 8, vinv=Vinv), RF(8, discretization=disc, readout=V, **kw)
        self.d1, self.rf1 = RFDense(8, 8), RF(8, **kw)
        self.out, self.li = RFDense(8, 3, complex_output=False), LI(0.8)
        with torch.no_grad():
            for d in (self.d0, self.d1):
                d.weight.mul_(4.0)

    def forward(self, x):
        s0 = self.rf0(self.d0(x))
        s1 = self.rf1(self.d1(s0)) + s0
        return self.li(self.out(s1))


def _exported(disc: str):
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(0)
        model = _S5RF(disc).eval()
        return export(model, torch.zeros(10, 1, 6))
    finally:
        torch.set_default_dtype(old)


def _spikes(seed: int, batch: int = 6, steps: int = 60) -> np.ndarray:
    return (np.random.default_rng(seed).random((batch, steps, 6)) < 0.5).astype(float)


@pytest.mark.parametrize("disc", ["zoh", "bilinear"])
@pytest.mark.parametrize("target, min_agree", [("sim", 1.0), ("fpga", 0.95)])
def test_rf_readout_lowering_reproduces_float_spikes(disc, target, min_agree):
    g = _exported(disc)
    assert g.nodes["rf0"].readout is not None
    low, report = compile_graph(g, make_config(target))
    for seed in (1, 2, 3):
        x = _spikes(seed)
        a = run_graph(g, x, record="all").outputs
        b = simulate(low, x, record="all").outputs
        for rf in ("rf0", "rf1"):
            agree = float(np.mean(a[rf] == b[rf]))
            assert agree >= min_agree, (disc, target, seed, rf, agree)
            assert 0 < b[rf].mean() < 1, (rf, b[rf].mean())      # the layer fires, but not always


def test_rf_readout_uses_existing_node_kinds_and_proven_bounds():
    g = _exported("zoh")
    low, report = compile_graph(g, make_config("fpga"))
    kinds = {type(n) for n in low.nodes.values()}
    assert kinds <= {N.Input, N.Output, IN.IntDense, IN.IntCubaLIF, INN.IntComplexDense, INN.IntRF}
    assert isinstance(low.nodes["rf1"], INN.IntRF)             # no readout: the IntRF node as before
    assert isinstance(low.nodes["rf0"], IN.IntCubaLIF) and low.nodes["rf0"].comparison == ">"
    assert isinstance(low.nodes["rf0.state"], IN.IntCubaLIF) and low.nodes["rf0.state"].threshold is None
    rot = low.nodes["rf0.rotation"]
    assert rot.weight_exp == -make_config("fpga").profile.decay_bits
    loop = [e for e in low.edges if e.src == "rf0.rotation" and e.dst == "rf0.state"]
    assert len(loop) == 1 and loop[0].delay == 1
    assert report["nodes"]["rf0"]["readout"] == "dense"
    for name in ("rf0.state", "rf0"):       # the static analysis proves both inside 24-bit states
        assert report["nodes"][name]["overflow"] == "none", report["nodes"][name]


def test_rf_readout_state_bound_is_sound():
    """Adversarial input (every input spiking every step) stays inside the proven bound."""
    g = _exported("zoh")
    low, report = compile_graph(g, make_config("fpga"))
    x = np.ones((1, 200, 6))
    tr = simulate(low, x, record="all", record_states=True)
    bound = low.nodes["rf0.state"].metadata["state_bound"]
    assert np.abs(tr.outputs["rf0.state"]).max() <= bound


def test_rf_readout_is_refused_for_loihi2():
    g = _exported("zoh")
    with pytest.raises(UnsupportedError, match="node 'rf0', field 'readout'.*fpga or sim"):
        compile_graph(g, make_config("loihi2"))
