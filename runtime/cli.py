"""The ``snnc`` command line.

Every user error is an :class:`~snnc.ir.errors.SnncError`: printed as one line
``snnc: error: <file/node/field>: <what> (<what to do>)`` with exit code 1; no traceback unless
``--debug``. An unexpected exception is reported as an internal error (exit 3).
"""

from __future__ import annotations

import sys

import click

from snnc.ir.errors import SnncError

_IMPORT_OPTIONS = [
    click.option("--dt", type=float, default=None, help="Time step in seconds (default: file metadata, else 1e-4)."),
    click.option("--reset", type=click.Choice(["zero", "subtract"]), default=None,
                 help="Reset of NIR neurons: to v_reset (NIR) or by subtracting the threshold."),
    click.option("--integrator", type=click.Choice(["per_step", "euler"]), default=None,
                 help="NIR IF/I: v += r*x per step (Norse, Sinabs) or v += dt*r*x (Euler)."),
]


def import_options(f):
    for opt in reversed(_IMPORT_OPTIONS):
        f = opt(f)
    return f


def _load(model: str, dt, reset, integrator):
    import snnc

    opts = {k: v for k, v in (("dt", dt), ("reset", reset), ("integrator", integrator)) if v is not None}
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
def inspect(model, dt, reset, integrator):
    """Print nodes, types, shapes, parameter/neuron/synapse counts and edges of MODEL."""
    from snnc.runtime.summary import format_summary

    graph = _load(model, dt, reset, integrator)
    click.echo(f"model: {model}")
    click.echo(format_summary(graph))


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
@click.option("--backend", type=click.Choice(["sim", "fpga", "lava"]), default="sim", help="Backend to run on.")
@import_options
def run(model, input_path, steps, out_path, record, force, backend, dt, reset, integrator):
    """Simulate MODEL on INPUT; write traces to OUT. MODEL is a model file (float simulation)
    or a compiled OUTDIR (integer simulation of the lowered graph)."""
    import os

    from snnc.runtime.files import check_writable_target
    from snnc.runtime.run import load_inputs, run_graph, save_trace

    check_writable_target(out_path, force)
    if backend != "sim":
        raise SnncError(f"backend '{backend}' is not available yet", hint="use --backend sim")
    if os.path.isdir(model):
        from snnc.runtime.compile import load_artifact

        graph = load_artifact(model)
    else:
        graph = _load(model, dt, reset, integrator)
    inputs = load_inputs(input_path, graph)
    trace = run_graph(graph, inputs, steps=steps, record=record, record_states=(record == "all"))
    save_trace(trace, out_path, overwrite=force)
    shapes = ", ".join(f"{k} {v.shape}" for k, v in trace.outputs.items())
    click.echo(f"wrote {out_path}: {shapes}" + (f" + {len(trace.states)} state traces" if trace.states else ""))


@cli.command("compile")
@click.argument("model", type=click.Path())
@click.option("--target", type=click.Choice(["sim", "fpga", "loihi2"]), default=None,
              help="Target profile (or 'target:' in --config).")
@click.option("--config", "config_path", type=click.Path(), default=None, help="YAML compile configuration.")
@click.option("-o", "--out", "outdir", required=True, type=click.Path(), help="Output folder (created atomically).")
@click.option("--dump-ir", is_flag=True, help="Print the graph summary after every pass.")
@click.option("--strict", is_flag=True, help="Make possible state overflow an error.")
@click.option("--force", is_flag=True, help="Replace an existing output folder.")
@import_options
def compile_cmd(model, target, config_path, outdir, dump_ir, strict, force, dt, reset, integrator):
    """Compile MODEL for a target: lowered integer graph + report.json in OUT."""
    import dataclasses
    import os
    import time

    from snnc.passes.targets import load_config, make_config
    from snnc.runtime.compile import compile_graph, write_artifacts
    from snnc.runtime.summary import format_summary

    if os.path.exists(outdir) and not force:
        raise SnncError("output folder exists", file=outdir, hint="pass --force to replace it")
    if config_path:
        config = load_config(config_path, target)
    elif target:
        config = make_config(target)
    else:
        raise SnncError("no target", hint="pass --target sim|fpga|loihi2 or --config FILE")
    if strict:
        config = dataclasses.replace(config, strict=True)
    if dt is not None:
        config = dataclasses.replace(config, dt=dt)
    t0 = time.perf_counter()
    graph = _load(model, dt, reset, integrator)

    def dump(name, g):
        click.echo(f"== after {name}")
        click.echo(format_summary(g))

    lowered, report = compile_graph(graph, config, dump=dump if dump_ir else None)
    elapsed = time.perf_counter() - t0
    write_artifacts(outdir, lowered, report, force=force, elapsed_s=elapsed)
    tot = report["totals"]
    click.echo(f"compiled {model} for {config.profile.name} in {elapsed:.2f} s: {tot['neurons']} neurons, "
               f"{tot['synapses']} synapses -> {outdir}")
    if tot["overflow_possible"]:
        click.echo(f"note: state may saturate in {', '.join(tot['overflow_possible'])} (see report.json)")


def main(argv=None) -> int:
    """Entry point of the ``snnc`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        cli.main(args=argv, prog_name="snnc", standalone_mode=False)
        return 0
    except SnncError as exc:
        if debug:
            raise
        click.echo(f"snnc: error: {exc}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("snnc: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("snnc: interrupted", err=True)
        return 130
    except Exception as exc:  # an internal bug: still no raw traceback for users
        if debug:
            raise
        click.echo(f"snnc: internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback "
                   "and report it)", err=True)
        return 3


if __name__ == "__main__":
    sys.exit(main())
