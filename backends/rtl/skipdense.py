"""Dense with zero skipping: a binary-input IntDense that only spends cycles on nonzero inputs.

The top (:mod:`.top`) keeps, for the buffer feeding this layer, a list of the indices of the
nonzero values written in the current step (filled as the values are written: while the inputs
stream in, or while the producing layer writes its outputs) and its length ``nz_n``. The layer
reads that list instead of the inputs: per group of P output neurons (the ``parallel`` knob),
for each listed index ``i`` one ROM word (P weights of column ``i``) is added to the P
accumulators (binary input: ``w * 1[x != 0]`` is ``w`` for every listed input). Then the
accumulators are written out one per cycle through a P-to-1 multiplexer (no drain shift
register), after ``wrap(acc_bits)``, ``shift_exp(weight_exp)``, ``wrap(out_bits)``.

Ports: the common ones of :mod:`.modules` (``x_addr``/``x_data`` unused) plus::

    input  [AL-1:0] nz_n        nonzero inputs listed so far in this step (AL = bits of n_in + 1)
    input  nz_final             the list is complete
    output [AI-1:0] nz_addr     list position read ...
    input  [AI-1:0] nz_idx      ... its input index, one cycle later

``early`` (the first layer of the step, fed by an Input): the top starts it with the step, so
group 0 accumulates while the inputs stream in (``nz_final`` rises one cycle after the load).

Cycles (start to done), with ``a`` nonzero inputs in the step and G = ceil(n_out / P) groups:
``G * (a + P + 4) + 2``; early: ``P + 6 + (G - 1) * (a + P + 4)`` counted from the end of the input
load (group 0's inputs were taken during the load). The bound (every input nonzero) is
``cycles``; :meth:`NodeRTL.cycles_for` gives the exact count.
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import intnodes as IN

from .modules import NodeRTL, NodeSpec, addr_bits, generates, ports
from .netlist import Netlist, bits_for
from .synapses import _acc_interval, _dense_module, _post

#: cycles of one group besides one per nonzero input and one per output lane: the end of the
#: list, three to flush the pipeline (list read, ROM address, ROM read, ROM output register)
GROUP_OVERHEAD = 4


@generates(IN.IntDense)
def _dense(spec: NodeSpec) -> NodeRTL:
    """IntDense: zero skipping when the plan gives it a list of nonzero inputs, else the plain
    schedule of :mod:`.synapses` (every input, one per cycle)."""
    node = spec.node
    node.validate(spec.name)
    if spec.spike_list:
        return skip_dense_module(spec, np.asarray(node.weight, np.int64))
    return _dense_module(spec, [np.asarray(node.weight, np.int64)], "IntDense")


def skip_dense_module(spec: NodeSpec, w: np.ndarray) -> NodeRTL:
    node = spec.node
    n_out, n_in = w.shape
    p = max(1, min(int(spec.parallel), n_out))
    groups = math.ceil(n_out / p)
    _, _, bound = _acc_interval(w, 0, 1)
    acc_lo, acc_hi, _ = _acc_interval(w, 0, 1)
    wa = bits_for(-bound, bound)
    ww = bits_for(int(w.min(initial=0)), int(w.max(initial=0)))
    mask = (1 << ww) - 1
    wp = np.zeros((groups * p, n_in), np.int64)
    wp[:n_out] = w
    words = []
    for g in range(groups):
        for i in range(n_in):
            word = 0
            for k in range(p):
                word |= (int(wp[g * p + k, i]) & mask) << (k * ww)
            words.append(word)
    digits = (p * ww + 3) // 4
    fname = f"{spec.ident}_w.mem"
    rom = "".join(f"{v:0{digits}x}\n" for v in words)
    nl = Netlist("q")
    acc = nl.port("sel", wa, acc_lo, acc_hi) if wa < 64 else nl.port("sel", 64)
    y = _post(nl, acc, node)
    ai, al, ag, ak = addr_bits(n_in), addr_bits(n_in + 1), addr_bits(groups), addr_bits(p)
    aw, ay = addr_bits(groups * n_in), addr_bits(n_out)
    ad = addr_bits(groups * p + 1)
    lanes, cases = [], []
    for k in range(p):
        lanes.append(f"  reg signed [{wa - 1}:0] acc{k} = 0;\n"
                     f"  always @(posedge clk) if (clr) acc{k} <= 0; else if (v4) acc{k} <= acc{k} + "
                     f"$signed(wq[{(k + 1) * ww - 1}:{k * ww}]);\n")
        cases.append(f"      {ak}'d{k}: sel <= acc{k};\n")
    ext = (f",\n  input [{al - 1}:0] nz_n,\n  input nz_final,\n  output [{ai - 1}:0] nz_addr,\n"
           f"  input [{ai - 1}:0] nz_idx")
    text = f"""module {spec.ident} (
{ports(addr_bits(n_in), spec.x_width, ay, y.width)}{ext}
);
  // IntDense '{spec.name}': {n_out} x {n_in}, {p} output(s) in parallel, binary input, zero skipping
  // (reads the list of nonzero inputs{'; starts with the step, during the input load' if spec.early else ''})
  (* rom_style = "block" *) reg [{p * ww - 1}:0] wrom [0:{groups * n_in - 1}];
  initial $readmemh("{fname}", wrom);
  localparam P_ACC = 2'd0, P_WAIT = 2'd1, P_DRAIN = 2'd2;
  reg busy = 1'b0;
  reg [1:0] phase = P_ACC;
  reg [{al - 1}:0] k = 0;
  reg [{ag - 1}:0] g = 0;
  reg [{ak - 1}:0] dk = 0;
  reg [1:0] wt = 0;
  reg clr = 1'b0;
  assign x_addr = 0;
  assign nz_addr = k[{ai - 1}:0];
  wire issue = busy && phase == P_ACC && k != nz_n;
  reg v1 = 1'b0, v2 = 1'b0, v3 = 1'b0, v4 = 1'b0;
  always @(posedge clk) begin v1 <= issue; v2 <= v1; v3 <= v2; v4 <= v3; end
  reg [{aw - 1}:0] wadr = 0;
  always @(posedge clk) wadr <= g * {aw}'d{n_in} + nz_idx;
  reg [{p * ww - 1}:0] wrd = 0, wq = 0;
  always @(posedge clk) begin wrd <= wrom[wadr]; wq <= wrd; end
{"".join(lanes)}  reg signed [{wa - 1}:0] sel = 0;
  always @(posedge clk) case (dk)
{"".join(cases)}      default: sel <= 0;
    endcase
  reg dv = 1'b0, dlast = 1'b0;
  reg [{ad - 1}:0] dy = 0;
{nl.text().rstrip()}
  assign y_we = dv && (dy < {ad}'d{n_out});
  assign y_addr = dy[{ay - 1}:0];
  assign y_data = {y.ref};
  always @(posedge clk) begin
    done <= 1'b0;
    clr <= 1'b0;
    dv <= busy && phase == P_DRAIN;
    dy <= g * {ad}'d{p} + dk;
    dlast <= busy && phase == P_DRAIN && dk == {ak}'d{p - 1} && g == {ag}'d{groups - 1};
    if (dv && dlast) done <= 1'b1;
    if (start) begin busy <= 1'b1; phase <= P_ACC; g <= 0; k <= 0; clr <= 1'b1; end
    else if (busy) case (phase)
      P_ACC: if (issue) k <= k + 1'b1; else if (nz_final) begin phase <= P_WAIT; wt <= 0; end
      P_WAIT: begin wt <= wt + 1'b1; if (wt == 2'd2) begin phase <= P_DRAIN; dk <= 0; end end
      default: begin
        dk <= dk + 1'b1;
        if (dk == {ak}'d{p - 1}) begin
          if (g == {ag}'d{groups - 1}) busy <= 1'b0;
          else begin g <= g + 1'b1; k <= 0; clr <= 1'b1; phase <= P_ACC; end
        end
      end
    endcase
  end
endmodule
"""
    per_group = p + GROUP_OVERHEAD
    if spec.early:
        fixed = p + 6 + (groups - 1) * per_group
        active = groups - 1
    else:
        fixed = groups * per_group + 2
        active = groups
    return NodeRTL(spec.ident, text, y.lo, y.hi, cycles=fixed + active * n_in, mem_files={fname: rom},
                   rom_bits=groups * n_in * p * ww, multipliers=0, active_cycles=active, fixed_cycles=fixed)
