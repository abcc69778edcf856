"""C code of one layer per integer node kind (one small generator function per kind).

A generator gets a :class:`LayerSpec` (the node, its C name, shapes, the width of its summed
input) and returns a :class:`LayerCode`: file-scope declarations (constant parameters, static
state), the statements of one time step, and the statements that restore the initial state.
Step statements read ``x`` (``int64_t[in_size]``: the node's summed input at this step), write
``y`` (the node's output row) and may read ``t`` (``int64_t``: the step index since the last
reset). Whole-window nodes (TimeMix with latency 0) instead read ``xw[W][in_size]`` and write
``yw[W][..]``; a streaming TimeMix (latency W, loihi2 graphs) is a per-step node with static
window buffers.

Every operation is a function of :mod:`snnc.ir.intops` (``snnc_add``, ``snnc_decay``, ...), in
the same order as the simulator's kernel (:mod:`snnc.backends.sim.int_kernels`,
:mod:`snnc.backends.sim.int_neuron_kernels`), so the generated C and the simulator agree bit
for bit; sums of products accumulate in ``uint64_t`` (modulo 2**64, as the simulator's int64).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.shapes import conv_padding, dims, pair

from .widths import TypeTable, bits_for_range, bits_for_values, c_literal

#: width of input ports when the Input node does not state a bound (``metadata['max_abs']``)
DEFAULT_INPUT_BITS = 32


@dataclass
class LayerSpec:
    name: str
    cname: str
    node: N.Node
    in_shape: tuple
    out_shape: tuple
    in_bits: int
    in_complex: bool
    types: TypeTable
    memories: list[tuple[str, int, int]] = field(default_factory=list)   # constant arrays: (C name, size, bits)

    @property
    def in_size(self) -> int:
        return (2 if self.in_complex else 1) * int(np.prod(self.in_shape, dtype=np.int64))

    @property
    def n(self) -> int:
        """Neurons / output elements (not counting the imaginary half of complex values)."""
        return int(np.prod(self.out_shape, dtype=np.int64))


@dataclass
class LayerCode:
    out_bits: int
    body: str = ""
    decls: list[str] = field(default_factory=list)
    reset: str = ""
    states: list[tuple[str, str, int]] = field(default_factory=list)   # (state name, C array, size)
    whole_window: int = 0
    source: bool = False
    out_complex: bool = False
    multipliers: int = 0          # products of two variables per step (0 for spike input: adds only)
    work: int = 0                 # operations per step (MACs, adds or neuron updates; resource estimate)


GENERATORS: dict[type, Callable[[LayerSpec], LayerCode]] = {}


def generates(*types):
    def deco(fn):
        for t in types:
            GENERATORS[t] = fn
        return fn
    return deco


def layer_code(spec: LayerSpec) -> LayerCode:
    gen = GENERATORS.get(type(spec.node))
    if gen is None:
        raise UnsupportedError(f"the fpga backend has no C kernel for {type(spec.node).__name__}", node=spec.name,
                               hint="compile the model for the fpga or sim target first (snnc compile --target fpga)")
    if spec.in_complex and not isinstance(spec.node, (INN.IntRF, N.Flatten, N.Output)):
        raise UnsupportedError("complex input (from an IntComplexDense) is only accepted by IntRF", node=spec.name)
    return gen(spec)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------


def _array_literal(values: np.ndarray) -> str:
    """Nested C initializer of an integer array (any rank)."""
    if values.ndim == 1:
        items = [c_literal(v) for v in values.tolist()]
        lines = [", ".join(items[i:i + 16]) for i in range(0, len(items), 16)] or [""]
        return "{" + ",\n ".join(lines) + "}"
    return "{" + ",\n".join(_array_literal(v) for v in values) + "}"


def const_array(spec: LayerSpec, fname: str, values) -> tuple[str, str]:
    """A ``static const`` parameter array of the layer: (its C name, its declaration)."""
    a = np.asarray(values, dtype=np.int64)
    cname = f"{spec.cname}_p_{fname}"
    t = spec.types.add(f"{cname}_t", bits_for_values(a))
    spec.memories.append((cname, int(a.size), spec.types.bits[t]))
    dims = "".join(f"[{d}]" for d in a.shape)
    return cname, f"static const {t} {cname}{dims} = {_array_literal(a)};"


def per_neuron(spec: LayerSpec, code: LayerCode, fname: str, value, index: str = "i") -> str:
    """C expression of a parameter that broadcasts over the layer's neurons: a literal when all
    neurons share one value, else an element of a constant array."""
    a = np.broadcast_to(np.asarray(value, dtype=np.int64), tuple(spec.out_shape)).reshape(-1)
    if a.size == 0 or np.all(a == a[0]):
        return c_literal(int(a[0])) if a.size else "0"
    cname, decl = const_array(spec, fname, a)
    code.decls.append(decl)
    return f"(int64_t){cname}[{index}]"


def scalar(value) -> str:
    return c_literal(int(np.asarray(value).reshape(-1)[0]))


def state_array(spec: LayerSpec, code: LayerCode, sname: str, bits: int, init: str = "0") -> str:
    cname = f"{spec.cname}_s_{sname}"
    t = spec.types.add(f"{cname}_t", bits)
    code.decls.append(f"static {t} {cname}[{spec.n}];")
    code.reset += f"for (int64_t i = 0; i < {spec.n}; ++i) {cname}[i] = {init};\n"
    code.states.append((sname, cname, spec.n))
    return cname


def _overflow(mode: str, expr: str, bits: int) -> str:
    """intneurons' overflow rule: 'saturate' is the symmetric clamp, else a wrap."""
    return f"snnc_saturate_sym({expr}, {bits})" if mode == "saturate" else f"snnc_wrap({expr}, {bits})"


def _fire(comparison: str, h: str, thr: str) -> str:
    return f"snnc_fire_gt({h}, {thr})" if comparison == ">" else f"snnc_fire_ge({h}, {thr})"


def _indent(text: str, n: int = 4) -> str:
    pad = " " * n
    return "".join(pad + line + "\n" if line.strip() else "\n" for line in text.splitlines())


# ----------------------------------------------------------------------------------------
# structure: copies, pooling, constants
# ----------------------------------------------------------------------------------------


@generates(N.Output, N.Flatten)
def _copy(spec: LayerSpec) -> LayerCode:
    code = LayerCode(out_bits=spec.in_bits, out_complex=spec.in_complex, work=spec.in_size)
    code.body = f"for (int64_t i = 0; i < {spec.in_size}; ++i) y[i] = x[i];\n"
    return code


@generates(N.SumPool2d)
def _sum_pool(spec: LayerSpec) -> LayerCode:
    node = spec.node
    kh, kw = pair(node.kernel_size, "kernel_size", spec.name)
    sy, sx = pair(node.stride, "stride", spec.name)
    py, px = pair(node.padding, "padding", spec.name)
    c, h, w = spec.in_shape
    _, ho, wo = spec.out_shape
    code = LayerCode(out_bits=min(64, spec.in_bits + math.ceil(math.log2(kh * kw))), work=spec.n * kh * kw)
    code.body = f"""for (int64_t c = 0; c < {c}; ++c)
  for (int64_t oy = 0; oy < {ho}; ++oy)
    for (int64_t ox = 0; ox < {wo}; ++ox) {{
      uint64_t acc = 0;
      for (int64_t ky = 0; ky < {kh}; ++ky) {{
        const int64_t iy = oy * {sy} - {py} + ky;
        if (iy < 0 || iy >= {h}) continue;
        for (int64_t kx = 0; kx < {kw}; ++kx) {{
          const int64_t ix = ox * {sx} - {px} + kx;
          if (ix < 0 || ix >= {w}) continue;
          acc += (uint64_t)x[(c * {h} + iy) * {w} + ix];
        }}
      }}
      y[(c * {ho} + oy) * {wo} + ox] = (int64_t)acc;
    }}
"""
    return code


@generates(INN.ConstantSource)
def _constant(spec: LayerSpec) -> LayerCode:
    value = np.broadcast_to(np.asarray(spec.node.value, np.int64), tuple(spec.out_shape))
    code = LayerCode(out_bits=bits_for_values(value), source=True, work=spec.n)
    v = per_neuron(spec, code, "value", value)
    code.body = f"for (int64_t i = 0; i < {spec.n}; ++i) y[i] = {v};\n"
    return code


# ----------------------------------------------------------------------------------------
# synapses
# ----------------------------------------------------------------------------------------


@generates(IN.IntDense)
def _dense(spec: LayerSpec) -> LayerCode:
    node = spec.node
    node.validate(spec.name)
    w = np.asarray(node.weight, np.int64)
    n_out, n_in = w.shape
    code = LayerCode(out_bits=node.out_bits if node.out_bits < 64 else 64,
                     multipliers=0 if node.input_kind == "binary" else int(w.size), work=int(w.size))
    wname, decl = const_array(spec, "w", np.ascontiguousarray(w.T))       # [n_in][n_out]: input-major
    # Accumulators: a spike (x == 1, or any x != 0 for binary input) adds its weight column to an
    # int32 accumulator when no partial sum of weights can leave int32 (max_o sum_i |w[o, i]| <
    # 2**31); other values multiply into a uint64 accumulator (modulo 2**64, as the simulator's
    # int64). When also max |x| (from the input's width) keeps every product sum inside int32,
    # everything goes to the int32 accumulator. Exact either way: the final sum is the same int64.
    col = float(np.abs(w).sum(axis=1).max(initial=0))
    max_x = 1 if node.input_kind == "binary" else 2 ** (spec.in_bits - 1)
    acc32, acc64 = f"{spec.cname}_acc32", f"{spec.cname}_acc64"
    spikes32 = col < 2 ** 31
    all32 = col * max_x < 2 ** 31
    spike_acc, spike_t = (acc32, "int32_t") if spikes32 else (acc64, "uint64_t")
    mul_acc, mul_t = (acc32, "int32_t") if all32 else (acc64, "uint64_t")
    code.decls.append(decl)
    if spikes32 or all32:
        code.decls.append(f"static int32_t {acc32}[{n_out}];")
    if not all32:
        code.decls.append(f"static uint64_t {acc64}[{n_out}];")
    add = f"for (int64_t o = 0; o < {n_out}; ++o) {spike_acc}[o] += ({spike_t})(int64_t){wname}[i][o];"
    if node.input_kind == "binary":        # any non-zero value is one spike: add the weight column
        inner = f"if (x[i] == 0) continue;\n  {add}"
    else:
        inner = (f"const int64_t s = x[i];\n  if (s == 0) continue;\n  if (s == 1) {{ {add} continue; }}\n"
                 f"  for (int64_t o = 0; o < {n_out}; ++o) {mul_acc}[o] += ({mul_t})(int64_t){wname}[i][o] * "
                 f"({mul_t})s;")
    used = [a for a in (acc32, acc64) if any(f" {a}[" in d for d in code.decls)]
    zero = " ".join(f"{a}[o] = 0;" for a in used)
    total = " + ".join(f"(uint64_t)(int64_t){a}[o]" if a == acc32 else f"{a}[o]" for a in used)
    post = f"int64_t a = (int64_t)({total});\n"
    if node.acc_bits < 64:
        post += f"  a = snnc_wrap(a, {node.acc_bits});\n"
    if node.weight_exp:
        post += f"  a = snnc_shift_exp(a, {int(node.weight_exp)});\n"
    if node.out_bits < 64:
        post += f"  a = snnc_wrap(a, {node.out_bits});\n"
    code.body = (f"for (int64_t o = 0; o < {n_out}; ++o) {{ {zero} }}\n"
                 f"for (int64_t i = 0; i < {n_in}; ++i) {{\n  {inner}\n}}\n"
                 f"for (int64_t o = 0; o < {n_out}; ++o) {{\n  {post}  y[o] = a;\n}}\n")
    return code


@generates(IN.IntConv2d)
def _conv(spec: LayerSpec) -> LayerCode:
    node = spec.node
    node.validate(spec.name)
    w = np.asarray(node.weight, np.int64)
    c_out, c_in_g, kh, kw = w.shape
    groups = int(node.groups)
    sy, sx = dims(node.stride, 2, "stride", spec.name)
    dy, dx = dims(node.dilation, 2, "dilation", spec.name)
    py, px = conv_padding(node, spec.in_shape[1:], spec.name)
    _, h, wd = spec.in_shape
    _, ho, wo = spec.out_shape
    macs = int(c_out * ho * wo * c_in_g * kh * kw)
    code = LayerCode(out_bits=node.out_bits if node.out_bits < 64 else 64,
                     multipliers=0 if node.input_kind == "binary" else macs, work=macs)
    wname, decl = const_array(spec, "w", w)
    code.decls.append(decl)
    start = "0"
    if node.bias is not None:
        bname, bdecl = const_array(spec, "b", np.asarray(node.bias, np.int64).reshape(-1))
        code.decls.append(bdecl)
        start = f"(uint64_t)(int64_t){bname}[co]"
    s = "(x[idx] != 0 ? 1 : 0)" if node.input_kind == "binary" else "x[idx]"
    post = ""
    if node.weight_exp:
        post += f"      a = snnc_shift_exp(a, {int(node.weight_exp)});\n"
    if node.out_bits < 64:
        post += f"      a = snnc_wrap(a, {node.out_bits});\n"
    code.body = f"""for (int64_t co = 0; co < {c_out}; ++co) {{
  const int64_t g = co / {c_out // groups};
  for (int64_t oy = 0; oy < {ho}; ++oy)
    for (int64_t ox = 0; ox < {wo}; ++ox) {{
      uint64_t acc = {start};
      for (int64_t ci = 0; ci < {c_in_g}; ++ci)
        for (int64_t ky = 0; ky < {kh}; ++ky) {{
          const int64_t iy = oy * {sy} - {py} + ky * {dy};
          if (iy < 0 || iy >= {h}) continue;
          for (int64_t kx = 0; kx < {kw}; ++kx) {{
            const int64_t ix = ox * {sx} - {px} + kx * {dx};
            if (ix < 0 || ix >= {wd}) continue;
            const int64_t idx = ((g * {c_in_g} + ci) * {h} + iy) * {wd} + ix;
            acc += (uint64_t)(int64_t){wname}[co][ci][ky][kx] * (uint64_t){s};
          }}
        }}
      int64_t a = (int64_t)acc;
{post}      y[(co * {ho} + oy) * {wo} + ox] = a;
    }}
}}
"""
    return code


@generates(INN.IntComplexDense)
def _complex_dense(spec: LayerSpec) -> LayerCode:
    node = spec.node
    wr = np.asarray(node.weight_real, np.int64)
    wi = np.asarray(node.weight_imag, np.int64)
    n_out, n_in = wr.shape
    code = LayerCode(out_bits=64, out_complex=True, multipliers=int(wr.size + wi.size),
                     work=int(wr.size + wi.size))
    rname, rdecl = const_array(spec, "wr", np.ascontiguousarray(wr.T))
    iname, idecl = const_array(spec, "wi", np.ascontiguousarray(wi.T))
    code.decls += [rdecl, idecl, f"static uint64_t {spec.cname}_re[{n_out}];",
                   f"static uint64_t {spec.cname}_im[{n_out}];"]
    re, im = f"{spec.cname}_re", f"{spec.cname}_im"
    e = int(node.weight_exp)
    code.body = f"""for (int64_t o = 0; o < {n_out}; ++o) {{ {re}[o] = 0; {im}[o] = 0; }}
for (int64_t i = 0; i < {n_in}; ++i) {{
  const uint64_t s = {"(uint64_t)(x[i] != 0)" if node.input_kind == "binary" else "(uint64_t)x[i]"};
  if (s == 0) continue;
  for (int64_t o = 0; o < {n_out}; ++o) {{
    {re}[o] += (uint64_t)(int64_t){rname}[i][o] * s;
    {im}[o] += (uint64_t)(int64_t){iname}[i][o] * s;
  }}
}}
for (int64_t o = 0; o < {n_out}; ++o) {{
  y[o] = snnc_shl((int64_t){re}[o], {e});
  y[{n_out} + o] = snnc_shl((int64_t){im}[o], {e});
}}
"""
    return code


# ----------------------------------------------------------------------------------------
# neurons
# ----------------------------------------------------------------------------------------


@generates(IN.IntCubaLIF)
def _cuba_lif(spec: LayerSpec) -> LayerCode:
    n = spec.node
    n.validate(spec.name)
    A = n.arith_bits
    code = LayerCode(out_bits=n.v_bits if n.threshold is None else 2, multipliers=2 * spec.n, work=spec.n)
    u_arr = state_array(spec, code, "u", A if n.u_overflow == "lava" else n.u_bits)
    v_arr = state_array(spec, code, "v", min(64, n.v_bits + (1 if n.reset == "subtract" else 0)))
    cm = per_neuron(spec, code, "cm", n.current_mult)
    vm = per_neuron(spec, code, "vm", n.voltage_mult)

    def arith(e: str) -> str:
        return e if A == 64 else f"snnc_wrap({e}, {A})"

    u_ovf = {"lava": "snnc_lava_wrap", "wrap": "snnc_wrap", "saturate": "snnc_saturate"}[n.u_overflow]
    v_ovf = {"saturate_sym": "snnc_saturate_sym", "saturate": "snnc_saturate", "wrap": "snnc_wrap"}[n.v_overflow]
    lines = [f"int64_t u = {u_arr}[i], v = {v_arr}[i];"]
    if n.state_reset_interval is not None:
        lines.append(f"if (t % {int(n.state_reset_interval)} == {int(n.state_reset_phase)}) {{ u = 0; v = 0; }}")
    lines.append(f"const int64_t a = {arith(f'snnc_shl(x[i], {n.input_shift})')};")
    lines.append(f"u = {u_ovf}({arith(f'snnc_add(snnc_decay(u, {cm}, {n.decay_bits}), a)')}, {n.u_bits});")
    h = f"snnc_add(snnc_decay(v, {vm}, {n.decay_bits}), u)"
    if n.bias is not None:
        h = f"snnc_add({h}, {per_neuron(spec, code, 'bias', n.bias)})"
    lines.append(f"const int64_t h = {v_ovf}({arith(h)}, {n.v_bits});")
    if n.threshold is None:
        lines += ["v = h;", "y[i] = h;"]
    else:
        thr = per_neuron(spec, code, "thr", n.threshold)
        lines.append(f"const int64_t z = {_fire(n.comparison, 'h', thr)};")
        lines.append({"zero": "v = z ? 0 : h;", "subtract": f"v = z ? snnc_sub(h, {thr}) : h;",
                      "none": "v = h;"}[n.reset])
        lines.append("y[i] = z;")
    lines.append(f"{u_arr}[i] = u; {v_arr}[i] = v;")
    code.body = f"for (int64_t i = 0; i < {spec.n}; ++i) {{\n" + _indent("\n".join(lines), 2) + "}\n"
    return code


@generates(INN.IntLIFB)
def _lifb(spec: LayerSpec) -> LayerCode:
    n = spec.node
    amps = np.asarray(n.amplitudes, np.int64).reshape(-1)
    code = LayerCode(out_bits=bits_for_values(amps), multipliers=spec.n, work=spec.n * int(n.max_burst))
    v_arr = state_array(spec, code, "v", n.state_bits)
    aname, adecl = const_array(spec, "amp", amps)
    code.decls.append(adecl)
    leak = per_neuron(spec, code, "leak", n.leak_mult)
    thr = per_neuron(spec, code, "thr", n.threshold)
    step = per_neuron(spec, code, "step", n.threshold_step)
    lines = [f"const int64_t h = snnc_add(snnc_decay({v_arr}[i], {leak}, {n.decay_bits}), x[i]);",
             "int64_t cnt = 0;",
             f"for (int64_t k = 0; k < {int(n.max_burst)}; ++k) "
             f"cnt += {_fire(n.comparison, 'h', f'snnc_add({thr}, snnc_mul(k, {step}))')};",
             {"subtract": f"int64_t v = snnc_sub(h, snnc_mul(cnt, {step}));",
              "zero": "int64_t v = cnt > 0 ? 0 : h;",
              "multiplicative": "int64_t v = snnc_mul(h, 1 - cnt);"}[n.reset]]
    if n.v_min is not None:
        vmin = per_neuron(spec, code, "vmin", n.v_min)
        lines.append(f"if (v < {vmin}) v = {vmin};")
    lines += [f"{v_arr}[i] = {_overflow(n.overflow, 'v', n.state_bits)};", f"y[i] = {aname}[cnt];"]
    code.body = f"for (int64_t i = 0; i < {spec.n}; ++i) {{\n" + _indent("\n".join(lines), 2) + "}\n"
    return code


@generates(INN.IntCLIF)
def _clif(spec: LayerSpec) -> LayerCode:
    n = spec.node
    code = LayerCode(out_bits=2, multipliers=3 * spec.n, work=spec.n)
    u_arr = state_array(spec, code, "u", n.state_bits)
    m_arr = state_array(spec, code, "m", n.state_bits)
    lu = np.asarray(n.lut_u, np.int64).reshape(-1)
    lm = np.asarray(n.lut_m, np.int64).reshape(-1)
    luname, ludecl = const_array(spec, "lut_u", lu)
    lmname, lmdecl = const_array(spec, "lut_m", lm)
    code.decls += [ludecl, lmdecl]
    thr = scalar(n.threshold)
    u_new = f"snnc_add(snnc_decay({u_arr}[i], {scalar(n.decay_mult)}, {n.decay_bits}), x[i])"
    iu = f"snnc_sub(snnc_asr(u, {int(n.u_shift)}), {scalar(n.u_offset)})"
    lines = [
        f"int64_t u = {_overflow(n.overflow, u_new, n.state_bits)};",
        f"const int64_t iu = snnc_clip({iu}, 0, {lu.size - 1});",
        f"int64_t m = snnc_decay({m_arr}[i], {luname}[iu], {int(n.lut_frac_bits)});",
        f"const int64_t s = {_fire(n.comparison, 'u', thr)};",
        f"m = snnc_add(m, snnc_mul(s, {c_literal(1 << int(n.m_frac_bits))}));",
        f"const int64_t im = snnc_clip(snnc_asr(m, {int(n.m_shift)}), 0, {lm.size - 1});",
        f"u = snnc_sub(u, snnc_mul(s, snnc_add({thr}, snnc_decay({lmname}[im], {scalar(n.reset_scale)}, "
        f"{int(n.lut_frac_bits)}))));",
        f"{u_arr}[i] = {_overflow(n.overflow, 'u', n.state_bits)};",
        f"{m_arr}[i] = {_overflow(n.overflow, 'm', n.state_bits)};",
        "y[i] = s;",
    ]
    code.body = f"for (int64_t i = 0; i < {spec.n}; ++i) {{\n" + _indent("\n".join(lines), 2) + "}\n"
    return code


@generates(INN.IntRF)
def _rf(spec: LayerSpec) -> LayerCode:
    n = spec.node
    if not spec.in_complex:
        raise UnsupportedError("IntRF needs a complex input current (from an IntComplexDense)", node=spec.name)
    code = LayerCode(out_bits=2, multipliers=4 * spec.n, work=spec.n)
    re_arr = state_array(spec, code, "re", n.state_bits)
    im_arr = state_array(spec, code, "im", n.state_bits)
    dr = per_neuron(spec, code, "dr", n.decay_real)
    di = per_neuron(spec, code, "di", n.decay_imag)
    D = n.decay_bits
    lines = [
        f"const int64_t re = {re_arr}[i], im = {im_arr}[i];",
        f"int64_t re2 = snnc_add(snnc_sub(snnc_decay(re, {dr}, {D}), snnc_decay(im, {di}, {D})), x[i]);",
        f"int64_t im2 = snnc_add(snnc_add(snnc_decay(re, {di}, {D}), snnc_decay(im, {dr}, {D})), x[{spec.n} + i]);",
        f"re2 = {_overflow(n.overflow, 're2', n.state_bits)};",
        f"im2 = {_overflow(n.overflow, 'im2', n.state_bits)};",
    ]
    thr = scalar(n.threshold)
    if n.spike_rule == "iz":            # Lava RF_IZ: spike on Im, then re = 0, im = threshold - 1
        lines += [f"const int s = {_fire(n.comparison, 'im2', thr)};",
                  f"if (s) {{ re2 = 0; im2 = {thr} - 1; }}",
                  f"{re_arr}[i] = re2; {im_arr}[i] = im2;", "y[i] = s;"]
    else:
        lines += [f"{re_arr}[i] = re2; {im_arr}[i] = im2;",
                  f"y[i] = {_fire(n.comparison, 're2', thr)}"
                  + (" && im2 >= 0 && im < 0;" if n.spike_rule == "phase" else ";")]
    code.body = f"for (int64_t i = 0; i < {spec.n}; ++i) {{\n" + _indent("\n".join(lines), 2) + "}\n"
    return code


@generates(INN.IntTimeMix)
def _time_mix(spec: LayerSpec) -> LayerCode:
    n = spec.node
    n.validate(spec.name)
    if n.streaming:
        return _time_mix_streaming(spec)
    c = np.asarray(n.coefficients, np.int64)
    tw = int(c.shape[0])
    code = LayerCode(out_bits=64, whole_window=tw, multipliers=tw * spec.in_size, work=tw * spec.in_size)
    cname, decl = const_array(spec, "coef", c)
    code.decls.append(decl)
    code.body = f"""for (int64_t w0 = 0; w0 < SNNC_WINDOW; w0 += {tw})
  for (int64_t tt = 0; tt < {tw}; ++tt)
    for (int64_t i = 0; i < {spec.in_size}; ++i) {{
      uint64_t acc = 0;
      for (int64_t j = 0; j < {tw}; ++j) acc += (uint64_t)(int64_t){cname}[tt][j] * (uint64_t)xw[w0 + j][i];
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
    code = LayerCode(out_bits=64, multipliers=tw * size, work=tw * size)
    cname, decl = const_array(spec, "coef", c)
    code.decls.append(decl)
    arrays = {}
    for sname, bits in (("buffer", spec.in_bits), ("mixed", 64)):
        arr = f"{spec.cname}_s_{sname}"
        t = spec.types.add(f"{arr}_t", bits)
        code.decls.append(f"static {t} {arr}[{tw * size}];")
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
        uint64_t acc = 0;
        for (int64_t j = 0; j < {tw}; ++j)
          acc += (uint64_t)(int64_t){cname}[tt][j] * (uint64_t)(int64_t){buf}[j * {size} + i];
        {mixed}[tt * {size} + i] = snnc_rtz_shift((int64_t)acc, {int(n.frac_bits)});
      }}
}}
"""
    return code


@generates(INN.IntLMHT)
def _lmht(spec: LayerSpec) -> LayerCode:
    n = spec.node
    code = LayerCode(out_bits=bits_for_range(0, int(n.levels)), multipliers=2 * spec.n, work=spec.n)
    v_arr = state_array(spec, code, "v", n.state_bits, init=scalar(n.v_init))
    thr = scalar(n.threshold)
    lines = [f"int64_t v = {v_arr}[i];"]
    phase = int(n.phase)
    if n.window:
        if phase:
            lines.append(f"if ((t - {phase}) % {int(n.window)} == 0 && t > {phase}) v = {scalar(n.v_init)};")
        else:
            lines.append(f"if (t % {int(n.window)} == 0 && t > 0) v = {scalar(n.v_init)};")
    lines += [f"const int64_t h = snnc_add(snnc_decay(v, {scalar(n.leak_mult)}, {n.decay_bits}), x[i]);",
              f"const int64_t k = snnc_clip(snnc_floor_div(h, {thr}), 0, {int(n.levels)});",
              f"{v_arr}[i] = {_overflow(n.overflow, f'snnc_sub(h, snnc_mul(k, {thr}))', n.state_bits)};",
              "y[i] = k;"]
    body = f"for (int64_t i = 0; i < {spec.n}; ++i) {{\n" + _indent("\n".join(lines), 2) + "}\n"
    if phase:
        body = (f"if (t < {phase}) {{   /* idle until the first input arrives: v stays v_init, no output */\n"
                f"  for (int64_t i = 0; i < {spec.n}; ++i) y[i] = 0;\n}} else {{\n" + _indent(body, 2) + "}\n")
    code.body = body
    return code


@generates(INN.IntLNM)
def _lnm(spec: LayerSpec) -> LayerCode:
    n = spec.node
    thr = int(np.asarray(n.threshold).reshape(-1)[0])
    bounds = [n.v_min, n.v_max, n.v_reset, int(n.v_min) - thr, int(n.v_max) - thr]
    code = LayerCode(out_bits=2, multipliers=len(np.asarray(n.coefficients).reshape(-1)) * spec.n, work=spec.n)
    v_arr = state_array(spec, code, "v", bits_for_values(np.asarray(bounds, np.int64)))
    c = np.asarray(n.coefficients, np.int64).reshape(-1)
    lines = ["const int64_t v = " + v_arr + "[i];", f"int64_t f = {c_literal(int(c[-1]))};"]
    for ck in c[-2::-1]:
        lines.append(f"f = snnc_add(snnc_decay(f, v, {int(n.frac_bits)}), {c_literal(int(ck))});")
    h = "snnc_add(snnc_add(v, f), x[i])" if n.form == "increment" else "snnc_add(f, x[i])"
    lines += [f"const int64_t h = snnc_clip({h}, {scalar(n.v_min)}, {scalar(n.v_max)});",
              f"const int64_t s = {_fire(n.comparison, 'h', c_literal(thr))};",
              (f"{v_arr}[i] = s ? {scalar(n.v_reset)} : h;" if n.reset == "zero"
               else f"{v_arr}[i] = snnc_sub(h, snnc_mul(s, {c_literal(thr)}));"),
              "y[i] = s;"]
    code.body = f"for (int64_t i = 0; i < {spec.n}; ++i) {{\n" + _indent("\n".join(lines), 2) + "}\n"
    return code


@generates(INN.IntBinaryLMHT)
def _binary_lmht(spec: LayerSpec) -> LayerCode:
    n = spec.node
    code = LayerCode(out_bits=2, multipliers=spec.n, work=spec.n)
    v_arr = state_array(spec, code, "v", n.state_bits, init=scalar(n.v_init))
    thr = scalar(n.threshold)
    lines = [f"int64_t v = {v_arr}[i];"]
    if n.window:
        lines.append(f"if (t % {int(n.window)} == 0 && t > 0) v = {scalar(n.v_init)};")
    lines += [f"const int64_t leak = (t % {int(n.substeps)} == 0) ? snnc_decay(v, {scalar(n.leak_mult)}, "
              f"{n.decay_bits}) : v;   /* leak on block starts only */",
              "const int64_t h = snnc_add(leak, x[i]);",
              f"const int64_t s = snnc_fire_ge(h, {thr});",
              f"{v_arr}[i] = {_overflow(n.overflow, f'snnc_sub(h, snnc_mul(s, {thr}))', n.state_bits)};",
              "y[i] = s;"]
    code.body = f"for (int64_t i = 0; i < {spec.n}; ++i) {{\n" + _indent("\n".join(lines), 2) + "}\n"
    return code
