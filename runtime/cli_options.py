"""Options and helpers shared by the ``snnc`` commands: the model import options (NIR and lava-dl
``.net``: netx's own options wait in ``ctx.meta`` so command signatures stay the same), the
``--target`` / ``--backend`` choices read from the registry (:mod:`snnc.runtime.targets`), and
loading a model with them."""

from __future__ import annotations

import click
import numpy as np


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


def data_layout() -> str:
    """The ``--layout`` of the running command ('snnc' or 'lava')."""
    ctx = click.get_current_context(silent=True)
    return (ctx.meta.get("snnc_import_layout") if ctx is not None else None) or "snnc"


def netx_options(*, for_json: bool = False) -> dict:
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
        opts["input_bias"] = to_snnc_layout(bias, batch=False) if data_layout() == "lava" else bias
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


def echo_import_notes(graph) -> None:
    for note in graph.metadata.get("import_notes", []) or []:
        click.echo(f"note: {note}")


def load_model(model: str, dt, reset, integrator, preset):
    import snnc

    opts = {k: v for k, v in (("dt", dt), ("reset", reset), ("integrator", integrator), ("preset", preset))
            if v is not None}
    opts.update(netx_options())
    return snnc.load(model, **opts)
