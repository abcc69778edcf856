"""The integer simulator's convolution on lava-dl's PilotNet LIF conv layers (issue 20), per layer.

For each of PilotNet's 5 ``IntConv2d`` layers, on binary spike inputs of the layer's typical
activity at ``--batch`` samples (one time step), measured side by side in one process, in
``--repeat`` rounds of 3 calls of each way in turn, minimum per way, in us per sample:

* ``before``: the previous ``ops.conv2d`` (im2col by ``sliding_window_view``, one small matmul per
  sample, float32 -> int64), kept below as :func:`_conv2d_before` for this comparison;
* ``unpacked``: ``IntConv2dKernel.apply`` (binarize + the current ``ops.conv2d``) with int32
  output (``narrow_output = True``) and one output channel per matmul row (``pack_channels =
  False``);
* ``int64``: ``IntConv2dKernel.apply`` as it runs by default: int64 output, output channels packed
  2 per float32 matmul row where the bound allows it (``ops.conv2d``'s ``pack``);
* ``int32``: the same with ``narrow_output = True`` (int32 output);
* ``torch``: ``F.conv2d`` in float32 on the same input (the limit; no integer semantics).

Every way's result is checked equal to ``before``'s.

    .venv/bin/python bench/conv_layers.py [--batch 32] [--repeat 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: input activity (spikes per value) of each conv layer's input on PilotNet's test frames
RATES = {"layer1_synapse": 0.01, "layer2_synapse": 0.35, "layer3_synapse": 0.21,
         "layer4_synapse": 0.10, "layer5_synapse": 0.09}


def _conv2d_before(np, x, weight, stride, padding, dilation, groups, in_shape, compute_dtype, out_dtype):
    """The previous ops.conv2d (reference for the 'before' column)."""
    from numpy.lib.stride_tricks import sliding_window_view

    lead = x.shape[: x.ndim - 3]
    xs = x.reshape((-1, *in_shape))
    c_out, c_in_g, kh, kw = weight.shape
    cd = np.dtype(compute_dtype)
    w = weight.astype(cd, copy=False)
    L = xs.shape[0]
    ph, pw = padding
    dh, dw = dilation
    eff = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    ho = (in_shape[1] + 2 * ph - eff[0]) // stride[0] + 1
    wo = (in_shape[2] + 2 * pw - eff[1]) // stride[1] + 1
    co_g = c_out // groups
    k = c_in_g * kh * kw
    out = np.empty((L, c_out, ho * wo), out_dtype)
    step = max(1, (1 << 20) // max(1, k * ho * wo))
    wg = [w[g * co_g:(g + 1) * co_g].reshape(co_g, k) for g in range(groups)]
    for l0 in range(0, L, step):
        l1 = min(L, l0 + step)
        xc = xs[l0:l1].astype(cd, copy=False)
        if ph or pw:
            xc = np.pad(xc, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        win = sliding_window_view(xc, eff, axis=(2, 3))[:, :, ::stride[0], ::stride[1], ::dh, ::dw]
        for g in range(groups):
            xg = win[:, g * c_in_g:(g + 1) * c_in_g]
            cols = np.ascontiguousarray(xg.transpose(0, 1, 4, 5, 2, 3)).reshape(l1 - l0, k, ho * wo)
            out[l0:l1, g * co_g:(g + 1) * co_g] = np.matmul(wg[g], cols)
    return out.reshape((*lead, c_out, ho, wo))


def _measure(k, x, repeat):
    """{way: us per sample} of one conv kernel ``k`` on ``x: int64[1, B, *in_shape]``."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    w = np.asarray(k.node.weight, np.int64)
    conv_args = (k.stride, k.pad, k.dil, int(k.node.groups), k.in_shape)
    xt = torch.tensor(x[0].astype(np.float32))
    wt = torch.tensor(w.astype(np.float32))

    def before():
        return _conv2d_before(np, np.not_equal(x, 0), w, *conv_args, np.float32, np.int64)

    def wide():
        k.narrow_output, k.pack_channels = False, True
        return k.apply(x)

    def narrow():
        k.narrow_output, k.pack_channels = True, True
        return k.apply(x)

    def unpacked():
        k.narrow_output, k.pack_channels = True, False
        return k.apply(x)

    def limit():
        return F.conv2d(xt, wt, None, k.stride, k.pad, k.dil, int(k.node.groups))

    ref = before()
    got_unpacked, got_wide, got_narrow = unpacked(), wide(), narrow()
    for got in (got_wide, got_narrow, got_unpacked):
        assert np.array_equal(got, ref), k.name
    assert got_narrow.dtype == np.int32 and got_wide.dtype == np.int64
    ways = {"before": before, "unpacked": unpacked, "int64": wide, "int32": narrow, "torch": limit}
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(repeat):
        for n, f in ways.items():
            for _ in range(3):              # 3 calls in a row: the way's own steady state
                t0 = time.perf_counter()
                f()
                best[n] = min(best[n], time.perf_counter() - t0)
    k.narrow_output, k.pack_channels = False, True
    return {n: v / x.shape[1] * 1e6 for n, v in best.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    args = ap.parse_args(argv)
    for v in THREAD_VARS:
        os.environ[v] = str(args.threads)
    import numpy as np
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from networks import build

    from snnc.backends.sim import Simulator

    torch.set_num_threads(args.threads)
    g, _, _ = build("pilotnet")
    sim = Simulator(g)
    rng = np.random.default_rng(0)
    B = args.batch
    print(f"PilotNet conv layers, batch {B}, {args.threads} thread(s), us per sample (min of {args.repeat})")
    print(f"{'layer':16s} {'in':>14s} {'weight':>16s} {'stride':>7s} {'pad':>7s} "
          f"{'before':>7s} {'unpacked':>8s} {'int64':>7s} {'int32':>7s} {'torch':>7s} "
          f"{'before/int32':>12s} {'int32/torch':>11s}")
    for name, rate in RATES.items():
        k = sim.kernels[name]
        x = (rng.random((1, B, *k.in_shape)) < rate).astype(np.int64)
        us = _measure(k, x, args.repeat)
        print(f"{name:16s} {str(k.in_shape):>14s} {str(k.w.shape):>16s} {str(k.stride):>7s} {str(k.pad):>7s} "
              f"{us['before']:7.1f} {us['unpacked']:8.1f} {us['int64']:7.1f} {us['int32']:7.1f} {us['torch']:7.1f} "
              f"{us['before'] / us['int32']:12.2f} {us['int32'] / us['torch']:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
