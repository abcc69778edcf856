"""Event-driven sums for binary (spike) synapses: the exact ``s @ w_t`` of
:func:`snnc.ir.intops.matmul` computed from the active inputs only.

For spikes ``s: bool[L, n_in]`` (L = rows: time steps x samples) and integer weights
``w_t: int[n_in, n_out]``, row l of the result is the sum of the weight rows ``w_t[i]`` of its
active inputs i. Two ways to use the sparsity, both exact by construction (integer additions of
the same terms; int64 addition modulo 2**64 is associative, so the order does not matter, and
int32 is used only where the bound proves no partial sum can leave its range):

* **events** (:func:`event_sum`): gather ``w_t[i]`` for every spike (row, i) and add the gathered
  rows per output row (``np.add.reduceat``): work ~ spikes x n_out instead of L x n_in x n_out;
* **active columns** (:func:`active_columns`): inputs that never spike in the block are dropped
  from the dense product (``s[:, active] @ w_t[active]``): the BLAS product shrinks to the live
  inputs.

:func:`choose` picks per call from the measured activity: events below :data:`EVENT_DENSITY`
spikes per input value, column compaction when at most :data:`ACTIVE_FRACTION` of the inputs
are live, the dense product otherwise. ``mode`` forces one way ('events' | 'dense'; 'auto'
chooses) so tests can check that every way gives identical results.
"""

from __future__ import annotations

import numpy as np

#: spikes per input value below which gathering rows beats the dense BLAS product (measured on
#: this project's 2-core machine, bench/sim_networks.py: float32 BLAS does ~16-40 multiply-adds
#: in the time the gather + reduceat moves one weight)
EVENT_DENSITY = 1 / 32
#: fraction of live inputs at or below which the dense product drops the silent inputs' rows
ACTIVE_FRACTION = 0.75
MODES = ("auto", "events", "dense")


def choose(s: np.ndarray, mode: str = "auto") -> tuple[str, np.ndarray | None]:
    """('events' | 'columns' | 'dense', active input indices for 'columns') for spikes
    ``s: bool[L, n_in]``, from its measured density (``mode`` 'auto'), or as forced."""
    if mode == "dense" or s.size == 0:
        return "dense", None
    if mode == "events":
        return "events", None
    density = np.count_nonzero(s) / s.size
    if density < EVENT_DENSITY:
        return "events", None
    live = np.flatnonzero(s.any(axis=0))
    if live.size <= ACTIVE_FRACTION * s.shape[1]:
        return "columns", live
    return "dense", None


def event_sum(s: np.ndarray, w_t: np.ndarray, out_dtype=np.int64) -> np.ndarray:
    """Exact ``s @ w_t`` from the spikes only: ``s: bool[L, n_in]``, ``w_t: int[n_in, n_out]`` ->
    ``out_dtype[L, n_out]`` (rows without spikes are 0). ``w_t``'s dtype is the accumulation
    dtype: int64 (modulo 2**64, as the dense int64 product), or int32 when the caller proved
    ``max_j sum_i |w_t[i, j]| < 2**31`` (no sum of a subset of a column can overflow then)."""
    L, n_out = s.shape[0], w_t.shape[1]
    rows, cols = np.nonzero(s)                      # row-major: rows ascending
    acc = np.zeros((L, n_out), out_dtype)
    if rows.size == 0:
        return acc
    starts = np.flatnonzero(np.diff(rows, prepend=-1))
    acc[rows[starts]] = np.add.reduceat(w_t[cols], starts, axis=0)
    return acc
