"""Golden vector files: inputs plus the expected integer outputs and states of a compiled
model, so that any change to numeric semantics is caught.

File layout (``.npz``): ``input/<name>`` (B, T, *shape) int64, ``output/<name>`` and
``state/<node>.<state>`` (B, T, ...), ``meta`` = JSON text: snnc version, target, steps,
seed, model sha256 (of the model file), the compile profile.
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


def compile_for(model: str, target: str):
    import os

    if os.path.isdir(model):
        from snnc.runtime.compile import load_artifact

        return load_artifact(model)
    graph = snnc.load(model)
    if graph.metadata.get("level") == "integer":    # already lowered (an imported lava-dl .net file)
        return graph
    lowered, _ = compile_graph(graph, make_config(target))
    return lowered


def record(model: str, out: str, *, target: str = "sim", n: int = 4, steps: int = 32, seed: int = 0,
           overwrite: bool = False) -> dict:
    graph = compile_for(model, target)
    inputs = random_inputs(graph, n, steps, seed)
    trace = run_backend("sim", graph, inputs, steps=steps)
    meta = {"snnc_version": snnc.__version__, "target": target, "steps": steps, "samples": n, "seed": seed,
            "model_sha256": graph_digest(model)}
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
    graph = compile_for(model, meta["target"])
    actual = run_backend(backend, graph, inputs, steps=int(meta["steps"]))
    return compare_traces({"golden": expected, backend: actual}), meta
