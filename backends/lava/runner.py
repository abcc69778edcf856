"""Run an emitted Lava network sample by sample and read every node back as an snnc trace.

This module is a template: the emitter copies its body (below ``snnc:inline-begin``) into each
``network.py``, next to the generated ``SPEC`` dict and ``build()`` function, so that the
generated file runs by itself (``python network.py --inputs x.npz --out trace.npz``). Inside
snnc it is imported only by the tests (it needs ``lava-nc``).

How values are read back (``SPEC['records']``, written by :mod:`.mapping`):

* ``port``: a ``Monitor`` on the process's output port; a synapse process with latency L sends
  its result for IR step t at step t + L, so the run lasts T + max L steps and the trace is
  ``monitor[L:L+T]``;
* ``complex``: the two ports (real, imaginary) of a complex synapse, combined to complex128;
* ``var``: a ``Monitor`` on a Var (a non-spiking Lava LIF's output is its ``v``);
* ``input``: the input data itself; ``alias`` (Flatten, Output): the sum of the sources'
  traces shifted by the edge delays, reshaped;
* ``merged``: a per-delay part summed with its layer's other parts in one ``DelayDense``: not
  observable, left out of the result (``SPEC['records'][node]['why']``).

States: Monitors on the Vars (read in Lava's post-management phase: the value after the step).
Lava tensors are in (W, H, C) layout; traces come back in the IR's (C, H, W).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.monitor.process import Monitor

SPEC: dict = {}


def build(inputs, params):  # pragma: no cover - replaced by the generated build()
    raise NotImplementedError


# --- snnc:inline-begin ---
# =============================================================================================
# Running and recording (copied from snnc/backends/lava/runner.py)
# =============================================================================================


def _to_lava_layout(x):
    """(T, *ir_shape) -> (*lava_shape, T)."""
    nd = x.ndim - 1
    return np.ascontiguousarray(x.transpose(tuple(range(nd, 0, -1)) + (0,)))


def _from_lava_layout(x):
    """(T, *lava_shape) -> (T, *ir_shape)."""
    nd = x.ndim - 1
    return x.transpose((0,) + tuple(range(nd, 0, -1)))


def load_params(path=None):
    """The parameter arrays of ``params.npz`` (beside this file by default)."""
    path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), "params.npz")
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _needed_records(record):
    """IR node names whose record must be read for ``record`` ('outputs' or 'all')."""
    recs = SPEC["records"]
    want = [n for n in recs if recs[n]["kind"] != "merged"] if record == "all" else list(SPEC["outputs"])
    need, stack = set(), list(want)
    while stack:
        n = stack.pop()
        if n in need:
            continue
        need.add(n)
        if recs[n]["kind"] == "alias":
            stack.extend(s for s, _ in recs[n]["sources"])
    return want, need


def _shift(x, d):
    if d == 0:
        return x
    y = np.zeros_like(x)
    if d < x.shape[0]:
        y[d:] = x[: x.shape[0] - d]
    return y


def run_sample(x, steps, record="outputs", record_states=False, run_cfg=None, params=None):
    """One sample: ``x`` = {input name: int array (steps, *shape)}. Builds a fresh network,
    runs ``steps`` + max latency steps, returns {node or 'node.state': array (steps, ...)}."""
    params = load_params() if params is None else params
    recs = SPEC["records"]
    want, need = _needed_records(record)
    extra = max([recs[n].get("latency", 0) for n in need if recs[n]["kind"] in ("port", "complex")] + [0])
    total = steps + extra
    data = {}
    for name, info in SPEC["inputs"].items():
        a = np.zeros((total, *info["shape"]), np.int64)
        a[:steps] = np.asarray(x[name], np.int64)[:steps]
        if a.size and (a.min() < -2 ** 31 or a.max() > 2 ** 31 - 1):
            raise ValueError(f"input {name!r} has values outside int32 (Lava's RingBuffer is int32)")
        bound = int(info.get("max_abs", 2 ** 31))
        if a.size and np.abs(a).max() > bound:
            raise ValueError(f"input {name!r} has values beyond {bound}, the bound this network was emitted for "
                             "(re-emit with a larger input bound)")
        data[name] = _to_lava_layout(a).astype(np.int32)
    procs = build(data, params)
    monitors = {}

    def probe(key, target):
        m = Monitor()
        m.probe(target, total)
        monitors[key] = m

    for n in need:
        r = recs[n]
        if r["kind"] == "port":
            probe((n, 0), getattr(procs[r["proc"]], r["port"]))
        elif r["kind"] == "complex":
            for i, (key, port) in enumerate(r["procs"]):
                probe((n, i), getattr(procs[key], port))
        elif r["kind"] == "var":
            probe((n, 0), getattr(procs[r["proc"]], r["var"]))
    if record_states:
        for s, r in SPEC["states"].items():
            probe((s, "state"), getattr(procs[r["proc"]], r["var"]))
    first = next(iter(procs.values()))
    cfg = run_cfg if run_cfg is not None else Loihi2SimCfg(select_tag="fixed_pt")
    raw = {}
    started = False
    try:
        first.run(condition=RunSteps(num_steps=total), run_cfg=cfg)
        started = True
        for key, m in monitors.items():
            (proc_data,) = m.get_data().values()
            (arr,) = proc_data.values()
            raw[key] = np.rint(np.asarray(arr, np.float64)).astype(np.int64)
    finally:
        if started:
            first.stop()
    out = {}

    def trace(n):
        if n in out:
            return out[n]
        r = recs[n]
        if r["kind"] == "input":
            v = np.asarray(x[n], np.int64)[:steps]
        elif r["kind"] == "port" or r["kind"] == "var":
            lat = r.get("latency", 0)
            v = _from_lava_layout(raw[(n, 0)])[lat:lat + steps]
        elif r["kind"] == "complex":
            lat = r["latency"]
            re, im = (_from_lava_layout(raw[(n, i)])[lat:lat + steps] for i in (0, 1))
            v = re.astype(np.complex128) + 1j * im.astype(np.complex128)
        else:
            v = None
            for s, d in r["sources"]:
                part = _shift(trace(s), d).reshape((steps, *r["shape"]))
                v = part if v is None else v + part
            if v is None:
                v = np.zeros((steps, *r["shape"]), np.int64)
        out[n] = v
        return v

    result = {n: trace(n) for n in want}
    if record_states:
        for s in SPEC["states"]:
            result[s] = _from_lava_layout(raw[(s, "state")])[:steps]
    return result


def run(inputs, steps=None, record="outputs", record_states=False, run_cfg=None, params=None):
    """Run every sample of ``inputs`` ({input name: (B, T, *shape)}, or one array for a single
    input; (T, *shape) = one sample) on a fresh network each; returns {name: (B, T, ...)} with
    the snnc simulator's keys (node outputs, and 'node.state' when ``record_states``)."""
    names = list(SPEC["inputs"])
    if not isinstance(inputs, dict):
        if len(names) != 1:
            raise ValueError(f"the network has inputs {names}: pass a dict")
        inputs = {names[0]: inputs}
    arrays = {}
    for n in names:
        a = np.asarray(inputs[n])
        if a.ndim == len(SPEC["inputs"][n]["shape"]) + 1:
            a = a[None]
        arrays[n] = a
    batch, length = next(iter(arrays.values())).shape[:2]
    steps = length if steps is None else int(steps)
    params = load_params() if params is None else params
    per_sample = []
    for b in range(batch):
        x = {}
        for n, a in arrays.items():
            s = np.zeros((steps, *a.shape[2:]), np.int64)
            k = min(steps, a.shape[1])
            s[:k] = a[b, :k]
            x[n] = s
        per_sample.append(run_sample(x, steps, record, record_states, run_cfg, params))
    return {k: np.stack([r[k] for r in per_sample]) for k in per_sample[0]}


def main(argv=None):
    """Command line: run the network on an .npz of inputs (arrays (B, T, *shape) per input
    name) and write the traces to an .npz."""
    ap = argparse.ArgumentParser(description="Run this snnc-emitted Lava network (Loihi2SimCfg, fixed_pt).")
    ap.add_argument("--inputs", help=".npz with one array (B, T, *shape) per input node; default: zeros")
    ap.add_argument("--out", help="output .npz for the traces (default: print a summary)")
    ap.add_argument("--steps", type=int, default=None, help="time steps (default: the input length, or 10)")
    ap.add_argument("--record", choices=["outputs", "all"], default="outputs")
    ap.add_argument("--states", action="store_true", help="also record neuron states")
    args = ap.parse_args(argv)
    if args.inputs:
        with np.load(args.inputs, allow_pickle=False) as f:
            inputs = {k: f[k] for k in f.files}
    else:
        steps = args.steps or 10
        inputs = {n: np.zeros((1, steps, *i["shape"]), np.int64) for n, i in SPEC["inputs"].items()}
    result = run(inputs, steps=args.steps, record=args.record, record_states=args.states)
    if args.out:
        tmp = args.out + ".tmp.npz"
        np.savez(tmp, **result)
        os.replace(tmp, args.out)
    else:
        for k, v in result.items():
            print(f"{k}: shape {v.shape}, sum {v.sum()}")
    return 0
