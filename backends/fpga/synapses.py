"""C kernels of the integer synapse kinds: dense, conv, complex dense, time mixing.

Dense and conv synapses are *event-driven* (scatter): the pipelined loop walks the inputs (for a
conv: the input pixels x kernel taps), skips zeros, and each non-zero input adds its weight row
to the accumulators of the outputs it reaches (the lane loop: output neurons / output channels,
contiguous in memory). A spike (binary input, or a graded value of 1) adds weights without a
multiply. This order is the fast one for gcc at batch 1 (sparse spikes, vectorizable rows) and
maps to hardware as ``lanes`` adders / multipliers fed by ``lanes`` weight banks.

Accumulators have the width the sum provably needs (:func:`snnc.ir.value_bounds.sum_bound` of
the node and the bound of its input, :func:`.widths.acc_bits_for`): exact in ``<c>_acc_t``, then
``wrap(acc_bits) -> shift_exp -> wrap(out_bits)`` in one expression into the output row, as the
simulator does (:mod:`snnc.backends.sim.int_kernels`). Beyond 62 bits the accumulator is
``uint64_t`` and wraps modulo 2**64 like the simulator's int64.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir.shapes import conv_padding, dims
from snnc.ir.value_bounds import node_bound, sum_bound

from . import pragmas as P
from .fastpath import conv_body, dense_events_body, fast_branch
from .layers import LayerCode, LayerSpec, _indent, const_array, generates, work_array
from .widths import Range, acc_bits_for, bits_for_bound


def _acc_type(spec: LayerSpec, name: str = "acc") -> tuple[str, int, float]:
    """(type name, bits, bound) of the layer's accumulator: the shared bound of its exact sum."""
    bound = sum_bound(spec.node, spec.x_bound)
    bits = acc_bits_for(bound)
    return spec.types.add_acc(f"{spec.cname}_{name}_t", bits), bits, bound


def _post(node, a: str, bits: int = 64) -> str:
    """``wrap(acc_bits) -> shift_exp -> wrap(out_bits)`` of the accumulator value ``a``, one
    int64 expression (the simulator's order). ``bits``: the proven width of ``a``; a wrap to at
    least the width of its operand is the identity and is left out."""
    a = f"(int64_t){a}"
    acc_bits = getattr(node, "acc_bits", 64)
    if acc_bits < 64 and bits > acc_bits:
        a = f"snnc_wrap({a}, {acc_bits})"
        bits = acc_bits
    e = int(node.weight_exp)
    if e:
        a = f"snnc_shift_exp({a}, {e})"
        bits = min(64, bits + e) if e > 0 else max(1, bits - (-e))
    if node.out_bits < 64 and (bits > node.out_bits or e > 0):
        a = f"snnc_wrap({a}, {node.out_bits})"
    return a


def _add_row(acc: str, w: str, acc_t: str, n: str, binary: bool, s: str = "s") -> str:
    """Statements adding weight row ``w[0..n)`` (times the input ``s``) to ``acc[0..n)``, a
    spike (``s == 1`` or binary) without the multiply."""
    add = f"for (int64_t o = 0; o < {n}; ++o) {{\n{_indent(P.unroll(), 2)}  {acc}[o] += ({acc_t}){w}[o];\n}}\n"
    if binary:
        return add
    mul = (f"for (int64_t o = 0; o < {n}; ++o) {{\n{_indent(P.unroll(), 2)}  {acc}[o] += ({acc_t})(({acc_t}){w}[o] "
           f"* ({acc_t}){s});\n}}\n")
    return f"if ({s} == 1) {{\n{_indent(add, 2)}}} else {{\n{_indent(mul, 2)}}}\n"


@generates(IN.IntDense)
def _dense(spec: LayerSpec) -> LayerCode:
    node = spec.node
    node.validate(spec.name)
    binary = node.input_kind == "binary"
    w = np.asarray(node.weight, np.int64)
    n_out, n_in = w.shape
    code = LayerCode(out_bits=min(node.out_bits, bits_for_bound(node_bound(node, spec.x_bound))))
    code.hw = P.layer_hw(spec.reuse, n_out, n_in, 0 if binary else 1)
    wname, decl = const_array(spec, "w", np.ascontiguousarray(w.T), lane_dim=2)     # [n_in][n_out]: input-major
    acc_t, bits, _ = _acc_type(spec)
    acc = f"{spec.cname}_acc"
    code.decls += [decl, work_array(spec, acc, acc_t, n_out, bits, n_out)]
    s = "x[i]"
    code.body = (f"for (int64_t o = 0; o < {n_out}; ++o) {acc}[o] = 0;\n"
                 f"for (int64_t i = 0; i < {n_in}; ++i) {{\n" + _indent(P.pipeline(code.hw), 2)
                 + f"  const {spec.in_type} s = {s};\n  if (s == 0) continue;\n"
                 + _indent(_add_row(acc, f"{wname}[i]", acc_t, str(n_out), binary), 2) + "}\n"
                 f"for (int64_t o = 0; o < {n_out}; ++o) y[o] = {_post(node, f'{acc}[o]', bits)};\n")
    spike_bits = acc_bits_for(sum_bound(node, 1.0))      # the sum at inputs in [-1, 1] (spikes)
    if spike_bits <= 32 and n_in and n_out:
        code.fast_decls, fast = dense_events_body(spec.cname, np.ascontiguousarray(w.T), spike_bits, binary,
                                                  lambda a: _post(node, a, spike_bits))
        hls = code.body
        fast = f"(void){acc};\n" + fast if binary else fast + " else {\n" + _indent(hls, 2) + "}\n"
        code.body = fast_branch(fast, hls)
    return code


@generates(IN.IntConv2d)
def _conv(spec: LayerSpec) -> LayerCode:
    """Scatter convolution: input pixel (ci, iy, ix) reaches output (oy, ox) through tap (ky, kx)
    when ``oy * sy = iy + py - ky * dy`` (and the same in x); the lane loop runs over the output
    channels of the input channel's group, accumulators laid out ``[oy * wo + ox][c_out]``."""
    node = spec.node
    node.validate(spec.name)
    binary = node.input_kind == "binary"
    w = np.asarray(node.weight, np.int64)
    c_out, c_in_g, kh, kw = w.shape
    groups = int(node.groups)
    cog = c_out // groups
    sy, sx = dims(node.stride, 2, "stride", spec.name)
    dy, dx = dims(node.dilation, 2, "dilation", spec.name)
    py, px = conv_padding(node, spec.in_shape[1:], spec.name)
    c_in, h, wd = spec.in_shape
    _, ho, wo = spec.out_shape
    code = LayerCode(out_bits=min(node.out_bits, bits_for_bound(node_bound(node, spec.x_bound))))
    code.hw = P.layer_hw(spec.reuse, cog, c_in * h * wd * kh * kw, 0 if binary else 1, event_driven=True)
    # weights [c_in][kh][kw][cog]: wt[g * c_in_g + ci][ky][kx][c] = w[g * cog + c][ci][ky][kx]
    wt = w.reshape(groups, cog, c_in_g, kh, kw).transpose(0, 2, 3, 4, 1).reshape(c_in, kh, kw, cog)
    wname, decl = const_array(spec, "w", np.ascontiguousarray(wt), lane_dim=4)
    bias = None if node.bias is None else np.asarray(node.bias, np.int64).reshape(-1)
    acc_t, bits, _ = _acc_type(spec)
    acc = f"{spec.cname}_acc"
    code.decls += [decl, work_array(spec, acc, acc_t, ho * wo * c_out, bits, c_out, f"[{ho * wo}][{c_out}]", 2)]
    init = "0"
    if bias is not None:
        bname, bdecl = const_array(spec, "b", bias, lane_dim=1)
        code.decls.append(bdecl)
        init = f"({acc_t}){bname}[co]"
    row = f"{acc}[oy * {wo} + ox] + g * {cog}"
    scatter = _add_row("a_row", f"{wname}[ci][ky][kx]", acc_t, str(cog), binary)
    ev = f"{spec.cname}_ev"
    load = "" if binary else f"        const {spec.in_type} s = xr[ix];\n"
    code.decls.append(work_array(spec, ev, "int32_t", wd, 32, 0))
    hls = f"""for (int64_t p = 0; p < {ho * wo}; ++p)
  for (int64_t co = 0; co < {c_out}; ++co) {acc}[p][co] = {init};
for (int64_t ci = 0; ci < {c_in}; ++ci) {{
  const int64_t g = ci / {c_in_g};
  for (int64_t iy = 0; iy < {h}; ++iy) {{
    /* the row's events: columns of its non-zero inputs (collected without a branch) */
    const {spec.in_type} *const xr = x + (ci * {h} + iy) * {wd};
    int64_t n_ev = 0;
    for (int64_t ix = 0; ix < {wd}; ++ix) {{
      #pragma HLS PIPELINE II=1
      {ev}[n_ev] = (int32_t)ix;
      n_ev += xr[ix] != 0;
    }}
    for (int64_t ky = 0; ky < {kh}; ++ky) {{
      const int64_t ty = iy + {py} - ky * {dy};
      if (ty < 0 || ty % {sy} != 0 || ty / {sy} >= {ho}) continue;
      const int64_t oy = ty / {sy};
      for (int64_t e = 0; e < n_ev; ++e) {{
        const int64_t ix = {ev}[e];
{load}        for (int64_t kx = 0; kx < {kw}; ++kx) {{
{_indent(P.pipeline(code.hw), 10)}          const int64_t tx = ix + {px} - kx * {dx};
          if (tx < 0 || tx % {sx} != 0 || tx / {sx} >= {wo}) continue;
          const int64_t ox = tx / {sx};
          {acc_t} *const a_row = {row};
{_indent(scatter, 10)}        }}
      }}
    }}
  }}
}}
for (int64_t co = 0; co < {c_out}; ++co)
  for (int64_t p = 0; p < {ho * wo}; ++p)
    y[co * {ho * wo} + p] = {_post(node, f"{acc}[p][co]", bits)};
"""
    code.body = hls
    if bits <= 32:          # the fast C-simulation branch (ctypes build only)
        code.fast_decls, fast = conv_body(
            cname=spec.cname, acc_t=acc_t, acc_bits=bits, in_t=spec.in_type, binary=binary, wt=wt, bias=bias,
            groups=groups, shapes=(spec.in_shape, spec.out_shape), stride=(sy, sx), dilation=(dy, dx),
            padding=(py, px), post=lambda a: _post(node, a, bits), unused=(acc, ev))
        code.body = fast_branch(fast, hls)
    return code


@generates(INN.IntComplexDense)
def _complex_dense(spec: LayerSpec) -> LayerCode:
    node = spec.node
    binary = node.input_kind == "binary"
    wr = np.asarray(node.weight_real, np.int64)
    wi = np.asarray(node.weight_imag, np.int64)
    n_out, n_in = wr.shape
    code = LayerCode(out_bits=bits_for_bound(node_bound(node, spec.x_bound)), out_complex=True)
    code.hw = P.layer_hw(spec.reuse, n_out, n_in, 0 if binary else 2)
    rname, rdecl = const_array(spec, "wr", np.ascontiguousarray(wr.T), lane_dim=2)
    iname, idecl = const_array(spec, "wi", np.ascontiguousarray(wi.T), lane_dim=2)
    acc_t, bits, _ = _acc_type(spec)
    re, im = f"{spec.cname}_re", f"{spec.cname}_im"
    code.decls += [rdecl, idecl, work_array(spec, re, acc_t, n_out, bits, n_out),
                   work_array(spec, im, acc_t, n_out, bits, n_out)]
    e = int(node.weight_exp)
    s = "(x[i] != 0)" if binary else "x[i]"
    code.body = f"""for (int64_t o = 0; o < {n_out}; ++o) {{ {re}[o] = 0; {im}[o] = 0; }}
for (int64_t i = 0; i < {n_in}; ++i) {{
{_indent(P.pipeline(code.hw), 2)}  const {spec.in_type} s = {s};
  if (s == 0) continue;
  for (int64_t o = 0; o < {n_out}; ++o) {{
{_indent(P.unroll(), 4)}    {re}[o] += ({acc_t})(({acc_t}){rname}[i][o] * ({acc_t})s);
    {im}[o] += ({acc_t})(({acc_t}){iname}[i][o] * ({acc_t})s);
  }}
}}
for (int64_t o = 0; o < {n_out}; ++o) {{
  y[o] = snnc_shl((int64_t){re}[o], {e});
  y[{n_out} + o] = snnc_shl((int64_t){im}[o], {e});
}}
"""
    return code


def _mix_acc(spec: LayerSpec) -> tuple[str, int]:
    """(accumulator type, width of the mixed values ``rtz(acc, frac_bits)``)."""
    acc_t, _, bound = _acc_type(spec)
    return acc_t, Range.bound(bound).rtz(int(spec.node.frac_bits)).width()


@generates(INN.IntTimeMix)
def _time_mix(spec: LayerSpec) -> LayerCode:
    n = spec.node
    n.validate(spec.name)
    if n.streaming:
        return _time_mix_streaming(spec)
    c = np.asarray(n.coefficients, np.int64)
    tw = int(c.shape[0])
    acc_t, out_bits = _mix_acc(spec)
    code = LayerCode(out_bits=out_bits, whole_window=tw)
    code.hw = P.layer_hw(spec.reuse, tw, tw * spec.in_size, 1)
    cname, decl = const_array(spec, "coef", c, lane_dim=2)
    code.decls.append(decl)
    code.body = f"""for (int64_t w0 = 0; w0 < SNNC_WINDOW; w0 += {tw})
  for (int64_t tt = 0; tt < {tw}; ++tt)
    for (int64_t i = 0; i < {spec.in_size}; ++i) {{
{_indent(P.pipeline(code.hw), 6)}      {acc_t} acc = 0;
      for (int64_t j = 0; j < {tw}; ++j) {{
{_indent(P.unroll(), 8)}        acc += ({acc_t})(({acc_t}){cname}[tt][j] * ({acc_t})xw[w0 + j][i]);
      }}
      yw[w0 + tt][i] = snnc_rtz_shift((int64_t)acc, {int(n.frac_bits)});
    }}
"""
    return code


def _time_mix_streaming(spec: LayerSpec) -> LayerCode:
    """IntTimeMix with latency W (loihi2 graphs): one step at a time, static buffers
    ``buffer[W][n]`` (inputs of the current window) and ``mixed[W][n]`` (the mixed previous
    window, emitted during this one), flat ``[r * n + i]``."""
    n = spec.node
    c = np.asarray(n.coefficients, np.int64)
    tw, size = int(c.shape[0]), spec.in_size
    acc_t, out_bits = _mix_acc(spec)
    code = LayerCode(out_bits=out_bits)
    code.hw = P.layer_hw(spec.reuse, tw, tw * size, 1)
    cname, decl = const_array(spec, "coef", c, lane_dim=2)
    code.decls.append(decl)
    arrays = {}
    for sname, bits in (("buffer", spec.in_bits), ("mixed", out_bits)):
        arr = f"{spec.cname}_s_{sname}"
        t = spec.types.add(f"{arr}_t", bits)
        code.decls.append(work_array(spec, arr, t, tw * size, bits, 0))
        code.reset += f"for (int64_t i = 0; i < {tw * size}; ++i) {arr}[i] = 0;\n"
        code.states.append((sname, arr, tw * size))
        arrays[sname] = arr
    buf, mixed = arrays["buffer"], arrays["mixed"]
    code.body = f"""if (t < {int(n.phase)}) {{
  for (int64_t i = 0; i < {size}; ++i) y[i] = 0;   /* before the first window */
}} else {{
  const int64_t r = (t - {int(n.phase)}) % {tw};
  for (int64_t i = 0; i < {size}; ++i) {{
    y[i] = (int64_t){mixed}[r * {size} + i];
    {buf}[r * {size} + i] = x[i];
  }}
  if (r == {tw - 1})     /* window complete: mix it, emitted during the next window */
    for (int64_t tt = 0; tt < {tw}; ++tt)
      for (int64_t i = 0; i < {size}; ++i) {{
{_indent(P.pipeline(code.hw), 8)}        {acc_t} acc = 0;
        for (int64_t j = 0; j < {tw}; ++j) {{
{_indent(P.unroll(), 10)}          acc += ({acc_t})(({acc_t}){cname}[tt][j] * ({acc_t}){buf}[j * {size} + i]);
        }}
        {mixed}[tt * {size} + i] = snnc_rtz_shift((int64_t)acc, {int(n.frac_bits)});
      }}
}}
"""
    return code
