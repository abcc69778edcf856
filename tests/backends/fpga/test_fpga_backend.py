"""FPGA backend: the generated C (gcc -O2 -Wall -Werror, run through ctypes) equals the simulator
bit for bit — every node output and every state, every step (``np.array_equal`` via
``compare_traces``) — on every shipped and shared model for every target, on hand-built graphs
of every integer node kind, on the seed neurons lowered from float, and on random graphs; plus
the project layout, the testbench, the build cache and the error paths."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import snnc
from snnc.backends.fpga import layers as L
from snnc.backends.fpga import neurons as NEU
from snnc.backends.fpga import plan_model, run_fpga, write_project
from snnc.backends.fpga.build import build
from snnc.backends.sim import simulate
from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import SnncError, UnsupportedError
from snnc.passes.targets import make_config
from snnc.runtime.cli import cli
from snnc.runtime.compile import compile_graph
from snnc.runtime.verify import compare_traces, random_inputs, vectors_for_testbench
from snnc.tests.helper_modules import load

pytestmark = pytest.mark.gcc
#: warnings as errors; the HLS pragmas are unknown to gcc (the Makefile passes the same flags)
STRICT = ("-Wall", "-Werror", "-Wno-unknown-pragmas")
REPO = Path(__file__).resolve().parents[3]


LG = load("backends/lava/lava_graphs.py")
RG = load("backends/fpga/random_int_graphs.py")
SEED = load("passes/test_lower_seed_neurons.py")


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    monkeypatch.setenv("SNNC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "snnc-cache"))


def assert_bit_exact(graph, inputs, steps=None):
    ref = simulate(graph, inputs, steps=steps, record="all", record_states=True)
    got = run_fpga(graph, inputs, steps=steps, record="all", record_states=True)
    assert set(got.outputs) == set(ref.outputs)
    assert set(got.states) == set(ref.states)
    cmp = compare_traces({"sim": ref, "fpga": got})
    assert cmp.bit_exact, cmp.first_mismatch
    return ref


def _models():
    shared = REPO.parent / "shared" / "models"
    return sorted(glob.glob(str(REPO / "examples" / "models" / "*.nir"))) + sorted(glob.glob(str(shared / "*.nir")))


@pytest.mark.parametrize("target", ["sim", "fpga", "loihi2"])
@pytest.mark.parametrize("path", _models(), ids=lambda p: os.path.basename(p))
def test_models_bit_exact(path, target):
    graph = snnc.load(path)
    lowered, _ = compile_graph(graph, make_config(target))
    if target == "loihi2" and any(isinstance(n, N.TimeMix) for n in graph.nodes.values()):
        # LM-HT's mixing streams one window late: a per-step C kernel (no whole-window top)
        assert all(n.streaming for n in lowered.nodes.values() if isinstance(n, INN.IntTimeMix))
        assert plan_model(lowered).window == 1
    w = plan_model(lowered).window
    inputs = random_inputs(lowered, 2, 8 * w, seed=3, rate=0.3)
    ref = assert_bit_exact(lowered, inputs)
    assert any(np.any(v) for v in ref.outputs.values())


@pytest.mark.parametrize("graded", [False, True])
@pytest.mark.parametrize("name", sorted(LG.HAND_GRAPHS))
def test_hand_graphs_every_node_kind(name, graded):
    g = LG.HAND_GRAPHS[name]()
    assert_bit_exact(g, LG.spike_inputs(g, 2, 24, graded=graded))


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("kind", ["LMHT", "CLIF", "RF", "LNM", "LIFB"])
@pytest.mark.parametrize("target", ["sim", "fpga", "loihi2"])
def test_seed_neurons_lowered_from_float(kind, bias, target):
    cases = SEED.cases(bias)
    if kind not in cases:
        pytest.skip("no such case")
    g, int_type = cases[kind]
    lowered, _ = compile_graph(g, make_config(target))
    assert any(isinstance(n, int_type) for n in lowered.nodes.values())
    rng = np.random.default_rng(0)
    x = {n: rng.integers(-100, 100, (3, 16, *lowered.nodes[n].shape)) for n in lowered.input_names()}
    assert_bit_exact(lowered, x)


def test_every_integer_node_kind_has_a_c_kernel():
    kinds = {IN.IntDense, IN.IntConv2d, IN.IntCubaLIF, INN.IntComplexDense, INN.IntLIFB, INN.IntCLIF, INN.IntRF,
             INN.IntTimeMix, INN.IntLMHT, INN.IntBinaryLMHT, INN.IntLNM, INN.ConstantSource, N.SumPool2d,
             N.Flatten, N.Output}
    assert kinds <= set(L.GENERATORS)
    # every integer node type of the IR has a kernel (a new node kind must come with its C)
    from snnc.ir.nodes import NODE_TYPES

    int_types = {t for t in NODE_TYPES.values()
                 if t.__module__ in (IN.__name__, INN.__name__, "snnc.ir.intsdn") and t is not IN.IntNode}
    assert {"IntSigma", "IntDelta", "IntSigmaDelta"} <= {t.__name__ for t in int_types}
    assert int_types <= set(L.GENERATORS), sorted(t.__name__ for t in int_types - set(L.GENERATORS))


@pytest.mark.parametrize("target", ["sim", "fpga"])
def test_time_multiplexed_lmht(target):
    """LM-HT's binary L x T reparameterisation (passes/reparam_lmht.py): IntBinaryLMHT, block-start
    mixing and block collectors run bit-exact in C (sub-step traces)."""
    REP = load("passes/test_reparam_lmht.py")
    lowered, _ = compile_graph(REP._float_lmht(), make_config(target, REP.BINARY))
    assert any(isinstance(n, INN.IntBinaryLMHT) for n in lowered.nodes.values())
    w = plan_model(lowered).window
    rng = np.random.default_rng(2)
    x = {"input": (rng.random((3, 3 * w, 10)) < 0.5) * rng.integers(-60, 100, (3, 3 * w, 10))}
    ref = assert_bit_exact(lowered, x)
    assert any(np.any(v) for k, v in ref.outputs.items() if k.startswith("lmht"))
    # per-step data through run_backend: every backend alike, equal to run_graph (the sim path)
    from snnc.runtime.run import run_graph
    from snnc.runtime.verify import run_backend

    xs = {"input": (rng.random((2, 8, 10)) < 0.5).astype(np.int64)}
    a = run_graph(lowered, xs["input"], record="all", record_states=True)
    for backend in ("sim", "fpga"):
        b = run_backend(backend, lowered, xs)
        assert set(b.outputs) == set(a.outputs)
        for k, v in a.outputs.items():
            assert np.array_equal(b.outputs[k], v), (backend, k)


STREAM = load("passes/test_streaming_lmht.py")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 31 - 1), layers=st.integers(1, 3), window=st.integers(2, 4), bias=st.booleans(),
       leaks=st.lists(st.sampled_from([0.6, 1.0, 1.45]), min_size=3, max_size=3),
       v_inits=st.lists(st.sampled_from([-0.3, 0.0, 0.9]), min_size=3, max_size=3))
def test_streaming_lmht_bit_exact(seed, layers, window, bias, leaks, v_inits):
    """loihi2-lowered LM-HT chains (streaming IntTimeMix with phase, IntLMHT with phase): the
    C stepping kernels equal the simulator, every output and state (the mixing's window
    buffers too), every step, over the pre-roll and several windows."""
    g = STREAM.lmht_chain(seed, layers=layers, window=window, leaks=leaks, v_inits=v_inits, bias=bias)
    lowered, _ = compile_graph(g, make_config("loihi2"))
    assert any(isinstance(n, INN.IntTimeMix) and n.streaming for n in lowered.nodes.values())
    T = 3 * window + max(int(n.hw["latency"]) for n in lowered.nodes.values())
    rng = np.random.default_rng(seed)
    ref = assert_bit_exact(lowered, {"input": (rng.random((2, T, 10)) < 0.4).astype(np.int64)})
    # a draw whose LM-HT layers stay silent compared only zeros: not a failure, but not a case either
    assume(any(np.any(v) for k, v in ref.outputs.items() if k.startswith("lmht")))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 31 - 1))
def test_random_graphs_bit_exact(seed):
    g = RG.random_int_graph(seed)
    w = RG.window_of(g)
    assert_bit_exact(g, RG.random_inputs(g, seed, steps=4 * w * (3 if w < 4 else 1)))


def test_a_wrong_kernel_is_caught(monkeypatch):
    """The comparison has teeth: a C kernel that doubles the threshold differs."""
    g = LG.lif_variants()
    x = LG.spike_inputs(g, 2, 24, graded=True)
    x = {k: v * 40 for k, v in x.items()}
    monkeypatch.setattr(NEU, "_fire", lambda comparison, h, thr: f"snnc_fire_gt({h}, 2 * {thr})")
    ref = simulate(g, x, record="all", record_states=True)
    got = run_fpga(g, x, record="all", record_states=True)
    assert not compare_traces({"sim": ref, "fpga": got}).bit_exact


def test_windowed_graph_and_delays_across_windows():
    """LM-HT's whole-window TimeMix makes the top function process a window of 4 steps; edges
    with delays longer than the window read the kept history."""
    g, _ = SEED.cases(False)["LMHT"]
    lowered, _ = compile_graph(g, make_config("fpga"))
    lowered.edges = [e if e.dst != "fc2" else type(e)(e.src, e.dst, 6) for e in lowered.edges]
    assert plan_model(lowered).window == 4
    rng = np.random.default_rng(1)
    assert_bit_exact(lowered, {"input": rng.integers(-90, 90, (2, 16, 10))})
    with pytest.raises(UnsupportedError, match="multiple of the model's window"):
        run_fpga(lowered, {"input": np.zeros((1, 10, 10), np.int64)})


def test_record_outputs_only_and_steps():
    g = LG.conv_pool()
    x = LG.spike_inputs(g, 2, 10)
    got = run_fpga(g, x, steps=14)
    ref = simulate(g, x, steps=14)
    assert set(got.outputs) == {"output"} and not got.states
    assert np.array_equal(got.outputs["output"], ref.outputs["output"])


def test_errors_are_clear():
    g = LG.lif_variants()
    with pytest.raises(SnncError, match="input port"):
        run_fpga(g, {"input": np.full((1, 4, 10), 2 ** 40, np.int64)})
    with pytest.raises(SnncError, match="integer-valued"):
        run_fpga(g, {"input": np.full((1, 4, 10), 0.5)})
    with pytest.raises(UnsupportedError, match="lowered integer graph"):
        run_fpga(snnc.load(str(REPO / "examples" / "models" / "quickstart_lif.nir")), np.zeros((1, 4, 16)))


def test_build_cache_by_content():
    g = LG.lif_variants()
    _, lib1, _ = build(g)
    _, lib2, hit = build(g)
    assert hit and lib1 == lib2
    g.nodes["d1"].weight = g.nodes["d1"].weight + 1
    _, lib3, hit3 = build(g)
    assert not hit3 and lib3 != lib1


def test_project_builds_with_make_and_testbench_passes(tmp_path):
    g = LG.seed_neurons()
    tb_in, tb_out = vectors_for_testbench(g, samples=2, steps=14)
    info = write_project(g, str(tmp_path / "hls"), inputs=tb_in, expected=tb_out)
    proj = tmp_path / "hls"
    for rel in ("firmware/snnc_model.cpp", "firmware/snnc_model.h", "firmware/parameters.h",
                "firmware/snnc_types.h", "firmware/snnc_numerics.h", "tb/tb_snnc.cpp", "lib/snnc_lib.cpp",
                "Makefile", "build_prj.tcl", "tb_data/tb_input.dat", "tb_data/tb_output_expected.dat",
                "resources.json"):
        assert (proj / rel).is_file(), rel
    src = (proj / "firmware" / "snnc_model.cpp").read_text()
    assert "malloc" not in src and "new " not in src
    assert "ap_int<" in (proj / "firmware" / "snnc_types.h").read_text()
    assert "set_top snnc_top" in (proj / "build_prj.tcl").read_text()
    assert info["resources"]["total"]["weight_bits"] > 0
    make = shutil.which("make")
    if make:
        res = subprocess.run([make, "-C", str(proj), "csim"], capture_output=True, text=True)
    else:                                   # the Makefile's commands, without make
        exe = proj / "tb_snnc"
        subprocess.run(["gcc", "-O2", *STRICT, "-o", str(exe), str(proj / "firmware/snnc_model.cpp"),
                        str(proj / "tb/tb_snnc.cpp")], check=True)
        res = subprocess.run([str(exe)], cwd=proj, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 of " in res.stdout
    # a wrong expected value makes the testbench fail
    exp = proj / "tb_data" / "tb_output_expected.dat"
    rows = exp.read_text().splitlines()
    rows[0] = " ".join(str(int(v) + 1) for v in rows[0].split())
    exp.write_text("\n".join(rows) + "\n")
    res = subprocess.run([str(proj / "tb_snnc")], cwd=proj, capture_output=True, text=True)
    assert res.returncode == 1 and "0 of " not in res.stdout


def test_generated_code_is_valid_cpp_with_strict_warnings(tmp_path):
    """The firmware also compiles as C++14 with -Wextra (what Vitis HLS's front end sees, minus ap_int)."""
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("g++ not found")
    write_project(RG.random_int_graph(7), str(tmp_path / "p"))
    res = subprocess.run([gxx, "-std=c++14", "-O1", "-Wextra", *STRICT, "-c", "-o", str(tmp_path / "m.o"),
                          str(tmp_path / "p" / "firmware" / "snnc_model.cpp")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_cli_compile_run_verify(tmp_path):
    runner = CliRunner()
    model = str(REPO / "examples" / "models" / "quickstart_lif.nir")
    out = tmp_path / "q"
    res = runner.invoke(cli, ["compile", model, "--target", "fpga", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "BRAM18" in res.output and (out / "hls" / "firmware" / "snnc_model.cpp").is_file()
    report = json.loads((out / "report.json").read_text())
    assert set(report["resources"]["total"]) >= {"weight_bits", "bram18", "multipliers", "state_bits",
                                                 "cycles_per_step"}
    res = runner.invoke(cli, ["run", str(out), "--backend", "fpga", "--input",
                              str(REPO / "examples" / "data" / "quickstart_input.npy"), "--out",
                              str(tmp_path / "t.npz"), "--record", "all"])
    assert res.exit_code == 0, res.output
    res_sim = runner.invoke(cli, ["run", str(out), "--backend", "sim", "--input",
                                  str(REPO / "examples" / "data" / "quickstart_input.npy"), "--out",
                                  str(tmp_path / "s.npz"), "--record", "all"])
    assert res_sim.exit_code == 0, res_sim.output
    a, b = np.load(tmp_path / "t.npz"), np.load(tmp_path / "s.npz")
    assert sorted(a.files) == sorted(b.files)
    for k in a.files:
        assert np.array_equal(a[k], b[k]), k
    res = runner.invoke(cli, ["verify", model, "--backends", "sim,fpga", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["bit_exact"] is True and doc["mismatches"] == 0 and doc["compared"] > 0
    assert doc["first_mismatch"] is None


def test_generated_c_has_no_undefined_behaviour(tmp_path):
    """The testbench built with UBSan (-fsanitize=undefined, abort on the first finding) runs 20
    random graphs with wide graded inputs (wrapping and saturating states) without a finding: the
    C relies on no undefined behaviour, so every optimization level computes the same values."""
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    if subprocess.run(["gcc", "-fsanitize=undefined", "-o", str(tmp_path / "probe"), str(probe)],
                      capture_output=True).returncode != 0:
        pytest.skip("gcc has no UBSan runtime here")
    RFG = load("robustness/random_float_graphs.py")
    graphs = [RG.random_int_graph(seed) for seed in range(500, 520)]
    merged = RFG.merge_graphs(graphs)
    w = RFG.window_of(merged)
    rng = np.random.default_rng(0)
    x = {n: (rng.random((2, 8 * w, *merged.nodes[n].shape)) < 0.5) * rng.integers(-2000, 2000, (2, 8 * w,
                                                                                              *merged.nodes[n].shape))
         for n in merged.input_names()}
    expected = simulate(merged, x).outputs
    write_project(merged, str(tmp_path / "p"), inputs=x, expected=expected)
    proj = tmp_path / "p"
    exe = proj / "tb_ubsan"
    res = subprocess.run(["gcc", "-O1", *STRICT, "-fsanitize=undefined", "-fno-sanitize-recover=all",
                          "-o", str(exe), str(proj / "firmware/snnc_model.cpp"), str(proj / "tb/tb_snnc.cpp")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([str(exe)], cwd=proj, capture_output=True, text=True)
    assert "runtime error" not in res.stderr, res.stderr[:2000]
    assert res.returncode == 0 and "0 of " in res.stdout, res.stdout + res.stderr[:2000]
