"""Every model with an exact chip-native form gets a ``network.net`` that lava-dl's real netx
0.6.0 builds and that reproduces snnc's simulator bit for bit.

For each model: ``snnc compile MODEL --target loihi2 -o OUT``; then
``netx.hdf5.Network(net_config=OUT/lava/network.net)`` runs in Lava (``Loihi2SimCfg`` fixed_pt)
on random spikes, with the report's bias channels appended to the input (driven with their
value at every step); the ``u`` and ``v`` of every neuron of every layer (the layer's own
neurons and its bias units, which netx holds in one population) and the last layer's spikes
equal the simulator's traces of the lowered graph at every step. netx's input convention: its
``net.inp`` is the first synapse's input port, so the RingBuffer's step t is the IR's input at
step t, and every synapse adds the step that the lowered graph already has on its edges.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lava")
if importlib.util.find_spec("lava.lib") is None or importlib.util.find_spec("lava.lib.dl") is None:
    pytest.skip("lava-dl 0.6.0 is not installed (.ci/setup installs it with --no-deps)", allow_module_level=True)

from snnc.backends.sim import simulate  # noqa: E402
from snnc.runtime.cli import main  # noqa: E402
from snnc.runtime.compile import load_artifact  # noqa: E402
from snnc.tests.helper_modules import load  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared" / "models").resolve()
_netx_test = load("lava/test_lava_backend_netx.py")

STEPS = 12
MODELS = ["digits_lif", "digits_cubalif", "quickstart_lif", "lif_norse", "lif_rockpool", "braille_noDelay_bias_zero",
          "braille_noDelay_noBias_subtract", "cnn_sinabs"] + [f"digits_{k}_chip" for k in
                                                              ("lif", "cubalif", "lifb", "clif", "lnm", "lmht", "rf")]


def _model_path(model: str) -> Path:
    path = REPO / "examples" / "models" / f"{model}.nir"
    return path if path.exists() else SHARED / f"{model}.nir"


def _run_real_netx(path: str, info: dict, x_lava: np.ndarray, steps: int):
    """The network netx builds from ``path``, run on ``x_lava`` (Lava layout, last axis time):
    (last layer's spikes, [u, v of every layer]) in Lava's layouts. The real netx only (the Lava
    env has lava-dl 0.6.0: .ci/setup); the run itself is test_lava_backend_netx's."""
    assert _netx_test._real_netx() is not None, "lava-dl's netx is not installed (.ci/setup installs lava-dl==0.6.0)"
    return _netx_test._run_net(path, info, x_lava, steps)


@pytest.mark.parametrize("model", MODELS)
def test_compiled_net_file_equals_simulator_in_real_netx(model, tmp_path):
    out = tmp_path / "out"
    assert main(["compile", str(_model_path(model)), "--target", "loihi2", "-o", str(out)]) == 0
    import json

    report = json.loads((out / "lava" / "lava_report.json").read_text())
    info = report["netx"]
    assert info["written"], info.get("reason")
    lowered = load_artifact(str(out))
    (name,) = lowered.input_names()
    shape = tuple(lowered.nodes[name].shape)
    x = (np.random.default_rng(7).random((1, STEPS, *shape)) < 0.3).astype(np.int64)
    ref = simulate(lowered, {name: x}, record="all", record_states=True)
    # netx input: the IR input (Lava layout, time last) plus the bias channels
    x_lava = np.ascontiguousarray(x[0].transpose(tuple(range(x.ndim - 2, 0, -1)) + (0,)))
    if info["bias_channels"]:
        extra = np.array([[c["value"]] * STEPS for c in info["bias_channels"]], np.int64)
        x_lava = np.concatenate([x_lava, extra], axis=0)
    spikes, states = _run_real_netx(str(out / "lava" / "network.net"), info, x_lava, STEPS)
    pops = info["populations"]
    assert len(states) == 2 * len(pops)
    compared = 0
    for i, members in enumerate(pops):
        for k, var in enumerate(("u", "v")):
            got = states[2 * i + k]
            got = got.transpose((0,) + tuple(range(got.ndim - 1, 0, -1)))        # (T, *IR shape)
            if len(members) > 1:
                got = got.reshape(STEPS, -1)
            offset = 0
            for m in members:
                want = ref.states[f"{m}.{var}"][0]
                n = int(np.prod(want.shape[1:]))
                part = got[:, offset:offset + n].reshape(want.shape) if len(members) > 1 else got
                offset += n
                assert np.array_equal(part, want), f"{model}: {m}.{var}"
                compared += want.size
    last = lowered.nodes[info["neurons"][-1]]
    if not last.never_fires():
        (out_name,) = lowered.output_names()
        n_out = int(np.prod(lowered.nodes[info["neurons"][-1]].shape))
        got = np.moveaxis(spikes, -1, 0).reshape(STEPS, -1)[:, :n_out]
        assert np.array_equal(got, ref.outputs[out_name][0].reshape(STEPS, -1)), f"{model}: output spikes"
    assert compared > 0
