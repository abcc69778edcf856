"""C kernels of the integer neuron kinds: one neuron loop per layer (``lanes`` neurons per cycle
at the layer's reuse factor, :func:`~.layers.neuron_loop`), each update the simulator's kernel
(:mod:`snnc.backends.sim.int_neuron_kernels`) written with the functions of :mod:`snnc.ir.intops`.

Narrow arithmetic: every local of an update (the input after its shift, the pre-overflow sums,
burst counts, table indices, polynomial terms, spikes) is declared with a type of the width its
interval needs (:class:`~.widths.Range`, computed here statement by statement from the state
widths, the parameters and the input's range ``spec.x_range``): ``ap_int<N>`` in the typed branch,
the smallest ``intN_t`` in the plain one. The operations themselves are the int64 functions of
``snnc_numerics.h`` (a value that fits its interval converts back unchanged), so both branches
and the simulator agree bit for bit; an interval that reaches beyond int64 gives a 64-bit local.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir.errors import UnsupportedError

from .fastpath import fast_branch
from .layers import LayerCode, LayerSpec, _indent, const_array, generates, neuron_loop, per_neuron, scalar, state_array
from .widths import Range, bits_for_range, bits_for_values, c_literal

#: interval of a spike / threshold test
SPIKE = Range(0, 1)


def _overflow(mode: str, expr: str, bits: int) -> str:
    """intneurons' overflow rule: 'saturate' is the symmetric clamp, else a wrap."""
    return f"snnc_saturate_sym({expr}, {bits})" if mode == "saturate" else f"snnc_wrap({expr}, {bits})"


def _overflow_range(mode: str, r: Range, bits: int) -> Range:
    return r.saturate(bits, symmetric=True) if mode == "saturate" else r.wrap(bits)


def _fire(comparison: str, h: str, thr: str) -> str:
    return f"snnc_fire_gt({h}, {thr})" if comparison == ">" else f"snnc_fire_ge({h}, {thr})"


def _local(spec: LayerSpec, name: str, r: Range) -> str:
    """The type ``<c>_<name>_t`` of a local whose values lie in ``r`` (its proven width)."""
    return spec.types.add(f"{spec.cname}_{name}_t", r.width())


def _r(values) -> Range:
    return Range.values(values)


def _mults(values) -> int:
    """Multipliers (DSPs) one lane needs for products with the constant parameter ``values``: 0
    when every neuron shares one value that is 0 or a power of two (a decay by 0 or by
    ``2**decay_bits``, a shift), else 1."""
    a = np.asarray(values, np.int64).reshape(-1)
    if a.size and np.all(a == a[0]):
        v = abs(int(a[0]))
        if v == 0 or v & (v - 1) == 0:
            return 0
    return 1


@generates(IN.IntCubaLIF)
def _cuba_lif(spec: LayerSpec) -> LayerCode:
    n = spec.node
    n.validate(spec.name)
    A = n.arith_bits
    code = LayerCode(out_bits=n.v_bits if n.threshold is None else 2)
    a_rng = spec.x_range * Range(1 << int(n.input_shift), 1 << int(n.input_shift))
    u_state_bits = _u_state_bits(n, a_rng.wrap(A) if A < 64 else a_rng)
    u_arr = state_array(spec, code, "u", u_state_bits)
    v_arr = state_array(spec, code, "v", min(64, n.v_bits + (1 if n.reset == "subtract" else 0)))
    cm = per_neuron(spec, code, "cm", n.current_mult)
    vm = per_neuron(spec, code, "vm", n.voltage_mult)

    def arith(e: str) -> str:
        return e if A == 64 else f"snnc_wrap({e}, {A})"

    u_ovf = {"lava": "snnc_lava_wrap", "wrap": "snnc_wrap", "saturate": "snnc_saturate"}[n.u_overflow]
    v_ovf = {"saturate_sym": "snnc_saturate_sym", "saturate": "snnc_saturate", "wrap": "snnc_wrap"}[n.v_overflow]
    # locals of their proven widths: u, v as the states; a: the shifted input (wrapped to A bits);
    # h: v_bits (after the v overflow rule); z: a spike
    a_t = _local(spec, "a", a_rng.wrap(A) if A < 64 else a_rng)
    h_t = spec.types.add(f"{spec.cname}_h_t", n.v_bits)
    lines = [f"{u_arr}_t u = {u_arr}[i];", f"{v_arr}_t v = {v_arr}[i];"]
    if n.state_reset_interval is not None:
        lines.append(f"if (t % {int(n.state_reset_interval)} == {int(n.state_reset_phase)}) {{ u = 0; v = 0; }}")
    lines.append(f"const {a_t} a = {arith(f'snnc_shl(x[i], {n.input_shift})')};")
    lines.append(f"u = {u_ovf}({arith(f'snnc_add(snnc_decay(u, {cm}, {n.decay_bits}), a)')}, {n.u_bits});")
    h = f"snnc_add(snnc_decay(v, {vm}, {n.decay_bits}), u)"
    bias = None if n.bias is None else per_neuron(spec, code, "bias", n.bias)
    if bias is not None:
        h = f"snnc_add({h}, {bias})"
    lines.append(f"const {h_t} h = {v_ovf}({arith(h)}, {n.v_bits});")
    thr = None if n.threshold is None else per_neuron(spec, code, "thr", n.threshold)
    if thr is None:
        lines += ["v = (int64_t)h;", "y[i] = (int64_t)h;"]
    else:
        lines.append(f"const {_local(spec, 'z', SPIKE)} z = {_fire(n.comparison, 'h', thr)};")
        lines.append({"zero": "v = z ? (int64_t)0 : (int64_t)h;",
                      "subtract": f"v = z ? snnc_sub(h, {thr}) : (int64_t)h;", "none": "v = (int64_t)h;"}[n.reset])
        lines.append("y[i] = z;")
    lines.append(f"{u_arr}[i] = u; {v_arr}[i] = v;")
    code.body = neuron_loop(spec, code, lines, _mults(n.current_mult) + _mults(n.voltage_mult))
    chan = None if n.bias is None else per_channel(spec, n.bias)
    if chan is not None and spec.n // chan.size < MIN_CHANNEL_PLANE:
        chan = None
    fast = _cuba_lif32(spec, u_state_bits, u_arr, v_arr, cm, vm, "b" if chan is not None else bias, thr)
    if fast is not None:      # the fast C-simulation branch: 32-bit arithmetic (ctypes build only)
        keep = "const int32_t keep = t == 0 ? 0 : -1;\n"
        loop = f"for (int64_t i = 0; i < {spec.n}; ++i) {{\n" + _indent("\n".join(fast), 2) + "}\n"
        if chan is not None:  # one bias per channel: read once per channel, not once per neuron
            fb = f"{spec.cname}_f_bias"
            values = ", ".join(map(str, chan.tolist()))
            code.fast_decls.append(f"static const int32_t {fb}[{chan.size}] = {{{values}}};")
            per = spec.n // chan.size
            loop = (f"for (int64_t c = 0; c < {chan.size}; ++c) {{\n  const int32_t b = {fb}[c];\n"
                    f"  for (int64_t i = c * {per}; i < (c + 1) * {per}; ++i) {{\n" + _indent("\n".join(fast), 4)
                    + "  }\n}\n")
        code.body = fast_branch(keep + loop, code.body)
        # the fast body reads its states as zero at the first step after a reset, so the reset
        # (u and v, the only states) writes them in the HLS branch only
        code.reset = f"#if !SNNC_FAST_ACTIVE\n{code.reset}#endif\n"
    return code


#: neurons per channel from which the fast CubaLIF reads a per-channel bias once per channel (a
#: smaller plane's per-channel loop costs more than the bias array it saves: PilotNet, 735 and 88)
MIN_CHANNEL_PLANE = 2048


def per_channel(spec: LayerSpec, value) -> np.ndarray | None:
    """int64[channels] when a per-neuron parameter is one value per channel (the first axis of a
    layer of at least two axes) and not one value for the whole layer, else None."""
    shape = tuple(spec.out_shape)
    a = np.broadcast_to(np.asarray(value, dtype=np.int64), shape)
    if len(shape) < 2 or a.size == 0 or np.all(a == a.reshape(-1)[0]):
        return None
    rows = a.reshape(shape[0], -1)
    return rows[:, 0].copy() if np.all(rows == rows[:, :1]) else None


_I32 = Range.bits(32)


def _fits32(r: Range) -> bool:
    return (r & _I32) == r


def _u_state_bits(n, a: Range) -> int:
    """Width of CubaLIF's current state u: ``arith_bits`` (lava overflow) or ``u_bits``, or less
    when an invariant proves it: with every multiplier ``m < 2**decay_bits`` and ``|a| <= A``, the
    bound ``U = ceil(A * 2**D / (2**D - m))`` holds for ever once it holds (``|rtz(u * m, D)| + A
    <= U * m / 2**D + A <= U``; u starts at 0), and when U lies inside the arithmetic and u
    overflow ranges the wraps are the identity, so u stays in [-U, U]."""
    A, D = int(n.arith_bits), int(n.decay_bits)
    bits = A if n.u_overflow == "lava" else int(n.u_bits)
    m = int(np.abs(np.asarray(n.current_mult, np.int64)).max(initial=0))
    amax = max(abs(a.lo), abs(a.hi))
    if m >= 1 << D or not np.isfinite(amax):
        return bits
    bound = -(-int(amax) * (1 << D) // ((1 << D) - m))
    if bound >= 1 << (min(A, 64) - 1) or bound > (1 << (int(n.u_bits) - 1)) - 1:
        return bits
    return min(bits, bits_for_range(-bound, bound))


def _cuba_lif32(spec: LayerSpec, ub: int, u_arr: str, v_arr: str, cm: str, vm: str, bias: str | None,
                thr: str | None) -> list[str] | None:
    """The CubaLIF update in 32-bit arithmetic (``snnc32_*`` of :mod:`.fastpath`), or None when a
    width is not proven: every operand and every sum fits int32 (with ``arith_bits <= 32`` the
    sums wrap to ``arith_bits`` anyway, and a sum modulo 2**32 wraps the same), every decay
    product is exact in 32 bits (a uniform multiplier ``m = m' * 2**j`` decays as
    ``rtz(x * m', shift - j)``) or is computed in int64."""
    n = spec.node
    A, D, lava = int(n.arith_bits), int(n.decay_bits), n.u_overflow == "lava"
    vb = min(64, int(n.v_bits) + (1 if n.reset == "subtract" else 0))
    if (spec.in_bits > 32 or int(n.input_shift) > 31 or 32 < A < 64 or ub > 32 or vb > 32
            or int(n.u_bits) > (30 if lava else 32) or int(n.v_bits) > 32):
        return None
    U, V = Range.bits(ub), Range.bits(vb)

    def decay(var: str, r: Range, expr: str, values) -> tuple[str, Range] | None:
        m = np.asarray(values, np.int64).reshape(-1)
        out = r.decay(_r(m), D)
        if not _fits32(out):
            return None
        if m.size and np.all(m == m[0]):
            v = int(m[0])
            j = min(D, (v & -v).bit_length() - 1) if v else D
            if _fits32(r * _r(v >> j)) and D - j <= 31:
                return f"snnc32_decay({var}, {v >> j}, {D - j})", out
        elif _fits32(r * _r(m)) and D <= 31:
            return f"snnc32_decay({var}, {expr}, {D})", out
        return f"(int32_t)snnc_decay({var}, {expr}, {D})", out

    def total(expr: str, r: Range) -> str | None:
        """A sum: wrapped to A bits, or proven to fit int32 when A is 64."""
        if A <= 32:
            return f"snnc32_wrap({expr}, {A})"
        return expr if _fits32(r) else None

    du, dv = decay("u", U, cm, n.current_mult), decay("v", V, vm, n.voltage_mult)
    a_r = spec.x_range * Range(1 << int(n.input_shift), 1 << int(n.input_shift))
    a = total(f"snnc32_shl((int32_t)x[i], {int(n.input_shift)})", a_r)
    if du is None or dv is None or a is None:
        return None
    a_r = a_r.wrap(A) if A <= 32 else a_r
    s1 = total(f"snnc32_add({du[0]}, a)", du[1] + a_r)
    h_r = dv[1] + U
    h = f"snnc32_add({dv[0]}, u)"
    if bias is not None:
        b_r = _r(n.bias)
        if not _fits32(b_r):
            return None
        h, h_r = f"snnc32_add({h}, (int32_t){bias})", h_r + b_r
    h = total(h, h_r)
    if s1 is None or h is None:
        return None
    ovf = {"lava": "snnc32_lava_wrap", "wrap": "snnc32_wrap", "saturate": "snnc32_saturate",
           "saturate_sym": "snnc32_saturate_sym"}
    # keep: all ones, or zero at the first step after a reset (the states read as zero; branch-free, so
    # the loop stays vectorized)
    lines = [f"int32_t u = (int32_t){u_arr}[i] & keep;", f"int32_t v = (int32_t){v_arr}[i] & keep;"]
    if n.state_reset_interval is not None:
        lines.append(f"if (t % {int(n.state_reset_interval)} == {int(n.state_reset_phase)}) {{ u = 0; v = 0; }}")
    lines += [f"const int32_t a = {a};", f"u = {ovf[n.u_overflow]}({s1}, {int(n.u_bits)});",
              f"const int32_t h = {ovf[n.v_overflow]}({h}, {int(n.v_bits)});"]
    if thr is None:
        lines += ["v = h;", "y[i] = h;"]
    else:
        t_r = _r(n.threshold)
        if not _fits32(t_r) or (n.reset == "subtract" and not _fits32(Range.bits(int(n.v_bits)) - t_r)):
            return None
        lines.append(f"const int32_t z = (int32_t){_fire(n.comparison, 'h', f'(int32_t){thr}')};")
        lines.append({"zero": "v = z ? 0 : h;", "subtract": f"v = z ? snnc32_sub(h, (int32_t){thr}) : h;",
                      "none": "v = h;"}[n.reset])
        lines.append("y[i] = z;")
    lines.append(f"{u_arr}[i] = u; {v_arr}[i] = v;")
    return lines


@generates(INN.IntLIFB)
def _lifb(spec: LayerSpec) -> LayerCode:
    n = spec.node
    amps = np.asarray(n.amplitudes, np.int64).reshape(-1)
    code = LayerCode(out_bits=bits_for_values(amps))
    v_arr = state_array(spec, code, "v", n.state_bits)
    aname, adecl = const_array(spec, "amp", amps)
    code.decls.append(adecl)
    leak = per_neuron(spec, code, "leak", n.leak_mult)
    thr = per_neuron(spec, code, "thr", n.threshold)
    step = per_neuron(spec, code, "step", n.threshold_step)
    H = Range.bits(n.state_bits).decay(_r(n.leak_mult), n.decay_bits) + spec.x_range
    cnt = Range(0, int(n.max_burst))
    V = {"subtract": H - cnt * _r(n.threshold_step), "zero": H | Range(0, 0),
         "multiplicative": H * (Range(1, 1) - cnt)}[n.reset]
    if n.v_min is not None:
        V = V.clip(_r(n.v_min), Range(V.hi, V.hi))
    h_t, c_t, v_t = _local(spec, "h", H), _local(spec, "cnt", cnt), _local(spec, "v", V)
    lines = [f"const {h_t} h = snnc_add(snnc_decay({v_arr}[i], {leak}, {n.decay_bits}), x[i]);",
             f"{c_t} cnt = 0;",
             f"for (int64_t k = 0; k < {int(n.max_burst)}; ++k) "
             f"cnt += {_fire(n.comparison, 'h', f'snnc_add({thr}, snnc_mul(k, {step}))')};",
             {"subtract": f"{v_t} v = snnc_sub(h, snnc_mul(cnt, {step}));",
              "zero": f"{v_t} v = cnt > 0 ? (int64_t)0 : (int64_t)h;",
              "multiplicative": f"{v_t} v = snnc_mul(h, 1 - (int64_t)cnt);"}[n.reset]]
    if n.v_min is not None:
        vmin = per_neuron(spec, code, "vmin", n.v_min)
        lines.append(f"if (v < {vmin}) v = {vmin};")
    lines += [f"{v_arr}[i] = {_overflow(n.overflow, 'v', n.state_bits)};", f"y[i] = {aname}[(int64_t)cnt];"]
    reset_mults = {"subtract": _mults(n.threshold_step), "zero": 0, "multiplicative": 1}[n.reset]
    code.body = neuron_loop(spec, code, lines, _mults(n.leak_mult) + reset_mults)
    return code


@generates(INN.IntCLIF)
def _clif(spec: LayerSpec) -> LayerCode:
    n = spec.node
    code = LayerCode(out_bits=2)
    u_arr = state_array(spec, code, "u", n.state_bits)
    m_arr = state_array(spec, code, "m", n.state_bits)
    lu = np.asarray(n.lut_u, np.int64).reshape(-1)
    lm = np.asarray(n.lut_m, np.int64).reshape(-1)
    luname, ludecl = const_array(spec, "lut_u", lu)
    lmname, lmdecl = const_array(spec, "lut_m", lm)
    code.decls += [ludecl, lmdecl]
    thr = scalar(n.threshold)
    S, lf = Range.bits(n.state_bits), int(n.lut_frac_bits)
    U = _overflow_range(n.overflow, S.decay(_r(n.decay_mult), n.decay_bits) + spec.x_range, n.state_bits)
    U = U | (U - (Range(0, 0) | (_r(n.threshold) + _r(lm).decay(_r(n.reset_scale), lf))))
    M = S.decay(_r(lu), lf)
    M = M | (M + Range(0, 1 << int(n.m_frac_bits)))
    u_t, m_t, z_t = _local(spec, "u", U), _local(spec, "m", M), _local(spec, "z", SPIKE)
    iu_t, im_t = _local(spec, "iu", Range(0, lu.size - 1)), _local(spec, "im", Range(0, lm.size - 1))
    u_new = f"snnc_add(snnc_decay({u_arr}[i], {scalar(n.decay_mult)}, {n.decay_bits}), x[i])"
    iu = f"snnc_sub(snnc_asr(u, {int(n.u_shift)}), {scalar(n.u_offset)})"
    lines = [
        f"{u_t} u = {_overflow(n.overflow, u_new, n.state_bits)};",
        f"const {iu_t} iu = snnc_clip({iu}, 0, {lu.size - 1});",
        f"{m_t} m = snnc_decay({m_arr}[i], {luname}[(int64_t)iu], {lf});",
        f"const {z_t} s = {_fire(n.comparison, 'u', thr)};",
        f"m = snnc_add(m, snnc_mul(s, {c_literal(1 << int(n.m_frac_bits))}));",
        f"const {im_t} im = snnc_clip(snnc_asr(m, {int(n.m_shift)}), 0, {lm.size - 1});",
        f"u = snnc_sub(u, snnc_mul(s, snnc_add({thr}, snnc_decay({lmname}[(int64_t)im], {scalar(n.reset_scale)}, "
        f"{lf}))));",
        f"{u_arr}[i] = {_overflow(n.overflow, 'u', n.state_bits)};",
        f"{m_arr}[i] = {_overflow(n.overflow, 'm', n.state_bits)};",
        "y[i] = s;",
    ]
    # decay of u; m times its table entry (two variables); the reset's table entry times reset_scale
    code.body = neuron_loop(spec, code, lines, _mults(n.decay_mult) + 1 + _mults(n.reset_scale))
    return code


@generates(INN.IntRF)
def _rf(spec: LayerSpec) -> LayerCode:
    n = spec.node
    if not spec.in_complex:
        raise UnsupportedError("IntRF needs a complex input current (from an IntComplexDense)", node=spec.name)
    code = LayerCode(out_bits=2)
    re_arr = state_array(spec, code, "re", n.state_bits)
    im_arr = state_array(spec, code, "im", n.state_bits)
    dr = per_neuron(spec, code, "dr", n.decay_real)
    di = per_neuron(spec, code, "di", n.decay_imag)
    D = n.decay_bits
    S, DR, DI, X = Range.bits(n.state_bits), _r(n.decay_real), _r(n.decay_imag), spec.x_range
    RE = S.decay(DR, D) - S.decay(DI, D) + X
    IM = S.decay(DI, D) + S.decay(DR, D) + X
    RE, IM = RE | _overflow_range(n.overflow, RE, n.state_bits), IM | _overflow_range(n.overflow, IM, n.state_bits)
    if n.spike_rule == "iz":
        RE, IM = RE | Range(0, 0), IM | _r(int(n.threshold) - 1)
    re_t, im_t, z_t = _local(spec, "re", RE), _local(spec, "im", IM), _local(spec, "z", SPIKE)
    lines = [
        f"const {re_arr}_t re = {re_arr}[i];",
        f"const {im_arr}_t im = {im_arr}[i];",
        f"{re_t} re2 = snnc_add(snnc_sub(snnc_decay(re, {dr}, {D}), snnc_decay(im, {di}, {D})), x[i]);",
        f"{im_t} im2 = snnc_add(snnc_add(snnc_decay(re, {di}, {D}), snnc_decay(im, {dr}, {D})), x[{spec.n} + i]);",
        f"re2 = {_overflow(n.overflow, 're2', n.state_bits)};",
        f"im2 = {_overflow(n.overflow, 'im2', n.state_bits)};",
    ]
    thr = scalar(n.threshold)
    if n.spike_rule == "iz":            # Lava RF_IZ: spike on Im, then re = 0, im = threshold - 1
        lines += [f"const {z_t} s = {_fire(n.comparison, 'im2', thr)};",
                  f"if (s) {{ re2 = 0; im2 = {thr} - 1; }}",
                  f"{re_arr}[i] = re2; {im_arr}[i] = im2;", "y[i] = s;"]
    else:
        lines += [f"{re_arr}[i] = re2; {im_arr}[i] = im2;",
                  f"y[i] = {_fire(n.comparison, 're2', thr)}"
                  + (" && im2 >= 0 && im < 0;" if n.spike_rule == "phase" else ";")]
    code.body = neuron_loop(spec, code, lines, 2 * _mults(n.decay_real) + 2 * _mults(n.decay_imag))
    return code


@generates(INN.IntLMHT)
def _lmht(spec: LayerSpec) -> LayerCode:
    n = spec.node
    code = LayerCode(out_bits=bits_for_range(0, int(n.levels)))
    v_arr = state_array(spec, code, "v", n.state_bits, init=scalar(n.v_init))
    thr = scalar(n.threshold)
    V = Range.bits(n.state_bits) | _r(n.v_init)
    H = V.decay(_r(n.leak_mult), n.decay_bits) + spec.x_range
    v_t, h_t, k_t = _local(spec, "v", V), _local(spec, "h", H), _local(spec, "k", Range(0, int(n.levels)))
    lines = [f"{v_t} v = {v_arr}[i];"]
    phase = int(n.phase)
    if n.window:
        if phase:
            lines.append(f"if ((t - {phase}) % {int(n.window)} == 0 && t > {phase}) v = {scalar(n.v_init)};")
        else:
            lines.append(f"if (t % {int(n.window)} == 0 && t > 0) v = {scalar(n.v_init)};")
    lines += [f"const {h_t} h = snnc_add(snnc_decay(v, {scalar(n.leak_mult)}, {n.decay_bits}), x[i]);",
              f"const {k_t} k = snnc_clip(snnc_floor_div(h, {thr}), 0, {int(n.levels)});",
              f"{v_arr}[i] = {_overflow(n.overflow, f'snnc_sub(h, snnc_mul(k, {thr}))', n.state_bits)};",
              "y[i] = k;"]
    # leak; h / threshold and k * threshold (shifts for a power-of-two threshold)
    body = neuron_loop(spec, code, lines, _mults(n.leak_mult) + 2 * _mults(n.threshold))
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
    code = LayerCode(out_bits=2)
    v_arr = state_array(spec, code, "v", bits_for_values(np.asarray(bounds, np.int64)))
    c = np.asarray(n.coefficients, np.int64).reshape(-1)
    V = Range.bits(bits_for_values(np.asarray(bounds, np.int64)))
    F = f = _r(int(c[-1]))
    for ck in c[-2::-1]:           # Horner: every partial value of f
        f = f.decay(V, int(n.frac_bits)) + _r(int(ck))
        F = F | f
    f_t, z_t = _local(spec, "f", F), _local(spec, "z", SPIKE)
    h_t = _local(spec, "h", Range.bits(64).clip(int(n.v_min), int(n.v_max)))
    lines = [f"const {v_arr}_t v = {v_arr}[i];", f"{f_t} f = {c_literal(int(c[-1]))};"]
    for ck in c[-2::-1]:
        lines.append(f"f = snnc_add(snnc_decay(f, v, {int(n.frac_bits)}), {c_literal(int(ck))});")
    h = "snnc_add(snnc_add(v, f), x[i])" if n.form == "increment" else "snnc_add(f, x[i])"
    lines += [f"const {h_t} h = snnc_clip({h}, {scalar(n.v_min)}, {scalar(n.v_max)});",
              f"const {z_t} s = {_fire(n.comparison, 'h', c_literal(thr))};",
              (f"{v_arr}[i] = s ? (int64_t){scalar(n.v_reset)} : (int64_t)h;" if n.reset == "zero"
               else f"{v_arr}[i] = snnc_sub(h, snnc_mul(s, {c_literal(thr)}));"),
              "y[i] = s;"]
    code.body = neuron_loop(spec, code, lines, c.size - 1)      # Horner: f * v per coefficient
    return code


@generates(INN.IntBinaryLMHT)
def _binary_lmht(spec: LayerSpec) -> LayerCode:
    n = spec.node
    code = LayerCode(out_bits=2)
    v_arr = state_array(spec, code, "v", n.state_bits, init=scalar(n.v_init))
    thr = scalar(n.threshold)
    V = Range.bits(n.state_bits) | _r(n.v_init)
    LK = V | V.decay(_r(n.leak_mult), n.decay_bits)
    v_t, lk_t, h_t = _local(spec, "v", V), _local(spec, "leak", LK), _local(spec, "h", LK + spec.x_range)
    lines = [f"{v_t} v = {v_arr}[i];"]
    if n.window:
        lines.append(f"if (t % {int(n.window)} == 0 && t > 0) v = {scalar(n.v_init)};")
    lines += [f"const {lk_t} leak = (t % {int(n.substeps)} == 0) ? snnc_decay(v, {scalar(n.leak_mult)}, "
              f"{n.decay_bits}) : (int64_t)v;   /* leak on block starts only */",
              f"const {h_t} h = snnc_add(leak, x[i]);",
              f"const {_local(spec, 'z', SPIKE)} s = snnc_fire_ge(h, {thr});",
              f"{v_arr}[i] = {_overflow(n.overflow, f'snnc_sub(h, snnc_mul(s, {thr}))', n.state_bits)};",
              "y[i] = s;"]
    code.body = neuron_loop(spec, code, lines, _mults(n.leak_mult))
    return code
