"""Issue 6's "done when": ``snnc verify MODEL --backends sim,fpga,lava`` agrees on every example
model (the seven digits models and the quickstart model): the loihi2-lowered graph run on the
simulator, the generated C and Lava (Loihi2SimCfg fixed_pt), every output and state of every
node at every step, through the CLI and its JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("lava")

from snnc.runtime.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples" / "models").glob("*.nir"))


def test_every_example_model_is_listed():
    assert {p.stem for p in EXAMPLES} >= {f"digits_{k}" for k in ("lif", "cubalif", "lifb", "clif", "rf", "lmht",
                                                                   "lnm")} | {"quickstart_lif"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_verify_sim_fpga_lava_agree(path, capsys):
    rc = main(["verify", str(path), "--backends", "sim,fpga,lava", "--inputs", "2", "--steps", "20", "--json"])
    out = capsys.readouterr().out
    report = json.loads(out.strip().splitlines()[-1])
    assert rc == 0, out
    assert report["bit_exact"] is True and report["mismatches"] == 0 and report["first_mismatch"] is None
    assert report["backends"] == ["sim", "fpga", "lava"] and report["target"] == "loihi2"
    assert report["compared"] > 0
