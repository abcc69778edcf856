"""Keep freed numpy buffers inside the process heap (glibc ``mallopt(M_TOP_PAD)``).

The simulator's step loop creates and frees many temporaries of ``B x N`` int64 values (512 KB
for 256 x 256). With glibc's defaults each free at the top of the heap returns the pages to the
OS, and the next allocation page-faults them back in: measured on ``np.where``/``np.minimum``
over a 256 x 256 int64 array, ~400-500 us per call instead of 30-100 us. Keeping 64 MiB of top
padding removes that cost. Setting it also freezes glibc's otherwise adaptive mmap threshold at
its 128 KiB default, so every array above 128 KiB (a 32768-value int64 chunk of the neuron loops)
would be a fresh mmap, page-faulted on every use: the threshold is raised to 32 MiB as well
(glibc's maximum; what the adaptive threshold grows to anyway). This changes a process-wide
allocator setting (memory is returned to the OS less eagerly); it is applied once when a
Simulator is built, only on Linux/glibc, and can be switched off with ``SNNC_NO_MALLOC_TUNING=1``.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
TOP_PAD_BYTES = 64 << 20
#: glibc's largest allowed threshold on 64-bit; arrays below it come from the reusable heap
MMAP_THRESHOLD_BYTES = 32 << 20
_done = False


def tune_allocator() -> bool:
    """Apply the setting once; True if glibc accepted it."""
    global _done
    if _done or os.environ.get("SNNC_NO_MALLOC_TUNING") or not sys.platform.startswith("linux"):
        return False
    _done = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_TOP_PAD, TOP_PAD_BYTES)) & bool(libc.mallopt(M_MMAP_THRESHOLD,
                                                                                MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False
