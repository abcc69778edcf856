"""Running other frameworks' NIR exporters past NIR's own type check.

NIR 1.0.8 builds every ``nir.NIRGraph`` with ``type_check=True``: ``infer_types`` then
``check_types``. Exporters that keep the sample's batch axis in the Input (snnTorch 1.0,
Norse 1.1: Input ``[1, 6]`` into an Affine of 6 inputs) or leave a conv's padding as a scalar
fail there with a ValueError/IndexError and return nothing, although the graph they built is
complete. snnc infers shapes itself (:mod:`snnc.ir.shapes`), so the type check is not needed:
:func:`tolerant_nir` lets it fail, keeps the graph and records what NIR said.

    with tolerant_nir() as notes:
        g = snntorch.export_nir.export_to_nir(net, sample)
    graph = snnc.frontend.from_nir(g, preset="snntorch")
"""

from __future__ import annotations

import contextlib
import threading

_LOCK = threading.Lock()


@contextlib.contextmanager
def tolerant_nir():
    """Context manager: inside it, NIR type inference/check failures of ``nir.NIRGraph`` are
    caught and appended (as strings ``'infer_types: ...'``) to the list it yields. NIR is
    restored on exit. Needs the ``nir`` package."""
    import nir

    notes: list[str] = []
    graph_cls = nir.NIRGraph
    with _LOCK:
        infer, check = graph_cls.infer_types, graph_cls.check_types

        def tolerant(fn, label):
            def wrapped(self, *args, **kwargs):
                try:
                    return fn(self, *args, **kwargs)
                except Exception as exc:  # noqa: BLE001 - any failure of NIR's own check is tolerated
                    notes.append(f"{label}: {type(exc).__name__}: {str(exc).strip()[:200]}")
                    return None
            return wrapped

        graph_cls.infer_types = tolerant(infer, "infer_types")
        graph_cls.check_types = tolerant(check, "check_types")
        try:
            yield notes
        finally:
            graph_cls.infer_types, graph_cls.check_types = infer, check
