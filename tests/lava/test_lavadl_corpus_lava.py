"""sim = C = Lava for the ``.net`` files of lava-dl 0.6.0's tests folder, through the CLI with the
options lava-dl's own tests use (the cases of tests/runtime/test_lavadl_corpus.py):
``snnc verify x.net --backends sim,fpga,lava`` on 2-3 steps, every output and state of every
node at every step (Loihi2SimCfg fixed_pt).

``ntidigits.net`` (``--num-layers 5``): the import splits each delayed dense layer into one
synapse per distinct delay value; the Lava emitter plans each such group as one ``DelayDense``
with a per-synapse delay matrix (7 Lava processes; one per delay value took about two minutes to
build, now seconds). Those parts' own outputs cannot be read in Lava (the report lists them as
``unobserved``); their sum is checked through each layer's u, v and spikes.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("lava")

from snnc.runtime.cli import main  # noqa: E402
from snnc.tests.helper_modules import load  # noqa: E402

corpus = load("runtime/test_lavadl_corpus.py")

NAMES = sorted(corpus.CASES)


@pytest.fixture(scope="module")
def gt(netx_ground_truth):
    return netx_ground_truth


@pytest.mark.parametrize("name", NAMES)
def test_sim_c_lava_agree(gt, tmp_path, capsys, name):
    net, cli, _, steps, _ = corpus._setup(gt, tmp_path, name)
    rc = main(["verify", net, *cli, "--backends", "sim,fpga,lava", "--steps", str(steps), "--inputs", "1", "--json"])
    out = capsys.readouterr().out
    report = json.loads(out.strip().splitlines()[-1])
    assert rc == 0, out
    assert report["bit_exact"] is True and report["mismatches"] == 0
    assert report["backends"] == ["sim", "fpga", "lava"] and report["compared"] > 0
    if "ntidigits" in name:
        assert len(report.get("unobserved", {})) > 50      # the merged per-delay synapses
