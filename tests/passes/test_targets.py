"""Compile configuration: valid overrides accepted, impossible widths refused with the field named."""

from __future__ import annotations

import pytest

from snnc.ir.errors import ConfigError
from snnc.passes.targets import PROFILES, load_config, make_config


def test_profiles_have_lava_widths():
    p = PROFILES["loihi2"]
    assert (p.weight_bits, p.state_bits, p.decay_bits, p.synapse_latency) == (8, 24, 12, 1)


def test_fpga_overrides(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("target: fpga\nweights: {bits: 6, granularity: tensor}\nstate: {bits: 20, overflow: wrap}\n"
                   "dt: 0.002\ncalibration: {inputs: cal.npy, percentile: 99.9}\n")
    c = load_config(str(cfg))
    assert c.profile.weight_bits == 6 and c.profile.weight_granularity == "tensor"
    assert c.profile.state_bits == 20 and c.profile.state_overflow == "wrap"
    assert c.dt == 0.002 and c.calibration_inputs == str(tmp_path / "cal.npy")


@pytest.mark.parametrize("text, field_name", [
    ("weights: {bits: 0}", "weights.bits"),
    ("weights: {bits: 40}", "weights.bits"),
    ("state: {bits: 64}", "state.bits"),
    ("state: {overflow: clamp}", "state.overflow"),
    ("weights: {granularity: neuron}", "weights.granularity"),
    ("dt: -1", "dt"),
    ("calibration: {percentile: 10}", "calibration.percentile"),
    ("strict: maybe", "strict"),
])
def test_impossible_values_are_refused(tmp_path, text, field_name):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("target: fpga\n" + text + "\n")
    with pytest.raises(ConfigError) as err:
        load_config(str(cfg))
    assert f"field '{field_name}'" in str(err.value) and str(cfg) in str(err.value)


def test_loihi2_refuses_wide_weights_and_fixed_fields():
    with pytest.raises(ConfigError, match="weights.bits.*out of range 2..8"):
        make_config("loihi2", {"weights": {"bits": 40}})
    with pytest.raises(ConfigError, match="state.bits.*fixes this to 24"):
        make_config("loihi2", {"state": {"bits": 32}})


def test_bad_yaml_and_unknown_keys(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: [fpga\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(str(bad))
    unk = tmp_path / "unk.yaml"
    unk.write_text("target: fpga\nwieghts: {bits: 8}\n")
    with pytest.raises(ConfigError, match="wieghts"):
        load_config(str(unk))
    with pytest.raises(ConfigError, match="unknown target"):
        make_config("gpu")
