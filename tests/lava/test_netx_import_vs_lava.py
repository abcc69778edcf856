"""``snnc.frontend.netx_import.load_net`` against real Lava: .net files written by the test in
lava-dl's layout (tests/frontend/netx_files.py) are built as Lava processes the way netx 0.6.0
builds them (tests/lava/netx_builder.py) and run with ``Loihi2SimCfg(select_tag='fixed_pt')``;
snnc's simulation of the imported graph must give the same spikes, u and v of every layer at
every step (``np.array_equal``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("lava")

from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402
from lava.proc.io.source import RingBuffer as SourceBuffer  # noqa: E402
from lava.proc.monitor.process import Monitor  # noqa: E402

from snnc.backends.sim import simulate  # noqa: E402
from snnc.frontend.netx_import import load_net  # noqa: E402
from snnc.tests.helper_modules import load  # noqa: E402

NF = load("frontend/netx_files.py")
NB = load("lava/netx_builder.py")


def _to_lava(x: np.ndarray, port_shape: tuple) -> np.ndarray:
    """(T, *ir_shape) -> (*port_shape, T): axes reversed ((C, H, W) -> (W, H, C)), or the C-order
    flat vector a first dense layer reads."""
    rev = x.transpose((0,) + tuple(range(x.ndim - 1, 0, -1)))
    data = rev if tuple(rev.shape[1:]) == tuple(port_shape) else x.reshape(x.shape[0], -1)
    assert tuple(data.shape[1:]) == tuple(port_shape)
    return np.ascontiguousarray(np.moveaxis(data, 0, -1))


def _ir(a: np.ndarray) -> np.ndarray:
    """(T, *lava_shape) -> (T, *ir_shape)."""
    return np.asarray(a).transpose((0,) + tuple(range(a.ndim - 1, 0, -1))).astype(np.int64)


def run_in_lava(path: str, opts: dict, x: np.ndarray, steps: int):
    netx_opts = {k: opts[k] for k in ("reset_interval", "reset_offset", "num_layers") if k in opts}
    inp, lifs, _out = NB.build_like_netx(path, opts.get("input_message_bits", 0), **netx_opts)
    ports = inp if isinstance(inp, list) else [inp]
    src = SourceBuffer(data=_to_lava(x, ports[0].shape))
    src.s_out.connect(ports)
    monitors = []
    for lif in lifs:
        states = (lif.real, lif.imag) if hasattr(lif, "real") else (lif.u, lif.v)   # RF / RF_IZ vs LIF
        for target in (lif.s_out, *states):
            m = Monitor()
            m.probe(target, steps)
            monitors.append(m)
    src.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    try:
        data = [_ir(next(iter(next(iter(m.get_data().values())).values()))) for m in monitors]
    finally:
        src.stop()
    return [tuple(data[3 * i:3 * i + 3]) for i in range(len(lifs))]


@pytest.mark.parametrize("case", sorted(NF.NETWORKS))
def test_imported_net_matches_lava(case, tmp_path):
    layers, opts = NF.NETWORKS[case]()
    path = NF.write_net(tmp_path / f"{case}.net", layers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = load_net(path, **opts)
    steps = 68 if case == "quirks" else 24
    x = NF.random_inputs(graph.nodes["input"].shape, 1, steps, seed=11, kind=graph.metadata["input_kind"])
    ref = simulate(graph, {"input": x}, record="all", record_states=True)
    lava = run_in_lava(path, opts, x[0], steps)
    names = graph.metadata["netx_neurons"]
    assert len(names) == len(lava)
    fired = 0
    for name, (s, u, v) in zip(names, lava):
        su, sv = ("re", "im") if f"{name}.re" in ref.states else ("u", "v")
        assert np.array_equal(u, ref.states[f"{name}.{su}"][0]), f"{case}: {name}.{su}"
        assert np.array_equal(v, ref.states[f"{name}.{sv}"][0]), f"{case}: {name}.{sv}"
        if graph.nodes[name].threshold is None:            # non-spiking readout: Lava never fires, output = v
            assert not s.any()
            assert np.array_equal(ref.outputs[name][0], v)
        else:
            assert np.array_equal(s, ref.outputs[name][0]), f"{case}: {name} spikes"
            fired += int(s.sum())
    assert fired > 0, f"{case}: no spikes at all, the test would be weak"
