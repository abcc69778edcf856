"""The top module ``snnc_top``: buffers, the step sequencer and the streaming interface.

Interface (all signals synchronous to ``clk``; one time step per ``start``)::

    input  clk
    input  start             1-cycle pulse in idle (busy = 0): begin a time step
    input  first_step        with start: this step is t = 0 of a new sample (states restart)
    input  in_valid          input stream: the step's input values, one per transfer, Input
    output in_ready          nodes in graph order, each flattened in C order
    input  signed [IW-1:0] in_data
    output out_valid         output stream: the summed inputs of the Output nodes (spikes or
    input  out_ready         readout values), graph order, C order
    output signed [OW-1:0] out_data
    output done              1-cycle pulse: the step is finished (every output accepted)
    output busy

A transfer happens on a rising edge where valid and ready are both high. After ``start`` the
top accepts the inputs, runs the node modules one after another (each gets a ``start`` pulse
and answers ``done``), then streams the outputs.
"""

from __future__ import annotations

from .modules import addr_bits
from .netlist import literal
from .plan import Plan

S_IDLE, S_LOAD, S_RUN, S_OUT = 0, 1, 2, 3


def _rd(b, d: int) -> str:
    return f"{b.ident}_d{d}"


def _bank_expr(b, d: int) -> str:
    """Bank index holding the value of step t - d."""
    if b.depth == 1:
        return "0"
    ab = addr_bits(b.depth)
    if d == 0:
        return f"bank_{b.ident}"
    return f"((bank_{b.ident} >= {ab}'d{d}) ? bank_{b.ident} - {ab}'d{d} : bank_{b.ident} + {ab}'d{b.depth - d})"


def _sum_expr(plan: Plan, name: str, width: int, part: str = "") -> str:
    """The summed input of ``name`` (a node or an Output) from its in-edges' read ports;
    ``part`` '_im': the imaginary parts (complex sources only)."""
    terms = []
    for e in plan.graph.in_edges(name):
        b = plan.buffers[e.src]
        if part and not b.complex:
            continue
        r = _rd(b, e.delay)
        terms.append(f"(rv_{r} ? rd_{r}{part} : {literal(0, 2)})")
    return " + ".join(terms) if terms else literal(0, width)


def top_verilog(plan: Plan) -> str:
    g = plan.graph
    order = plan.order
    k_nodes, j_outs = len(order), len(plan.outputs)
    cb = addr_bits(k_nodes + j_outs + 1)
    iw, ow = plan.in_width, plan.out_width
    n_in = sum(plan.buffers[n].size for n in plan.inputs)
    lb = addr_bits(n_in + 1)
    ob = addr_bits(max([plan.size(n) for n in plan.outputs] + [1]) + 1)
    L = [f"module snnc_top (\n  input clk,\n  input start,\n  input first_step,\n  input in_valid,\n"
         f"  output in_ready,\n  input signed [{iw - 1}:0] in_data,\n  output out_valid,\n  input out_ready,\n"
         f"  output signed [{ow - 1}:0] out_data,\n  output reg done = 1'b0,\n  output busy\n);",
         f"  localparam S_IDLE = 2'd{S_IDLE}, S_LOAD = 2'd{S_LOAD}, S_RUN = 2'd{S_RUN}, S_OUT = 2'd{S_OUT};",
         "  reg [1:0] state = S_IDLE;", "  reg [31:0] t = 0;", f"  reg [{cb - 1}:0] cur = 0;", "  reg launched = 1'b0;",
         f"  reg [{lb - 1}:0] lcnt = 0;", f"  reg [{ob - 1}:0] ocnt = 0;", "  reg ophase = 1'b0;",
         "  reg ovalid = 1'b0;", f"  reg signed [{ow - 1}:0] oreg = 0;",
         "  assign in_ready = (state == S_LOAD);", "  assign busy = (state != S_IDLE);",
         "  assign out_valid = ovalid;", "  assign out_data = oreg;"]
    # node instance wires
    for k, name in enumerate(order):
        r, s = plan.rtl[name], plan.specs[name]
        i = r.ident
        L += [f"  wire start_{i} = (state == S_RUN) && (cur == {cb}'d{k}) && !launched;", f"  wire done_{i};",
              f"  wire [{addr_bits(s.in_size) - 1}:0] xa_{i};", f"  wire signed [{s.x_width - 1}:0] xd_{i};",
              f"  wire [{addr_bits(s.out_size) - 1}:0] ya_{i};", f"  wire signed [{r.y_width - 1}:0] yd_{i};",
              f"  wire ywe_{i};"]
        if s.x_complex:
            L.append(f"  wire signed [{s.x_width - 1}:0] xi_{i};")
        if r.y_complex:
            L.append(f"  wire signed [{r.y_width - 1}:0] yi_{i};")
    # buffers
    in_off = 0
    offsets = {}
    for name in plan.inputs:
        offsets[name] = in_off
        in_off += plan.buffers[name].size
    for b in plan.buffers.values():
        w, n = b.width, b.size * b.depth
        aw = addr_bits(n)
        L.append(f"  // buffer of '{b.name}' ({b.kind}): {b.depth} bank(s) x {b.size} x {w} bits")
        L.append(f"  reg signed [{w - 1}:0] buf_{b.ident} [0:{n - 1}];")
        if b.depth > 1:
            L.append(f"  reg [{addr_bits(b.depth) - 1}:0] bank_{b.ident} = 0;")
        if b.kind == "const":
            L.append(f"  initial $readmemh(\"{b.ident}_value.mem\", buf_{b.ident});")
        elif b.kind == "input":
            off = offsets[b.name]
            L += [f"  wire we_{b.ident} = (state == S_LOAD) && in_valid && lcnt >= {lb}'d{off} && "
                  f"lcnt < {lb}'d{off + b.size};",
                  f"  wire [{lb - 1}:0] el_{b.ident} = lcnt - {lb}'d{off};",
                  f"  always @(posedge clk) if (we_{b.ident}) buf_{b.ident}[{_bank_expr(b, 0)} * {aw}'d{b.size} + "
                  f"el_{b.ident}] <= in_data[{w - 1}:0];"]
        else:
            L.append(f"  always @(posedge clk) if (ywe_{b.ident}) buf_{b.ident}[{_bank_expr(b, 0)} * {aw}'d{b.size} + "
                     f"ya_{b.ident}] <= yd_{b.ident};")
            if b.complex:
                L += [f"  reg signed [{w - 1}:0] buf_{b.ident}_im [0:{n - 1}];",
                      f"  always @(posedge clk) if (ywe_{b.ident}) "
                      f"buf_{b.ident}_im[{_bank_expr(b, 0)} * {aw}'d{b.size} + ya_{b.ident}] <= yi_{b.ident};"]
        # read ports, one per distinct delay; address muxed by the active consumer
        for d in b.delays:
            r = _rd(b, d)
            consumers = []
            for k, name in enumerate(order):
                if any(e.src == b.name and e.delay == d for e in g.in_edges(name)):
                    consumers.append((k, f"xa_{plan.rtl[name].ident}"))
            for j, name in enumerate(plan.outputs):
                if any(e.src == b.name and e.delay == d for e in g.in_edges(name)):
                    consumers.append((k_nodes + j, "ocnt"))
            el = f"{aw}'d0"
            for k, sig in reversed(consumers):
                el = f"(cur == {cb}'d{k}) ? {sig} : {el}"
            L += [f"  wire [{aw + 1}:0] ra_{r} = {_bank_expr(b, d)} * {aw}'d{b.size} + ({el});",
                  f"  reg signed [{w - 1}:0] rd_{r} = 0;", f"  reg rv_{r} = 1'b0;",
                  f"  always @(posedge clk) begin rd_{r} <= buf_{b.ident}[ra_{r}[{aw - 1}:0]]; "
                  f"rv_{r} <= (t >= 32'd{d}); end"]
            if b.complex:
                L += [f"  reg signed [{w - 1}:0] rd_{r}_im = 0;",
                      f"  always @(posedge clk) rd_{r}_im <= buf_{b.ident}_im[ra_{r}[{aw - 1}:0]];"]
    # node instances
    done_terms = []
    for name in order:
        r, s = plan.rtl[name], plan.specs[name]
        i = r.ident
        extra = ""
        L.append(f"  assign xd_{i} = {_sum_expr(plan, name, s.x_width)};")
        if s.x_complex:
            L.append(f"  assign xi_{i} = {_sum_expr(plan, name, s.x_width, '_im')};")
            extra += f", .x_im(xi_{i})"
        if r.y_complex:
            extra += f", .y_im(yi_{i})"
        L.append(f"  {i} u_{i} (.clk(clk), .start(start_{i}), .t(t), .done(done_{i}), .x_addr(xa_{i}), "
                 f".x_data(xd_{i}), .y_addr(ya_{i}), .y_data(yd_{i}), .y_we(ywe_{i}){extra});")
        done_terms.append(f"done_{i}")
    any_done = " | ".join(done_terms) if done_terms else "1'b0"
    L.append(f"  wire node_done = {any_done};")
    # output values
    osel = literal(0, ow)
    osize = f"{ob}'d0"
    for j, name in reversed(list(enumerate(plan.outputs))):
        L.append(f"  wire signed [{ow - 1}:0] xo_{j} = {_sum_expr(plan, name, ow)};")
        osel = f"(cur == {cb}'d{k_nodes + j}) ? xo_{j} : {osel}"
        osize = f"(cur == {cb}'d{k_nodes + j}) ? {ob}'d{plan.size(name) - 1} : {osize}"
    L += [f"  wire signed [{ow - 1}:0] xo = {osel};", f"  wire [{ob - 1}:0] olast = {osize};"]
    banks = [b for b in plan.buffers.values() if b.depth > 1]
    advance = " ".join(f"bank_{b.ident} <= first_step ? 0 : (bank_{b.ident} == {addr_bits(b.depth)}'d{b.depth - 1} "
                       f"? 0 : bank_{b.ident} + 1'b1);" for b in banks)
    after_load = "S_RUN" if k_nodes else "S_OUT"
    first_out = f"cur <= {cb}'d{k_nodes if not k_nodes else 0};"
    L.append(f"""  always @(posedge clk) begin
    done <= 1'b0;
    case (state)
      S_IDLE: if (start) begin
        t <= first_step ? 32'd0 : t + 32'd1;
        {advance}
        lcnt <= 0; cur <= {cb}'d0; launched <= 1'b0; ocnt <= 0; ophase <= 1'b0;
        {"state <= S_LOAD;" if n_in else f"state <= {after_load}; {first_out}"}
      end
      S_LOAD: if (in_valid) begin
        lcnt <= lcnt + 1'b1;
        if (lcnt == {lb}'d{max(n_in - 1, 0)}) begin state <= {after_load}; {first_out} end
      end
      S_RUN: begin
        if (!launched) launched <= 1'b1;
        else if (node_done) begin
          launched <= 1'b0;
          if (cur == {cb}'d{max(k_nodes - 1, 0)}) state <= S_OUT;
          cur <= cur + 1'b1;
        end
      end
      default: begin
        if (!ophase) ophase <= 1'b1;
        else if (!ovalid) begin oreg <= xo; ovalid <= 1'b1; end
        else if (out_ready) begin
          ovalid <= 1'b0; ophase <= 1'b0;
          if (ocnt == olast) begin
            ocnt <= 0;
            if (cur == {cb}'d{k_nodes + j_outs - 1}) begin state <= S_IDLE; done <= 1'b1; end
            else cur <= cur + 1'b1;
          end else ocnt <= ocnt + 1'b1;
        end
      end
    endcase
  end
endmodule
""")
    return "\n".join(L)
