"""slayer's ``pool`` and ``average`` layers (frontend/netx/slayer_layers.py) on Lava, in the Lava
env: the pool is Lava's own grouped ``Conv`` (no custom process), the average readout snnc's
same-step ``SnncDense``; both equal the simulator on every output and state."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("lava")

from snnc.backends.lava.mapping import plan_network  # noqa: E402
from snnc.backends.lava.run import run_lava  # noqa: E402
from snnc.frontend.netx_import import load_net  # noqa: E402
from snnc.tests.helper_modules import load  # noqa: E402

LG = load("backends/lava/lava_graphs.py")
NF = load("frontend/netx_files.py")


def test_pool_on_lava(tmp_path):
    rng = np.random.default_rng(0)
    layers = [NF.input_layer([2, 4, 6]),
              {"type": "pool", "shape": [2, 2, 3], "kernelSize": [2, 2], "stride": [2, 2], "padding": [0, 0],
               "dilation": [1, 1], "weight": np.full((1, 1, 2, 2), 6), "neuron": NF.cuba(1024, 512, 10)},
              {"type": "flatten", "shape": [12]}, NF.dense(rng.integers(-60, 60, (5, 12)) * 2, NF.cuba(1024, 512, 6))]
    g = load_net(NF.write_net(tmp_path / "p.net", layers))
    procs = {p.node: p.cls for p in plan_network(g).procs.values()}
    assert procs["layer1_synapse"] == "Conv"
    x = (rng.random((1, 10, 2, 4, 6)) < 0.4).astype(np.int64)
    LG.assert_bit_exact(run_lava(g, {"input": x}, record="all", record_states=True), g, {"input": x})


def test_average_on_lava(tmp_path):
    rng = np.random.default_rng(1)
    layers = [NF.input_layer([6]), NF.dense(rng.integers(-60, 60, (6, 6)) * 2, NF.cuba(1024, 512, 4)),
              {"type": "average", "shape": [3, 1, 1]}]
    g = load_net(NF.write_net(tmp_path / "a.net", layers))
    x = (rng.random((1, 16, 6)) < 0.5).astype(np.int64)
    lava = run_lava(g, {"input": x}, record="all", record_states=True)
    LG.assert_bit_exact(lava, g, {"input": x})
    assert lava.outputs["output"].any()
