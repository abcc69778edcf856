"""Fuzzing against real Lava (issue 8, Lava env): random valid float graphs compiled for loihi2
run bit-exact on Lava (Loihi2SimCfg fixed_pt) and on the simulator — every output and state,
every step. One Lava process network per batch: the graphs share one Input node (Lava runs one
connected network). Lava's CPU simulation costs ~3 s per small network, so CI runs one batch of
12 graphs; ``SNNC_FUZZ=long`` runs 10 batches. The same generator's sim-vs-C fuzz (>= 1000 cases)
is tests/robustness/test_fuzz_compile_verify.py."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("lava")

from snnc.backends.lava.run import run_lava  # noqa: E402
from snnc.backends.sim import simulate  # noqa: E402
from snnc.passes.targets import make_config  # noqa: E402
from snnc.runtime.compile import compile_graph  # noqa: E402
from snnc.runtime.verify import compare_traces, random_inputs  # noqa: E402
from snnc.tests.helper_modules import load  # noqa: E402

RF = load("robustness/random_float_graphs.py")

BATCH = 12
BATCHES = 10 if os.environ.get("SNNC_FUZZ") == "long" else 1


@pytest.mark.parametrize("batch", range(BATCHES))
def test_random_graphs_bit_exact_on_lava(batch):
    seeds = [10_000 + batch * BATCH + i for i in range(BATCH)]
    lowered = [compile_graph(RF.random_float_graph(s, timemix=False, input_width=8), make_config("loihi2"))[0]
               for s in seeds]
    merged = RF.merge_graphs(lowered, shared_input=True)
    x = random_inputs(merged, 2, 12, seed=batch, rate=0.4)
    ref = simulate(merged, x, record="all", record_states=True)
    got = run_lava(merged, x, record="all", record_states=True)
    cmp = compare_traces({"sim": ref, "lava": got})
    assert cmp.bit_exact, cmp.first_mismatch
    assert cmp.compared > 10_000
    assert sum(int(np.any(v)) for k, v in ref.outputs.items() if k.endswith(".output")) > 0
