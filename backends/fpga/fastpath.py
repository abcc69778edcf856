"""The fast C-simulation branch: layer bodies for the ctypes build only (gcc -O3 -march=native),
never for HLS.

A layer with a fast body emits it as ``#if SNNC_FAST_ACTIVE ... #else <HLS body> #endif``
(:func:`fast_branch`). ``SNNC_FAST_ACTIVE`` is 1 when :data:`FAST_MACRO` is defined and the plain
``intN_t`` types are in use (never with ``ap_int``: Vitis HLS and ``make csim-typed`` always
compile the HLS body; the HLS project never defines the macro). The ctypes build defines it
(:func:`snnc.backends.fpga.build.build`, ``fast=True``, the default), so both branches are
built and tested equal to the simulator (tests/backends/fpga/test_fast_path.py).

Fast bodies compute the same values as the HLS bodies, bit for bit, with a faster order and
narrower arithmetic where the widths are proven:

* convolution (:func:`conv_body`), per step by the number of non-zero inputs: silent (outputs =
  bias), sparse (binary, one group: :mod:`.fastgather`, the spiking channels of every input
  pixel summed per output pixel in registers; otherwise events per input row split by column
  residue modulo the stride, so every (tap, event) pair hits an output without a divisibility
  test) or dense binary (a table of summed weight rows indexed by the spike pattern under the
  kernel row, accumulators in registers, output rows in blocks and channel groups in passes that
  keep their table rows in L1); output channels padded to the vector width (zero weights);
* dense (:func:`dense_events_body`): a step of spikes (binary input, or every input in [-1, 1],
  checked at run time) lists its non-zero inputs without a branch, then sums their weight rows
  in the narrow accumulator that bound proves, a register block of output lanes at a time;
* CubaLIF (:mod:`.neurons`): 32-bit arithmetic (:data:`FAST_HEADER`'s ``snnc32_*``) when every
  operand is proven to fit and the decay products are exact in 32 bits (``m = m' * 2**j``:
  ``rtz(x * m, s) = rtz(x * m', s - j)``).
"""

from __future__ import annotations

import math

import numpy as np

from .fastgather import gather_body, gather_cost
from .widths import STD_TYPES

#: defined by the ctypes build (-D) to select the fast bodies; never by the HLS project
FAST_MACRO = "SNNC_FAST_CSIM"
#: file name of :data:`FAST_HEADER` in the project's firmware folder
FAST_HEADER_NAME = "snnc_fast.h"
#: bytes of one vector the lane loops are padded to (AVX2; AVX-512 takes two)
VECTOR_BYTES = 32

#: snnc_ev_lut of :data:`FAST_HEADER`: row m lists the set bits of m (0..7), then zeros
_EV_LUT = "{" + ",\n ".join("{" + ", ".join(map(str, ([j for j in range(8) if m >> j & 1] + [0] * 8)[:8])) + "}"
                             for m in range(256)) + "}"

FAST_HEADER = f"""/* Fast C-simulation helpers (snnc/backends/fpga/fastpath.py; never synthesized, never with ap_int).
   snnc32_f equals snnc_f of snnc_numerics.h for operands and exact results that fit int32 (the
   generator uses them only where the widths prove it); sums wrap modulo 2**32 like a wrap to 32 bits. */
#ifndef SNNC_FAST_H
#define SNNC_FAST_H
#include <stdint.h>
#include "snnc_types.h"
#if defined({FAST_MACRO}) && !defined(SNNC_TYPED)
#define SNNC_FAST_ACTIVE 1
#else
#define SNNC_FAST_ACTIVE 0
#endif

static inline int32_t snnc32_add(int32_t a, int32_t b) {{ return (int32_t)((uint32_t)a + (uint32_t)b); }}
static inline int32_t snnc32_sub(int32_t a, int32_t b) {{ return (int32_t)((uint32_t)a - (uint32_t)b); }}
static inline int32_t snnc32_shl(int32_t x, int32_t n) {{ return (int32_t)((uint32_t)x << n); }}
/* wrap to bits (1..32) */
static inline int32_t snnc32_wrap(int32_t x, int32_t bits) {{
    return bits >= 32 ? x : (int32_t)((uint32_t)x << (32 - bits)) >> (32 - bits);
}}
/* trunc(x / 2**n), n in [0, 31] */
static inline int32_t snnc32_rtz_shift(int32_t x, int32_t n) {{
    const uint32_t mask = (uint32_t)(((uint64_t)1 << n) - 1u);
    return (int32_t)((uint32_t)x + (x < 0 ? mask : 0u)) >> n;
}}
/* rtz_shift(x * m, shift) for a product proven to fit int32 */
static inline int32_t snnc32_decay(int32_t x, int32_t m, int32_t shift) {{
    return snnc32_rtz_shift((int32_t)((uint32_t)x * (uint32_t)m), shift);
}}
/* bits in 1..32 */
static inline int32_t snnc32_saturate(int32_t x, int32_t bits) {{
    const int32_t hi = (int32_t)(((uint64_t)1 << (bits - 1)) - 1u);
    return x > hi ? hi : (x < -hi - 1 ? -hi - 1 : x);
}}
static inline int32_t snnc32_saturate_sym(int32_t x, int32_t bits) {{
    const int32_t hi = (int32_t)(((uint64_t)1 << (bits - 1)) - 1u);
    return x > hi ? hi : (x < -hi ? -hi : x);
}}
/* event lists: the positions (0..7) of the set bits of a byte, then zeros */
typedef int32_t snnc_iv8 __attribute__((vector_size(32)));
static const snnc_iv8 snnc_ev_lut[256] = {_EV_LUT};
/* appends to ev[n..] the positions i + j (j < 8) of the non-zero bytes of flags[i..i + 8) (each 0 or 1);
   writes 8 entries, returns the new count */
static inline int32_t snnc_ev_append(int32_t *ev, int32_t n, const uint8_t *flags, int32_t i) {{
    uint64_t b;
    __builtin_memcpy(&b, flags + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    b = __builtin_bswap64(b);
#endif
    const uint32_t m = (uint32_t)((b * 0x0102040810204080ull) >> 56);   /* bit j: byte j */
    const snnc_iv8 e = snnc_ev_lut[m] + i;
    __builtin_memcpy(ev + n, &e, 32);
    return n + __builtin_popcount(m);
}}
/* bits in 1..30 */
static inline int32_t snnc32_lava_wrap(int32_t x, int32_t bits) {{
    const int32_t half = (int32_t)1 << (bits - 1), full = (int32_t)1 << bits;
    return x > half ? x - full : (x <= -half ? x + full : x);
}}
#endif /* SNNC_FAST_H */
"""


def fast_branch(fast: str, hls: str) -> str:
    """``fast`` for the ctypes build, ``hls`` otherwise (both complete statement lists)."""
    return "#if SNNC_FAST_ACTIVE\n" + fast.rstrip("\n") + "\n#else\n" + hls.rstrip("\n") + "\n#endif\n"


def std_bytes(bits: int) -> int:
    """Bytes of the plain-branch C type of a ``bits``-wide value (uint64_t beyond 62 bits)."""
    for b, _ in STD_TYPES:
        if bits <= b:
            return b // 8
    return 8


def padded_lanes(n: int, bits: int) -> int:
    """``n`` rounded up to whole vectors of ``bits``-wide elements."""
    per = max(1, VECTOR_BYTES // std_bytes(bits))
    return per * math.ceil(n / per)


def _literal(a: np.ndarray) -> str:
    a = np.asarray(a).reshape(-1)
    items = [str(int(v)) for v in a.tolist()]
    return "{" + ",\n ".join(", ".join(items[i:i + 24]) for i in range(0, len(items), 24)) + "}"


def dense_events_body(cname: str, w: np.ndarray, bits: int, binary: bool, post) -> tuple[list[str], str]:
    """(declarations, statements) of a dense layer at a step of spikes: ``w`` the weights
    ``[n_in][n_out]``, ``bits`` (at most 32) the width of the sum at inputs in [-1, 1]
    (``sum_bound`` at 1). Binary inputs: every non-zero input adds its weight row. Graded
    inputs: the statements are ``if (<every input in [-1, 1]>) {...}`` (checked at run time) and
    the caller appends ``else { <the HLS body> }``.

    The non-zero inputs are listed first (branch free: spikes are unpredictable); then, a block
    of up to 8 vectors of output lanes at a time (accumulators in registers, ``bits`` wide), each
    listed input adds (a -1 subtracts) its weight row. The rows keep the weights' own width
    (``r`` = accumulator bytes / weight bytes): one vector load holds ``r`` accumulator vectors'
    weights interleaved (sub-element ``k`` of every lane belongs to vector ``r * chunk + k``),
    split by shifts (the sign extension)."""
    n_in, n_out = w.shape
    acc_t = next(name for b, name in STD_TYPES if bits <= b)
    ab = std_bytes(bits)
    lanes = VECTOR_BYTES // ab
    wbits = max(2, int(np.abs(w).max(initial=0)).bit_length() + 1)
    wb = min(std_bytes(wbits), ab)
    r = ab // wb
    w_t = next(name for b, name in STD_TYPES if b == 8 * wb)
    cp = lanes * r * math.ceil(n_out / (lanes * r))          # whole chunks of r vectors
    nc = cp // (lanes * r)
    ncb = _blocks(nc, 8 // r)                               # chunks per register block
    p = f"{cname}_f"
    wf = np.zeros((n_in, cp), np.int64)
    wf[:, :n_out] = w
    # memory order [i][chunk][lane][k] <- output (chunk * r + k) * lanes + lane
    wm = wf.reshape(n_in, nc, r, lanes).transpose(0, 1, 3, 2)
    decls = [f"typedef {acc_t} {p}_v __attribute__((vector_size({VECTOR_BYTES})));",
             f"static const {w_t} {p}_w[{n_in}][{cp}] __attribute__((aligned({VECTOR_BYTES}))) = {_literal(wm)};",
             f"static {acc_t} {p}_acc[{cp}] __attribute__((aligned({VECTOR_BYTES})));"]
    if r > 1:
        decls.append(f"typedef u{acc_t} {p}_u __attribute__((vector_size({VECTOR_BYTES})));")
    lists = ["ev"] if binary else ["ep", "en"]
    decls += [f"static int32_t {p}_{name}[{8 * math.ceil(n_in / 8)}];" for name in lists]
    sh = 8 * wb

    def part(k: int) -> str:
        """sub-element k of every lane of the loaded vector t, sign-extended"""
        if r == 1:
            return "t"
        pos = f"{p}_K({k})"
        return f"(({p}_v)(({p}_u)t << ({sh} * ({r - 1} - {pos}))) >> {sh * (r - 1)})"
    if r > 1:
        decls.append(f"#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__\n"
                     f"#define {p}_K(k) ({r - 1} - (k))\n#else\n#define {p}_K(k) (k)\n#endif")

    def sweep(lst: str, n: str, op: str) -> str:
        loads = "".join(f"  {{ {p}_v t; __builtin_memcpy(&t, q + {c * lanes * r}, {VECTOR_BYTES});\n"
                        + "".join(f"    a{c * r + k} {op}= {part(k)};\n" for k in range(r)) + "  }\n"
                        for c in range(ncb))
        return (f"for (int32_t e = 0; e < {n}; ++e) {{\n"
                f"  const {w_t} *const q = {p}_w[{p}_{lst}[e]] + cb * {lanes * r};\n" + loads + "}\n")
    n8 = 8 * math.ceil(n_in / 8)
    decls += [f"static uint8_t {p}_{name}f[{n8}];" for name in lists]      # flags: 0/1 per input, zero tail
    append = "".join(f"  n_{name} = snnc_ev_append({p}_{name}, n_{name}, {p}_{name}f, (int32_t)i);\n"
                     for name in lists)
    if binary:
        scan = (f"for (int64_t i = 0; i < {n_in}; ++i) {p}_evf[i] = (uint8_t)(x[i] != 0);\n"
                f"int32_t n_ev = 0;\nfor (int64_t i = 0; i < {n8}; i += 8) {{\n" + append + "}\n")
        sweeps = sweep("ev", "n_ev", "+")
    else:
        scan = (f"int32_t spikes = 1, n_ep = 0, n_en = 0;\nfor (int64_t i = 0; i < {n_in}; ++i) {{\n"
                f"  spikes &= (x[i] >= -1) & (x[i] <= 1);\n"
                f"  {p}_epf[i] = (uint8_t)(x[i] > 0); {p}_enf[i] = (uint8_t)(x[i] < 0);\n}}\n"
                f"if (spikes) for (int64_t i = 0; i < {n8}; i += 8) {{\n" + append + "}\n")
        sweeps = sweep("ep", "n_ep", "+") + sweep("en", "n_en", "-")
    nvb = ncb * r
    init = "".join(f"{p}_v a{j} = {{0}};\n" for j in range(nvb))
    store = "".join(f"__builtin_memcpy({p}_acc + (cb * {r} + {j}) * {lanes}, &a{j}, {VECTOR_BYTES});\n"
                    for j in range(nvb))
    blocks = (f"for (int64_t cb = 0; cb < {nc}; cb += {ncb}) {{\n" + _indent(init + sweeps + store, 2) + "}\n"
              f"for (int64_t o = 0; o < {n_out}; ++o) y[o] = {post(f'{p}_acc[o]')};\n")
    if binary:
        return decls, scan + blocks
    return decls, scan + f"if (spikes) {{   /* every input in [-1, 1]: a {bits}-bit accumulator holds the sum */\n" \
        + _indent(blocks, 2) + "}"


def _blocks(nv: int, most: int = 8) -> int:
    """Vectors per register block: the largest divisor of ``nv`` that is at most ``most``."""
    return max(d for d in range(1, min(nv, most) + 1) if nv % d == 0)


def conv_body(*, cname: str, acc_t: str, acc_bits: int, in_t: str, binary: bool, wt: np.ndarray,
              bias: np.ndarray | None, groups: int, shapes: tuple, stride: tuple, dilation: tuple,
              padding: tuple, post, unused: tuple = ()) -> tuple[list[str], str]:
    """(declarations, step statements) of the fast convolution (accumulators of at most 32 bits).
    ``wt``: weights ``[c_in][kh][kw][cog]`` (the HLS layout); ``shapes``: ((c_in, h, w), (c_out,
    ho, wo)); ``post(expr)``: the int64 expression of an output from its accumulator value;
    ``unused``: work arrays of the HLS body (referenced once, so -Wall stays quiet).

    Output channels are padded per group to whole vectors (``CP``, zero weights). Two orders,
    chosen per step from the number of non-zero inputs (a cost model of vector adds); with a
    binary input and one group, the gather order of :mod:`.fastgather` takes the place of the
    events:

    * events (sparse input, and every graded input): every input row (ci, iy) lists the columns
      of its non-zero inputs split by ``ix mod sx`` (``q = ix div sx``; with the values when
      graded); output row by output row (an accumulator row ``[wo][groups * CP]`` that stays in
      cache), every tap (ky, ci, kx) adds its weight row to the outputs ``ox = q + off[kx]`` of
      the events of residue ``res[kx]``: no divisibility test per event;
    * patterns (binary input, dense): the taps of one kernel row (ky) of one input channel read
      ``kw`` input columns per output column, at most :data:`PATTERN_BITS` at a time (a chunk);
      their spike pattern (of two input channels together, combined once per step, when it stays
      within 6 bits and the table within 512 KiB) indexes a table of the summed weight rows (built once from the
      weights), so one output pixel adds one table row per (channel pair, ky, chunk), the
      accumulators in registers; the spike patterns are built per padded input column (two flat
      passes), output rows are summed a block at a time and the channel groups in passes whose
      table rows fit L1; a row's last vector is narrower when it would be mostly padding.

    Both end an output row by writing it channel-major (NCHW) through ``post``."""
    (c_in, h, wd), (c_out, ho, wo) = shapes
    sy, sx = stride
    dy, dx = dilation
    py, px = padding
    kh, kw, cog = wt.shape[1], wt.shape[2], wt.shape[3]
    c_in_g = c_in // groups
    lanes = VECTOR_BYTES // std_bytes(acc_bits)
    cp = padded_lanes(cog, acc_bits)
    nv, rw = cp // lanes, groups * cp
    qn = math.ceil(wd / sx)
    ev_t = "uint16_t" if qn <= 65535 else "int32_t"
    res = [(kx * dx - px) % sx for kx in range(kw)]
    off = [(res[kx] + px - kx * dx) // sx for kx in range(kw)]
    wf = np.zeros((c_in, kh, kw, cp), np.int64)
    wf[..., :cog] = wt
    p = f"{cname}_f"
    decls = [f"typedef {acc_t} {p}_v __attribute__((vector_size({VECTOR_BYTES})));",
             f"static const {acc_t} {p}_w[{c_in}][{kh}][{kw}][{cp}] = {_literal(wf)};",
             f"static {acc_t} {p}_acc[{wo}][{rw}] __attribute__((aligned({VECTOR_BYTES})));",
             f"static {ev_t} {p}_ev[{c_in * h}][{sx}][{qn}];",
             f"static int32_t {p}_nev[{c_in * h}][{sx}];"]
    if not binary:
        decls.append(f"static {in_t} {p}_val[{c_in * h}][{sx}][{qn}];")
    bf = np.zeros((groups, cp), np.int64)
    if bias is not None:
        bf[:, :cog] = np.asarray(bias, np.int64).reshape(groups, cog)
    decls.append(f"static const {acc_t} {p}_b[{rw}] __attribute__((aligned({VECTOR_BYTES}))) = {_literal(bf)};")
    keep_val = "" if binary else f"      {p}_val[row][r][n] = xr[ix];\n"
    add = (f"for (int64_t o = 0; o < {cp}; ++o) a[o] += w[o];" if binary else
           f"const {in_t} s = {p}_val[row][r][e];\n"
           f"            for (int64_t o = 0; o < {cp}; ++o) a[o] += ({acc_t})(w[o] * ({acc_t})s);")
    events = f"""/* (1) events of every input row, by column residue */
for (int64_t row = 0; row < {c_in * h}; ++row) {{
  const {in_t} *const xr = x + row * {wd};
  int32_t any = 0;
  for (int64_t ix = 0; ix < {wd}; ++ix) any |= xr[ix] != 0;
  for (int64_t r = 0; r < {sx}; ++r) {{
    int32_t n = 0;
    if (any)
    for (int64_t ix = r, q = 0; ix < {wd}; ix += {sx}, ++q) {{
      {p}_ev[row][r][n] = ({ev_t})q;
{keep_val}      n += xr[ix] != 0;
    }}
    {p}_nev[row][r] = n;
  }}
}}
/* (2) output row by output row */
for (int64_t oy = 0; oy < {ho}; ++oy) {{
  for (int64_t ox = 0; ox < {wo}; ++ox)
    for (int64_t c = 0; c < {rw}; ++c) {p}_acc[ox][c] = {p}_b[c];
  for (int64_t ky = 0; ky < {kh}; ++ky) {{
    const int64_t iy = oy * {sy} - {py} + ky * {dy};
    if (iy < 0 || iy >= {h}) continue;
    for (int64_t ci = 0; ci < {c_in}; ++ci) {{
      const int64_t row = ci * {h} + iy;
      {acc_t} *const ag = &{p}_acc[0][0] + (ci / {c_in_g}) * {cp};
      for (int64_t kx = 0; kx < {kw}; ++kx) {{
        const int32_t r = {p}_res[kx], o_k = {p}_off[kx], n = {p}_nev[row][r];
        const {acc_t} *const w = {p}_w[ci][ky][kx];
        const {ev_t} *const el = {p}_ev[row][r];
        for (int32_t e = 0; e < n; ++e) {{
          const int32_t ox = (int32_t)el[e] + o_k;
          if ((uint32_t)ox >= {wo}u) continue;
          {acc_t} *const a = ag + ox * {rw};
          {add}
        }}
      }}
    }}
  }}
{_indent(_write_row(p, groups, cog, cp, ho, wo, post), 2)}}}
"""
    decls += [f"static const int32_t {p}_res[{kw}] = {{{', '.join(map(str, res))}}};",
              f"static const int32_t {p}_off[{kw}] = {{{', '.join(map(str, off))}}};"]
    voids = "".join(f"(void){u};\n" for u in unused)
    if not binary:
        return decls, voids + events
    pd, patterns, cost = _conv_patterns(p, acc_t, in_t, lanes, nv, (c_in, h, wd), (c_out, ho, wo), (kh, kw), groups,
                                        stride, dilation, padding, post, cog)
    decls += pd
    ev_cost = 3 * math.ceil(kh / sy) * math.ceil(kw / sx) * nv     # per non-zero input
    ev_fixed, sparse = 0, events
    if groups == 1:       # the gather order replaces the events for sparse binary steps
        nvb = _blocks(nv)
        ev_fixed, ev_cost = gather_cost(nv, nvb, (c_in, h, wd), (c_out, ho, wo), (kh, kw), (sy, sx))
        gd, sparse = gather_body(p, acc_t, lanes, nv, nvb, (c_in, h, wd), (c_out, ho, wo), (kh, kw), stride,
                                 dilation, padding, _write_row(p, groups, cog, cp, ho, wo, post))
        decls += gd
        unused = (*unused, f"{p}_ev", f"{p}_nev")
    voids = "".join(f"(void){u};\n" for u in unused)
    body = (voids + f"int32_t nnz = 0;\nfor (int64_t i = 0; i < {c_in * h * wd}; ++i) nnz += x[i] != 0;\n"
            f"if (nnz == 0) {{   /* silent input: every output is its bias */\n"
            f"  for (int64_t c = 0; c < {rw}; ++c) {p}_acc[0][c] = {p}_b[c];\n"
            f"  for (int64_t g = 0; g < {groups}; ++g)\n    for (int64_t c = 0; c < {cog}; ++c) {{\n"
            f"      const int64_t v = {post(f'{p}_acc[0][g * {cp} + c]')};\n"
            f"      for (int64_t o = 0; o < {ho * wo}; ++o) y[(g * {cog} + c) * {ho * wo} + o] = v;\n    }}\n"
            f"}} else if ({ev_fixed}LL + (int64_t)nnz * {ev_cost} < {cost}LL) {{   /* sparse */\n" + _indent(sparse, 2)
            + "} else {   /* dense: spike patterns */\n" + _indent(patterns, 2) + "}\n")
    return decls, body


#: input columns per spike pattern (a table of 2**PATTERN_BITS weight rows per (ci, ky, chunk))
PATTERN_BITS = 4


def _write_row(p: str, groups: int, cog: int, cp: int, ho: int, wo: int, post) -> str:
    return f"""for (int64_t g = 0; g < {groups}; ++g)
  for (int64_t c = 0; c < {cog}; ++c)
    for (int64_t ox = 0; ox < {wo}; ++ox)
      y[(g * {cog} + c) * {ho * wo} + oy * {wo} + ox] = {post(f"{p}_acc[ox][g * {cp} + c]")};
"""


def _conv_patterns(p, acc_t, in_t, lanes, nv, in_shape, out_shape, kernel, groups, stride, dilation, padding, post,
                   cog):
    """(declarations, statements, cost in vector adds) of the spike-pattern order."""
    (c_in, h, wd), (_c_out, ho, wo) = in_shape, out_shape
    kh, kw = kernel
    sy, sx = stride
    dy, dx = dilation
    py, px = padding
    c_in_g, cp = c_in // groups, nv * lanes
    kb = min(kw, PATTERN_BITS)
    nch = math.ceil(kw / kb)
    # input channels per pattern: 2 when the pattern stays at most 6 bits and the table small
    gc = 2 if (c_in_g % 2 == 0 and 2 * kb <= 6
               and c_in // 2 * kh * nch * (1 << 2 * kb) * cp * (VECTOR_BYTES // lanes) <= 1 << 19) else 1
    npat = 1 << (kb * gc)
    # padded row: columns -px .. width - px - 1, wide enough for kb columns of every chunk
    width = max(wd + px, (wo - 1) * sx + (nch * kb - 1) * dx + 1)
    nvb = _blocks(nv)
    # table rows end in a narrower vector when the last one would be mostly padding (less to read)
    ab = VECTOR_BYTES // lanes
    tail = cog - (nv - 1) * lanes
    tl = max(1 << (tail - 1).bit_length(), 8 // ab)
    compact = nv <= 8 and tl < lanes
    rs = (nv - 1) * lanes + tl if compact else cp          # elements per table row
    nvf = nv - 1 if compact else nvb                      # full vectors per block
    decls = [f"static {acc_t} {p}_wp[{c_in // gc}][{kh}][{nch}][{npat}][{rs}];",
             *([f"typedef {acc_t} {p}_t __attribute__((vector_size({tl * ab})));"] if compact else []),
             f"static int {p}_wp_ready;",
             f"static uint8_t {p}_pat[{c_in // gc}][{h}][{width}];",
             f"static uint8_t {p}_xp[{c_in // gc}][{h}][{width}];"]     # padding columns stay zero
    tail_add = (f"  {{ {p}_t t; __builtin_memcpy(&t, w + {nvf * lanes}, {tl * ab}); at += t; }}\n"
                if compact else "")
    chunk_adds = "".join(
        f"{{ const {acc_t} *const w = {p}_wp[cg][ky][{ch}]["
        + f"pr[cg * {h * width} + {ch * kb * dx}]] + cb * {lanes};\n"
        + "".join(f"  {{ {p}_v t; __builtin_memcpy(&t, w + {j * lanes}, {VECTOR_BYTES}); a{j} += t; }}\n"
                  for j in range(nvf)) + tail_add + "}\n" for ch in range(nch))
    flags = " | ".join(f"((xr[{c * h * wd} + ix] != 0) << {c * kb})" for c in range(gc))
    shifts = " | ".join(f"(xq[i + {b * dx}] << {b})" for b in range(kb))
    init = "\n".join(f"{p}_v a{j}; __builtin_memcpy(&a{j}, acc + (cb + {j}) * {lanes}, {VECTOR_BYTES});"
                     for j in range(nvf))
    store = "\n".join(f"__builtin_memcpy(acc + (cb + {j}) * {lanes}, &a{j}, {VECTOR_BYTES});" for j in range(nvf))
    if compact:
        init += f"\n{p}_t at; __builtin_memcpy(&at, acc + {nvf * lanes}, {tl * ab});"
        store += f"\n__builtin_memcpy(acc + {nvf * lanes}, &at, {tl * ab});"
        nvb = nv
    # output rows per block (accumulators within 12 KiB), channel groups per pass (table within 16 KiB)
    rw = groups * cp
    rb = max(1, min(ho, (12 << 10) // (wo * rw * ab)))
    cgb = max(1, min(c_in_g // gc, (16 << 10) // (kh * nch * npat * rs * ab)))
    decls.append(f"static {acc_t} {p}_accb[{rb}][{wo}][{rw}] __attribute__((aligned({VECTOR_BYTES})));")
    body = f"""if (!{p}_wp_ready) {{   /* table of summed weight rows per spike pattern (once) */
  for (int64_t cg = 0; cg < {c_in // gc}; ++cg)
    for (int64_t ky = 0; ky < {kh}; ++ky)
      for (int64_t ch = 0; ch < {nch}; ++ch)
        for (int64_t m = 0; m < {npat}; ++m)
          for (int64_t o = 0; o < {rs}; ++o) {{
            {acc_t} s = 0;
            for (int64_t c = 0; c < {gc}; ++c)
              for (int64_t b = 0; b < {kb}; ++b)
                if (((m >> (c * {kb} + b)) & 1) && ch * {kb} + b < {kw})
                  s = ({acc_t})(s + {p}_w[cg * {gc} + c][ky][ch * {kb} + b][o]);
            {p}_wp[cg][ky][ch][m][o] = s;
          }}
  {p}_wp_ready = 1;
}}
/* (1) spike pattern of every (channel group, input row, padded column): the spikes of the group's
   channels (channel c at bit c * {kb}) at {kb} columns from it (column b at bit b, the table ignores
   columns beyond the kernel); chunk ch of output column ox reads column ox * {sx} + ch * {kb * dx} */
for (int64_t cg = 0; cg < {c_in // gc}; ++cg)
  for (int64_t iy = 0; iy < {h}; ++iy) {{
    const {in_t} *const xr = x + (cg * {gc * h} + iy) * {wd};
    uint8_t *const xo = {p}_xp[cg][iy] + {px};
    for (int64_t ix = 0; ix < {wd}; ++ix) xo[ix] = (uint8_t)({flags});
  }}
for (int64_t cg = 0; cg < {c_in // gc}; ++cg) {{
  const uint8_t *const xq = &{p}_xp[cg][0][0];
  uint8_t *const pq = &{p}_pat[cg][0][0];
  for (int64_t i = 0; i < {h * width - (kb - 1) * dx}; ++i) pq[i] = (uint8_t)({shifts});
}}
/* (2) a block of {rb} output rows at a time (accumulators in {p}_accb), {cgb} channel group(s) at a time
   (their table rows stay in L1): pixel by pixel, one table row per (channel group, ky, chunk), added in registers */
for (int64_t oy0 = 0; oy0 < {ho}; oy0 += {rb}) {{
  const int64_t oy1 = oy0 + {rb} < {ho} ? oy0 + {rb} : {ho};
  for (int64_t oy = oy0; oy < oy1; ++oy)
    for (int64_t ox = 0; ox < {wo}; ++ox)
      for (int64_t c = 0; c < {rw}; ++c) {p}_accb[oy - oy0][ox][c] = {p}_b[c];
  for (int64_t g = 0; g < {groups}; ++g)
    for (int64_t cg0 = g * {c_in_g // gc}; cg0 < (g + 1) * {c_in_g // gc}; cg0 += {cgb}) {{
      const int64_t cg1 = cg0 + {cgb} < (g + 1) * {c_in_g // gc} ? cg0 + {cgb} : (g + 1) * {c_in_g // gc};
      for (int64_t oy = oy0; oy < oy1; ++oy)
        for (int64_t cb = 0; cb < {nv}; cb += {nvb})
          for (int64_t ox = 0; ox < {wo}; ++ox) {{
            {acc_t} *const acc = &{p}_accb[oy - oy0][ox][g * {cp}];
{_indent(init, 12)}            for (int64_t ky = 0; ky < {kh}; ++ky) {{
              const int64_t iy = oy * {sy} - {py} + ky * {dy};
              if (iy < 0 || iy >= {h}) continue;
              const uint8_t *const pr = &{p}_pat[0][iy][ox * {sx}];
              for (int64_t cg = cg0; cg < cg1; ++cg) {{
{_indent(chunk_adds, 16)}              }}
            }}
{_indent(store, 12)}          }}
    }}
  for (int64_t oy = oy0; oy < oy1; ++oy)
    for (int64_t g = 0; g < {groups}; ++g)
      for (int64_t c = 0; c < {cog}; ++c)
        for (int64_t ox = 0; ox < {wo}; ++ox)
          y[(g * {cog} + c) * {ho * wo} + oy * {wo} + ox] = {post(f"{p}_accb[oy - oy0][ox][g * {cp} + c]")};
}}
"""
    cost = ho * wo * c_in // gc * kh * nch * nv + c_in * h * wd // 16
    return decls, body, cost


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "".join(pad + line + "\n" if line.strip() else "\n" for line in text.splitlines())
