"""One call from a model built in another framework to an snnc Graph:
``from_framework(model, sample, framework)``.

It runs the framework's own NIR exporter (snnTorch ``export_to_nir``, Norse ``to_nir``, Sinabs
``sinabs.nir.to_nir``, Rockpool ``to_nir``, Spyx ``spyx.nir.to_nir``), with the gaps closed inside
snnc instead of in the user's code:

* NIR's type check, which rejects snnTorch's and Norse's graphs, is tolerated
  (:func:`snnc.frontend.nir_compat.tolerant_nir`);
* layers the exporter returns nothing for get a NIR node from snnc: Norse's ``AvgPool2d``,
  ``Flatten`` and ``LIFRecurrentCell``; the recurrent weights ``w_rec`` of Rockpool's
  ``LIFTorch(has_rec=True)``, which Rockpool's exporter drops;
* Spyx's export problems (its recurrent layers written with the input routed through ``w_rec``,
  a Linear after Flatten in channels-last order) are read back as Spyx runs them by the
  ``spyx`` preset, so they are fixed for ``.nir`` files written by Spyx as well;
* the graph is imported with the framework's preset (:mod:`snnc.frontend.presets`), so it
  simulates like the framework's forward pass; ``options`` (``dt``, ``reset``, ...) go to
  :func:`snnc.frontend.nir_import.from_nir`.

``sample``: one input as the framework's forward takes it, with a batch axis of 1 (torch
frameworks), or for Spyx a dict ``{'input_shape': ..., 'output_shape': ...}`` passed to its exporter.
"""

from __future__ import annotations

import numpy as np

from snnc.ir.errors import ConfigError
from snnc.ir.graph import Graph

from .nir_compat import tolerant_nir
from .nir_import import from_nir

FRAMEWORKS = ("snntorch", "norse", "sinabs", "rockpool", "spyx")


def export_nir(model, sample, framework: str, **exporter_options):
    """The framework's in-memory ``nir.NIRGraph`` for ``model`` (see the module docstring)."""
    if framework not in FRAMEWORKS:
        raise ConfigError(f"unknown framework '{framework}'", field="framework", hint=f"choose from {FRAMEWORKS}")
    with tolerant_nir():
        return _EXPORTERS[framework](model, sample, **exporter_options)


def from_framework(model, sample, framework: str, *, exporter_options: dict | None = None, **options) -> Graph:
    """Export ``model`` with its framework's exporter and import it with that framework's
    preset. Returns a flat, shape-checked snnc Graph."""
    graph = export_nir(model, sample, framework, **(exporter_options or {}))
    return from_nir(graph, preset=framework, **options)


# ------------------------------------------------------------------------------------------
# per framework
# ------------------------------------------------------------------------------------------


def _snntorch(model, sample, **kw):
    from snntorch.export_nir import export_to_nir

    return export_to_nir(model, sample, **kw)


def _sinabs(model, sample, **kw):
    import sinabs.nir

    return sinabs.nir.to_nir(model, sample, **kw)


def _norse(model, sample, dt: float = 1e-3, **kw):
    import nir
    import torch
    from nirtorch import extract_nir_graph
    from norse.torch.module.lif import LIFRecurrentCell
    from norse.torch.utils.export_nir import _extract_norse_module

    def extract(module):
        node = _extract_norse_module(module, dt=dt)
        if node is not None:
            return node
        if isinstance(module, torch.nn.AvgPool2d):
            return nir.AvgPool2d(kernel_size=_pair(module.kernel_size),
                                 stride=_pair(module.kernel_size if module.stride is None else module.stride),
                                 padding=_pair(module.padding))
        if isinstance(module, torch.nn.Flatten):      # NIR dims exclude the batch axis
            return nir.Flatten(input_type=None, start_dim=module.start_dim - 1 if module.start_dim > 0 else
                               module.start_dim, end_dim=module.end_dim - 1 if module.end_dim > 0 else module.end_dim)
        if isinstance(module, LIFRecurrentCell):
            return _norse_recurrent(module, dt)
        return None

    return extract_nir_graph(model, extract, sample, model_name="norse", ignore_submodules_of=[LIFRecurrentCell], **kw)


def _norse_recurrent(module, dt: float):
    """LIFRecurrentCell = LIFCell fed by W_in x + W_rec z_{t-1} (``functional/lif.py:lif_step``),
    exported the way Norse's own exporter writes LIFCell (tau = dt / tau_inv)."""
    import nir

    p = module.p
    w_in = module.input_weights.detach().numpy()
    w_rec = module.recurrent_weights.detach().numpy()
    n = w_in.shape[0]

    def full(t):
        return np.broadcast_to(np.asarray(t.detach().numpy(), np.float64), (n,)).copy()

    lif = nir.CubaLIF(tau_mem=dt / full(p.tau_mem_inv), tau_syn=dt / full(p.tau_syn_inv), v_threshold=full(p.v_th),
                      v_leak=full(p.v_leak), r=np.ones(n), v_reset=full(p.v_reset))
    nodes = {"input": nir.Input(input_type=np.array([w_in.shape[1]])), "w_in": nir.Linear(weight=w_in),
             "lif": lif, "w_rec": nir.Linear(weight=w_rec), "output": nir.Output(output_type=np.array([n]))}
    edges = [("input", "w_in"), ("w_in", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _rockpool(model, sample, **kw):
    import nir
    from rockpool.nn.modules.torch import LIFTorch
    from rockpool.nn.modules.torch import nir as rnir

    def extract(module):
        node = rnir._extract_rockpool_module(module)
        if isinstance(module, LIFTorch) and getattr(module, "_has_rec", False) and node is not None:
            n = int(module.size_out)
            w_rec = module.w_rec.detach().numpy().T          # Rockpool: irec = spikes @ w_rec
            nodes = {"input": nir.Input(input_type=np.array([n])), "lif": node, "w_rec": nir.Linear(weight=w_rec),
                     "output": nir.Output(output_type=np.array([n]))}
            edges = [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")]
            return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)
        return node

    from nirtorch import extract_nir_graph

    return extract_nir_graph(model, extract, sample, model_name="rockpool", ignore_submodules_of=[LIFTorch], **kw)


def _spyx(model, sample, **kw):
    import spyx.nir

    return spyx.nir.to_nir(model, sample["input_shape"], sample["output_shape"], **kw)


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if np.ndim(v) == 0 else tuple(int(x) for x in v)


_EXPORTERS = {"snntorch": _snntorch, "norse": _norse, "sinabs": _sinabs, "rockpool": _rockpool, "spyx": _spyx}
