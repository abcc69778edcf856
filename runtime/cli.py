"""The ``snnc`` command line.

Every user error is an :class:`~snnc.ir.errors.SnncError`: printed as one line
``snnc: error: <file/node/field>: <what> (<what to do>)`` with exit code 1; no traceback unless
``--debug``. An unexpected exception is reported as an internal error (exit 3).
"""

from __future__ import annotations

import sys

import click
import numpy as np

from snnc.ir.errors import SnncError


def _store_netx_option(ctx, param, value):
    """``.net`` import options do not change the command signatures: they wait in ``ctx.meta``."""
    if value is not None:
        ctx.meta[f"snnc_import_{param.name}"] = value
    return value


_IMPORT_OPTIONS = [
    click.option("--dt", type=float, default=None, help="Time step in seconds (default: file metadata, else 1e-4)."),
    click.option("--reset", type=click.Choice(["zero", "subtract"]), default=None,
                 help="Reset of NIR neurons: to v_reset (NIR) or by subtracting the threshold."),
    click.option("--integrator", type=click.Choice(["per_step", "euler"]), default=None,
                 help="NIR IF/I: v += r*x per step (Norse, Sinabs) or v += dt*r*x (Euler)."),
    click.option("--preset", type=click.Choice(["snntorch", "norse", "sinabs", "rockpool", "spyx"]), default=None,
                 help="Read neurons as the exporting framework runs them (reset order, dt convention, multi-spike; "
                      "docs/frameworks.md)."),
    click.option("--input-message-bits", type=click.IntRange(min=0), default=None, expose_value=False,
                 callback=_store_netx_option,
                 help=".net files: netx's input_message_bits (0, default: binary input spikes; >0: graded input)."),
    click.option("--num-layers", type=click.IntRange(min=1), default=None, expose_value=False,
                 callback=_store_netx_option, help=".net files: netx's num_layers (only the first N layers)."),
    click.option("--skip-layers", type=click.IntRange(min=0), default=None, expose_value=False,
                 callback=_store_netx_option,
                 help=".net files: netx's skip_layers (the first N layers are dropped; the next layer reads the "
                      "input)."),
    click.option("--reset-interval", type=click.IntRange(min=1), default=None, expose_value=False,
                 callback=_store_netx_option,
                 help=".net files: netx's reset_interval (LIF layers reset u and v every N steps: LIFReset)."),
    click.option("--reset-offset", type=click.IntRange(min=0), default=None, expose_value=False,
                 callback=_store_netx_option, help=".net files: netx's reset_offset (with --reset-interval)."),
    click.option("--spike-exp", type=click.IntRange(min=0, max=16), default=None, expose_value=False,
                 callback=_store_netx_option,
                 help=".net files: netx's spike_exp of sigma-delta (SDNN) layers (default 6)."),
    click.option("--input-bias", type=click.Path(), default=None, expose_value=False, callback=_store_netx_option,
                 help=".net files: FILE.npy, bias_mant of the input layer's neuron (what netx users set on "
                      "net.in_layer.neuron.bias_mant); (C, H, W), or Lava's (W, H, C) with --layout lava."),
    click.option("--input-shape", type=str, default=None, expose_value=False, callback=_store_netx_option,
                 help=".net files: C,H,W input shape for a file whose first layer is a conv without input layer."),
    click.option("--netx-ignored", type=click.Choice(["error", "ignore"]), default=None, expose_value=False,
                 callback=_store_netx_option,
                 help=".net files: fields netx silently ignores although they change the network: refuse (error, "
                      "default) or import as netx builds them (ignore)."),
    click.option("--layout", type=click.Choice(["snnc", "lava"]), default=None, expose_value=False,
                 callback=_store_netx_option,
                 help="Array layout of --input, --out and --input-bias: snnc (B, T, C, H, W) (default) or Lava's "
                      "time-last (W, H, C, T) / (N, T) (one sample; a batch adds a leading B)."),
]

#: .net import options of the CLI (ctx.meta keys ``snnc_import_<name>``) -> load_net keywords
_NETX_OPTIONS = ("input_message_bits", "num_layers", "skip_layers", "reset_interval", "reset_offset", "spike_exp",
                 "input_bias", "input_shape", "netx_ignored")


def _layout() -> str:
    """The ``--layout`` of the running command ('snnc' or 'lava')."""
    ctx = click.get_current_context(silent=True)
    return (ctx.meta.get("snnc_import_layout") if ctx is not None else None) or "snnc"


def _netx_options(*, for_json: bool = False) -> dict:
    """The ``.net`` import options given on the command line, as load_net keywords: ``--input-bias``
    read (and brought from Lava's layout with ``--layout lava``), ``--input-shape`` parsed.
    ``for_json``: arrays as nested lists (golden files store the options as JSON)."""
    from snnc.ir.errors import ConfigError

    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    opts = {k: meta[f"snnc_import_{k}"] for k in _NETX_OPTIONS if f"snnc_import_{k}" in meta}
    if "input_shape" in opts:
        try:
            opts["input_shape"] = tuple(int(v) for v in str(opts["input_shape"]).replace("x", ",").split(","))
        except ValueError:
            raise ConfigError(f"--input-shape must be C,H,W integers, got {opts['input_shape']!r}") from None
    if "input_bias" in opts:
        from snnc.runtime.run import load_array, to_snnc_layout

        bias = load_array(opts["input_bias"], "--input-bias")
        opts["input_bias"] = to_snnc_layout(bias, batch=False) if _layout() == "lava" else bias
        if for_json:
            opts["input_bias"] = np.asarray(opts["input_bias"]).tolist()
    return opts


def import_options(f):
    for opt in reversed(_IMPORT_OPTIONS):
        f = opt(f)
    return f


def _target_names() -> list[str]:
    from snnc.runtime.targets import TARGETS

    return list(TARGETS)


def _backend_names() -> list[str]:
    from snnc.runtime.targets import BACKENDS

    return list(BACKENDS)


class _LazyChoice(click.Choice):
    """A choice whose values come from a registry, read when the command runs (not at import)."""

    def __init__(self, values):
        self._values = values
        super().__init__([])

    @property
    def choices(self):
        return self._values()

    @choices.setter
    def choices(self, value):
        pass


TARGET_CHOICE = _LazyChoice(_target_names)
BACKEND_CHOICE = _LazyChoice(_backend_names)


def _echo_import_notes(graph) -> None:
    for note in graph.metadata.get("import_notes", []) or []:
        click.echo(f"note: {note}")


def _load(model: str, dt, reset, integrator, preset):
    import snnc

    opts = {k: v for k, v in (("dt", dt), ("reset", reset), ("integrator", integrator), ("preset", preset))
            if v is not None}
    opts.update(_netx_options())
    return snnc.load(model, **opts)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python tracebacks on errors.")
@click.version_option(package_name="snnc")
@click.pass_context
def cli(ctx, debug):
    """snnc: compile spiking neural networks to Loihi 2 (Lava), FPGA HLS C and a bit-exact simulator."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@cli.command()
@click.argument("model", type=click.Path())
@import_options
def inspect(model, dt, reset, integrator, preset):
    """Print nodes, types, shapes, parameter/neuron/synapse counts and edges of MODEL."""
    from snnc.runtime.netx_summary import format_netx_layers
    from snnc.runtime.summary import format_summary

    graph = _load(model, dt, reset, integrator, preset)
    click.echo(f"model: {model}")
    click.echo(format_summary(graph))
    netx = format_netx_layers(graph)
    if netx:
        click.echo(netx)
    _echo_import_notes(graph)


@cli.command()
@click.argument("model", type=click.Path())
@click.option("--input", "input_path", required=True, type=click.Path(),
              help="Input spikes/currents: .npy of shape (T, *in) or (B, T, *in); .npz with one array per input node.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Number of time steps (input truncated or zero-padded).")
@click.option("--out", "out_path", required=True, type=click.Path(), help="Output .npz (arrays (B, T, ...)).")
@click.option("--record", type=click.Choice(["outputs", "all"]), default="outputs",
              help="Record Output nodes only, or every node's output and state.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@click.option("--backend", type=BACKEND_CHOICE, default="sim", help="Backend to run on.")
@click.option("--align", is_flag=True,
              help="Compiled models with target latency (loihi2): run T + latency steps and shift every trace "
                   "back to the model's time (T steps).")
@click.option("--dequantize", is_flag=True,
              help="Compiled models: Output values divided by their scale (the lowered Output node's "
                   "metadata['scale']), i.e. in the float model's units.")
@import_options
def run(model, input_path, steps, out_path, record, force, backend, align, dequantize, dt, reset, integrator,
        preset):
    """Simulate MODEL on INPUT; write traces to OUT. MODEL is a model file (float simulation)
    or a compiled OUTDIR (integer simulation of the lowered graph). A compiled graph's outputs lag
    the model by the target latency (stated; --align removes it) and are integers (--dequantize
    scales them back)."""
    import os

    from snnc.ir.files import check_writable_target
    from snnc.runtime.agreement import align as align_trace
    from snnc.runtime.agreement import dequantize as dequantize_trace
    from snnc.runtime.agreement import latency_note, output_latency, pad_inputs
    from snnc.runtime.run import load_inputs, run_graph, save_trace

    check_writable_target(out_path, force)
    if os.path.isdir(model):
        from snnc.runtime.compile import load_artifact

        graph = load_artifact(model)
    else:
        graph = _load(model, dt, reset, integrator, preset)
    inputs = load_inputs(input_path, graph, layout=_layout())
    lat = output_latency(graph)
    T = steps
    if align and lat:
        inputs, T = pad_inputs(graph, inputs, steps)
        steps = T + lat
    if backend == "sim":
        trace = run_graph(graph, inputs, steps=steps, record=record, record_states=(record == "all"))
    else:
        from snnc.runtime.run import quantize_inputs
        from snnc.runtime.verify import run_backend

        if graph.metadata.get("level") != "integer":
            raise SnncError(f"backend '{backend}' runs compiled models", file=model,
                            hint=f"compile first: snnc compile {model} --target ... -o OUTDIR")
        trace = run_backend(backend, graph, quantize_inputs(graph, inputs), steps=steps, record=record,
                            record_states=(record == "all"))
    if align and lat:
        trace = align_trace(graph, trace, T)
    if dequantize:
        if graph.metadata.get("level") != "integer":
            raise SnncError("--dequantize applies to compiled (integer) models; this one is float already",
                            file=model, hint="leave out --dequantize")
        trace = dequantize_trace(graph, trace)
    save_trace(trace, out_path, overwrite=force, layout=_layout())
    shapes = ", ".join(f"{k} {v.shape}" for k, v in trace.outputs.items())
    click.echo(f"wrote {out_path}: {shapes}" + (f" + {len(trace.states)} state traces" if trace.states else ""))
    if lat:
        click.echo(f"aligned: traces shifted back by the target latency ({lat} steps per Output node; each node "
                   "by its own hw latency)" if align else latency_note(graph))
    if dequantize:
        scales = {n: np.unique(np.asarray(graph.nodes[n].metadata.get("scale", 1.0))) for n in graph.output_names()}
        click.echo("dequantized: " + "; ".join(
            f"{n} / scale {_scale_text(v)}" for n, v in scales.items()) + " (float model units)")


def _scale_text(values) -> str:
    if len(values) == 1:
        return f"{float(values[0]):g}"
    return f"{float(values.min()):g}..{float(values.max()):g} (per neuron)"


@cli.command("compile")
@click.argument("model", type=click.Path())
@click.option("--target", type=TARGET_CHOICE, default=None, help="Target (or 'target:' in --config).")
@click.option("--config", "config_path", type=click.Path(), default=None, help="YAML compile configuration.")
@click.option("-o", "--out", "outdir", required=True, type=click.Path(), help="Output folder (created atomically).")
@click.option("--dump-ir", is_flag=True, help="Print the graph summary after every pass.")
@click.option("--strict", is_flag=True, help="Make possible state overflow an error.")
@click.option("--force", is_flag=True, help="Replace an existing output folder.")
@click.option("--artifacts/--no-artifacts", default=True,
              help="Write the target's deployment artifacts (OUT/hls for fpga, OUT/lava for loihi2).")
@click.option("--reuse-factor", type=click.IntRange(min=1), default=None,
              help="HLS: operations sharing one operator, every layer (default: config fpga.reuse_factor, else 1).")
@click.option("--layer-reuse", "layer_reuse", multiple=True, metavar="NODE=R",
              help="HLS: reuse factor of one layer (lowered node name; repeatable; others: --reuse-factor).")
@click.option("--hls-interface", type=click.Choice(["axis", "ap_memory"]), default=None,
              help="HLS: spike ports of the top function (default: config fpga.interface, else axis).")
@click.option("--fpga-part", default=None,
              help="HLS: FPGA part for Vitis (default: config fpga.part, else the project's).")
@click.option("--clock-ns", type=click.FloatRange(min=0.1), default=None,
              help="HLS: clock period [ns] (default: config fpga.clock_ns, else 5).")
@click.option("--input-max-abs", type=click.IntRange(min=1), default=None,
              help="Lava: bound on |input values| the network may assume (1 for spikes; default: int32).")
@click.option("--parallel", "parallel", multiple=True, metavar="N|NODE=N",
              help="RTL: output neurons a layer computes in parallel (N for every layer, NODE=N for one; repeatable).")
@click.option("--input-bits", type=click.IntRange(min=1, max=32), default=None,
              help="RTL: signed width of the input stream values (default: from the input's range, else 16).")
@click.option("-q", "--quiet", is_flag=True, help="No progress display (it shows only on a terminal anyway).")
@import_options
def compile_cmd(model, target, config_path, outdir, dump_ir, strict, force, artifacts, reuse_factor, layer_reuse,
                hls_interface, fpga_part, clock_ns, input_max_abs, parallel, input_bits, quiet, dt, reset, integrator,
                preset):
    """Compile MODEL for a target: OUT/model.nir (the lowered integer graph), OUT/report.json and
    the target's deployment artifacts (OUT/hls: the HLS C++ project for fpga; OUT/lava: the Lava
    network, and network.net where netx can build it, for loihi2)."""
    import os
    import time

    from snnc.runtime.compile import compile_model, write_artifacts
    from snnc.runtime.summary import format_summary
    from snnc.runtime.targets import EmitOptions
    from snnc.runtime.targets import target as lookup_target

    if os.path.exists(outdir) and not force:
        what = "output folder exists" if os.path.isdir(outdir) else "output path exists (a file)"
        raise SnncError(what, file=outdir, hint="pass --force to replace it, or choose another -o")
    t0 = time.perf_counter()
    graph = _load(model, dt, reset, integrator, preset)

    from snnc.runtime.progress import Steps, progress_wanted

    _echo_import_notes(graph)
    with Steps(None, enabled=progress_wanted(quiet or dump_ir), title=f"compile {os.path.basename(model)}") as steps:
        def dump(name, g):
            if dump_ir:
                click.echo(f"== after {name}")
                click.echo(format_summary(g))
            steps.start(f"pass {name} done")

        lowered, report, config = compile_model(graph, target=target, config_path=config_path, strict=strict, dt=dt,
                                                source=model, dump=dump)
        tgt = lookup_target(config.profile.name)
        opts = EmitOptions(reuse_factor=reuse_factor, fpga_part=fpga_part, clock_ns=clock_ns,
                           input_max_abs=input_max_abs, parallelism=_parallelism(parallel), input_bits=input_bits,
                           layer_reuse=_layer_reuse(layer_reuse), hls_interface=hls_interface, fpga=config.fpga)
        elapsed = time.perf_counter() - t0
        steps.start(f"writing {outdir}" + (f" and {tgt.artifact_dir}/" if artifacts and tgt.artifact_dir else ""))
        lines = write_artifacts(outdir, lowered, report, force=force, elapsed_s=elapsed,
                                target=tgt if artifacts else None, options=opts)
    tot = report["totals"]
    click.echo(f"compiled {model} for {tgt.name} in {elapsed:.2f} s: {tot['neurons']} neurons, "
               f"{tot['synapses']} synapses -> {outdir} (model.nir, report.json"
               + (f", {tgt.artifact_dir}/" if artifacts and tgt.artifact_dir else "") + ")")
    if tot["overflow_possible"]:
        click.echo(f"note: state may saturate in nodes {', '.join(map(repr, tot['overflow_possible']))} "
                   "(see report.json)")
    for line in lines:
        click.echo(line)
    for w in report.get("resources", {}).get("warnings", []):
        click.echo(f"warning: {w}", err=True)
    click.echo(f"next: snnc verify {outdir} --backends sim,{tgt.backend if tgt.backend != 'sim' else 'fpga'}"
               f"   |   snnc run {outdir} --input X.npy --out trace.npz --backend {tgt.backend}")


def _layer_reuse(values: tuple[str, ...]) -> dict | None:
    """``--layer-reuse fc1=16 --layer-reuse fc2=4`` -> {'fc1': 16, 'fc2': 4} (None when not given)."""
    out: dict = {}
    for v in values:
        name, _, r = v.rpartition("=")
        if not name or not r.isdigit() or int(r) < 1:
            raise SnncError(f"--layer-reuse {v!r}: expected NODE=R with R >= 1", field="layer_reuse",
                            hint="node names of the lowered graph: snnc inspect OUT")
        out[name] = int(r)
    return out or None


def _parallelism(values: tuple[str, ...]) -> int | dict | None:
    """``--parallel 4`` -> 4; ``--parallel fc1=4 --parallel fc2=2`` -> {'fc1': 4, 'fc2': 2}."""
    if not values:
        return None
    out: dict = {}
    for v in values:
        name, _, n = v.rpartition("=")
        if not n.isdigit() or int(n) < 1:
            raise SnncError(f"--parallel {v!r}: expected N or NODE=N with N >= 1", field="parallel")
        if not name:
            if len(values) > 1:
                raise SnncError("--parallel N (every layer) cannot be combined with other --parallel values",
                                field="parallel")
            return int(n)
        out[name] = int(n)
    return out


@cli.command("synth")
@click.argument("outdir", type=click.Path())
@click.option("--family", type=click.Choice(["ecp5", "ice40", "xilinx"]), default="ecp5", show_default=True,
              help="FPGA family: ECP5 / iCE40 (yosys + nextpnr place and route) or Xilinx (yosys synth_xilinx only).")
@click.option("--part", default=None, help="Device (ECP5 25k/45k/85k, iCE40 up5k/hx8k; default: smallest that fits).")
@click.option("--no-pnr", is_flag=True, help="Synthesis only (no place and route, no fmax).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def synth_cmd(outdir, family, part, no_pnr, as_json):
    """Synthesize the Verilog of a compiled OUTDIR (snnc compile --target rtl) with the open flow:
    LUT/FF/BRAM/DSP per layer and in total, fmax, time per step; writes OUTDIR/rtl/synth_<family>.json."""
    import json
    import os

    from snnc.backends.rtl import synth

    rtl_dir = os.path.join(outdir, "rtl") if os.path.isdir(os.path.join(outdir, "rtl")) else outdir
    rep = synth(rtl_dir, family, part, place_route=not no_pnr)
    if as_json:
        click.echo(json.dumps(rep, sort_keys=True, default=str))
        return
    t = rep["total"]
    click.echo(f"{family} {rep.get('part')}: " + ", ".join(f"{k} {v}" for k, v in t.items()))
    for name, c in rep.get("layers", {}).items():
        click.echo(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    if rep.get("fmax_mhz"):
        click.echo(f"fmax {rep['fmax_mhz']:.1f} MHz, {rep['cycles_per_step']} cycles per step = "
                   f"{rep['us_per_step']:.2f} us per step")
    click.echo(f"report: {os.path.join(rtl_dir, f'synth_{family}.json')}")


def _compiled_graph(model: str, target: str, dt, reset, integrator, preset):
    """(float graph or None, lowered graph): a compiled folder or an imported ``.net`` file has no
    float model next to it."""
    import os

    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph, load_artifact

    if os.path.isdir(model):
        return None, load_artifact(model)
    graph = _load(model, dt, reset, integrator, preset)
    if graph.metadata.get("level") == "integer":    # already lowered (an imported lava-dl .net file)
        return None, graph
    lowered, _ = compile_graph(graph, make_config(target))
    return graph, lowered


def _print_comparison(cmp, as_json: bool, extra: dict) -> None:
    import json

    if as_json:
        click.echo(json.dumps({**cmp.to_json(), **extra}, sort_keys=True))
        return
    names = ", ".join(cmp.backends)
    if cmp.bit_exact:
        click.echo(f"bit-exact: {names} agree on {cmp.compared} values (all outputs and states, every step)")
    else:
        m = cmp.first_mismatch
        click.echo(f"MISMATCH: {cmp.mismatches} of {cmp.compared} values differ between {names}")
        if m:
            click.echo(f"first: {m['kind']} {m['array']} sample {m['sample']} step {m['step']} index {m['neuron']}: "
                       + ", ".join(f"{b}={v}" for b, v in m["values"].items()))


def _backend_label(name: str, samples: int, steps: int) -> str:
    text = f"running {name} ({samples} samples x {steps} steps)"
    if name == "lava":
        text += ", Lava's CPU simulation: about 0.5-1 s per sample plus start-up"
    return text


@cli.command("verify")
@click.argument("model", type=click.Path())
@click.option("--backends", default=None,
              help="Comma-separated backends to compare (default: every backend that can run here; the others "
                   "are named as skipped).")
@click.option("--target", type=TARGET_CHOICE, default=None,
              help="Target to compile MODEL for (default: loihi2 if lava is compared, else fpga).")
@click.option("--inputs", "n_inputs", type=click.IntRange(min=1), default=4, show_default=True,
              help="Number of random spike input samples.")
@click.option("--input", "input_path", type=click.Path(), default=None, help="Input file instead of random inputs.")
@click.option("--steps", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--align", is_flag=True,
              help="Run T + target latency steps (inputs zero-padded), so every model step's output is compared.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (no other output).")
@click.option("-q", "--quiet", is_flag=True, help="No progress display (it shows only on a terminal anyway).")
@import_options
def verify_cmd(model, backends, target, n_inputs, input_path, steps, seed, align, as_json, quiet, dt, reset,
               integrator, preset):
    """Run MODEL on several backends with the same inputs; exit 1 on any difference. States the
    target latency, and for a model file how far the fixed-point outputs are from the float
    model's (spike-count difference, readout error, same class)."""
    from snnc.runtime.agreement import float_vs_fixed, format_float_vs_fixed, latency_note, output_latency, pad_inputs
    from snnc.runtime.progress import Steps, progress_wanted
    from snnc.runtime.run import load_inputs, quantize_inputs
    from snnc.runtime.verify import choose_backends, random_inputs, verify

    requested = None if backends is None else [b.strip() for b in backends.split(",") if b.strip()]
    names, skipped = choose_backends(requested)
    target = target or ("loihi2" if "lava" in names else "fpga")
    float_graph, graph = _compiled_graph(model, target, dt, reset, integrator, preset)
    if input_path:
        from snnc.ir.signals import prepare_inputs

        inputs = prepare_inputs(graph, quantize_inputs(graph, load_inputs(input_path, graph, layout=_layout())), steps,
                                integer=True)
    else:
        inputs = random_inputs(graph, n_inputs, steps, seed)
    lat = output_latency(graph)
    run_inputs, run_steps = inputs, steps
    if align and lat:
        run_inputs, _ = pad_inputs(graph, inputs, steps)
        run_steps = steps + lat
    samples = int(next(iter(inputs.values())).shape[0])
    total = len(names) + (1 if float_graph is not None else 0)
    with Steps(total, enabled=progress_wanted(quiet, as_json), title="verify") as progress:
        cmp, _ = verify(graph, names, run_inputs, steps=run_steps,
                        on_backend=lambda b: progress.start(_backend_label(b, samples, run_steps)))
        agreement = None
        if float_graph is not None:
            progress.start("float model vs fixed point (simulator)")
            agreement = float_vs_fixed(float_graph, graph, inputs, steps)
    extra = {"target": target, "steps": run_steps, "samples": samples, "latency": lat, "aligned": bool(align and lat),
             "skipped": skipped, "float_vs_fixed": agreement}
    if not as_json:
        for name, why in skipped.items():
            click.echo(f"skipped {name}: {why}")
        note = latency_note(graph)
        if note:
            click.echo(f"{note}; compared {run_steps} steps" if align else note)
    _print_comparison(cmp, as_json, extra)
    if not as_json:
        if agreement is None:
            click.echo("float vs fixed: n/a (MODEL is a compiled folder or a lava-dl .net file: no float model)")
        for line in format_float_vs_fixed(agreement or {}):
            click.echo(line)
    if not cmp.bit_exact:
        raise click.exceptions.Exit(1)


@cli.command("demo")
@click.option("-o", "--out", "outdir", default="demo_out", show_default=True, type=click.Path(),
              help="Folder for summary.json, summary.md and the plots (created atomically).")
@click.option("--force", is_flag=True, help="Replace an existing output folder.")
@click.option("--models", "models_dir", type=click.Path(), default=None,
              help="Folder of digits_*.nir models (default: the package's examples/models).")
@click.option("--only", multiple=True, help="Only these neuron types (e.g. --only lif --only rf).")
@click.option("--samples", type=click.IntRange(min=1), default=None, help="Test samples per model (default: all 450).")
@click.option("--lava-samples", type=click.IntRange(min=0), default=16, show_default=True,
              help="Samples also run on Lava (its CPU simulation takes ~0.5-1 s per sample).")
@click.option("--no-lava", is_flag=True, help="Skip the Lava backend.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display (it shows only on a terminal anyway).")
def demo(outdir, force, models_dir, only, samples, lava_samples, no_lava, no_plots, quiet):
    """The main job on the shipped example models: compile for every target, run the digits test
    set on the simulator, the generated C and Lava, check bit-exactness, print one table; exit 1
    if any backend disagrees."""
    from snnc.runtime.demo import run_demo
    from snnc.runtime.progress import progress_wanted

    results, _ = run_demo(outdir, models=models_dir, only=list(only) or None, samples=samples,
                          lava_samples=lava_samples, lava=not no_lava, plots=not no_plots, force=force,
                          echo=click.echo, progress=progress_wanted(quiet))
    if not all(r.bit_exact for r in results):
        click.echo("MISMATCH: backends disagree or a backend failed (see the table and summary.json)")
        raise click.exceptions.Exit(1)


@cli.group()
def golden():
    """Golden vector files for bit-exact regression tests."""


@golden.command("record")
@click.argument("model", type=click.Path())
@click.option("-o", "--out", "out_path", required=True, type=click.Path())
@click.option("--target", type=TARGET_CHOICE, default="sim", show_default=True)
@click.option("--inputs", "n_inputs", type=click.IntRange(min=1), default=4, show_default=True,
              help="Number of random spike input samples (without --input).")
@click.option("--input", "input_path", type=click.Path(), default=None,
              help="Record these inputs (.npy (T, *in) or (B, T, *in); .npz per input node) instead of random ones.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Time steps (default: 32, or the --input file's length).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@import_options
def golden_record(model, out_path, target, n_inputs, input_path, steps, seed, force, dt, reset, integrator, preset):
    """Record inputs and expected integer traces of MODEL (compiled for TARGET) to OUT. The load
    options (--dt, --reset, ...) are stored in the file and used again by ``golden check``."""
    from snnc.runtime.golden import record

    opts = {"dt": dt, "reset": reset, "integrator": integrator, "preset": preset, **_netx_options(for_json=True)}
    meta = record(model, out_path, target=target, n=n_inputs, steps=steps, seed=seed, overwrite=force,
                  input_path=input_path, load_options=opts, layout=_layout())
    source = f"inputs from {input_path}" if input_path else f"random inputs (seed {meta['seed']})"
    click.echo(f"wrote {out_path}: {meta['samples']} samples x {meta['steps']} steps, target {meta['target']}, "
               f"{source}" + (f", load options {meta['load_options']}" if meta.get("load_options") else ""))


@golden.command("check")
@click.argument("model", type=click.Path())
@click.argument("golden_path", type=click.Path())
@click.option("--backend", type=BACKEND_CHOICE, default="sim", show_default=True)
def golden_check(model, golden_path, backend):
    """Re-run MODEL on the golden inputs; exit 1 with the first difference."""
    from snnc.runtime.golden import check

    cmp, meta = check(model, golden_path, backend=backend)
    _print_comparison(cmp, False, {})
    if not cmp.bit_exact:
        raise click.exceptions.Exit(1)


class Terminated(BaseException):
    """Raised by the SIGTERM/SIGHUP handler so that temporary outputs and child processes are
    cleaned up as on Ctrl-C. ``signum``: the signal received."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _ignore_further_signals() -> None:
    """While children are being ended, a second Ctrl-C or SIGTERM must not cut the cleanup short
    (SIGKILL still ends snnc at once)."""
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def _on_signal(signum, frame):
    _ignore_further_signals()
    raise Terminated(signum)


#: exit code per signal: 128 + the signal number, as a shell reports a process killed by it
def _signal_exit(signum: int) -> int:
    return 128 + int(signum)


def main(argv=None) -> int:
    """Entry point of the ``snnc`` console script. SIGINT exits 130, SIGTERM 143, SIGHUP 129,
    after ending every child process group (gcc, Lava; :mod:`snnc.ir.children`) and removing
    partial outputs."""
    import signal
    import threading

    from snnc.ir.children import terminate_all

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGHUP, _on_signal)
    try:
        rv = cli.main(args=argv, prog_name="snnc", standalone_mode=False)
        return rv if isinstance(rv, int) else 0  # click returns Exit codes in non-standalone mode
    except SnncError as exc:
        if debug:
            raise
        click.echo(f"snnc: error: {exc}", err=True)
        return 1
    except click.exceptions.Abort:  # click's form of KeyboardInterrupt
        _ignore_further_signals()
        terminate_all()
        click.echo("snnc: interrupted; no partial output was left", err=True)
        return _signal_exit(signal.SIGINT)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        _ignore_further_signals()
        terminate_all()
        click.echo("snnc: interrupted; no partial output was left", err=True)
        return _signal_exit(signal.SIGINT)
    except Terminated as exc:
        terminate_all()
        click.echo(f"snnc: terminated by {signal.Signals(exc.signum).name}; no partial output or child process "
                   "was left", err=True)
        return _signal_exit(exc.signum)
    except Exception as exc:  # an internal bug: still no raw traceback for users
        if debug:
            raise
        click.echo(f"snnc: internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback "
                   "and report it)", err=True)
        return 3


if __name__ == "__main__":
    sys.exit(main())
