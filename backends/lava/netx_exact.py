"""Dense layers of ``.net`` files written back exactly as the netx import built them.

A graph imported from a ``.net`` file (``frontend/netx``) holds Lava's *effective* dense
weights: netx's ``optimize_weight_bits`` scaled them by 2**s, Lava's Dense clipped/truncated
them, the sum is shifted right by s (``weight_exp = -s``, reduced to 0 where every weight is a
multiple of 2**s), and a layer with several delays is one ``IntDense`` per distinct delay
value (edge delay 1 + d). :func:`dense_fields` finds the file fields (``weight``,
``weight_rec``, ``delay``) whose import gives back exactly those nodes: it proposes the
integer weights ``W * 2**weight_exp`` and a delay array, then replays netx + Lava
(:func:`snnc.ir.netx_rules.lava_int_dense`, the import's own constructor) and compares every
field; anything else raises ``NotExpressible``.

Delays (netx 0.6.0 ``DelayDense``): a 1-d array of n_out values is per output neuron, of n_in
values (n_in != n_out) per input neuron, otherwise the full (n_out, n_in) matrix. A delay only
matters where the weight is non-zero; the writer assigns the delays of all-zero parts to zero
entries so that the import rebuilds the same set of synapses.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intnodes as IN
from snnc.ir.errors import UnsupportedError
from snnc.ir.netx_rules import MAX_LAVA_DELAY, lava_dense_weights, lava_int_dense, optimize_weight_bits


class NotExpressible(UnsupportedError):
    """The graph uses something netx cannot build exactly (the message says what)."""


def _real(node: IN.IntDense) -> np.ndarray:
    """The weights in file units: weight * 2**weight_exp (float64; exact below 2**53)."""
    return np.asarray(node.weight, np.int64).astype(np.float64) * 2.0 ** int(node.weight_exp)


def _assign(nz: list[np.ndarray], delays: list[int], axis: int | None) -> np.ndarray | None:
    """A delay array (per row if axis == 1, per column if axis == 0, full matrix if None) with
    delays[k] wherever part k is non-zero, every delay value used at least once; None if the
    parts do not fit that form."""
    shape = nz[0].shape
    size = shape[0] if axis == 1 else shape[1] if axis == 0 else int(np.prod(shape))
    out = np.full(size, -1, np.int64)
    for mask, d in zip(nz, delays):
        hit = mask.any(axis=axis) if axis is not None else mask.reshape(-1)
        if np.any(out[hit] >= 0) and np.any(out[hit][out[hit] >= 0] != d):
            return None
        out[hit] = d
    free = np.flatnonzero(out < 0)
    missing = [d for d in delays if d not in set(out.tolist())]
    if len(missing) > len(free):
        return None
    out[free[:len(missing)]] = missing
    out[out < 0] = min(delays)
    return out if axis is not None else out.reshape(shape)


def delay_array(nodes: list[IN.IntDense], delays: list[int]) -> np.ndarray:
    """netx ``delay`` field (float32-ready int64) for the parts ``nodes`` with netx delays ``delays``."""
    nz = [np.asarray(n.weight) != 0 for n in nodes]
    if len(nodes) > 1 and np.any(np.sum(nz, axis=0) > 1):
        raise NotExpressible("two delayed synapses of one layer share a weight entry (netx has one delay per weight)")
    n_out, n_in = nz[0].shape
    forms = [1] + ([0] if n_in != n_out else []) + [None]
    for axis in forms:
        d = _assign(nz, delays, axis)
        if d is not None:
            return d
    raise NotExpressible("the layer's delays fit no netx delay array")   # unreachable: the full matrix fits


def _same(made: IN.IntDense, node: IN.IntDense) -> str | None:
    for field in ("weight_exp", "input_kind", "acc_bits", "out_bits"):
        if getattr(made, field) != getattr(node, field):
            return f"{field} {getattr(node, field)} (netx gives {getattr(made, field)})"
    if np.asarray(made.weight).shape != np.asarray(node.weight).shape or not np.array_equal(made.weight, node.weight):
        return "weights"
    return None


def dense_fields(name: str, forward: list[tuple[IN.IntDense, int]], rec: IN.IntDense | None, graded: bool) -> dict:
    """File fields of a dense / dense_rec layer whose import is exactly ``forward`` (a list of
    (IntDense, edge delay) into the layer's neuron, one per delay value) and ``rec`` (the
    recurrent IntDense, edge delay 1). ``graded``: the synapse reads graded messages."""
    nodes = [n for n, _ in forward]
    delays = [d - 1 for _, d in forward]
    if any(d < 0 or d > MAX_LAVA_DELAY for d in delays):
        raise NotExpressible(f"'{name}': delays {sorted(d + 1 for d in delays)} outside 1..{MAX_LAVA_DELAY + 1}")
    if len({np.asarray(n.weight).shape for n in nodes}) != 1:
        raise NotExpressible(f"'{name}': delayed synapses of different shapes")
    total = sum(_real(n) for n in nodes)
    parts = [total] + ([_real(rec)] if rec is not None else [])
    delayed = len(nodes) > 1 or delays[0] > 0
    dmat = delay_array(nodes, delays) if delayed else None
    if rec is not None and delayed:
        raise NotExpressible(f"'{name}': a recurrent dense with delays: netx 0.6.0's RecurrentDense hands the "
                             "forward delay matrix to the recurrent synapse and fails")
    problem = "weights"
    for rounding in (np.rint, np.trunc):
        files = [rounding(p).astype(np.int64) for p in parts]
        problem = _replay(files, nodes, delays, dmat, rec, graded)
        if problem is None:
            out = {"weight": files[0], "num_weight_bits": None}
            if rec is not None:
                out["weight_rec"] = files[1]
            if dmat is not None:
                out["delay"] = dmat
            return out
    raise NotExpressible(f"'{name}': no integer weights that netx's optimize_weight_bits and Lava's Dense turn "
                         f"back into this layer ({problem} differ)")


def _replay(files: list[np.ndarray], nodes, delays, dmat, rec, graded: bool) -> str | None:
    joint = np.hstack(files) if len(files) > 1 else files[0]
    scaled, nwb, wexp, clipped, problem = optimize_weight_bits(joint)
    if problem or clipped:
        return problem or "clipped weights"
    col, eff = 0, []
    for f in files:
        w, _, trunc = lava_dense_weights(scaled[:, col:col + f.shape[1]], nwb)
        if trunc < 0:
            return f"num_weight_bits {nwb}"
        col += f.shape[1]
        eff.append(w)
    if dmat is None:
        made = [lava_int_dense(eff[0], wexp, graded, delayed=False, meta={})]
        want = nodes
    else:
        full = np.broadcast_to(dmat.reshape(-1, 1) if dmat.ndim == 1 and dmat.size == eff[0].shape[0]
                               else dmat.reshape(1, -1) if dmat.ndim == 1 else dmat, eff[0].shape)
        values = sorted(int(v) for v in np.unique(full))
        if values != sorted(delays):
            return "delay values"
        by_delay = dict(zip(delays, nodes))
        made = [lava_int_dense(np.where(full == d, eff[0], 0), wexp, graded, delayed=True, meta={}) for d in values]
        want = [by_delay[d] for d in values]
    if rec is not None:
        made.append(lava_int_dense(eff[1], wexp, graded, delayed=False, meta={}))
        want = list(want) + [rec]
    for m, n in zip(made, want):
        diff = _same(m, n)
        if diff:
            return diff
    return None


def netx_reset(nodes: list[IN.IntCubaLIF]) -> dict | None:
    """netx's ``reset_interval`` / ``reset_offset`` (``Network`` options, not file fields) when
    the layers' state resets follow its pattern: every LIF layer resets every I steps, layer
    k (0-based) at 1-based steps t with t % I == (reset_offset + 1 + k) % I, i.e. state reset
    phase (reset_offset + k) % I (:meth:`snnc.ir.intnodes.IntCubaLIF.from_lava`)."""
    if all(n.state_reset_interval is None for n in nodes):
        return None
    interval = nodes[0].state_reset_interval
    offset = None if interval is None else int(nodes[0].state_reset_phase) % interval
    ok = interval is not None and all(
        n.state_reset_interval == interval and int(n.state_reset_phase) % interval == (offset + k) % interval
        for k, n in enumerate(nodes))
    if not ok:
        raise NotExpressible("per-layer state resets that are not netx's reset_interval pattern (one interval; "
                             "layer k resets one step after layer k - 1)")
    return {"reset_interval": int(interval), "reset_offset": int(offset)}


def file_weights(name: str, node: IN.IntDense) -> np.ndarray:
    """The integer weights a ``.net`` file holds for ``node``: ``weight >> -weight_exp`` (the
    matrix netx's ``optimize_weight_bits`` maps back to (weight, num_weight_bits, weight_exp));
    the same sums for binary input. NotExpressible unless weight_exp <= 0 and every weight is a
    multiple of 2**-weight_exp (netx's Dense floors nothing else)."""
    w = np.asarray(node.weight, np.int64)
    s = -int(node.weight_exp)
    if s < 0 or np.any(w % (1 << s)):
        raise NotExpressible(f"'{name}': weight_exp {node.weight_exp} with weights that are not multiples of "
                             f"2**{max(s, 0)}: netx's Dense reproduces only integer weights")
    return w >> s


def plain_dense(node: IN.IntDense) -> bool:
    """A dense synapse the plain writer path takes: Lava's int32 Dense and integer weights
    ``weight >> -weight_exp`` (weight_exp <= 0, every weight a multiple of 2**-weight_exp)."""
    s = -int(node.weight_exp)
    w = np.asarray(node.weight, np.int64)
    return (node.acc_bits, node.out_bits) == (32, 32) and s >= 0 and not np.any(w % (1 << s))
