"""``snnc compile`` (lower a model for a target and write its deployment artifacts) and ``snnc
synth`` (open-source synthesis and place and route of the RTL target's Verilog); registered on the
command group by :mod:`snnc.runtime.cli`."""

from __future__ import annotations

import click

from snnc.ir.errors import SnncError
from snnc.runtime.cli_options import TARGET_CHOICE, echo_import_notes, import_options, load_model


@click.command("compile")
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
@click.option("--in-lanes", type=click.IntRange(min=1, max=1024), default=None,
              help="RTL: input values per stream transfer (default 1).")
@click.option("--zero-skip/--no-zero-skip", default=True, show_default=True,
              help="RTL: binary dense layers spend a cycle per nonzero input only (cycles depend on the data).")
@click.option("-q", "--quiet", is_flag=True, help="No progress display (it shows only on a terminal anyway).")
@import_options
def compile_cmd(model, target, config_path, outdir, dump_ir, strict, force, artifacts, reuse_factor, layer_reuse,
                hls_interface, fpga_part, clock_ns, input_max_abs, parallel, input_bits, in_lanes, zero_skip, quiet, dt,
                reset, integrator, preset):
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
    graph = load_model(model, dt, reset, integrator, preset)

    from snnc.runtime.progress import Steps, progress_wanted

    echo_import_notes(graph)
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
                           in_lanes=in_lanes, zero_skip=zero_skip, layer_reuse=_layer_reuse(layer_reuse),
                           hls_interface=hls_interface, fpga=config.fpga)
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


@click.command("synth")
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
        bound = "at most " if rep.get("cycles_are_bound") else ""
        click.echo(f"fmax {rep['fmax_mhz']:.1f} MHz, {bound}{rep['cycles_per_step']} cycles per step = "
                   f"{bound}{rep['us_per_step']:.2f} us per step"
                   + (" (zero skipping: a step takes fewer cycles when inputs are zero)" if bound else ""))
    click.echo(f"report: {os.path.join(rtl_dir, f'synth_{family}.json')}")

