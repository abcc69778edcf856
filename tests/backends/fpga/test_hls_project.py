"""The HLS project as Vitis would see it: pragmas that follow the (per-layer) reuse factor, a
resource estimate computed from the same numbers, the part's budget check, the top function's
interface, the build script; and the typed branch (ap_int<N>, the headers from the installed
hls4ml package) compiled and run on every example model and on random integer graphs, equal to
the plain build and to the simulator."""

from __future__ import annotations

import glob
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import snnc
from snnc.backends.fpga import format_resources, generate_sources, plan_model, write_project
from snnc.backends.fpga.ap_types import ap_types_dir
from snnc.backends.fpga.pragmas import PIPELINE_DEPTH
from snnc.backends.fpga.resources import estimate_resources
from snnc.backends.sim import simulate
from snnc.ir.errors import UnsupportedError
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.verify import vectors_for_testbench
from snnc.tests.helper_modules import load

pytestmark = pytest.mark.gcc
REPO = Path(__file__).resolve().parents[3]
MODELS = sorted(glob.glob(str(REPO / "examples" / "models" / "*.nir")))


RG = load("backends/fpga/random_int_graphs.py")


def _lowered(path: str):
    return compile_graph(snnc.load(path), make_config("fpga"))[0]


def _functions(src: str) -> dict[str, str]:
    """{node name: text of its layer function} of a generated snnc_model.cpp."""
    parts = re.split(r"^/\* node '([^']+)'", src, flags=re.M)
    return {parts[i]: parts[i + 1].split("\n}\n", 1)[0] for i in range(1, len(parts), 2)}


def _check_pragmas_match_estimate(src: str, res: dict) -> None:
    funcs = _functions(src)
    plan_layers = res["layers"]
    assert funcs, "no layer functions found"
    for name, text in funcs.items():
        row = plan_layers[name]
        assert "#pragma HLS INLINE off" in text, name
        if row["trips"] and row["kind"] in ("IntDense", "IntConv2d", "IntComplexDense", "SumPool2d", "IntTimeMix"):
            assert f"#pragma HLS PIPELINE II={row['ii']}" in text, (name, row)
            assert "#pragma HLS UNROLL\n" in text, name
            assert row["cycles_per_step"] in (row["trips"] * row["ii"] + PIPELINE_DEPTH,
                                              -(-(row["trips"] * row["ii"] + PIPELINE_DEPTH) // res["window"]))
        elif row["lanes"] > 1:
            assert f"#pragma HLS UNROLL factor={row['lanes']}" in text, (name, row)
            assert "#pragma HLS PIPELINE II=1" in text, name
        for m in re.finditer(r"ARRAY_PARTITION variable=(\w+) cyclic factor=(\d+)", text):
            assert int(m.group(2)) == row["lanes"], (name, m.group(0))


def test_firmware_follows_the_reuse_factor_and_the_estimate_matches():
    g = _lowered(str(REPO / "examples" / "models" / "digits_lif.nir"))
    sources, estimates = {}, {}
    for R in (1, 4, 16):
        plan, files = generate_sources(g, R)
        sources[R] = files["firmware/snnc_model.cpp"]
        estimates[R] = estimate_resources(plan)
        _check_pragmas_match_estimate(sources[R], estimates[R])
        assert estimates[R]["reuse_factor"] == R
    assert len(set(sources.values())) == 3, "firmware must differ between reuse factors"
    # more reuse: fewer lanes and multipliers, more cycles, never fewer
    m = [estimates[R]["total"]["multipliers"] for R in (1, 4, 16)]
    c = [estimates[R]["total"]["cycles_per_step"] for R in (1, 4, 16)]
    assert m[0] > m[1] > m[2] and c[0] < c[1] < c[2]
    # the estimate of a layer equals ceil(P / R) lanes x multiplies per lane
    for name, row in estimates[4]["layers"].items():
        row1 = estimates[1]["layers"][name]
        if row1["lanes"]:
            assert row["lanes"] == -(-row1["lanes"] // 4), name
    # plain Python numbers in the JSON
    json.dumps(estimates[4])


def test_per_layer_reuse_factor():
    g = _lowered(str(REPO / "examples" / "models" / "quickstart_lif.nir"))
    plan = plan_model(g)
    dense = [n for n, c in plan.codes.items() if type(plan.specs[n].node).__name__ == "IntDense"]
    target = dense[0]
    reuse = {"default": 2, target: 8}
    plan2, files = generate_sources(g, reuse)
    res = estimate_resources(plan2)
    assert res["reuse_factor"] == {n: (8 if n == target else 2) for n in plan2.codes}
    assert res["layers"][target]["reuse_factor"] == 8
    _check_pragmas_match_estimate(files["firmware/snnc_model.cpp"], res)
    base = estimate_resources(plan_model(g, 2))
    assert res["layers"][target]["lanes"] < base["layers"][target]["lanes"]
    others = [n for n in plan2.codes if n != target]
    assert all(res["layers"][n] == base["layers"][n] for n in others)
    with pytest.raises(UnsupportedError, match="unknown node"):
        plan_model(g, {"no_such_node": 4})
    with pytest.raises(UnsupportedError, match=">= 1"):
        plan_model(g, 0)


def test_part_budget_warnings():
    """A 1024-2048-2048 net at reuse factor 1 far exceeds a small part's DSPs: a clear warning with
    the reuse factor that would fit; a large part or a large reuse factor is quiet."""
    from snnc.ir import intnodes as IN
    from snnc.ir import nodes as N
    from snnc.ir.graph import Graph

    rng = np.random.default_rng(0)
    g = Graph(metadata={"level": "integer", "name": "wide"})
    g.add_node("input", N.Input(shape=(1024,)))
    prev, sizes = "input", (1024, 2048, 2048)
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        g.add_node(f"fc{i}", IN.IntDense(weight=rng.integers(-100, 100, (b, a)), input_kind="graded"))
        g.add_node(f"lif{i}", IN.IntCubaLIF(shape=(b,), current_mult=3000, voltage_mult=3500, threshold=1000))
        g.add_edge(prev, f"fc{i}")
        g.add_edge(f"fc{i}", f"lif{i}")
        prev = f"lif{i}"
    g.add_node("output", N.Output(shape=(2048,)))
    g.add_edge(prev, "output")
    plan = plan_model(g, 1)
    res = estimate_resources(plan, part="xc7z020clg400-1")
    assert res["part"]["device"] == "xc7z020" and res["part"]["dsp"] == 220
    assert any("DSP48" in w and "xc7z020" in w and "reuse factor of" in w for w in res["warnings"]), res["warnings"]
    assert "WARNING" in format_resources(res)
    R = int(re.search(r"reuse factor of (\d+)", res["warnings"][0]).group(1))
    fits = estimate_resources(plan_model(g, R), part="xc7z020clg400-1")
    assert fits["total"]["multipliers"] <= 220 and not any("DSP48" in w for w in fits["warnings"])
    big = estimate_resources(plan_model(g, 64), part="xcu250-figd2104-2L-e")
    assert not any("DSP48" in w for w in big["warnings"])
    assert estimate_resources(plan, part="xc9unknown")["part"] == {"name": "xc9unknown", "known": False}
    # the weights need BRAM, and more lanes means more (smaller) banks, never fewer blocks
    assert res["layers"]["fc1"]["bram18"] > 0


def test_project_interface_tcl_and_readme(tmp_path):
    g = _lowered(str(REPO / "examples" / "models" / "quickstart_lif.nir"))
    info = write_project(g, str(tmp_path / "a"), reuse_factor=4, part="xczu9eg-ffvb1156-2-e")
    src = (tmp_path / "a" / "firmware" / "snnc_model.cpp").read_text()
    top = src[src.index("void snnc_top("):]
    assert "#pragma HLS INTERFACE mode=ap_ctrl_hs port=return" in top
    assert re.search(r"#pragma HLS INTERFACE mode=axis port=in_n\d+", top)
    assert re.search(r"#pragma HLS INTERFACE mode=axis port=out_n\d+", top)
    readme = (tmp_path / "a" / "README.md").read_text()
    assert "AXI4-Stream" in readme and "ap_ctrl_hs" in readme and "reuse factor 4" in readme
    write_project(g, str(tmp_path / "b"), interface="ap_memory")
    assert "mode=ap_memory port=in_" in (tmp_path / "b" / "firmware" / "snnc_model.cpp").read_text()
    with pytest.raises(UnsupportedError, match="interface"):
        write_project(g, str(tmp_path / "c"), interface="bram")
    tcl = (tmp_path / "a" / "build_prj.tcl").read_text()
    steps = [tcl.index(s) for s in ("csim_design", "csynth_design", "cosim_design", "export_design")]
    assert steps == sorted(steps), "hls4ml's order: csim, synth, cosim, export"
    assert "source project.tcl" in tcl and "set_part $part" in tcl and "-DSNNC_AP_TYPES" in tcl
    proj = (tmp_path / "a" / "project.tcl").read_text()
    assert "set part {xczu9eg-ffvb1156-2-e}" in proj and "set reuse_factor 4" in proj
    assert info["resources"]["part"]["device"] == "xczu9eg"
    # one top signature for both branches: the ports are standard intN_t types in the typed branch too
    types = (tmp_path / "a" / "firmware" / "snnc_types.h").read_text()
    typed, plain = types.split("#else")
    for port in re.findall(r"typedef (\w+) (n\d+_port_t);", plain):
        assert f"typedef {port[0]} {port[1]};" in typed


@pytest.mark.gcc
def test_typed_branch_equals_plain_and_simulator(tmp_path):
    """Every example model, three random integer graphs and two driven to their bounds, built twice
    from one project (gcc with intN_t, g++ with ap_int<N> from hls4ml's headers) in one make -j2:
    both testbenches reproduce
    the simulator's outputs exactly, and their output files are identical."""
    ap = ap_types_dir()
    if ap is None:     # a skip fails where gcc tests are required (SNNC_REQUIRE=gcc: the main env)
        pytest.skip("ap_int.h not found: install hls4ml (pip install --no-deps hls4ml; .ci/setup does)")
    make = shutil.which("make")
    if make is None or shutil.which("g++") is None:
        pytest.skip("make and g++ are needed")
    graphs = [(Path(p).stem, _lowered(p)) for p in MODELS]
    graphs += [(f"random{s}", RG.random_int_graph(s)) for s in (3, 11, 29)]
    graphs += [(f"near{s}", RG.near_bound_graph(s)) for s in (5, 17)]
    names = []
    for name, g in graphs:
        w = plan_model(g).window
        tb_in, tb_out = vectors_for_testbench(g, samples=2, steps=6 * w)
        if name.startswith("random"):     # graded values over the input ports' range, not just spikes
            tb_in = RG.random_inputs(g, 5, steps=6 * w)
            tb_out = simulate(g, tb_in).outputs
        if name.startswith("near"):       # inputs at +-max_abs: values at the bounds of the narrow types
            tb_in = RG.near_bound_inputs(g, 5, steps=6 * w)
            tb_out = simulate(g, tb_in).outputs
        write_project(g, str(tmp_path / name), inputs=tb_in, expected=tb_out, reuse_factor=2)
        names.append(name)
    rules = "".join(f"{n}/done:\n\t$(MAKE) -C {n} csim csim-typed AP_TYPES={ap} > {n}/make.log 2>&1; "
                    f"echo $$? > {n}/done\n" for n in names)
    (tmp_path / "Makefile").write_text("all: " + " ".join(f"{n}/done" for n in names) + "\n" + rules)
    subprocess.run([make, "-j2", "-C", str(tmp_path)], capture_output=True, text=True, check=True)
    for n in names:
        log = (tmp_path / n / "make.log").read_text()
        assert (tmp_path / n / "done").read_text().strip() == "0", f"{n}:\n{log[-3000:]}"
        assert log.count("snnc tb: 0 of ") == 2, f"{n}:\n{log[-3000:]}"
        plain = (tmp_path / n / "tb_data" / "csim_output.dat").read_text()
        typed = (tmp_path / n / "tb_data" / "csim_typed_output.dat").read_text()
        assert plain == typed and plain.strip(), n
    # the typed branch really is ap_int: the typed typedefs name ap_int<N> of the proven widths
    types = (tmp_path / names[0] / "firmware" / "snnc_types.h").read_text()
    assert re.search(r"typedef ap_int<\d+> n\d+_acc_t;", types)


def test_estimate_counts_no_multiplier_for_trivial_decays_and_states_worst_case_cycles():
    """A decay by 0 or by a power of two (4096 = 1.0) is a shift, not a DSP; per-neuron decays are
    multipliers. Conv cycles are the worst case, and with an input activity the estimate adds the
    expected figure of the event-driven conv (dense layers pipeline every input anyway)."""
    from snnc.ir import intnodes as IN
    from snnc.ir import nodes as N
    from snnc.ir.graph import Graph

    def lif_graph(cm, vm):
        g = Graph(metadata={"level": "integer", "name": "lif"})
        g.add_node("input", N.Input(shape=(4,)))
        g.add_node("fc", IN.IntDense(weight=np.ones((8, 4), np.int64), input_kind="binary"))
        g.add_node("lif", IN.IntCubaLIF(shape=(8,), current_mult=cm, voltage_mult=vm, threshold=10))
        g.add_node("output", N.Output(shape=(8,)))
        for a, b in (("input", "fc"), ("fc", "lif"), ("lif", "output")):
            g.add_edge(a, b)
        return g

    mults = {}
    for cm, vm in ((0, 4096), (0, 2048), (0, 3000), (np.arange(8) * 100, 4096), (1000, 3000)):
        res = estimate_resources(plan_model(lif_graph(cm, vm)))
        mults[(str(cm), vm)] = res["layers"]["lif"]["multipliers"]
    assert list(mults.values()) == [0, 0, 8, 8, 16]
    assert estimate_resources(plan_model(lif_graph(0, 4096)))["total"]["multipliers"] == 0   # spikes: adds only

    g = Graph(metadata={"level": "integer", "name": "conv"})
    g.add_node("input", N.Input(shape=(2, 8, 8)))
    g.add_node("conv", IN.IntConv2d(input_shape=(8, 8), weight=np.ones((4, 2, 3, 3), np.int64), padding=(1, 1),
                                    input_kind="binary"))
    g.add_node("output", N.Output(shape=(4, 8, 8)))
    g.add_edge("input", "conv")
    g.add_edge("conv", "output")
    plan = plan_model(g)
    worst = estimate_resources(plan)
    assert worst["layers"]["conv"]["event_driven"] and "worst case" in worst["cycles"]
    assert "worst case" in format_resources(worst)
    sparse = estimate_resources(plan, activity=0.1)
    row = sparse["layers"]["conv"]
    assert row["cycles_per_step"] == worst["layers"]["conv"]["cycles_per_step"] == row["trips"] * row["ii"] + \
        PIPELINE_DEPTH
    assert row["cycles_per_step_expected"] == -(-row["trips"] // 10) * row["ii"] + PIPELINE_DEPTH
    assert sparse["layers"]["output"]["cycles_per_step_expected"] == sparse["layers"]["output"]["cycles_per_step"]
    assert sparse["total"]["cycles_per_step_expected"] < sparse["total"]["cycles_per_step"]
    assert "at input activity 0.1" in format_resources(sparse)
