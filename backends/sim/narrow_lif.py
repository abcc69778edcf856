"""``IntCubaLIF`` in int32 arithmetic, for blocks whose bounds prove that every value fits.

The node's equation (:class:`snnc.ir.intnodes.IntCubaLIF`) is written for int64 with wraps to
``arith_bits`` and the state widths. On real networks (Lava: 24-bit states, 32-bit sums, inputs
of a few thousand) every one of those wraps is the identity and every value fits in int32, so
the same equation runs on half the bytes per value, in place, in about ten passes over the
neurons instead of about twenty (bench/sim_networks.py: PilotNet's neuron layers dominated the
simulator's time). This module decides when that is exact and runs it; anything it cannot
prove goes to the int64 kernel.

What is proven, per block, from X = max |x| over the block's input (s = ``input_shift``,
D = ``decay_bits``, U = 2**(u_bits-1), V = 2**(v_bits-1); all bounds are on magnitudes):

* states: |u| <= U and |v| <= V when the block starts. v holds it after every step whatever
  the input (``v_overflow`` clips or wraps into [-V, V]; a reset to 0 or, with thresholds >= 0,
  to h - threshold in [0, h] keeps it). u holds it after every step for 'wrap' and 'saturate';
  for Lava's one-step wrap it holds while |a| <= U (|decay(u) + a| <= 2U and one correction
  brings that back). A state the int64 kernel left behind is measured once (max |u|);
* a = x * 2**s: |a| <= X * 2**s = A;
* decay(u, m) = trunc(u * m / 2**D). With m = k * 2**j (j the fewest trailing zero bits of the
  nonzero multipliers) that is trunc(u * k / 2**(D - j)), exact as an int32 product when
  U * max k < 2**31 (Lava's round decays: 3072 = 3 * 2**10); otherwise the product is taken in
  float64, u * (m / 2**D), exact there (|u * m| < 2**53, dividing by 2**D is exact) and
  truncated; its magnitude is at most U * max m / 2**D;
* the sums decay(u) + a and decay(v) + u + bias are below 2**31 and below 2**(arith_bits - 1),
  so the ``arith_bits`` wraps are the identity; an overflow rule (state width) whose bound
  proves it the identity is skipped, else computed in int32 (values in range by the bounds);
* thresholds are int32 values; a 'subtract' reset only with thresholds >= 0.

trunc(p / 2**r) for int32 p is ``(p + ((p >> 31) & (2**r - 1))) >> r`` (adds 2**r - 1 to a
negative p before the floor shift), as :func:`snnc.ir.intops.rtz_shift` does in int64.
"""

from __future__ import annotations

import numpy as np

I32 = np.int32
#: int32 magnitude limit: every bound below must stay under it
LIMIT = 2.0 ** 31 - 1


def _factor(m: np.ndarray, bits: int) -> tuple[np.ndarray | None, int]:
    """Multipliers ``m`` in [0, 2**bits] as ``k * 2**j``: (k as int32, or None when every m is 0;
    the shift ``r = bits - j`` that remains). j = the fewest trailing zero bits over the nonzero
    multipliers (at most ``bits``)."""
    m = np.asarray(m, np.int64)
    nonzero = m[m != 0]
    if nonzero.size == 0:
        return None, 0
    j = bits
    for v in np.unique(nonzero):
        tz = (int(v) & -int(v)).bit_length() - 1
        j = min(j, tz)
    return (m >> j).astype(I32), bits - j


def _rtz_inplace(p: np.ndarray, r: int, tmp: np.ndarray) -> None:
    """p = trunc(p / 2**r) in place (int32 p; ``tmp`` an int32 scratch array of p's shape)."""
    if r == 0:
        return
    np.right_shift(p, 31, out=tmp)
    np.bitwise_and(tmp, (1 << r) - 1, out=tmp)
    np.add(p, tmp, out=p)
    np.right_shift(p, r, out=p)


class NarrowCubaLIF:
    """The int32 form of one ``IntCubaLIF`` node: its constants (factored multipliers, int32
    bias and thresholds) and :meth:`plan` / :meth:`run` for a block. ``build`` returns None for
    a node no block could run narrow (a threshold or bias beyond int32, a state width above 30
    bits, a 'subtract' reset with a negative threshold)."""

    def __init__(self, node):
        n = self.node = node
        self.U, self.V = 2.0 ** (n.u_bits - 1), 2.0 ** (n.v_bits - 1)
        self.cm_k, self.cm_r = _factor(n.current_mult, n.decay_bits)
        self.vm_k, self.vm_r = _factor(n.voltage_mult, n.decay_bits)
        cm = np.asarray(n.current_mult, np.int64)
        vm = np.asarray(n.voltage_mult, np.int64)
        #: largest magnitude of decay(u) / decay(v) for |u| <= U, |v| <= V
        self.du_bound = np.floor(self.U * float(cm.max(initial=0)) / 2.0 ** n.decay_bits)
        self.dv_bound = np.floor(self.V * float(vm.max(initial=0)) / 2.0 ** n.decay_bits)
        self.bias = None if n.bias is None else self._flat(n.bias)
        self.bias_bound = 0.0 if n.bias is None else float(np.abs(np.asarray(n.bias, np.float64)).max(initial=0))
        self.thr = None if n.threshold is None else self._flat(n.threshold)
        self.thr_bound = 0.0 if n.threshold is None else float(np.abs(np.asarray(n.threshold, np.float64)).max())
        self.fire = np.greater if n.comparison == ">" else np.greater_equal
        self._scratch_arrays: dict[tuple, np.ndarray] = {}
        #: a zero reset keeps h where h - threshold - (1 for '>', 0 for '>=') < 0: that sign, as
        #: the mask (d >> 31) = -1 (keep) or 0, zeroes the fired neurons in two passes
        self.keep_offset = None
        if self.thr is not None:                      # int64 first: threshold 2**31 - 1 plus 1
            keep = np.asarray(n.threshold, np.int64) + (1 if n.comparison == ">" else 0)
            if np.abs(keep).max() <= LIMIT:           # (else every plan refuses: thr_bound + 1)
                self.keep_offset = self._flat(keep)
        # a multiplier whose odd part times the state could leave int32 multiplies in float64
        # instead: u * (m / 2**D) is exact there (|u * m| < 2**53; dividing by a power of two
        # is exact) and trunc() rounds it toward zero
        self.cm_f = self.vm_f = None
        if self.cm_k is not None:
            if self.U * float(self.cm_k.max()) > LIMIT:
                self.cm_f, self.cm_k = self._flat_float(cm, n.decay_bits), None
            else:
                self.cm_k = self._flat(self.cm_k)
        if self.vm_k is not None:
            if self.V * float(self.vm_k.max()) > LIMIT:
                self.vm_f, self.vm_k = self._flat_float(vm, n.decay_bits), None
            else:
                self.vm_k = self._flat(self.vm_k)

    def _flat_float(self, m, bits) -> np.ndarray:
        f = np.asarray(m, np.float64) / 2.0 ** bits
        return f if f.ndim == 0 else np.ascontiguousarray(np.broadcast_to(f, self.node.shape).reshape(-1))

    def _flat(self, a) -> np.ndarray:
        """A per-neuron parameter as int32 over the flattened neurons ([N]; a scalar stays 0-d):
        the steps run on [b, N] arrays, whose long inner axis numpy's loops handle fastest."""
        a = np.asarray(a, np.int64)
        if a.ndim == 0:
            return a.astype(I32)
        return np.ascontiguousarray(np.broadcast_to(a, self.node.shape).reshape(-1).astype(I32))

    @classmethod
    def build(cls, node) -> NarrowCubaLIF | None:
        n = node
        if n.u_bits > 30 or n.v_bits > 30 or n.decay_bits > 30:
            return None
        for f in (n.bias, n.threshold):
            if f is not None and float(np.abs(np.asarray(f, np.float64)).max(initial=0)) > LIMIT:
                return None
        if n.reset == "subtract" and n.threshold is not None and int(np.asarray(n.threshold).min()) < 0:
            return None
        return cls(node)

    def plan(self, xmax: float) -> dict | None:
        """Which overflow rules a block with max |x| = ``xmax`` must compute ({'u': bool, 'h':
        bool}), or None when the block cannot run in int32 (a bound reaches 2**31 or an
        ``arith_bits`` wrap could change a value)."""
        n = self.node
        lim = min(LIMIT, 2.0 ** (n.arith_bits - 1) - 1) if n.arith_bits < 64 else LIMIT
        a = xmax * 2.0 ** n.input_shift
        if n.u_overflow == "lava" and a > self.U:
            return None
        pre_u = self.du_bound + a
        if pre_u > lim or pre_u + self.U > LIMIT:
            return None
        u_rule = pre_u > self.U - 1
        u_after = self.U if u_rule else pre_u
        pre_h = self.dv_bound + u_after + self.bias_bound
        if pre_h > lim or pre_h + self.V > LIMIT or pre_h + self.thr_bound + 1 > LIMIT:
            return None
        return {"u": bool(u_rule), "h": bool(pre_h > self.V - 1)}

    def states_in_range(self, state: dict) -> bool:
        """|u| <= U and |v| <= V for a state the int64 kernel produced (narrow states carry the
        mark ``narrow``: they hold it by construction)."""
        if state.get("narrow"):
            return True
        return all(s.size == 0 or float(np.abs(s.astype(np.int64)).max()) <= b
                   for s, b in ((state["u"], self.U), (state["v"], self.V)))

    def run(self, x: np.ndarray, state: dict, t0: int, rules: dict, out: np.ndarray) -> dict:
        """Steps ``t0 ..`` of one batch chunk: ``x: int[n, b, N]`` (N = neurons flattened, any
        integer dtype), ``state``: {'u', 'v'} of the chunk ([b, *shape]); writes the outputs
        into ``out: [n, b, N]`` (spikes 0/1, or h without thresholds; bool only for spikes)
        and returns the state after the last step: int32 arrays marked ``narrow``, updated in
        place by the next block.

        Memory traffic, not arithmetic, bounds a large layer at a large batch (all chunks'
        states stream through the caches every step): the states are updated in place and the
        shifted input goes to a scratch array shared by the chunks (it stays in cache). Without
        a current decay u is never read by a later step, in this form or the int64 steps (u =
        overflow(a) then, from the step's input alone): without a u rule (u = a) it is not
        stored at all (``None``; :meth:`materialize`)."""
        n = self.node
        shape = state["v"].shape
        b = shape[0]
        if state.get("narrow"):
            v = state["v"].reshape(b, -1)
            u = state.get("u")
            u = None if u is None else u.reshape(b, -1)
        else:
            v = np.asarray(state["v"]).astype(I32).reshape(b, -1)
            u = np.asarray(state["u"]).astype(I32).reshape(b, -1)
        tmp, a, z = self._scratch(v.shape), self._scratch(v.shape, slot=1), self._scratch(v.shape, np.bool_)
        lazy_u = self.cm_k is None and self.cm_f is None and not rules["u"]
        if not lazy_u and u is None:
            u = self.materialize(state).reshape(b, -1)
        spike_view = out.dtype == np.bool_ and self.thr is not None
        for t in range(x.shape[0]):
            if n.state_reset_interval is not None and (t0 + t) % n.state_reset_interval == n.state_reset_phase:
                if u is not None:
                    u.fill(0)
                v.fill(0)
            if x.dtype == I32:
                np.left_shift(x[t], n.input_shift, out=a)
            else:                                     # cast first: the int32 shift is faster
                np.copyto(a, x[t], casting="unsafe")
                np.left_shift(a, n.input_shift, out=a)
            if lazy_u:                                # u = a
                cur = a
            else:                                     # u = overflow(decay(u) + a)
                if self._decay(u, u, self.cm_k, self.cm_r, self.cm_f, tmp):
                    np.add(u, a, out=u)
                else:
                    np.copyto(u, a)
                if rules["u"]:
                    self._u_overflow(u)
                cur = u
            if self._decay(v, v, self.vm_k, self.vm_r, self.vm_f, tmp):      # h = decay(v) + u + bias
                np.add(v, cur, out=v)
            else:
                np.copyto(v, cur)
            if self.bias is not None:
                np.add(v, self.bias, out=v)
            if rules["h"]:
                self._v_overflow(v)
            if self.thr is None:
                out[t] = v
                continue
            zt = out[t] if spike_view else z
            self.fire(v, self.thr, out=zt)
            if n.reset == "zero":                     # h where h - keep_offset < 0, else 0
                np.subtract(v, self.keep_offset, out=tmp)
                np.right_shift(tmp, 31, out=tmp)
                np.bitwise_and(v, tmp, out=v)
            elif n.reset == "subtract":
                np.subtract(v, self.thr, out=v, where=zt)
            if not spike_view:
                out[t] = zt
        return {"u": None if lazy_u else u.reshape(shape), "v": v.reshape(shape), "narrow": True}

    @staticmethod
    def materialize(state: dict) -> np.ndarray:
        """The state's u as an array ([b, *shape] int32): zeros where it was not stored (no
        current decay: nothing reads it, see :meth:`run`)."""
        u = state.get("u")
        return np.zeros(state["v"].shape, I32) if u is None else u

    def _decay(self, s, into, k, r, f, tmp) -> bool:
        """``into`` = decay(s) = trunc(s * m / 2**D) (``s``, ``into``: int32, may be the same
        array): as ``s * k`` shifted by ``r`` rounding toward zero, or in float64 (``f`` = m /
        2**D). False (nothing written) when every multiplier is 0."""
        if k is not None:
            np.multiply(s, k, out=into)
            _rtz_inplace(into, r, tmp)
            return True
        if f is None:
            return False
        prod = self._scratch(s.shape, np.float64)
        np.multiply(s, f, out=prod)
        np.trunc(prod, out=prod)
        np.copyto(into, prod, casting="unsafe")      # an integer below 2**31 in magnitude
        return True

    def _scratch(self, shape: tuple, dtype=I32, slot: int = 0) -> np.ndarray:
        """Scratch array number ``slot`` of ``shape`` and ``dtype``, shared by the chunks of that
        size (it stays in cache from one chunk to the next)."""
        key = (shape, np.dtype(dtype), slot)
        got = self._scratch_arrays.get(key)
        if got is None:
            got = self._scratch_arrays[key] = np.empty(shape, dtype)
        return got

    def _u_overflow(self, u: np.ndarray) -> None:
        """The u overflow rule in place (|u| <= du_bound + A < 2**31 - U: every step below stays
        in int32)."""
        n = self.node
        half = 1 << (n.u_bits - 1)
        full = 1 << n.u_bits
        if n.u_overflow == "lava":                    # > half: - full; <= -half: + full
            np.subtract(u, full, out=u, where=u > half)
            np.add(u, full, out=u, where=u <= -half)
        elif n.u_overflow == "wrap":
            _wrap_inplace(u, n.u_bits)
        else:
            np.clip(u, -half, half - 1, out=u)

    def _v_overflow(self, h: np.ndarray) -> None:
        n = self.node
        half = 1 << (n.v_bits - 1)
        if n.v_overflow == "saturate_sym":
            np.clip(h, -half + 1, half - 1, out=h)
        elif n.v_overflow == "saturate":
            np.clip(h, -half, half - 1, out=h)
        else:
            _wrap_inplace(h, n.v_bits)


def _wrap_inplace(p: np.ndarray, bits: int) -> None:
    """Two's complement wrap of int32 ``p`` to ``bits`` in place: ((p + 2**(bits-1)) mod 2**bits)
    - 2**(bits-1) (the caller proves |p| + 2**(bits-1) < 2**31)."""
    half = 1 << (bits - 1)
    np.add(p, half, out=p)
    np.bitwise_and(p, (1 << bits) - 1, out=p)
    np.subtract(p, half, out=p)
