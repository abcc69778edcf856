"""The per-delay parts of a delayed dense layer (the netx import's form: one IntDense per
distinct delay value) as ONE Lava ``DelayDense`` with a per-synapse delay matrix
(backends/lava/merged_dense.py): one process per layer, and the Lava run equals the simulator
on every output it can read and every state (u, v of each layer), every step. Planning alone
(groups that do not fit, the report): tests/backends/lava/test_lava_merged_plan.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("lava")

from snnc.backends.lava.delay_groups import find_delay_groups  # noqa: E402
from snnc.backends.lava.mapping import plan_network  # noqa: E402
from snnc.backends.lava.run import run_lava  # noqa: E402
from snnc.frontend.netx_import import load_net  # noqa: E402
from snnc.tests.helper_modules import load  # noqa: E402

LG = load("backends/lava/lava_graphs.py")
NF = load("frontend/netx_files.py")


def _random_delays(seed: int, graded: bool):
    """24 -> 16 -> 12 -> 8, full random delay matrices (0..6, 0..9) and per-output delays (0..4);
    a graded first layer when ``graded``."""
    rng = np.random.default_rng(seed)
    w = NF._w
    layers = [NF.input_layer([24]),
              NF.dense(w(rng, (16, 24), -60, 120), NF.cuba(900, 500, 3), delay=rng.integers(0, 7, (16, 24))),
              NF.dense(w(rng, (12, 16), -80, 127), NF.cuba(1200, 300, 3), delay=rng.integers(0, 10, (12, 16))),
              NF.dense(w(rng, (8, 12), -50, 100), NF.cuba(700, 600, 2), delay=rng.integers(0, 5, 8))]
    return layers, ({"input_message_bits": 16} if graded else {})


def _load(tmp_path, layers, opts):
    path = NF.write_net(tmp_path / "delays.net", layers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_net(path, **opts)


@pytest.mark.parametrize("graded", [False, True], ids=["spikes", "graded"])
def test_one_delay_dense_per_layer_bit_exact(tmp_path, graded):
    g = _load(tmp_path, *_random_delays(5 + graded, graded))
    groups = find_delay_groups(g)
    assert len(groups) == 3 and all(len(parts) >= 4 for _, _, parts in groups)
    kind = "graded" if graded else "spikes"
    x = NF.random_inputs(g.nodes["input"].shape, 1, 30, seed=3, kind=kind)
    plan = plan_network(g, {"input": int(np.abs(x).max())})
    by_class = {}
    for p in plan.procs.values():
        by_class.setdefault(p.cls, []).append(p.key)
    assert sorted(by_class["DelayDense"]) == ["layer1.delay_dense", "layer2.delay_dense", "layer3.delay_dense"]
    assert "SnncDelay" not in by_class and "Dense" not in by_class
    parts = {p for _, _, ps in groups for p in ps}
    rows = {r["node"]: r for r in plan.table}
    assert all(rows[p]["lava"] == "DelayDense" and "merged" in rows[p]["note"] for p in parts)
    delays = plan.procs["layer1.delay_dense"].args["delays"]
    assert delays.shape == (16, 24) and len(np.unique(delays)) == 7

    lava = run_lava(g, {"input": x}, record="all", record_states=True)
    assert set(lava.unobserved) == parts
    ref = LG.assert_bit_exact(lava, g, {"input": x})
    assert all(ref.outputs[f"layer{k}"].any() for k in (1, 2, 3)), "a layer never fires: the test would be weak"


def test_netx_delay_cases_bit_exact(tmp_path):
    """tests/frontend/netx_files.py's delay network (per-output, per-input, full-matrix and scalar
    delays): the delayed layers are merged, the scalar-delay one stays a single DelayDense."""
    g = _load(tmp_path, *NF.net_delays())
    plan = plan_network(g)
    assert sum(p.cls == "DelayDense" for p in plan.procs.values()) == 4
    x = NF.random_inputs(g.nodes["input"].shape, 1, 24, seed=11)
    LG.assert_bit_exact(run_lava(g, {"input": x}, record="all", record_states=True), g, {"input": x})
