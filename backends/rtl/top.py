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

from . import inlanes
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


def _read_el(plan: Plan, b, d: int, cb: int) -> str:
    """The element read from buffer ``b`` at delay ``d``: the address of the consumer running now."""
    g, k_nodes = plan.graph, len(plan.order)
    consumers = []
    for k, name in enumerate(plan.order):
        if plan.specs[name].spike_list:      # reads its list, never this port
            continue
        if any(e.src == b.name and e.delay == d for e in g.in_edges(name)):
            when = f"(cur == {cb}'d{k} || cur == {cb}'d{k - 1})" if name in plan.chained else f"cur == {cb}'d{k}"
            consumers.append((when, f"xa_{plan.rtl[name].ident}"))
    for j, name in enumerate(plan.outputs):
        if any(e.src == b.name and e.delay == d for e in g.in_edges(name)):
            consumers.append((f"cur == {cb}'d{k_nodes + j}", "ocnt"))
    el = f"{addr_bits(b.size * b.depth)}'d0"
    for when, sig in reversed(consumers):
        el = f"({when}) ? {sig} : {el}"
    return el


def _spike_list(plan: Plan, b, offsets: dict, lb: int) -> list[str]:
    """The list of nonzero value indices written to buffer ``b`` in this step (zero skipping,
    :mod:`.skipdense`): appended on every nonzero write, emptied by ``start``; ``nzn_`` its
    length, ``nzq_`` the entry at the consumer's ``nz_addr`` one cycle later, ``nzf_`` (an Input's
    list) the load is over (one cycle after it)."""
    dst = plan.rtl[plan.spike_lists[b.name]].ident
    ai, al = addr_bits(b.size), addr_bits(b.size + 1)
    if b.kind == "input":
        we, idx, data = f"we_{b.ident}", f"el_{b.ident}[{ai - 1}:0]", f"in_data[{b.width - 1}:0]"
    else:
        we, idx, data = f"ywe_{b.ident}", f"ya_{b.ident}[{ai - 1}:0]", f"yd_{b.ident}"
    return [f"  // list of the nonzero entries of '{b.name}' this step (read by '{plan.spike_lists[b.name]}')",
            f"  reg [{ai - 1}:0] nzl_{b.ident} [0:{b.size - 1}];", f"  reg [{al - 1}:0] nzn_{b.ident} = 0;",
            f"  wire [{ai - 1}:0] nza_{dst};", f"  reg [{ai - 1}:0] nzq_{b.ident} = 0;", f"  reg nzf_{b.ident} = 1'b0;",
            f"  wire nzw_{b.ident} = {we} && ({data} != 0);",
            f"  always @(posedge clk) if (nzw_{b.ident}) nzl_{b.ident}[nzn_{b.ident}[{ai - 1}:0]] <= {idx};",
            f"  always @(posedge clk) if (state == S_IDLE && start) nzn_{b.ident} <= 0; "
            f"else if (nzw_{b.ident}) nzn_{b.ident} <= nzn_{b.ident} + 1'b1;",
            f"  always @(posedge clk) begin nzq_{b.ident} <= nzl_{b.ident}[nza_{dst}]; "
            f"nzf_{b.ident} <= (state == S_RUN); end"]


def top_verilog(plan: Plan) -> str:
    order = plan.order
    k_nodes, j_outs = len(order), len(plan.outputs)
    cb = addr_bits(k_nodes + j_outs + 1)
    iw, ow = plan.in_width, plan.out_width
    lanes = plan.in_lanes
    n_in = sum(plan.buffers[n].size for n in plan.inputs)
    packed = lanes > 1
    scanner = packed and plan.inputs[0] in plan.spike_lists
    n_load = inlanes.beats(n_in, lanes) if packed else n_in
    lb = addr_bits(n_load + 1)
    ob = addr_bits(max([plan.size(n) for n in plan.outputs] + [1]) + 1)
    L = [f"module snnc_top (\n  input clk,\n  input start,\n  input first_step,\n  input in_valid,\n"
         f"  output in_ready,\n  input {'signed ' if not packed else ''}[{lanes * iw - 1}:0] in_data,\n"
         f"  output out_valid,\n  input out_ready,\n"
         f"  output signed [{ow - 1}:0] out_data,\n  output reg done = 1'b0,\n  output busy\n);",
         f"  localparam S_IDLE = 2'd{S_IDLE}, S_LOAD = 2'd{S_LOAD}, S_RUN = 2'd{S_RUN}, S_OUT = 2'd{S_OUT};",
         "  reg [1:0] state = S_IDLE;", "  reg [31:0] t = 0;", f"  reg [{cb - 1}:0] cur = 0;", "  reg launched = 1'b0;",
         f"  reg [{lb - 1}:0] lcnt = 0;", f"  reg [{ob - 1}:0] ocnt = 0;", "  reg ophase = 1'b0;",
         "  reg ovalid = 1'b0;", f"  reg signed [{ow - 1}:0] oreg = 0;",
         "  assign in_ready = (state == S_LOAD)"
         + (f" && (lcnt < {lb}'d{n_load}) && scan_last;" if packed else ";"), "  assign busy = (state != S_IDLE);",
         "  assign out_valid = ovalid;", "  assign out_data = oreg;"]
    # node instance wires
    for k, name in enumerate(order):
        r, s = plan.rtl[name], plan.specs[name]
        i = r.ident
        if s.early:
            go = "(state == S_IDLE) && start"
        elif name in plan.chained:       # with the producer's first output write (:func:`.plan._chains`)
            pi = plan.rtl[plan.chained[name]].ident
            go = f"(state == S_RUN) && (cur == {cb}'d{k - 1}) && ywe_{pi} && (ya_{pi} == 0)"
        else:
            go = f"(state == S_RUN) && (cur == {cb}'d{k}) && !launched"
        L += [f"  wire start_{i} = {go};", f"  wire done_{i};",
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
        if packed and b.kind == "input":
            lst = plan.spike_lists.get(b.name)
            L += inlanes.input_buffer(b, lanes, iw, lb, _bank_expr(b, 0), plan.rtl[lst].ident if lst else None)
            for d in b.delays:
                L += inlanes.read_port(b, lanes, _rd(b, d), _bank_expr(b, d), _read_el(plan, b, d, cb), d)
            continue
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
        if b.name in plan.spike_lists:
            L += _spike_list(plan, b, offsets, lb)
        # read ports, one per distinct delay; address muxed by the active consumer
        for d in b.delays:
            r = _rd(b, d)
            el = _read_el(plan, b, d, cb)
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
        if s.spike_list:
            src = plan.buffers[plan.graph.in_edges(name)[0].src].ident
            fin = f"nzf_{src}" if s.early else "1'b1"
            extra += f", .nz_n(nzn_{src}), .nz_final({fin}), .nz_addr(nza_{i}), .nz_idx(nzq_{src})"
        L.append(f"  {i} u_{i} (.clk(clk), .start(start_{i}), .t(t), .done(done_{i}), .x_addr(xa_{i}), "
                 f".x_data(xd_{i}), .y_addr(ya_{i}), .y_data(yd_{i}), .y_we(ywe_{i}){extra});")
        done_terms.append(f"done_{i}")
    for k, name in enumerate(order):
        if plan.specs[name].early or name in plan.chained:    # started early: done may come before its turn
            i = plan.rtl[name].ident
            L += [f"  reg edone_{i} = 1'b0;",
                  f"  always @(posedge clk) if (state == S_IDLE) edone_{i} <= 1'b0; "
                  f"else if (done_{i}) edone_{i} <= 1'b1;"]
            done_terms.append(f"((cur == {cb}'d{k}) && edone_{i})")
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
    if scanner:      # the scanner lists the last beat's nonzero lanes after the last transfer
        load = (f"begin\n        if (in_valid && in_ready) lcnt <= lcnt + 1'b1;\n"
                f"        if (lcnt == {lb}'d{n_load} && scan_last) begin state <= {after_load}; {first_out} end\n"
                f"      end")
    else:
        load = (f"if (in_valid{' && in_ready' if packed else ''}) begin\n        lcnt <= lcnt + 1'b1;\n"
                f"        if (lcnt == {lb}'d{max(n_load - 1, 0)}) begin state <= {after_load}; {first_out} end\n"
                f"      end")
    L.append(f"""  always @(posedge clk) begin
    done <= 1'b0;
    case (state)
      S_IDLE: if (start) begin
        t <= first_step ? 32'd0 : t + 32'd1;
        {advance}
        lcnt <= 0; cur <= {cb}'d0; launched <= 1'b0; ocnt <= 0; ophase <= 1'b0;
        {"state <= S_LOAD;" if n_in else f"state <= {after_load}; {first_out}"}
      end
      S_LOAD: {load}
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
