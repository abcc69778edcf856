"""Parameter checks on a graph: every array finite, magnitudes representable, thresholds and
time constants positive, enumerated fields valid. Each check names node and field."""

from __future__ import annotations

import numpy as np

from . import nodes as N
from .errors import ParameterError
from .graph import Graph

#: parameters whose magnitude exceeds this cannot be simulated or quantized meaningfully
MAX_MAGNITUDE = 1e15

_POSITIVE_FIELDS = ("tau", "tau_syn", "tau_mem", "v_threshold")
_ENUMS = {
    "comparison": N.COMPARISONS,
    "reset": ("zero", "subtract", "none", "multiplicative"),
    "form": ("increment", "map"),
    "spike_rule": ("re", "phase", "iz"),
    "input_kind": ("binary", "graded"),          # snnc.ir.intneurons.RF_SPIKE_RULES
}


#: retention factors per step (DiscreteLIF), with the name a torch user wrote (snnc.frontend.torch)
_RETENTIONS = {"voltage_decay": "beta", "current_decay": "alpha"}


def _user_field(node: N.Node, fname: str) -> str:
    return _RETENTIONS[fname] if node.metadata.get("torch_class") and fname in _RETENTIONS else fname


def check_parameters(graph: Graph) -> None:
    """Raise ParameterError for the first invalid parameter found."""
    for name, node in graph.nodes.items():
        if isinstance(node, N.Subgraph):
            check_parameters(node.graph)
            continue
        for fname, value in node.params().items():
            if value is None or isinstance(value, (tuple, str)):
                if isinstance(value, str) and fname in _ENUMS and value not in _ENUMS[fname]:
                    raise ParameterError(f"'{value}' is not one of {list(_ENUMS[fname])}", node=name,
                                         field=fname)
                continue
            if isinstance(value, N.Node) or fname == "graph":
                continue
            arr = np.asarray(value)
            if arr.dtype.kind not in "fciub":
                continue
            if arr.dtype.kind in "fc":
                bad = ~np.isfinite(arr)
                if bad.any():
                    idx = np.argwhere(bad)[0]
                    raise ParameterError(f"non-finite value {arr[tuple(idx)]} at index {tuple(idx.tolist())}",
                                         node=name, field=fname, hint="retrain or fix the exporter")
            if arr.size and np.abs(arr).max() > MAX_MAGNITUDE:
                raise ParameterError(f"magnitude {float(np.abs(arr).max()):.3g} exceeds {MAX_MAGNITUDE:.0e}",
                                     node=name, field=fname)
            if fname in _POSITIVE_FIELDS and arr.size and (arr <= 0).any():
                raise ParameterError(f"must be > 0 (found {float(arr.min()):g})", node=name, field=fname)
            if isinstance(node, N.DiscreteLIF) and fname in _RETENTIONS and arr.size and \
                    ((arr < 0) | (arr > 1)).any():
                bad = arr[(arr < 0) | (arr > 1)].reshape(-1)[0]
                raise ParameterError(f"{_user_field(node, fname)} = {bad:g} is outside [0, 1]", node=name,
                                     field=_user_field(node, fname),
                                     hint="a retention factor per step: 0 forgets everything, 1 keeps everything")
        if isinstance(node, N.LIFB) and (np.asarray(node.leak) < 0).any():
            raise ParameterError(f"must be >= 0 (found {float(np.min(node.leak)):g})", node=name, field="leak")
        if isinstance(node, N.LIFB) and node.threshold_step is not None and \
                (np.asarray(node.threshold_step) <= 0).any():
            raise ParameterError("must be > 0", node=name, field="threshold_step")
        if isinstance(node, N.LIFB) and node.max_burst < 1:
            raise ParameterError("must be >= 1", node=name, field="max_burst")
        if isinstance(node, N.LMHT) and node.levels < 1:
            raise ParameterError("must be >= 1", node=name, field="levels")
        if isinstance(node, N.LNM):
            deg = np.asarray(node.coefficients).size - 1
            if not 1 <= deg <= 3:
                raise ParameterError(f"polynomial degree {deg} not in 1..3", node=name, field="coefficients")
        if isinstance(node, N.TimeMix):
            c = np.asarray(node.coefficients)
            if c.ndim != 2 or c.shape[0] != c.shape[1]:
                raise ParameterError(f"must be a square T x T matrix, got shape {c.shape}", node=name,
                                     field="coefficients")
