"""Time-blocked execution: the pieces the simulator keeps from one block of steps to the next.

The simulator runs its schedule over blocks of ``Tb`` time steps (steps ``t0 .. t1 - 1``); every
array a node produces for a block is ``[n, B, *shape]`` (``n = t1 - t0 <= Tb``), so the working
set stays bounded by the block, not the run, and the heap pages of one block are reused by the
next instead of being page-faulted in afresh (a node-major ``[T, B, ...]`` array of PilotNet's
first layer is 78 MB). Between blocks the simulator carries

* each stateful kernel's state (:meth:`~snnc.backends.sim.kernels.Kernel.run_block`);
* for every node read over an edge with a delay: its last ``D`` steps (:class:`History`;
  ``D`` = its largest outgoing delay, at most T), so a reader at step t sees step t - d across
  the block boundary;
* recorded outputs, written into ``[T, B, ...]`` result arrays block by block (:class:`Record`).

Exactness: a node's output at step t depends only on its inputs at steps <= t and on its state;
stateless kernels map each step on its own (their fast paths, chosen from the block's values,
are exact by construction), so any block size gives the results of one block of T steps.
"""

from __future__ import annotations

import numpy as np

#: bytes of one node's block array ([Tb, B, *shape] of 8-byte values) the block size aims at:
#: small enough that a block's arrays stay in the heap glibc keeps (allocator.py: 64 MiB of top
#: padding, arrays below 32 MiB not mmapped) and are reused by the next block, large enough that
#: a block of a small layer is many steps (one BLAS call over Tb x B rows)
BLOCK_BYTES = 4 << 20


def block_steps(T: int, step_bytes: int, *, window: int = 1, forced: int | None = None,
                history_bytes: int = 0) -> int:
    """Steps per block for a run of ``T`` steps whose largest node produces ``step_bytes`` bytes
    per step (all samples): ``forced`` if given (at least 1), else :data:`BLOCK_BYTES` //
    step_bytes, between 1 and T; but one block of T steps when the delay histories the blocks
    would carry (``history_bytes``: sum over delayed nodes of depth x bytes per step) exceed half
    the largest node's whole-run array: the blocks would copy those histories at every block
    boundary and hold them for the whole run (measured on NTIDIGITS, 95 synapses with delays of
    up to 63 steps: 2 blocks of 64 steps were 1.25x slower than one block). With whole-window nodes (TimeMix over
    windows that start at step 0; ``window``: the lcm of their windows) a block is a whole number
    of windows, and a run whose length is not one (the node refuses it) is one block."""
    if T <= 0:
        return 1
    if window > 1 and T % window:
        return T
    if forced is None and 2 * history_bytes > T * step_bytes:
        return T
    tb = max(1, int(forced)) if forced is not None else BLOCK_BYTES // max(1, step_bytes)
    tb = -(-max(1, tb) // window) * window
    return min(T, tb)


class History:
    """The last ``D`` steps of one node's output before the current block (``buf: [D, B,
    *shape]``, row ``D + (t - t0)`` holding step t < t0; rows of steps before 0 are zeros, as
    :func:`snnc.backends.sim.ops.shift_time` fills them), and the node's output of the current
    block (``cur``), set by :meth:`write`."""

    def __init__(self, depth: int):
        self.D, self.buf, self.cur = depth, None, None

    def write(self, y: np.ndarray) -> None:
        """The node's output of the current block, ``y: [n, B, ...]``."""
        if self.buf is None:
            self.buf = np.zeros((self.D, *y.shape[1:]), y.dtype)
        elif self.buf.dtype != np.result_type(self.buf.dtype, y.dtype):
            self.buf = self.buf.astype(np.result_type(self.buf.dtype, y.dtype))
        self.cur = y

    def delayed(self, d: int) -> np.ndarray:
        """The block's input over an edge of delay ``1 <= d <= D``: steps t0 - d .. t1 - 1 - d."""
        n = self.cur.shape[0]
        old = self.buf[self.D - d:self.D - d + min(d, n)]
        if d >= n:
            return old.astype(self.cur.dtype, copy=False)
        return np.concatenate([old, self.cur[:n - d]]).astype(self.cur.dtype, copy=False)

    def row(self, t_rel: int) -> np.ndarray:
        """Step ``t0 + t_rel`` of an earlier block (``-D <= t_rel < 0``)."""
        return self.buf[self.D + t_rel]

    def advance(self) -> None:
        """After the block: the last D steps up to its end become the history of the next."""
        if self.cur is None:
            return
        n = self.cur.shape[0]
        if n >= self.D:
            self.buf[:] = self.cur[n - self.D:]
        else:
            self.buf[:self.D - n] = self.buf[n:].copy()
            self.buf[self.D - n:] = self.cur
        self.cur = None


class Record:
    """A ``[T, B, *shape]`` result array filled block by block (one block: the block's array
    itself, no copy). A later block of a wider dtype promotes the array (as one ``np.stack``
    over the steps would)."""

    def __init__(self, T: int, single_block: bool):
        self.T, self.single, self.buf = T, single_block, None

    def write(self, t0: int, y: np.ndarray) -> None:
        if self.single:
            self.buf = y
            return
        if self.buf is None:
            self.buf = np.empty((self.T, *y.shape[1:]), y.dtype)
        elif self.buf.dtype != np.result_type(self.buf.dtype, y.dtype):
            self.buf = self.buf.astype(np.result_type(self.buf.dtype, y.dtype))
        self.buf[t0:t0 + y.shape[0]] = y
