"""Fuzzing (issue 8): random valid float graphs — mixed neuron kinds, conv and dense shapes,
recurrence, whole-window LM-HT mixing — compile for every target, and the lowered graphs run
bit-exact on the simulator and the generated C (every output and state, every step).

Each hypothesis example draws a batch of graph seeds; every graph is compiled for sim, fpga and
loihi2 (LM-HT's non-causal TimeMix streams there one window late: IntTimeMix latency = window),
and per target the lowered graphs are put side by side in one graph so that one gcc build checks
the whole batch. Cases per CI run: ``CI_EXAMPLES * BATCH`` graphs x 3 targets (>= 1000); the
local long profile: ``SNNC_FUZZ=long``. The C is built at -O0 here (the code has no undefined
behaviour, so every level computes the same values; -O2 builds are checked in
tests/backends/fpga, and test_generated_c_has_no_undefined_behaviour runs the C under UBSan).
The Lava counterpart (sim vs Lava on the loihi2 graphs) is tests/lava/test_fuzz_lava.py.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.fpga import CModel
from snnc.backends.sim import simulate
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.verify import compare_traces, random_inputs
from snnc.tests.helper_modules import load

pytestmark = pytest.mark.gcc

RF = load("robustness/random_float_graphs.py")

BATCH = 25
CI_EXAMPLES = 14                      # 14 x 25 graphs x 3 targets = 1050 compiled and verified cases
LONG = os.environ.get("SNNC_FUZZ") == "long"
EXAMPLES = 200 if LONG else CI_EXAMPLES
TARGETS = ("sim", "fpga", "loihi2")


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    monkeypatch.setenv("SNNC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "snnc-cache"))


def compile_all(seeds: list[int]) -> dict[str, list]:
    lowered: dict[str, list] = {t: [] for t in TARGETS}
    for seed in seeds:
        graph = RF.random_float_graph(seed)
        for target in TARGETS:
            low, report = compile_graph(graph, make_config(target))
            assert low.metadata.get("level") == "integer" and report["totals"]["neurons"] > 0
            lowered[target].append(low)
    return lowered


def verify_batch(graphs: list, seed: int) -> tuple[int, int]:
    merged = RF.merge_graphs(graphs)
    w = RF.window_of(merged)
    x = random_inputs(merged, 2, 4 * w * (3 if w < 4 else 1), seed=seed, rate=0.4)
    ref = simulate(merged, x, record="all", record_states=True)
    got = CModel(merged, opt="-O0").run(x, record="all", record_states=True)
    cmp = compare_traces({"sim": ref, "fpga": got})
    assert cmp.bit_exact, cmp.first_mismatch
    active = sum(int(np.any(v)) for k, v in ref.outputs.items() if k.endswith(".output"))
    return cmp.compared, active


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.integers(0, 2 ** 31 - 1), min_size=BATCH, max_size=BATCH, unique=True))
def test_random_graphs_compile_for_every_target_and_run_bit_exact(seeds):
    lowered = compile_all(seeds)
    active = 0
    for graphs in lowered.values():
        if graphs:
            _, a = verify_batch(graphs, seeds[0])
            active += a
    assert active > 0                      # the fuzz exercises spiking networks, not silent ones


def test_fuzz_case_count_meets_the_ci_budget():
    assert CI_EXAMPLES * BATCH * len(TARGETS) >= 1000
