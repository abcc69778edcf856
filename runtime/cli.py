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
from snnc.runtime.cli_compile import compile_cmd, synth_cmd
from snnc.runtime.cli_options import (
    BACKEND_CHOICE,
    TARGET_CHOICE,
    data_layout,
    echo_import_notes,
    import_options,
    load_model,
    netx_options,
)


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

    graph = load_model(model, dt, reset, integrator, preset)
    click.echo(f"model: {model}")
    click.echo(format_summary(graph))
    netx = format_netx_layers(graph)
    if netx:
        click.echo(netx)
    echo_import_notes(graph)


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
        graph = load_model(model, dt, reset, integrator, preset)
    inputs = load_inputs(input_path, graph, layout=data_layout())
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
    save_trace(trace, out_path, overwrite=force, layout=data_layout())
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


cli.add_command(compile_cmd)
cli.add_command(synth_cmd)


def _compiled_graph(model: str, target: str, dt, reset, integrator, preset):
    """(float graph or None, lowered graph): a compiled folder or an imported ``.net`` file has no
    float model next to it."""
    import os

    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph, load_artifact

    if os.path.isdir(model):
        return None, load_artifact(model)
    graph = load_model(model, dt, reset, integrator, preset)
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

        loaded = load_inputs(input_path, graph, layout=data_layout())
        inputs = prepare_inputs(graph, quantize_inputs(graph, loaded), steps, integer=True)
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

    opts = {"dt": dt, "reset": reset, "integrator": integrator, "preset": preset, **netx_options(for_json=True)}
    meta = record(model, out_path, target=target, n=n_inputs, steps=steps, seed=seed, overwrite=force,
                  input_path=input_path, load_options=opts, layout=data_layout())
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
