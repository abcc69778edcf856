"""The sigma-delta nodes (snnc.ir.intsdn, simulated by backends/sim/sdn_kernels.py) against
Lava's own Sigma / Delta / SigmaDelta fixed-point process models (lava-nc 0.10,
``Loihi2SimCfg(select_tag='fixed_pt')``): every output and state at every step, np.array_equal.

Network: graded source -> Delta -> Dense (graded, 16-bit messages) -> SigmaDelta -> Dense -> Sigma.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("lava")

from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402
from lava.proc.dense.process import Dense  # noqa: E402
from lava.proc.io.sink import RingBuffer as SinkBuffer  # noqa: E402
from lava.proc.io.source import RingBuffer as SourceBuffer  # noqa: E402
from lava.proc.monitor.process import Monitor  # noqa: E402
from lava.proc.sdn.process import ActivationMode, Delta, Sigma, SigmaDelta  # noqa: E402

from snnc.backends.sim import simulate  # noqa: E402
from snnc.ir import nodes as N  # noqa: E402
from snnc.ir.graph import Graph  # noqa: E402
from snnc.ir.intnodes import IntDense  # noqa: E402
from snnc.ir.intsdn import IntDelta, IntSigma, IntSigmaDelta  # noqa: E402
from snnc.ir.netx_rules import lava_dense_weights  # noqa: E402


def _run_lava(data, w1, w2, p):
    steps = data.shape[1]
    src = SourceBuffer(data=data)
    delta = Delta(shape=(data.shape[0],), vth=p["vth_in"], spike_exp=p["spike_exp"], state_exp=p["state_exp"],
                  cum_error=p["cum_error"])
    d1 = Dense(weights=w1, num_message_bits=16)
    sd = SigmaDelta(shape=(w1.shape[0],), vth=p["vth"], bias=p["bias"], spike_exp=p["spike_exp"],
                    state_exp=p["state_exp"], act_mode=ActivationMode.RELU if p["relu"] else ActivationMode.UNIT,
                    cum_error=p["cum_error"])
    d2 = Dense(weights=w2, num_message_bits=16)
    sig = Sigma(shape=(w2.shape[0],))
    sink = SinkBuffer(shape=(w2.shape[0],), buffer=steps)
    src.s_out.connect(delta.a_in)
    delta.s_out.connect(d1.s_in)
    d1.a_out.connect(sd.a_in)
    sd.s_out.connect(d2.s_in)
    d2.a_out.connect(sig.a_in)
    sig.s_out.connect(sink.a_in)
    probes = {"delta.act": delta.act, "delta.residue": delta.residue, "sd.sigma": sd.sigma, "sd.act": sd.act,
              "sd.residue": sd.residue, "sd.error": sd.error, "sig.sigma": sig.sigma}
    monitors = {}
    for k, var in probes.items():
        m = Monitor()
        m.probe(var, steps)
        monitors[k] = (m, var)
    try:
        sink.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        out = sink.data.get().astype(np.int64).T
        states = {}
        for k, (m, var) in monitors.items():
            (proc,) = m.get_data().values()
            states[k] = np.asarray(proc[var.name]).astype(np.int64)
    finally:
        sink.stop()
    return out, states


def _graph(n_in, w1, w2, p):
    s = p["spike_exp"] + p["state_exp"]
    g = Graph(metadata={"level": "integer", "target": "loihi2"})
    g.add_node("input", N.Input(shape=(n_in,)))
    g.add_node("delta", IntDelta(shape=(n_in,), vth=np.int64(p["vth_in"] << s), spike_exp=p["spike_exp"],
                                 state_exp=p["state_exp"], cum_error=p["cum_error"]))
    g.add_node("d1", IntDense(weight=lava_dense_weights(w1, 8)[0], input_kind="graded", acc_bits=32, out_bits=32))
    g.add_node("sd", IntSigmaDelta(shape=(w1.shape[0],), vth=np.int64(p["vth"] << s),
                                   bias=np.full(w1.shape[0], p["bias"] << s, np.int64), spike_exp=p["spike_exp"],
                                   state_exp=p["state_exp"], act_mode="relu" if p["relu"] else "unit",
                                   cum_error=p["cum_error"]))
    g.add_node("d2", IntDense(weight=lava_dense_weights(w2, 8)[0], input_kind="graded", acc_bits=32, out_bits=32))
    g.add_node("sig", IntSigma(shape=(w2.shape[0],)))
    g.add_node("output", N.Output(shape=(w2.shape[0],)))
    g.add_edge("input", "delta")
    g.add_edge("delta", "d1")
    g.add_edge("d1", "sd", delay=1)
    g.add_edge("sd", "d2")
    g.add_edge("d2", "sig", delay=1)
    g.add_edge("sig", "output")
    return g


CASES = [
    dict(vth_in=3, vth=2, bias=1, spike_exp=6, state_exp=6, relu=True, cum_error=False),
    dict(vth_in=1, vth=5, bias=-3, spike_exp=0, state_exp=2, relu=False, cum_error=False),
    dict(vth_in=4, vth=3, bias=2, spike_exp=3, state_exp=4, relu=True, cum_error=True),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_sdn_chain_is_bit_exact_with_lava(case):
    p = CASES[case]
    rng = np.random.default_rng(case)
    n_in, n_hid, n_out, steps = 6, 5, 4, 24
    data = rng.integers(-40, 60, size=(n_in, steps)).astype(np.int64)
    data[:, steps // 2:] = data[:, steps // 2 - 1: steps // 2]   # constant stretch: deltas go quiet
    w1 = (rng.integers(-60, 60, size=(n_hid, n_in)) * 2).astype(np.int64)
    w2 = (rng.integers(-60, 60, size=(n_out, n_hid)) * 2).astype(np.int64)
    out, states = _run_lava(data, w1, w2, p)
    tr = simulate(_graph(n_in, w1, w2, p), data.T[None], record="all", record_states=True)
    assert np.array_equal(tr.outputs["output"][0], out), "Sigma outputs differ"
    assert np.any(out != 0)
    for key, lava in states.items():
        ours = tr.states[key][0]
        assert np.array_equal(ours, lava), f"{key} differs: first at {np.argwhere(ours != lava)[:1]}"
