"""Streaming IntTimeMix (LM-HT's W x W time mixing, ``latency`` = W): causal, one window late.

Semantics (:class:`snnc.ir.intneurons.IntTimeMix`, the simulator's streaming kernel): before
``phase`` the output is 0 and nothing changes; at step t >= phase, with i = (t - phase) % W::

    y = mixed[i];  buffer[i] = x
    at i == W - 1:  mixed[r] = rtz(sum_j coefficients[r, j] * buffer[j], frac_bits)  (every r)

Hardware: one neuron per cycle (the element-wise skeleton, :func:`.modules.elementwise`). The
window's sums are accumulated as the inputs arrive, so no step does more than W
multiply-accumulates per neuron: per row r an internal accumulator ``acc_r`` (not traced)
gets ``coefficients[r, i] * x`` at position i (restarting at i = 0), and at i = W - 1
``mixed[r] = rtz(acc_r, frac_bits)``. Its value at i = W - 1 is the simulator's sum over the
window's buffer, so ``mixed`` equals the simulator's state; ``buffer`` is kept write-only (the
traces compare it; synthesis removes it, since nothing reads it). Memories: W accumulator and
W ``mixed`` rows of one word per neuron; W multipliers (x times the coefficient of position
i). Cycles per step: n + 2, the same at every step.

The whole-window form (``latency`` 0) mixes future steps of its window and is refused; the
rtl target's lowering (``TargetProfile.window_mixing = 'streaming'``) produces this one.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir.errors import UnsupportedError

from .modules import NodeRTL, NodeSpec, StateVar, elementwise, generates
from .netlist import Netlist, Sig


def _prefix_bounds(row: np.ndarray, x_lo: int, x_hi: int) -> tuple[int, int]:
    """Bounds of every prefix sum of coefficients[r, j] * x_j (x_j in [x_lo, x_hi])."""
    lo = sum(min(0, c * x_lo, c * x_hi) for c in (int(v) for v in row))
    hi = sum(max(0, c * x_lo, c * x_hi) for c in (int(v) for v in row))
    return lo, hi


@generates(INN.IntTimeMix)
def _time_mix(spec: NodeSpec) -> NodeRTL:
    node = spec.node
    node.validate(spec.name)
    if not node.streaming:
        raise UnsupportedError("a whole-window TimeMix (latency 0) mixes future steps of its window; a "
                               "step-by-step circuit cannot compute it", node=spec.name,
                               hint="compile for the rtl target (its lowering streams LM-HT's time mixing, one "
                                    "window late)")
    c = np.asarray(node.coefficients, np.int64)
    W, ph, F = node.window, int(node.phase), int(node.frac_bits)
    bounds = [_prefix_bounds(c[r], spec.x_lo, spec.x_hi) for r in range(W)]

    def update(nl: Netlist, p, x, st, t: Sig):
        idle = nl.cmp(t, "<", nl.const(ph)) if ph else None
        pos = nl.step_mod(W, -ph)             # (t - phase) mod W
        at = [nl.cmp(pos, "==", nl.const(k)) for k in range(W)]
        active = [nl.both(at[k], nl.cond(f"!{idle.ref}")) if idle else at[k] for k in range(W)]
        y = st["mixed_0"]
        for k in range(1, W):
            y = nl.select(at[k], st[f"mixed_{k}"], y)
        if idle:
            y = nl.select(idle, nl.const(0), y)
        new = {}
        for r in range(W):
            coef = nl.const(int(c[r, 0]))
            for k in range(1, W):
                coef = nl.select(at[k], nl.const(int(c[r, k])), coef)
            base = nl.select(at[0], nl.const(0), st[f"acc_{r}"])
            prod = nl.mul(x, coef)
            acc = nl.wire(f"{base.ref} + {prod.ref}", *bounds[r])
            new[f"acc_{r}"] = nl.select(idle, st[f"acc_{r}"], acc) if idle else acc
            new[f"mixed_{r}"] = nl.select(active[W - 1], nl.rtz_shift(acc, F), st[f"mixed_{r}"])
            # buffer row r: x at position r; zeros on the first step (the simulator's initial state)
            new[f"buffer_{r}"] = (nl.select(active[r], x, nl.const(0)),
                                  nl.cond(f"{active[r].ref} | first"))
        return y, new

    states = []
    for r in range(W):
        lo, hi = bounds[r]
        states += [StateVar(f"acc_{r}", lo=lo, hi=hi, record="", fixed=True),
                   StateVar(f"mixed_{r}", record="mixed", row=r),
                   StateVar(f"buffer_{r}", record="buffer", row=r, read=False)]
    return elementwise(spec, states, update, multipliers=W)
