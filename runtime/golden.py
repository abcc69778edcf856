"""Golden vector files: inputs plus the expected integer outputs and states of a compiled
model, so that any change to numeric semantics is caught.

File layout (``.npz``): ``input/<name>`` (B, T, *shape) int64, ``output/<name>`` and
``state/<node>.<state>`` (B, T, ...), ``meta`` = JSON text: snnc version, target, steps,
seed (or the input file's name), model sha256 (of the model file), the load options (``dt``,
``reset``, ...: the model is loaded with them again when the file is checked).
"""

from __future__ import annotations

import io
import json

import numpy as np

import snnc
from snnc.ir.errors import FileFormatError
from snnc.ir.files import atomic_write_bytes
from snnc.ir.trace import Trace
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.verify import compare_traces, graph_digest, random_inputs, run_backend


def compile_for(model: str, target: str, load_options: dict | None = None):
    """The lowered graph of ``model`` (a compiled folder as it is; a model file loaded with
    ``load_options`` and compiled for ``target``)."""
    import os

    if os.path.isdir(model):
        from snnc.runtime.compile import load_artifact

        return load_artifact(model)
    graph = snnc.load(model, **(load_options or {}))
    if graph.metadata.get("level") == "integer":    # already lowered (an imported lava-dl .net file)
        return graph
    lowered, _ = compile_graph(graph, make_config(target))
    return lowered


def record(model: str, out: str, *, target: str = "sim", n: int = 4, steps: int | None = 32, seed: int = 0,
           overwrite: bool = False, input_path: str | None = None, load_options: dict | None = None,
           layout: str = "snnc") -> dict:
    """Record ``n`` random spike inputs (``seed``) of ``steps`` steps, or the inputs of
    ``input_path`` (.npy/.npz as ``snnc run`` reads them; real values quantized by the Input
    node's scale; ``steps`` None: the file's length; ``layout`` 'lava': Lava's time-last order, see
    :mod:`snnc.runtime.run`), and the simulator's traces."""
    from snnc.ir.signals import prepare_inputs
    from snnc.runtime.run import load_inputs, quantize_inputs

    load_options = {k: v for k, v in (load_options or {}).items() if v is not None}
    graph = compile_for(model, target, load_options)
    if input_path is not None:
        inputs = prepare_inputs(graph, quantize_inputs(graph, load_inputs(input_path, graph, layout)), steps,
                                integer=True)
        steps = int(next(iter(inputs.values())).shape[1])
        n = int(next(iter(inputs.values())).shape[0])
    else:
        steps = 32 if steps is None else steps
        inputs = random_inputs(graph, n, steps, seed)
    trace = run_backend("sim", graph, inputs, steps=steps)
    meta = {"snnc_version": snnc.__version__, "target": target, "steps": steps, "samples": n,
            "seed": None if input_path else seed, "model_sha256": graph_digest(model)}
    if input_path is not None:
        import os

        meta["input_file"] = os.path.basename(input_path)
    if load_options:
        meta["load_options"] = load_options
    arrays = {f"input/{k}": v for k, v in inputs.items()}
    arrays.update({f"output/{k}": v for k, v in trace.outputs.items()})
    arrays.update({f"state/{k}": v for k, v in trace.states.items()})
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    atomic_write_bytes(out, buf.getvalue(), overwrite=overwrite)
    return meta


def load_golden(path: str) -> tuple[dict, dict, Trace]:
    try:
        data = np.load(path, allow_pickle=False)
        meta = json.loads(str(data["meta"]))
    except FileNotFoundError:
        raise FileFormatError("golden file not found", file=path) from None
    except Exception as exc:  # numpy/zip/json errors
        raise FileFormatError(f"not a snnc golden file ({type(exc).__name__})", file=path) from None
    inputs = {k[len("input/"):]: data[k] for k in data.files if k.startswith("input/")}
    trace = Trace(outputs={k[len("output/"):]: data[k] for k in data.files if k.startswith("output/")},
                  states={k[len("state/"):]: data[k] for k in data.files if k.startswith("state/")})
    return meta, inputs, trace


def check(model: str, golden: str, *, backend: str = "sim"):
    """Re-run ``model`` on the golden inputs; returns (Comparison, meta)."""
    meta, inputs, expected = load_golden(golden)
    graph = compile_for(model, meta["target"], meta.get("load_options"))
    actual = run_backend(backend, graph, inputs, steps=int(meta["steps"]))
    return compare_traces({"golden": expected, backend: actual}), meta
