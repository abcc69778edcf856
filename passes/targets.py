"""Target profiles and compile configuration.

A profile fixes the integer widths of a target; a YAML config may override what the target
allows (``fpga`` everything, ``loihi2`` nothing that Lava fixes). Validation errors name the
config field and the allowed range.

    target: fpga            # sim | fpga | loihi2
    dt: 1.0e-3              # seconds; overrides the model's dt
    weights: {bits: 8, granularity: channel}     # 2..16 bits; tensor | channel
    state: {bits: 24, overflow: saturate}        # 8..32 bits; wrap | saturate
    decay_bits: 12                               # fractional bits of decay multipliers
    calibration: {inputs: calib.npy, percentile: 99.99}
    strict: false                                # overflow findings become errors
    lmht: {mapping: graded}                      # graded | binary_time_multiplexed (fpga, sim)
    loihi2: {neurons: exact}                     # exact | chip (loihi2 only; passes.chip_native)
    fpga: {reuse_factor: 4, layer_reuse: {fc1: 16}, part: xczu9eg-ffvb1156-2-e, clock_ns: 4.0,
           interface: axis}                      # fpga only: the HLS project (see below)

``lmht.mapping`` chooses how LM-HT's multi-level spikes are deployed: ``graded`` (default;
payload k in 0..L, exact for any parameters) or ``binary_time_multiplexed`` (the paper's L x T
binary reparameterisation, ``passes.reparam_lmht``: binary spikes at L sub-steps per step,
applied where the pass proves it exact, refused otherwise). ``loihi2`` streams, so it cannot
run LM-HT's whole-window time mixing in either form.

``loihi2.neurons`` chooses how neurons that Loihi 2's standard LIF cannot express are deployed:
``exact`` (default; custom Lava processes, CPU-only under ``Loihi2HwCfg``) or ``chip`` (the
approximation mode: each becomes the closest hard-reset CUBA LIF, ``passes.chip_native``, and
the report lists per node what changed). Stored as ``CompileConfig.chip_native``.

``fpga`` sets the HLS project the fpga target writes (``snnc.backends.fpga``): ``reuse_factor``
(int >= 1, every layer), ``layer_reuse`` ({lowered node name: int >= 1}; names are checked when
the project is generated), ``part`` (Vitis part string), ``clock_ns`` (> 0) and ``interface``
(:data:`HLS_INTERFACES`). Stored validated as ``CompileConfig.fpga`` (only the keys given); the
CLI's ``--reuse-factor``, ``--layer-reuse``, ``--fpga-part``, ``--clock-ns`` and
``--hls-interface`` win over it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from snnc.ir.errors import ConfigError


@dataclass(frozen=True)
class TargetProfile:
    """Integer widths and number formats of one target. Passes read these fields, never the
    target's ``name`` (which only names the target in metadata and messages).

    The first fields are the config-adjustable widths; ``synapse_latency``: steps each synapse
    adds (Lava: 1). The fields after ``graded_spike_bits`` describe what the target's hardware
    fixes; their defaults are plain integer arithmetic of any width (sim, fpga), ``loihi2``
    sets Lava's formats (docs/numeric_semantics.md#lava-arithmetic):

    * ``weight_format``: 'integer' -- weights are integers in [-qmax, qmax], qmax =
      2**(weight_bits-1) - 1, of any synapse width; 'lava_dense' -- Lava's ``Dense``: a dense
      synapse holds the integer mantissa m in [-qmax - 1, qmax] (one-signed: [0, qmax] /
      [-qmax, 0]) as netx's ``optimize_weight_bits`` formats it, weights ``m << s`` with
      ``weight_exp = -s`` (passes/lowering/synapses.py ``lava_dense_format``; a ``.net`` holding
      m reads back as the same weights, num_weight_bits and weight_exp); conv synapses and
      dense ones with their own weight_exp are even integers in [-2 (qmax+1), 2 qmax] with
      weight_exp 0 (Lava's Conv ignores weight_exp); nothing wider (a lowering that needs
      wider weights, e.g. the RF readout's rotation, is refused);
    * ``dense_acc_bits``, ``dense_out_bits``: ``IntDense.acc_bits`` / ``out_bits`` of the
      lowered dense synapses (Lava: int32 dot product and output port; 64 = no wrap);
    * ``conv_out_bits``: ``IntConv2d.out_bits`` (Lava's Conv wraps its output at 24 bits);
    * ``neuron_arith_bits``: ``IntCubaLIF.arith_bits``, the width of the neuron's sums
      (Lava: int32);
    * ``current_overflow``: ``IntCubaLIF.u_overflow``; None follows ``state_overflow``
      ('wrap' or 'saturate'), 'lava' is Lava's one-correction wrap of the 24-bit current;
    * ``threshold_multiple``: thresholds are rounded to multiples of this (Lava: 64, its
      ``vth << 6``);
    * ``bias_mantissa_bits``: None, or neuron biases are rounded to ``mant << exp`` with a signed
      mantissa of this many bits (Lava: int16 ``bias_mant``);
    * ``bias_exp``: the smallest exponent of those biases (netx: every bias is ``bias_mant << 6``;
      a bias beyond ``mant_max << bias_exp`` takes a larger exponent, which Lava's LIF has per
      neuron but a netx ``.net`` does not, so that graph gets no ``.net``);
    * ``clif_state_bits_min``: CLIF states get at least this many bits (its look-up products
      need 32; 0 keeps ``state_bits``, as Loihi 2's 24-bit states);
    * ``window_mixing``: how LM-HT's T x T time mixing (IntTimeMix) runs: 'whole_window' (latency
      0: every window at once, non-causal; sim, fpga C), or 'streaming' (causal, one window late:
      ``insert_latency`` sets IntTimeMix latency = W and the IntLMHT phases; a step-by-step
      circuit, rtl). A target with synapse latency always streams.
    """

    name: str
    weight_bits: int
    weight_granularity: str          # 'tensor' | 'channel'
    state_bits: int
    state_overflow: str              # 'wrap' | 'saturate'
    decay_bits: int
    synapse_latency: int
    graded_spike_bits: int = 24
    weight_format: str = "integer"   # 'integer' | 'lava_dense'
    dense_acc_bits: int = 64
    dense_out_bits: int = 64
    conv_out_bits: int = 64
    neuron_arith_bits: int = 64
    current_overflow: str | None = None   # None (= state_overflow) | 'lava'
    threshold_multiple: int = 1
    bias_mantissa_bits: int | None = None
    bias_exp: int = 0
    clif_state_bits_min: int = 32
    has_chip_neurons: bool = False   #: a chip-native approximation mode exists (config loihi2: {neurons: chip})
    hls_project: bool = False        #: the target writes an HLS project (config section fpga: {...})
    window_mixing: str = "whole_window"   # 'whole_window' | 'streaming'
    #: what a config may change: field name -> (min, max) or allowed values
    adjustable: dict = field(default_factory=dict, compare=False)


PROFILES: dict[str, TargetProfile] = {
    "sim": TargetProfile("sim", weight_bits=16, weight_granularity="channel", state_bits=32,
                         state_overflow="saturate", decay_bits=16, synapse_latency=0,
                         adjustable={"weight_bits": (2, 16), "weight_granularity": ("tensor", "channel"),
                                     "state_bits": (8, 48), "state_overflow": ("wrap", "saturate"),
                                     "decay_bits": (4, 24)}),
    "fpga": TargetProfile("fpga", weight_bits=8, weight_granularity="channel", state_bits=24,
                          state_overflow="saturate", decay_bits=12, synapse_latency=0, hls_project=True,
                          adjustable={"weight_bits": (2, 16), "weight_granularity": ("tensor", "channel"),
                                      "state_bits": (8, 32), "state_overflow": ("wrap", "saturate"),
                                      "decay_bits": (4, 16)}),
    # RTL (Verilog through yosys/nextpnr): the fpga number formats; its own name so that reports
    # and artifacts say which hardware they are for. A circuit runs step by step, so LM-HT's time
    # mixing streams (one window late)
    "rtl": TargetProfile("rtl", weight_bits=8, weight_granularity="channel", state_bits=24,
                         state_overflow="saturate", decay_bits=12, synapse_latency=0, window_mixing="streaming",
                         adjustable={"weight_bits": (2, 16), "weight_granularity": ("tensor", "channel"),
                                     "state_bits": (8, 32), "state_overflow": ("wrap", "saturate"),
                                     "decay_bits": (4, 16)}),
    # Lava / Loihi 2 (docs/targets.md#target-quirks): 8-bit weights with exponent, 12-bit decays,
    # 24-bit state, one step of latency per connection process.
    "loihi2": TargetProfile("loihi2", weight_bits=8, weight_granularity="tensor", state_bits=24,
                            state_overflow="saturate", decay_bits=12, synapse_latency=1,
                            weight_format="lava_dense", dense_acc_bits=32, dense_out_bits=32, conv_out_bits=24,
                            neuron_arith_bits=32, current_overflow="lava", threshold_multiple=64,
                            bias_mantissa_bits=16, bias_exp=6, clif_state_bits_min=0, has_chip_neurons=True,
                            adjustable={"weight_bits": (2, 8)}),
}

_CONFIG_KEYS = {"target", "dt", "weights", "state", "decay_bits", "calibration", "strict", "lmht", "loihi2", "fpga"}
#: spike port modes of the HLS top function (the fpga backend's ``INTERFACES``)
HLS_INTERFACES = ("axis", "ap_memory")
FPGA_KEYS = ("reuse_factor", "layer_reuse", "part", "clock_ns", "interface")
LMHT_MAPPINGS = ("graded", "binary_time_multiplexed")
NEURON_MODES = ("exact", "chip")


@dataclass(frozen=True)
class CompileConfig:
    profile: TargetProfile
    dt: float | None = None
    calibration_inputs: str | None = None
    calibration_percentile: float = 100.0
    strict: bool = False
    lmht_mapping: str = "graded"
    chip_native: bool = False       # loihi2: {neurons: chip}
    fpga: dict = field(default_factory=dict)   # fpga: {reuse_factor, layer_reuse, part, clock_ns, interface}


def _check_range(value, allowed, where: str):
    if isinstance(allowed, tuple) and len(allowed) == 2 and all(isinstance(a, int) for a in allowed):
        lo, hi = allowed
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ConfigError(f"{value!r} is out of range {lo}..{hi}", field=where)
    elif value not in allowed:
        raise ConfigError(f"{value!r} is not one of {list(allowed)}", field=where)


def make_config(target: str, overrides: dict | None = None, *, source: str | None = None) -> CompileConfig:
    """Build and validate a CompileConfig for ``target`` from a config dict (parsed YAML)."""
    overrides = dict(overrides or {})
    if target not in PROFILES:
        raise ConfigError(f"unknown target '{target}'", field="target", hint=f"choose from {sorted(PROFILES)}",
                          file=source)
    unknown = set(overrides) - _CONFIG_KEYS
    if unknown:
        raise ConfigError(f"unknown key(s) {sorted(unknown)}", file=source, hint=f"allowed: {sorted(_CONFIG_KEYS)}")
    profile = PROFILES[target]
    changes = {}
    mapping = [("weights", "bits", "weight_bits"), ("weights", "granularity", "weight_granularity"),
               ("state", "bits", "state_bits"), ("state", "overflow", "state_overflow")]
    try:
        for section, key, attr in mapping:
            sec = overrides.get(section) or {}
            if not isinstance(sec, dict):
                raise ConfigError("must be a mapping", field=section)
            if key in sec:
                changes[attr] = sec[key]
        for section in ("weights", "state"):
            extra = set(overrides.get(section) or {}) - {"bits", "granularity", "overflow"}
            if extra:
                raise ConfigError(f"unknown key(s) {sorted(extra)}", field=section)
        if "decay_bits" in overrides:
            changes["decay_bits"] = overrides["decay_bits"]
        for attr, value in changes.items():
            where = {"weight_bits": "weights.bits", "weight_granularity": "weights.granularity",
                     "state_bits": "state.bits", "state_overflow": "state.overflow"}.get(attr, attr)
            if attr not in profile.adjustable:
                if value != getattr(profile, attr):
                    raise ConfigError(f"target {target} fixes this to {getattr(profile, attr)!r} (got {value!r})",
                                      field=where)
                continue
            _check_range(value, profile.adjustable[attr], where)
        dt = overrides.get("dt")
        if dt is not None and (not isinstance(dt, (int, float)) or isinstance(dt, bool) or not dt > 0):
            raise ConfigError(f"must be a positive number of seconds, got {dt!r}", field="dt")
        cal = overrides.get("calibration") or {}
        if not isinstance(cal, dict):
            raise ConfigError("must be a mapping", field="calibration")
        pct = cal.get("percentile", 100.0)
        if not isinstance(pct, (int, float)) or not 50 <= pct <= 100:
            raise ConfigError(f"must be in 50..100, got {pct!r}", field="calibration.percentile")
        inputs = cal.get("inputs")
        if inputs is not None and source is not None and not os.path.isabs(inputs):
            inputs = os.path.join(os.path.dirname(os.path.abspath(source)), inputs)
        strict = overrides.get("strict", False)
        if not isinstance(strict, bool):
            raise ConfigError("must be true or false", field="strict")
        lmht = overrides.get("lmht") or {}
        if not isinstance(lmht, dict):
            raise ConfigError("must be a mapping", field="lmht")
        if set(lmht) - {"mapping"}:
            raise ConfigError(f"unknown key(s) {sorted(set(lmht) - {'mapping'})}", field="lmht")
        lmht_mapping = lmht.get("mapping", "graded")
        _check_range(lmht_mapping, LMHT_MAPPINGS, "lmht.mapping")
        if lmht_mapping != "graded" and profile.synapse_latency:
            raise ConfigError(f"target {target} streams (one step of latency per synapse), but LM-HT's time "
                              "mixing needs whole-window execution", field="lmht.mapping",
                              hint="compile for fpga or sim")
        if lmht_mapping != "graded" and profile.window_mixing == "streaming":
            raise ConfigError(f"target {target} streams LM-HT's time mixing (one window late); the binary "
                              "time-multiplexed mapping needs whole-window execution", field="lmht.mapping",
                              hint="use lmht: {mapping: graded} (exact for any parameters)")
        chip_native = _neuron_mode(overrides.get("loihi2"), profile) == "chip"
        fpga = fpga_section(overrides.get("fpga"), profile)
    except ConfigError as exc:
        raise (exc.with_file(source) if source else exc) from None
    return CompileConfig(replace(profile, **changes), dt=dt, calibration_inputs=inputs,
                         calibration_percentile=float(pct), strict=strict, lmht_mapping=lmht_mapping,
                         chip_native=chip_native, fpga=fpga)


def _positive_int(value, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"must be an integer >= 1, got {value!r}", field=where)
    return value


def fpga_section(section, profile: TargetProfile) -> dict:
    """The validated ``fpga:`` section of a config (only the keys given): reuse_factor (int >= 1),
    layer_reuse ({node: int >= 1}), part (non-empty string), clock_ns (number > 0), interface
    (one of :data:`HLS_INTERFACES`). Errors name the field, e.g. ``fpga.layer_reuse.fc1``."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError("must be a mapping", field="fpga")
    if section and not profile.hls_project:
        raise ConfigError(f"applies to target fpga only (target is {profile.name})", field="fpga",
                          hint="remove it or compile with --target fpga")
    unknown = sorted(set(section) - set(FPGA_KEYS))
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown}", field="fpga", hint=f"allowed: {list(FPGA_KEYS)}")
    out: dict = {}
    if "reuse_factor" in section:
        out["reuse_factor"] = _positive_int(section["reuse_factor"], "fpga.reuse_factor")
    if "layer_reuse" in section:
        layers = section["layer_reuse"]
        if not isinstance(layers, dict):
            raise ConfigError("must be a mapping {node name: reuse factor}", field="fpga.layer_reuse")
        out["layer_reuse"] = {str(k): _positive_int(v, f"fpga.layer_reuse.{k}") for k, v in layers.items()}
    if "part" in section:
        if not isinstance(section["part"], str) or not section["part"].strip():
            raise ConfigError(f"must be a part name such as xczu9eg-ffvb1156-2-e, got {section['part']!r}",
                              field="fpga.part")
        out["part"] = section["part"].strip()
    if "clock_ns" in section:
        c = section["clock_ns"]
        if not isinstance(c, (int, float)) or isinstance(c, bool) or not c > 0:
            raise ConfigError(f"must be a positive number of nanoseconds, got {c!r}", field="fpga.clock_ns")
        out["clock_ns"] = float(c)
    if "interface" in section:
        _check_range(section["interface"], HLS_INTERFACES, "fpga.interface")
        out["interface"] = section["interface"]
    return out


def _neuron_mode(section, profile: TargetProfile) -> str:
    """``loihi2.neurons`` of a config: 'exact' (default) or 'chip' (targets with chip neurons only)."""
    section = section or {}
    if not isinstance(section, dict):
        raise ConfigError("must be a mapping", field="loihi2")
    if set(section) - {"neurons"}:
        raise ConfigError(f"unknown key(s) {sorted(set(section) - {'neurons'})}", field="loihi2")
    mode = section.get("neurons", "exact")
    _check_range(mode, NEURON_MODES, "loihi2.neurons")
    if mode != "exact" and not profile.has_chip_neurons:
        raise ConfigError(f"applies to target loihi2 only (target is {profile.name})", field="loihi2.neurons",
                          hint="remove it or compile with --target loihi2")
    return mode


def load_config(path: str, target: str | None = None) -> CompileConfig:
    """Read a YAML config; ``target`` (e.g. from the CLI) wins over the file's ``target``."""
    import yaml

    if not os.path.exists(path):
        raise ConfigError("config file not found", file=path)
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML ({str(exc).splitlines()[0]})", file=path) from None
    if not isinstance(data, dict):
        raise ConfigError("config must be a YAML mapping", file=path)
    tgt = target or data.get("target")
    if tgt is None:
        raise ConfigError("no target given", file=path, field="target", hint="set target: or pass --target")
    if target and data.get("target") not in (None, target):
        raise ConfigError(f"config says target {data['target']!r} but --target is {target!r}", file=path,
                          field="target")
    data.pop("target", None)
    return make_config(tgt, data, source=path)
