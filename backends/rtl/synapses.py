"""Synapse modules: dense (weights in ROM, P output neurons in parallel, one input per cycle),
2-d convolution and sum pooling (one kernel tap per cycle), and the copy of a Flatten.

Dense schedule for ``n_out`` outputs in groups of P (the ``parallel`` knob; P <= n_in):
for each group g, for each input i: read x[i] and the ROM word (P weights of row g*P..g*P+P-1,
column i); every lane accumulates ``w * s`` (``s`` = 1[x != 0] for binary input: a select, no
multiplier). A finished group moves to a shift register that writes one output per cycle
(after ``wrap(acc_bits)``, ``shift_exp(weight_exp)``, ``wrap(out_bits)``) while the next group
accumulates. Cycles per step: ceil(n_out / P) * n_in + P + 2.
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.shapes import conv_padding, dims, pair

from .modules import NodeRTL, NodeSpec, addr_bits, generates, hex_lines, ports
from .netlist import Netlist, bits_for, literal


def _acc_interval(w: np.ndarray, s_lo: int, s_hi: int) -> tuple[int, int, int]:
    """(lo, hi) of the full sums of each row of ``w`` (int[n_out, n_in]) times s in [s_lo, s_hi],
    and the bound of every partial sum's magnitude."""
    w = w.astype(object)
    lo = (np.minimum(w * s_lo, w * s_hi)).sum(axis=1) if w.size else np.zeros(1, object)
    hi = (np.maximum(w * s_lo, w * s_hi)).sum(axis=1) if w.size else np.zeros(1, object)
    bound = (np.abs(w) * max(abs(s_lo), abs(s_hi))).sum(axis=1).max() if w.size else 0
    return int(min(lo)), int(max(hi)), int(bound)


def _product_range(w: np.ndarray, s_lo: int, s_hi: int) -> tuple[int, int]:
    """Interval of one weight times one input value."""
    corners = [int(w.min(initial=0)) * s_lo, int(w.min(initial=0)) * s_hi, int(w.max(initial=0)) * s_lo,
               int(w.max(initial=0)) * s_hi]
    return min(corners), max(corners)


def _post(nl: Netlist, acc, node) -> object:
    y = nl.wrap(acc, node.acc_bits) if getattr(node, "acc_bits", 64) < 64 else acc
    if node.weight_exp:
        y = nl.shift_exp(y, int(node.weight_exp))
    return nl.wrap(y, node.out_bits) if getattr(node, "out_bits", 64) < 64 else y


@generates(INN.IntComplexDense)
def _complex_dense(spec: NodeSpec) -> NodeRTL:
    """The complex synapse of RF neurons: two weight matrices on one input read, output the
    real and imaginary currents as two integer channels (y_data, y_im)."""
    node = spec.node
    if int(node.weight_exp) < 0:
        raise UnsupportedError("IntComplexDense needs weight_exp >= 0", node=spec.name, field="weight_exp")
    return _dense_module(spec, [np.asarray(node.weight_real, np.int64), np.asarray(node.weight_imag, np.int64)],
                         "IntComplexDense")


def _dense_module(spec: NodeSpec, mats: list[np.ndarray], kind: str) -> NodeRTL:
    """Dense schedule for 1 (IntDense) or 2 (IntComplexDense: re, im) weight matrices sharing
    the input read: channel c, lane k accumulates ``w_c[g*P + k, i] * s``."""
    node = spec.node
    n_out, n_in = mats[0].shape
    nch = len(mats)
    binary = node.input_kind == "binary"
    p = max(1, min(int(spec.parallel), n_out, n_in))
    groups = math.ceil(n_out / p)
    s_lo, s_hi = (0, 1) if binary else (spec.x_lo, spec.x_hi)
    ivals = [_acc_interval(w, s_lo, s_hi) for w in mats]
    bound = max(iv[2] for iv in ivals)
    wa = bits_for(-bound, bound)                        # every partial sum fits (64: wraps like int64)
    ww = max(bits_for(int(w.min(initial=0)), int(w.max(initial=0))) for w in mats)
    # ROM word g*n_in + i: lanes (c, k) = c*p + k hold w_c[g*p + k, i] (0 past n_out), lane 0 in the low bits
    mask = (1 << ww) - 1
    words = [0] * (groups * n_in)
    for c, w in enumerate(mats):
        wp = np.zeros((groups * p, n_in), np.int64)
        wp[:n_out] = w
        for g in range(groups):
            for i in range(n_in):
                word = 0
                for k in range(p):
                    word |= (int(wp[g * p + k, i]) & mask) << ((c * p + k) * ww)
                words[g * n_in + i] |= word
    lanes_total = nch * p
    digits = (lanes_total * ww + 3) // 4
    fname = f"{spec.ident}_w.mem"
    rom = "".join(f"{v:0{digits}x}\n" for v in words)
    nl = Netlist("q")
    ys = []
    for c in range(nch):
        acc_lo, acc_hi, _ = ivals[c]
        ref = f"drain{c}_0"
        acc = nl.port(ref, wa, acc_lo, acc_hi) if wa < 64 else nl.port(ref, 64)
        ys.append(_post(nl, acc, node))
    y_lo, y_hi = min(y.lo for y in ys), max(y.hi for y in ys)
    wy = bits_for(y_lo, y_hi)
    ai, ag, ak, aw = addr_bits(n_in), addr_bits(groups), addr_bits(p), addr_bits(groups * n_in)
    ay = addr_bits(n_out)
    ad = addr_bits(groups * p + 1)                     # drain index runs past n_out in the last group
    lanes, drains, load, shift = [], [], [], []
    for c in range(nch):
        for k in range(p):
            lane = c * p + k
            wk = f"$signed(wq[{(lane + 1) * ww - 1}:{lane * ww}])"
            prod = f"(s_bin ? wl{c}_{k} : {literal(0, 2)})" if binary else f"(wl{c}_{k} * x_q)"
            pw = bits_for(*_product_range(mats[c], s_lo, s_hi))
            lanes.append(f"  wire signed [{ww - 1}:0] wl{c}_{k} = {wk};\n"
                         f"  reg signed [{pw - 1}:0] pr{c}_{k} = 0;\n"
                         f"  always @(posedge clk) pr{c}_{k} <= {prod};\n"
                         f"  reg signed [{wa - 1}:0] acc{c}_{k} = 0;\n"
                         f"  wire signed [{wa - 1}:0] sum{c}_{k} = (i3 == {ai}'d0 ? {literal(0, 2)} : acc{c}_{k}) + "
                         f"pr{c}_{k};\n"
                         f"  always @(posedge clk) if (v3) acc{c}_{k} <= sum{c}_{k};\n")
            drains.append(f"  reg signed [{wa - 1}:0] drain{c}_{k} = 0;\n")
            load.append(f"drain{c}_{k} <= sum{c}_{k};")
            if k < p - 1:
                shift.append(f"drain{c}_{k} <= drain{c}_{k + 1};")
    im_port = f"  assign y_im = {ys[1].ref};\n" if nch == 2 else ""
    text = f"""module {spec.ident} (
{ports(ai, spec.x_width, ay, wy, y_im=nch == 2)}
);
  // {kind} '{spec.name}': {n_out} x {n_in}, {p} output(s) in parallel, {'binary' if binary else 'graded'} input
  reg [{lanes_total * ww - 1}:0] wrom [0:{groups * n_in - 1}];
  initial $readmemh("{fname}", wrom);
  reg busy = 1'b0;
  reg [{ai - 1}:0] i = 0;
  reg [{ag - 1}:0] g = 0;
  reg [{aw - 1}:0] wadr = 0;
  reg v1 = 1'b0, v2 = 1'b0, v3 = 1'b0;
  reg [{ai - 1}:0] i1 = 0, i2 = 0, i3 = 0;
  reg [{ag - 1}:0] g1 = 0, g2 = 0, g3 = 0;
  always @(posedge clk) begin v1 <= busy; v2 <= v1; v3 <= v2; i1 <= i; i2 <= i1; i3 <= i2; end
  always @(posedge clk) begin g1 <= g; g2 <= g1; g3 <= g2; end
  reg [{lanes_total * ww - 1}:0] wrd = 0, wq = 0;
  always @(posedge clk) begin wrd <= wrom[wadr]; wq <= wrd; end
  assign x_addr = i;
  reg signed [{spec.x_width - 1}:0] x_q = 0;
  always @(posedge clk) x_q <= x_data;
  wire s_bin = (x_q != {literal(0, 2)});
{"".join(lanes)}{"".join(drains)}  reg draining = 1'b0;
  reg [{ak - 1}:0] dk = 0;
  reg [{ad - 1}:0] dy = 0;
  reg last_group = 1'b0;
{nl.text().rstrip()}
  assign y_we = draining && (dy < {ad}'d{n_out});
  assign y_addr = dy[{ay - 1}:0];
  assign y_data = {ys[0].ref};
{im_port}  always @(posedge clk) begin
    done <= 1'b0;
    if (start) begin busy <= 1'b1; i <= 0; g <= 0; wadr <= 0; end
    else if (busy) begin
      wadr <= wadr + 1'b1;
      if (i == {ai}'d{n_in - 1}) begin
        i <= 0;
        if (g == {ag}'d{groups - 1}) busy <= 1'b0; else g <= g + 1'b1;
      end else i <= i + 1'b1;
    end
    if (v3 && i3 == {ai}'d{n_in - 1}) begin
      {" ".join(load)}
      draining <= 1'b1; dk <= 0; dy <= g3 * {ad + ag}'d{p};
      last_group <= (g3 == {ag}'d{groups - 1});
    end else if (draining) begin
      {" ".join(shift)}
      dy <= dy + 1'b1;
      dk <= dk + 1'b1;
      if (dk == {ak}'d{p - 1}) begin
        draining <= 1'b0;
        if (last_group) done <= 1'b1;
      end
    end
  end
endmodule
"""
    return NodeRTL(spec.ident, text, y_lo, y_hi, cycles=groups * n_in + p + 4, mem_files={fname: rom},
                   rom_bits=groups * n_in * lanes_total * ww, multipliers=0 if binary else lanes_total,
                   y_complex=nch == 2)


@generates(N.Flatten)
def _copy(spec: NodeSpec) -> NodeRTL:
    from .modules import elementwise

    return elementwise(spec, [], lambda nl, p, x, st, t: (x, {}))


def _window_module(spec: NodeSpec, weight: np.ndarray | None, groups: int, stride, pad, dil, node) -> NodeRTL:
    """Shared by convolution (weight int[C_out, C_in/groups, kH, kW]) and sum pooling (weight
    None: every tap weight 1, one input channel per output channel). Loops co, oy, ox, ci, ky,
    kx, one tap per cycle; a tap outside the input (padding) adds 0."""
    c_in, h, wdt = spec.in_shape
    c_out, ho, wo = spec.out_shape
    if weight is None:
        kh, kw = node_k = pair(node.kernel_size, "kernel_size", spec.name)
        cpg = 1
        w_eff = np.ones((c_out, 1, kh, kw), np.int64)
    else:
        w_eff = np.asarray(weight, np.int64)
        _, cpg, kh, kw = w_eff.shape
        node_k = (kh, kw)
    del node_k
    binary = weight is not None and node.input_kind == "binary"
    s_lo, s_hi = (0, 1) if binary else (spec.x_lo, spec.x_hi)
    bias = None if weight is None or node.bias is None else np.asarray(node.bias, np.int64).reshape(-1)
    rows = w_eff.reshape(c_out, -1)
    acc_lo, acc_hi, bound = _acc_interval(rows, s_lo, s_hi)
    if bias is not None:
        acc_lo, acc_hi = acc_lo + int(bias.min()), acc_hi + int(bias.max())
        bound += int(np.abs(bias).max())
    wa = bits_for(-bound, bound)
    taps = cpg * kh * kw
    ww = bits_for(int(w_eff.min()), int(w_eff.max()))
    files, rom_bits = {}, 0
    nl = Netlist("q")
    acc = nl.port("acc_out", wa, acc_lo, acc_hi) if wa < 64 else nl.port("acc_out", 64)
    y = _post(nl, acc, node) if weight is not None else acc
    a_co, a_oy, a_ox, a_tap = addr_bits(c_out), addr_bits(ho), addr_bits(wo), addr_bits(taps)
    a_ci, a_ky, a_kx = addr_bits(cpg), addr_bits(kh), addr_bits(kw)
    ax, ay = addr_bits(spec.in_size), addr_bits(spec.out_size)
    co_per_g = c_out // groups
    decl = []
    if weight is not None:
        fname = f"{spec.ident}_w.mem"
        files[fname] = hex_lines(w_eff.reshape(-1), ww)
        rom_bits += ww * w_eff.size
        decl.append(f"  reg signed [{ww - 1}:0] wrom [0:{w_eff.size - 1}];\n"
                    f"  initial $readmemh(\"{fname}\", wrom);\n"
                    f"  reg signed [{ww - 1}:0] wq = 0;\n"
                    f"  always @(posedge clk) wq <= wrom[co * {a_co + a_tap + 1}'d{taps} + tap];\n")
        term = f"(s_bin ? wq : {literal(0, 2)})" if binary else "(wq * x_data)"
    else:
        term = "x_data"
    if bias is not None:
        bw = bits_for(int(bias.min()), int(bias.max()))
        fname = f"{spec.ident}_b.mem"
        files[fname] = hex_lines(bias, bw)
        rom_bits += bw * bias.size
        decl.append(f"  reg signed [{bw - 1}:0] brom [0:{c_out - 1}];\n"
                    f"  initial $readmemh(\"{fname}\", brom);\n"
                    f"  reg signed [{bw - 1}:0] bq = 0;\n  always @(posedge clk) bq <= brom[co];\n")
        init = "bq"
    else:
        init = literal(0, 2)
    sy, sx = stride
    py, px = pad
    dy_, dx_ = dil
    wi = max(a_oy, a_ox, a_ky, a_kx, bits_for(0, max(h, wdt) + max(py, px)) + 2) + 8
    text = f"""module {spec.ident} (
{ports(ax, spec.x_width, ay, y.width)}
);
  // {type(spec.node).__name__} '{spec.name}': [{c_in},{h},{wdt}] -> [{c_out},{ho},{wo}], one tap per cycle
{"".join(decl)}  reg busy = 1'b0;
  reg [{a_co - 1}:0] co = 0;
  reg [{a_oy - 1}:0] oy = 0;
  reg [{a_ox - 1}:0] ox = 0;
  reg [{a_ci - 1}:0] ci = 0;
  reg [{a_ky - 1}:0] ky = 0;
  reg [{a_kx - 1}:0] kx = 0;
  reg [{a_tap - 1}:0] tap = 0;
  wire signed [{wi - 1}:0] iy = $signed({{1'b0, oy}}) * {sy} - {py} + $signed({{1'b0, ky}}) * {dy_};
  wire signed [{wi - 1}:0] ix = $signed({{1'b0, ox}}) * {sx} - {px} + $signed({{1'b0, kx}}) * {dx_};
  wire tap_in = (iy >= 0) && (iy < {h}) && (ix >= 0) && (ix < {wdt});
  wire [{a_co + a_ci + 1}:0] cin = (co / {co_per_g}) * {cpg} + ci;
  wire [{ax + 2 * wi}:0] xa = (cin * {h} + iy) * {wdt} + ix;
  assign x_addr = tap_in ? xa[{ax - 1}:0] : {ax}'d0;
  wire last_tap = (tap == {a_tap}'d{taps - 1});
  reg v1 = 1'b0, in1 = 1'b0, first1 = 1'b0, last1 = 1'b0;
  reg [{ay - 1}:0] yo = 0, yo1 = 0;
  wire s_bin = (x_data != {literal(0, 2)});
  reg signed [{wa - 1}:0] acc = 0;
  wire signed [{wa - 1}:0] base = first1 ? {init} : acc;
  wire signed [{wa - 1}:0] acc_out = base + (in1 ? {term} : {literal(0, 2)});
  always @(posedge clk) if (v1) acc <= acc_out;
{nl.text().rstrip()}
  reg wr = 1'b0;
  reg [{ay - 1}:0] wa_q = 0;
  reg signed [{y.width - 1}:0] wd = 0;
  assign y_we = wr;
  assign y_addr = wa_q;
  assign y_data = wd;
  always @(posedge clk) begin
    done <= 1'b0;
    v1 <= busy; in1 <= tap_in; first1 <= (tap == 0); last1 <= last_tap; yo1 <= yo;
    wr <= v1 && last1;
    wa_q <= yo1;
    wd <= {y.ref};
    if (wr && wa_q == {ay}'d{spec.out_size - 1}) done <= 1'b1;
    if (start) begin busy <= 1'b1; co <= 0; oy <= 0; ox <= 0; ci <= 0; ky <= 0; kx <= 0; tap <= 0; yo <= 0; end
    else if (busy) begin
      tap <= last_tap ? {a_tap}'d0 : tap + 1'b1;
      if (kx != {a_kx}'d{kw - 1}) kx <= kx + 1'b1;
      else begin
        kx <= 0;
        if (ky != {a_ky}'d{kh - 1}) ky <= ky + 1'b1;
        else begin
          ky <= 0;
          if (ci != {a_ci}'d{cpg - 1}) ci <= ci + 1'b1;
          else begin
            ci <= 0;
            yo <= yo + 1'b1;
            if (ox != {a_ox}'d{wo - 1}) ox <= ox + 1'b1;
            else begin
              ox <= 0;
              if (oy != {a_oy}'d{ho - 1}) oy <= oy + 1'b1;
              else begin
                oy <= 0;
                if (co != {a_co}'d{c_out - 1}) co <= co + 1'b1;
                else busy <= 1'b0;
              end
            end
          end
        end
      end
    end
  end
endmodule
"""
    return NodeRTL(spec.ident, text, y.lo, y.hi, cycles=spec.out_size * taps + 4, mem_files=files, rom_bits=rom_bits,
                   multipliers=0 if (weight is None or binary) else 1)


@generates(IN.IntConv2d)
def _conv(spec: NodeSpec) -> NodeRTL:
    node = spec.node
    node.validate(spec.name)
    if len(spec.in_shape) != 3:
        raise UnsupportedError(f"IntConv2d needs a [C, H, W] input, got {spec.in_shape}", node=spec.name)
    stride = dims(node.stride, 2, "stride", spec.name)
    dil = dims(node.dilation, 2, "dilation", spec.name)
    pad = conv_padding(node, spec.in_shape[1:], spec.name)
    return _window_module(spec, np.asarray(node.weight, np.int64), int(node.groups), stride, pad, dil, node)


@generates(N.SumPool2d)
def _sum_pool(spec: NodeSpec) -> NodeRTL:
    node = spec.node
    if len(spec.in_shape) != 3:
        raise UnsupportedError(f"SumPool2d needs a [C, H, W] input, got {spec.in_shape}", node=spec.name)
    c = spec.in_shape[0]
    return _window_module(spec, None, c, pair(node.stride, "stride", spec.name),
                          pair(node.padding, "padding", spec.name), (1, 1), node)
