"""One Lava ``DelayDense`` with a per-synapse delay matrix for the per-delay parts of one layer.

The netx import splits a delayed dense layer into one ``IntDense`` per distinct delay value
(:mod:`.delay_groups` finds them). Planned one by one, each part is a Lava process of its own:
lava-dl's NTIDIGITS becomes about a hundred processes, and Lava's start-up takes minutes. When
the parts fit, :func:`plan_delay_groups` plans them as ONE ``DelayDense`` (lava-nc 0.10,
``lava.proc.dense.process.DelayDense``) whose ``weights`` are the union of the parts and whose
``delays`` matrix holds, per synapse, the Lava delay of its part (edge delay - 1; zero where no
part has a synapse).

Why it is exact (lava-nc 0.10 ``PyDelayDenseModelBitAcc``): per step the model sums, per output
neuron and per delay value k, the weights of delay k times the input (an int64 ``np.sum``),
shifts that sum by ``weight_exp`` (left, or arithmetic right), and adds it into the int32 buffer
column that leaves k + 1 steps later. Every delay column therefore holds exactly the
accumulator of the part with that delay, shifted as the part's ``IntDense`` shifts it
(``weights << k == w`` with Lava's exponent ``weight_exp + k``, the encoding of
:func:`snnc.ir.netx_rules.lava_dense_encoding`). The parts' sums, which the consumer's input
port would add, are added in the buffer instead: the same integers as long as nothing wraps,
which the planner proves: sum |w| * max|input| * 2**max(weight_exp, 0) < 2**31 per output
neuron over all parts (then neither the IR's 32-bit accumulators and outputs nor Lava's int32
products and buffer wrap). Lava's delay field has 6 bits: delays 0..``MAX_LAVA_DELAY``.

What is lost: a part's own output is not a port any more (its synapses are summed with the
other parts' in the process), so the plan records it as ``merged`` (not observable in Lava; the
consumer's input and states still check it). Groups that do not fit keep one process per part,
and each part's row in the node table says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc.ir import intnodes as IN
from snnc.ir.netx_rules import (
    GRADED_MESSAGE_BITS,
    INT32_LIMIT,
    MAX_LAVA_DELAY,
    SIGN_MODE_NAMES,
    lava_dense_encoding,
)

from .delay_groups import find_delay_groups
from .plan import Code, Link, Proc

UNOBSERVED = "its synapses are summed with the layer's other delay parts in one Lava DelayDense"


@dataclass
class _MergedLayer:
    """What the parts of one group become: the union of their weights, the per-synapse Lava
    delay (edge delay - 1; 0 where no part has a synapse), their common weight_exp, and whether
    the input is binary spikes."""

    weights: np.ndarray
    delays: np.ndarray
    lava_delays: list[int]
    weight_exp: int
    binary: bool


def plan_delay_groups(pl, links_in: dict[str, list[Link]], links_out: dict[str, list[Link]]) -> dict[str, str]:
    """Plan every group of per-delay parts that fits as one ``DelayDense`` (added to ``pl``'s
    plan, each part recorded as ``merged``). Returns {part: the process key} of the merged parts
    and {part: why not} of the rest as ``pl.merge_notes``."""
    merged: dict[str, str] = {}
    pl.merge_notes = {}
    for _src, consumer, parts in find_delay_groups(pl.g):
        layer = _merge(pl, consumer, parts, links_in, links_out)
        if isinstance(layer, _MergedLayer):
            key = _add(pl, consumer, parts, layer)
            merged.update({p: key for p in parts})
        else:
            pl.merge_notes.update({p: f"not merged with the layer's other delay parts: {layer}" for p in parts})
    return merged


def _merge(pl, consumer: str, parts: list[str], links_in, links_out) -> _MergedLayer | str:
    """The merged layer when the parts fit one exact ``DelayDense``, else the reason (a str)."""
    g = pl.g
    if not pl.real(consumer):
        return f"they feed {g.nodes[consumer].type_name} '{consumer}', not a process"
    ins = [links_in[p] for p in parts]
    if any(len(lks) != 1 for lks in ins) or len({(lks[0].src, lks[0].delay, repr(lks[0].reshapes))
                                                 for lks in ins}) != 1:
        return "their inputs differ"
    outs = [links_out[p] for p in parts]
    if any(len(lks) != 1 or lks[0].dst != consumer for lks in outs):
        return "a part feeds more than its layer's neurons"
    delays = [lks[0].delay for lks in outs]
    if min(delays) < 1 or max(delays) > MAX_LAVA_DELAY + 1:
        return f"edge delays {sorted(set(delays))} outside 1..{MAX_LAVA_DELAY + 1} (Lava's 6-bit delays)"
    nodes: list[IN.IntDense] = [g.nodes[p] for p in parts]
    for p, n in zip(parts, nodes):
        n.validate(p)
    first = nodes[0]
    for field in ("weight_exp", "input_kind"):
        if len({getattr(n, field) for n in nodes}) != 1:
            return f"different {field}"
    if min(min(n.acc_bits, n.out_bits) for n in nodes) < 32:
        return "an accumulator or output narrower than Lava's int32"
    ws = [np.asarray(n.weight, np.int64) for n in nodes]
    if len({w.shape for w in ws}) != 1:
        return "different weight shapes"
    nz = np.stack([w != 0 for w in ws])
    if np.any(nz.sum(axis=0) > 1):
        return "two parts share a synapse (one delay per synapse in a DelayDense)"
    union = np.sum(ws, axis=0)
    if lava_dense_encoding(union) is None:
        return "their weights together are not representable as Lava 8-bit weights << k"
    binary = first.input_kind == "binary" or pl.sources_binary(ins[0])
    payload = 1.0 if binary else pl._in_payload(ins[0])
    bound = float(np.abs(union).sum(axis=1).max(initial=0)) * payload * 2.0 ** max(int(first.weight_exp), 0)
    if not bound < INT32_LIMIT:
        return "their summed accumulator may exceed int32 (separate int32 ports wrap differently)"
    lava_delays = [d - 1 for d in delays]
    dmat = np.zeros(union.shape, np.int64)
    for mask, d in zip(nz, lava_delays):
        dmat[mask] = d
    return _MergedLayer(union, dmat, lava_delays, int(first.weight_exp), binary)


def _add(pl, consumer: str, parts: list[str], layer: _MergedLayer) -> str:
    wk, k, mode, nwb = lava_dense_encoding(layer.weights)
    delays = layer.lava_delays
    key, i = f"{consumer}.delay_dense", 1
    while key in pl.plan.procs:
        i += 1
        key = f"{consumer}.delay_dense{i}"
    args = {"weights": wk, "delays": layer.delays, "max_delay": int(max(delays)),
            "weight_exp": layer.weight_exp + k, "num_weight_bits": nwb,
            "sign_mode": Code(SIGN_MODE_NAMES[mode]), "num_message_bits": 0 if layer.binary else GRADED_MESSAGE_BITS,
            "name": key}
    note = (f"{'binary' if layer.binary else 'graded'}, {len(parts)} per-delay parts merged (per-synapse delays "
            f"{min(delays)}..{max(delays)})" + (f", weights << {k}" if k else ""))
    proc = pl.add(Proc(key, "DelayDense", args, node=parts[0], latency=max(delays) + 1, in_port="s_in",
                       out_port="a_out", note=note, merged=list(parts[1:])), "IntDense")
    for p, d in zip(parts, delays):
        if p != parts[0]:
            pl.plan.table.append({"node": p, "type": "IntDense", "lava": "DelayDense", "process": key, "note": note})
        pl.plan.records[p] = {"kind": "merged", "proc": proc.key, "latency": d + 1, "shape": list(pl.shapes[p]),
                              "why": UNOBSERVED}
    return key
