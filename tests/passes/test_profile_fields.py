"""Target quirks live in TargetProfile fields: no pass compares a target's name (issue 13,
item 2), and the Lava formats are what the loihi2 profile says."""

from __future__ import annotations

import ast
import pathlib

import numpy as np

from snnc.passes.targets import PROFILES, make_config

PASSES = pathlib.Path(__file__).resolve().parents[2] / "passes"


def _name_comparisons(tree: ast.AST) -> list[int]:
    """Line numbers of comparisons whose operand is a target name literal or a ``.name``
    attribute (``profile.name == 'loihi2'``, ``p.name in ('fpga', 'sim')``, ...)."""
    targets = set(PROFILES)
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        for operand in [node.left, *node.comparators]:
            literals = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
            if any(isinstance(x, ast.Constant) and x.value in targets for x in literals) or (
                    isinstance(operand, ast.Attribute) and operand.attr == "name"):
                bad.append(node.lineno)
                break
    return bad


def test_no_pass_compares_a_target_name():
    files = sorted(PASSES.rglob("*.py"))
    assert len(files) > 10
    found = {str(p.relative_to(PASSES)): lines for p in files if (lines := _name_comparisons(ast.parse(p.read_text())))}
    assert found == {}, f"target-name comparisons (use a TargetProfile field): {found}"


def test_the_checker_sees_name_comparisons():
    src = "a = p.name == 'loihi2'\nb = x in ('fpga', 'sim')\nc = 'loihi2' != q\nd = n == 3\n"
    assert _name_comparisons(ast.parse(src)) == [1, 2, 3]


def test_loihi2_fixes_lava_formats_and_the_others_plain_integers():
    lava = PROFILES["loihi2"]
    assert (lava.weight_format, lava.dense_acc_bits, lava.dense_out_bits, lava.conv_out_bits) == \
        ("lava_dense", 32, 32, 24)
    assert (lava.neuron_arith_bits, lava.current_overflow, lava.threshold_multiple, lava.bias_mantissa_bits,
            lava.clif_state_bits_min) == (32, "lava", 64, 16, 0)
    for name in ("sim", "fpga"):
        p = PROFILES[name]
        assert (p.weight_format, p.dense_acc_bits, p.dense_out_bits, p.conv_out_bits, p.neuron_arith_bits,
                p.current_overflow, p.threshold_multiple, p.bias_mantissa_bits, p.clif_state_bits_min) == \
            ("integer", 64, 64, 64, 64, None, 1, None, 32)
    # a config cannot change what the hardware fixes; the adjustable widths keep the quirks
    assert make_config("loihi2", {"weights": {"bits": 6}}).profile.weight_format == "lava_dense"


def test_lowering_reads_the_profile_fields():
    """The same float graph lowered with the fpga profile carrying loihi2's formats gets Lava's
    widths and grids (the lowering keys on the fields, not on the name)."""
    from dataclasses import replace

    from snnc.ir import intnodes as IN
    from snnc.ir import nodes as N
    from snnc.ir.graph import Graph
    from snnc.passes.lower_integer import lower_integer
    from snnc.passes.pipeline import CompileContext

    g = Graph(metadata={"dt": 1e-3})
    g.add_node("input", N.Input(shape=(4,)))
    g.add_node("fc", N.Linear(weight=np.random.default_rng(0).standard_normal((3, 4))))
    g.add_node("lif", N.DiscreteLIF(shape=(3,), voltage_decay=np.asarray(0.9), current_gain=np.asarray(1.0),
                                    input_gain=np.asarray(1.0), v_threshold=np.asarray(0.7)))
    g.add_node("output", N.Output(shape=(3,)))
    for a, b in [("input", "fc"), ("fc", "lif"), ("lif", "output")]:
        g.add_edge(a, b)
    lava = PROFILES["loihi2"]
    quirks = {f: getattr(lava, f) for f in ("weight_format", "dense_acc_bits", "dense_out_bits", "conv_out_bits",
                                            "neuron_arith_bits", "current_overflow", "threshold_multiple",
                                            "bias_mantissa_bits", "clif_state_bits_min")}
    cfg = make_config("fpga", {"weights": {"granularity": "tensor"}})
    out = lower_integer(g, CompileContext(config=replace(cfg, profile=replace(cfg.profile, **quirks))))
    fc, lif = out.nodes["fc"], out.nodes["lif"]
    assert isinstance(fc, IN.IntDense) and (fc.acc_bits, fc.out_bits) == (32, 32)
    assert np.all(np.asarray(fc.weight) % 2 == 0)
    assert (lif.arith_bits, lif.u_overflow) == (32, "lava") and int(lif.threshold) % 64 == 0
