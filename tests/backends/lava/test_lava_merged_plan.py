"""Planning the per-delay parts of a delayed dense layer as one Lava ``DelayDense`` (main env, no
lava-nc): which groups merge, the per-synapse delay matrix, the report's node table, chip status
and ``unobserved`` list, and the groups that keep one process per part (the reason in the table).
The Lava runs: tests/lava/test_lava_merged_delays.py."""

from __future__ import annotations

import warnings

import numpy as np

from snnc.backends.lava.delay_groups import find_delay_groups
from snnc.backends.lava.emit import emit_lava
from snnc.backends.lava.mapping import plan_network
from snnc.frontend.netx_import import load_net
from snnc.tests.helper_modules import load

NF = load("frontend/netx_files.py")


def _graph(tmp_path, seed: int = 7, graded: bool = True):
    rng = np.random.default_rng(seed)
    layers = [NF.input_layer([24]),
              NF.dense(NF._w(rng, (16, 24), -60, 120), NF.cuba(900, 500, 3), delay=rng.integers(0, 7, (16, 24))),
              NF.dense(NF._w(rng, (12, 16), -80, 127), NF.cuba(1200, 300, 3), delay=rng.integers(0, 10, 12))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_net(NF.write_net(tmp_path / "d.net", layers), **({"input_message_bits": 16} if graded else {}))


def test_merged_delay_dense_plan(tmp_path):
    g = _graph(tmp_path)
    groups = {dst: parts for _, dst, parts in find_delay_groups(g)}
    assert sorted(groups) == ["layer1", "layer2"] and len(groups["layer1"]) == 7
    plan = plan_network(g, {"input": 100})
    p = plan.procs["layer1.delay_dense"]
    assert p.cls == "DelayDense" and p.args["max_delay"] == 6 and p.args["num_message_bits"] > 0
    w, d = np.asarray(p.args["weights"], np.int64), p.args["delays"]
    k = p.args["weight_exp"] - g.nodes[groups["layer1"][0]].weight_exp
    union = np.zeros(w.shape, np.int64)
    for part in groups["layer1"]:                                   # each part's synapses, at its delay
        wp = np.asarray(g.nodes[part].weight, np.int64)
        delay = next(e.delay for e in g.out_edges(part)) - 1
        assert np.all(d[wp != 0] == delay)
        union += wp
    assert k >= 0 and np.array_equal(w << k, union)
    conns = [(c.src, c.dst) for c in plan.conns]
    assert conns.count(("input", "layer1.delay_dense")) == 1 and conns.count(("layer1.delay_dense", "layer1")) == 1
    assert not any(q.cls in ("SnncDelay", "SnncDense", "Dense") for q in plan.procs.values())

    report = emit_lava(g, str(tmp_path / "lava"), net=False, input_bounds={"input": 100})
    parts = groups["layer1"] + groups["layer2"]
    assert sorted(report["unobserved"]) == sorted(parts)
    assert report["processes"] == 5                                 # input, 2 DelayDense, 2 LIF
    assert all(report["chip"]["nodes"][q]["runs_on"] == "chip" for q in parts)


def test_groups_that_do_not_fit_keep_one_process_per_part(tmp_path):
    g = _graph(tmp_path)
    # graded input of unbounded size: the summed accumulator may exceed int32
    plan = plan_network(g, {"input": 2 ** 30})
    rows = {r["node"]: r for r in plan.table}
    first = [p for _, dst, ps in find_delay_groups(g) if dst == "layer1" for p in ps]
    assert all(rows[p]["process"] == p and "not merged" in rows[p]["note"] and "int32" in rows[p]["note"]
               for p in first)
    assert "layer2.delay_dense" in plan.procs                       # the binary layer is merged all the same
    # two parts sharing a synapse: no single delay for it
    a, b = first[:2]
    wb = np.asarray(g.nodes[b].weight).copy()
    i, j = np.argwhere(np.asarray(g.nodes[a].weight) != 0)[0]
    wb[i, j] = 2
    g.nodes[b].weight = wb
    rows = {r["node"]: r for r in plan_network(g, {"input": 100}).table}
    assert "share a synapse" in rows[a]["note"] and rows[b]["process"] == b


def test_verify_skips_only_the_outputs_a_backend_reports_unobserved():
    import pytest

    from snnc.ir.errors import BackendError
    from snnc.ir.trace import Trace
    from snnc.runtime.verify import compare_traces

    a = np.arange(6).reshape(1, 3, 2)
    ref = Trace(outputs={"part": a, "lif": a}, states={"lif.v": a})
    lava = Trace(outputs={"lif": a}, states={"lif.v": a}, unobserved={"part": "merged"})
    cmp = compare_traces({"sim": ref, "lava": lava})
    assert cmp.bit_exact and cmp.compared == 12 and cmp.to_json()["unobserved"] == {"part": "lava: merged"}
    with pytest.raises(BackendError, match="did not record"):
        compare_traces({"sim": ref, "lava": Trace(outputs={"lif": a}, states={"lif.v": a})})
