"""The gather order of the fast C-simulation convolution (ctypes build only, never HLS): a binary
input's sparse steps, group count 1.

Every input pixel (iy, ix) lists its spiking input channels (one pass over the input, branch
free); then output pixel by output pixel, a register block of output-channel vectors at a time,
every kernel tap (ky, kx) that lands inside the input adds the weight rows ``[ky][kx][ci]`` of
the channels its input pixel lists. The work is the number of (spike, tap) pairs, summed in
registers (no zero rows as in the spike-pattern order, no read-modify-write of accumulators in
memory as in the event order)."""

from __future__ import annotations

import math


def gather_cost(nv: int, nvb: int, in_shape: tuple, out_shape: tuple, kernel: tuple, stride: tuple
                ) -> tuple[int, int]:
    """(fixed cost, cost per non-zero input) of the gather order, in vector adds."""
    (c_in, h, wd), (_c, ho, wo), (kh, kw), (sy, sx) = in_shape, out_shape, kernel, stride
    fixed = ho * wo * kh * kw * (nv // nvb) * 2 + c_in * h * wd // 8
    return fixed, math.ceil(kh / sy) * math.ceil(kw / sx) * (nv + 1)


def gather_body(p: str, acc_t: str, lanes: int, nv: int, nvb: int, in_shape: tuple, out_shape: tuple,
                kernel: tuple, stride: tuple, dilation: tuple, padding: tuple, write_row: str
                ) -> tuple[list[str], str]:
    """(declarations, statements). Uses the fast convolution's arrays ``<p>_w`` (weights
    ``[c_in][kh][kw][cp]``), ``<p>_b`` (bias, padded), ``<p>_acc`` (one output row) and vector
    type ``<p>_v``; ``write_row``: the statements writing output row ``oy`` from ``<p>_acc``."""
    (c_in, h, wd), (_c, ho, wo), (kh, kw) = in_shape, out_shape, kernel
    sy, sx = stride
    dy, dx = dilation
    py, px = padding
    cp = nv * lanes
    n8 = 8 * math.ceil(c_in * h * wd / 8)
    ch_t = "uint8_t" if c_in <= 256 else "uint16_t"
    decls = [f"static {p}_v {p}_wg[{kh}][{kw}][{c_in}][{nv}];",
             f"static int {p}_wg_ready;",
             f"static {ch_t} {p}_cl[{h * wd}][{c_in}];",
             f"static int32_t {p}_cn[{h * wd}];",
             f"static uint8_t {p}_gf[{n8}];",          # 0/1 per input, zero tail
             f"static int32_t {p}_gev[{n8}];"]
    init = "".join(f"{p}_v a{j}; __builtin_memcpy(&a{j}, &{p}_b[(cb + {j}) * {lanes}], sizeof({p}_v));\n"
                   for j in range(nvb))
    adds = "".join(f"  a{j} += w[{j}];\n" for j in range(nvb))
    store = "".join(f"__builtin_memcpy(&{p}_acc[ox][(cb + {j}) * {lanes}], &a{j}, sizeof({p}_v));\n"
                    for j in range(nvb))
    body = f"""if (!{p}_wg_ready) {{   /* weights [ky][kx][ci] as vectors (once) */
  for (int64_t ci = 0; ci < {c_in}; ++ci)
    for (int64_t ky = 0; ky < {kh}; ++ky)
      for (int64_t kx = 0; kx < {kw}; ++kx)
        for (int64_t o = 0; o < {cp}; ++o) {p}_wg[ky][kx][ci][o / {lanes}][o % {lanes}] = {p}_w[ci][ky][kx][o];
  {p}_wg_ready = 1;
}}
/* (1) the spiking channels of every input pixel: the spikes listed 8 inputs at a time, then filed by pixel */
for (int64_t i = 0; i < {c_in * h * wd}; ++i) {p}_gf[i] = (uint8_t)(x[i] != 0);
int32_t n_sp = 0;
for (int32_t i = 0; i < {n8}; i += 8) n_sp = snnc_ev_append({p}_gev, n_sp, {p}_gf, i);
for (int64_t q = 0; q < {h * wd}; ++q) {p}_cn[q] = 0;
for (int32_t e = 0; e < n_sp; ++e) {{
  const int32_t i = {p}_gev[e], ci = i / {h * wd}, q = i - ci * {h * wd};
  {p}_cl[q][{p}_cn[q]++] = ({ch_t})ci;
}}
/* (2) output pixel by pixel: every tap adds the rows of its input pixel's channels, in registers */
for (int64_t oy = 0; oy < {ho}; ++oy) {{
  for (int64_t cb = 0; cb < {nv}; cb += {nvb})
    for (int64_t ox = 0; ox < {wo}; ++ox) {{
{_indent(init, 6)}      for (int64_t ky = 0; ky < {kh}; ++ky) {{
        const int64_t iy = oy * {sy} - {py} + ky * {dy};
        if (iy < 0 || iy >= {h}) continue;
        for (int64_t kx = 0; kx < {kw}; ++kx) {{
          const int64_t ix = ox * {sx} - {px} + kx * {dx};
          if (ix < 0 || ix >= {wd}) continue;
          const int64_t q = iy * {wd} + ix;
          const {ch_t} *const l = {p}_cl[q];
          const int32_t n = {p}_cn[q];
          for (int32_t e = 0; e < n; ++e) {{
            const {p}_v *const w = {p}_wg[ky][kx][l[e]] + cb;
{_indent(adds, 12)}          }}
        }}
      }}
{_indent(store, 6)}    }}
{_indent(write_row, 2)}}}
"""
    return decls, body


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "".join(pad + line + "\n" if line.strip() else "\n" for line in text.splitlines())
