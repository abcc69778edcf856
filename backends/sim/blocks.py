"""Time-blocked execution: the pieces the simulator keeps from one block of steps to the next.

The simulator runs its schedule over blocks of ``Tb`` time steps (steps ``t0 .. t1 - 1``); every
array a node produces for a block is ``[n, B, *shape]`` (``n = t1 - t0 <= Tb``), so the working
set stays bounded by the block, not the run, and the heap pages of one block are reused by the
next instead of being page-faulted in afresh (a node-major ``[T, B, ...]`` array of PilotNet's
first layer is 78 MB). Between blocks the simulator carries

* each stateful kernel's state (:meth:`~snnc.backends.sim.kernels.Kernel.run_block`);
* for every node read over an edge with a delay: its last ``D`` steps (``D`` = its largest
  outgoing delay, at most T), so a reader at step t sees step t - d across the block boundary:
  in a :class:`History` when the node's kernel writes its block into a given array (the
  convolution: the block's steps sit right after the last D in one buffer, a delayed edge is a
  view, nothing is copied), else in a :class:`Ring` (a reader gets a shifted copy; the ring
  takes the block's last D steps);
* recorded outputs, written into ``[T, B, ...]`` result arrays block by block (:class:`Record`).

Exactness: a node's output at step t depends only on its inputs at steps <= t and on its state;
stateless kernels map each step on its own (their fast paths, chosen from the block's values,
are exact by construction), so any block size gives the results of one block of T steps.
"""

from __future__ import annotations

import numpy as np

#: bytes of all nodes' block arrays together ([Tb, B, *shape] of 8-byte values, summed over the
#: nodes) the block size aims at: about the heap glibc keeps (allocator.py: 64 MiB of top
#: padding, arrays below 32 MiB not mmapped; not every node's array is alive at once), so a
#: block's pages are reused by the next; large enough that a block of a small network is many
#: steps (one BLAS call over Tb x B rows). Measured (bench/sim_networks.py, batch 32): NTIDIGITS
#: blocks of 5 / 10 / 20 / 34 / 100 steps: 222 / 199 / 182 / 278 / 150 us per sample-step warm,
#: cold/warm 1.09 / 1.2 / 1.25 / 1.07 / 1.3-2.1; sinabs 6 / 12 / 40 steps: cold/warm 1.04-1.17 /
#: 1.06-1.29 / 1.75-2.12
BLOCK_BYTES = 64 << 20


def block_steps(T: int, step_bytes: int, *, window: int = 1, forced: int | None = None) -> int:
    """Steps per block for a run of ``T`` steps whose nodes together produce ``step_bytes`` bytes
    per step (all samples): ``forced`` if given (at least 1), else :data:`BLOCK_BYTES` //
    step_bytes, between 1 and T. With whole-window nodes (TimeMix over windows that start at step
    0; ``window``: the lcm of their windows) a block is a whole number of windows, and a run
    whose length is not one (the node refuses it) is one block."""
    if T <= 0:
        return 1
    if window > 1 and T % window:
        return T
    tb = max(1, int(forced)) if forced is not None else BLOCK_BYTES // max(1, step_bytes)
    tb = -(-max(1, tb) // window) * window
    return min(T, tb)


class Ring:
    """The last ``D`` steps of one node's output before the current block, in a ring buffer
    (``buf: [D, B, *shape]``, step s at row ``s mod D``; rows of steps before 0 are zeros, as
    :func:`snnc.backends.sim.ops.shift_time` fills them), and the node's output of the current
    block (``cur``, steps ``t0 ..``), set by :meth:`write`, for a node whose kernel returns its
    own array: a reader over delay d gets a copy made when it reads (still in cache for the
    sum it goes into), the ring takes the block's last D steps after it. Reading and advancing
    copy only the block's own rows (O(block), not O(D)). :class:`History` instead keeps the
    block in its buffer, for kernels that write it there."""

    def __init__(self, depth: int):
        self.D, self.buf, self.cur, self.t0 = depth, None, None, 0
        #: delay -> the array :meth:`delayed` returned last block, refilled for the next one
        self._delayed: dict[int, np.ndarray] = {}

    def write(self, y: np.ndarray, t0: int) -> None:
        """The node's output of the block that starts at step ``t0``, ``y: [n, B, ...]``."""
        if self.buf is None:
            self.buf = np.zeros((self.D, *y.shape[1:]), y.dtype)
        elif self.buf.dtype != np.result_type(self.buf.dtype, y.dtype):
            self.buf = self.buf.astype(np.result_type(self.buf.dtype, y.dtype))
        self.cur, self.t0 = y, t0

    def delayed(self, d: int) -> np.ndarray:
        """The block's input over an edge of delay ``1 <= d <= D``: steps t0 - d .. t1 - 1 - d.
        The array is refilled in place at the next block (one per delay, not a fresh one per
        block: a fresh array's pages are faulted in again every block): a reader uses it within
        its block, as every kernel does (what outlives a block is copied: states, recorded
        results, this ring)."""
        n = self.cur.shape[0]
        k = min(d, n)
        res = self._delayed.get(d)
        if res is None or res.shape != self.cur.shape or res.dtype != self.cur.dtype:
            res = self._delayed[d] = np.empty(self.cur.shape, self.cur.dtype)
        self._read(self.t0 - d, k, res)
        res[k:] = self.cur[:n - k]
        return res

    def _read(self, s: int, k: int, into: np.ndarray) -> None:
        """Ring rows of steps s .. s + k - 1 into ``into[:k]`` (two slices at most)."""
        r = s % self.D
        first = min(k, self.D - r)
        into[:first] = self.buf[r:r + first]
        into[first:k] = self.buf[:k - first]

    def row(self, s: int) -> np.ndarray:
        """Step ``s`` of an earlier block (one of the last D steps before the current block)."""
        return self.buf[s % self.D]

    def advance(self) -> None:
        """After the block: its steps (the last D of them) go into the ring."""
        if self.cur is None:
            return
        n = self.cur.shape[0]
        k = min(n, self.D)
        r = (self.t0 + n - k) % self.D
        first = min(k, self.D - r)
        self.buf[r:r + first] = self.cur[n - k:n - k + first]
        self.buf[:k - first] = self.cur[n - k + first:]
        self.cur = None


class History:
    """One node's output over the current block and the ``D`` steps before it, in one buffer
    (``buf: [C, B, *shape]``, C = 2 D + Tb rows; D + Tb for a run of one block): rows ``pos - D .. pos - 1`` hold steps
    ``t0 - D .. t0 - 1`` (zeros for steps before 0, as a delay shifts zeros in), rows ``pos ..
    pos + n - 1`` the current block's steps ``t0 .. t0 + n - 1``.

    A reader over an edge of delay d gets rows ``pos - d ..`` as a view (:meth:`delayed`: no
    copy), and a kernel that can write its block into a given array writes it straight into
    rows ``pos ..`` (:meth:`out_rows`), so a delayed edge costs no pass over the block's values.
    After a block, ``pos`` moves on by the block's steps; when the next block would not fit,
    the last D steps move to the top (D rows, once every max(1, D / Tb) blocks or so: O(block)
    per block amortized, whatever D). Views handed out are valid within their block, the only
    time a kernel reads its input (what outlives a block is copied: states, recorded results,
    this buffer)."""

    def __init__(self, depth: int, block: int, single: bool = False):
        self.D, self.tb = depth, max(1, block)
        #: a run of one block never moves rows: D + Tb of them
        self.rows = (1 if single else 2) * depth + self.tb
        self.buf, self.pos, self.t0, self.n = None, depth, 0, 0

    def _allocate(self, tail: tuple, dtype) -> None:
        self.buf = np.empty((self.rows, *tail), dtype)
        self.buf[:self.D] = 0

    def out_rows(self, n: int, tail: tuple, dtype) -> np.ndarray | None:
        """The rows the current block's ``n`` steps go to, for the producing kernel to write
        into, or None when the buffer holds another dtype or shape."""
        if self.buf is None:
            self._allocate(tail, dtype)
        if self.buf.dtype != np.dtype(dtype) or self.buf.shape[1:] != tuple(tail):
            return None
        return self.buf[self.pos:self.pos + n]

    def write(self, y: np.ndarray, t0: int) -> None:
        """The node's output of the block that starts at step ``t0``, ``y: [n, B, ...]`` (no
        copy when the kernel wrote it into :meth:`out_rows`). A wider dtype than the buffer's
        promotes the buffer (as one ``np.stack`` over the steps would)."""
        if self.buf is None:
            self._allocate(y.shape[1:], y.dtype)
        elif self.buf.dtype != np.result_type(self.buf.dtype, y.dtype):
            self.buf = self.buf.astype(np.result_type(self.buf.dtype, y.dtype))
        n = y.shape[0]
        rows = self.buf[self.pos:self.pos + n]
        if not _same_array(y, rows):
            rows[...] = y
        self.t0, self.n = t0, n

    def delayed(self, d: int) -> np.ndarray:
        """The block's input over an edge of delay ``1 <= d <= D``: steps t0 - d .. t1 - 1 - d
        (a view)."""
        return self.buf[self.pos - d:self.pos - d + self.n]

    def row(self, s: int) -> np.ndarray:
        """Step ``s`` of an earlier block (one of the last D steps before the current block)."""
        return self.buf[self.pos + s - self.t0]

    def advance(self) -> None:
        """After the block: the next block starts after its last step."""
        if self.buf is None:
            return
        self.pos += self.n
        self.t0 += self.n
        self.n = 0
        if self.pos + self.tb > self.rows:
            self.buf[:self.D] = self.buf[self.pos - self.D:self.pos]
            self.pos = self.D


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` and ``b`` are the same values in the same memory (same start, shape, dtype and
    strides)."""
    return (a.shape == b.shape and a.dtype == b.dtype and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


class Record:
    """A ``[T, B, *shape]`` result array filled block by block (one block: the block's array
    itself, no copy). A later block of a wider dtype promotes the array (as one ``np.stack``
    over the steps would). ``widen``: integer results narrower than int64 (kernels of integer
    graphs may pass bool / int32 arrays between them) are recorded as int64."""

    def __init__(self, T: int, single_block: bool, widen: bool = False):
        self.T, self.single, self.buf, self.widen = T, single_block, None, widen

    def write(self, t0: int, y: np.ndarray) -> None:
        if self.widen and y.dtype.kind in "biu" and y.dtype != np.int64:
            y = y.astype(np.int64)
        if self.single:
            self.buf = y
            return
        if self.buf is None:
            self.buf = np.empty((self.T, *y.shape[1:]), y.dtype)
        elif self.buf.dtype != np.result_type(self.buf.dtype, y.dtype):
            self.buf = self.buf.astype(np.result_type(self.buf.dtype, y.dtype))
        self.buf[t0:t0 + y.shape[0]] = y
