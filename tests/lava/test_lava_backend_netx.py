"""The netx ``.net`` files snnc writes, rebuilt as Lava processes and run against the simulator.

The network is built by lava-dl's own ``netx.hdf5.Network`` when lava-dl is importable (its two
torch imports are stubbed when torch is absent, docs/netx_format.md#what-netx-060-builds); otherwise by
:func:`build_like_netx` (tests/lava/netx_builder.py), which follows netx 0.6.0's ``_create`` as
docs/netx_format.md#what-netx-060-builds describes it (input shape, flatten, dense / dense_rec with
``optimize_weight_bits`` and no sign mode, DelayDense with ``max_delay`` 62, conv with the flipped
kernel, CUBA -> LIF with ``du = iDecay - 1``, ``bias_exp = 6``). Both paths compare spikes, u and v
of every layer, every step, with ``np.array_equal``.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lava")

from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402
from lava.proc.io.sink import RingBuffer as SinkBuffer  # noqa: E402
from lava.proc.io.source import RingBuffer as SourceBuffer  # noqa: E402
from lava.proc.monitor.process import Monitor  # noqa: E402

import snnc  # noqa: E402
from snnc.backends.lava.emit import emit_lava  # noqa: E402
from snnc.backends.sim import simulate  # noqa: E402
from snnc.ir.intnodes import IntCubaLIF  # noqa: E402
from snnc.passes.targets import make_config  # noqa: E402
from snnc.runtime.compile import compile_graph  # noqa: E402
from snnc.tests.helper_modules import load  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared" / "models").resolve()


LG = load("backends/lava/lava_graphs.py")


#: the Lava processes netx 0.6.0 builds from a .net file (shared with test_netx_import_vs_lava.py)
build_like_netx = load("lava/netx_builder.py").build_like_netx


def _real_netx():
    """lava-dl's netx, or None. Without torch, the two torch-only modules it imports are stubbed."""
    if importlib.util.find_spec("lava.lib") is None or importlib.util.find_spec("lava.lib.dl") is None:
        return None
    if importlib.util.find_spec("torch") is None:
        dl = Path(importlib.util.find_spec("lava.lib.dl").submodule_search_locations[0])
        for name in ("lava.lib.dl.slayer", "lava.lib.dl.slayer.neuron", "lava.lib.dl.slayer.neuron.rf"):
            m = types.ModuleType(name)
            m.__path__ = []
            m.__file__ = str(dl / "slayer" / "__init__.py")
            m.neuron_params = lambda *a, **k: None
            sys.modules.setdefault(name, m)
        seq = types.ModuleType("lava.lib.dl.netx.sequential_modules")
        seq.__file__ = str(dl / "netx" / "sequential_modules.py")
        sys.modules.setdefault(seq.__name__, seq)
    from lava.lib.dl import netx

    return netx


def _run_net(path: str, info: dict, x_lava: np.ndarray, steps: int):
    netx = _real_netx()
    src = SourceBuffer(data=x_lava)
    if netx is not None:
        net = netx.hdf5.Network(net_config=path, input_message_bits=info["input_message_bits"])
        inp, lifs, out = net.inp, [layer.neuron for layer in net.layers], net.out
    else:
        inp, lifs, out = build_like_netx(path, info["input_message_bits"])
    src.s_out.connect(inp)
    sink = SinkBuffer(shape=out.shape, buffer=steps)
    out.connect(sink.a_in)
    monitors = []
    for lif in lifs:
        for var in (lif.u, lif.v):
            m = Monitor()
            m.probe(var, steps)
            monitors.append(m)
    src.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    try:
        spikes = sink.data.get().astype(np.int64)
        states = [np.asarray(next(iter(next(iter(m.get_data().values())).values()))).astype(np.int64)
                  for m in monitors]
    finally:
        src.stop()
    return spikes, states


def _ir(a: np.ndarray) -> np.ndarray:
    """(T, *lava_shape) -> (T, *ir_shape)."""
    return a.transpose((0,) + tuple(range(a.ndim - 1, 0, -1)))


CASES = ["quickstart_lif", "braille_noDelay_noBias_subtract", "lif_norse", "netx_chain"]


def _graph(case: str):
    if case in LG.HAND_GRAPHS:
        return LG.HAND_GRAPHS[case]()
    path = REPO / "examples" / "models" / f"{case}.nir"
    if not path.exists():
        path = SHARED / f"{case}.nir"
    return compile_graph(snnc.load(str(path)), make_config("loihi2"))[0]


@pytest.mark.parametrize("case", CASES)
def test_net_file_bit_exact(case, tmp_path):
    graph = _graph(case)
    report = emit_lava(graph, str(tmp_path / "out"))
    info = report["netx"]
    assert info["written"], info.get("reason")
    steps = 16
    inputs = LG.spike_inputs(graph, 1, steps, seed=4, graded=(case == "netx_chain"))
    (name,) = graph.input_names()
    x = inputs[name][0]
    x_lava = np.ascontiguousarray(x.transpose(tuple(range(x.ndim - 1, 0, -1)) + (0,)))
    spikes, states = _run_net(str(tmp_path / "out" / "network.net"), info, x_lava, steps)
    ref = simulate(graph, inputs, record="all", record_states=True)
    order = info["neurons"]          # netx's layer order
    assert all(isinstance(graph.nodes[n], IntCubaLIF) for n in order)
    assert len(order) * 2 == len(states)
    for i, n in enumerate(order):
        assert np.array_equal(_ir(states[2 * i]), ref.states[f"{n}.u"][0]), f"{n}.u"
        assert np.array_equal(_ir(states[2 * i + 1]), ref.states[f"{n}.v"][0]), f"{n}.v"
    (out,) = graph.output_names()
    last = graph.nodes[order[-1]]
    if last.threshold is not None:
        assert np.array_equal(np.moveaxis(spikes, -1, 0), ref.outputs[out][0])


def test_not_expressible_graphs_are_reported(tmp_path):
    """Graphs netx cannot build get no .net file and a reason in the report."""
    for case, reason in (("conv_pool", "SumPool2d"), ("seed_neurons", "IntLIFB")):
        report = emit_lava(LG.HAND_GRAPHS[case](), str(tmp_path / case))
        assert report["netx"]["written"] is False
        assert reason in report["netx"]["reason"]
