"""Packed input stream: ``in_lanes`` (W, a power of two) input values per transfer.

With W > 1 (one Input node only) a transfer carries the W consecutive values ``beat * W + j``
(lane j in bits ``[j*IW, (j+1)*IW)`` of ``in_data``, IW = the input width; the last beat padded
with zeros), so loading n values takes N = ceil(n / W) transfers instead of n. The Input's
buffer holds words of W values (``buf_<input>[bank * N + beat]``, lane j in bits
``[j*w, (j+1)*w)``, w = the buffer width); a read port returns value ``e`` from word ``e / W``,
lane ``e mod W`` (registered like every read port).

When a zero-skipping dense layer reads the Input (:mod:`.skipdense`), a scanner lists the
nonzero lanes of the last beat, lowest lane first, one per cycle; the next beat is accepted in
the cycle the scanner takes the last nonzero lane of the current one (``in_ready`` low while
more remain). The load then takes ``N + 1 + sum over beats of max(0, nonzeros - 1)`` cycles
(:func:`load_cycles`); without a scanner exactly N.
"""

from __future__ import annotations

import numpy as np

from snnc.ir.errors import SnncError

from .modules import addr_bits


def check_lanes(lanes: int, inputs: list[str], in_width: int, buf_width: int) -> int:
    lanes = int(lanes or 1)
    if lanes < 1 or lanes & (lanes - 1):
        raise SnncError(f"in_lanes must be a power of two, got {lanes}", field="in_lanes")
    if lanes > 1 and len(inputs) != 1:
        raise SnncError("in_lanes > 1 needs exactly one Input node", field="in_lanes",
                        hint=f"the graph has {len(inputs)}")
    if lanes * max(in_width, buf_width) > 64:
        raise SnncError(f"in_lanes x input width must be at most 64 bits, got {lanes} x {in_width}",
                        field="in_lanes", hint="narrow input_bits (2 for spikes) or use fewer lanes")
    return lanes


def beats(n: int, lanes: int) -> int:
    return -(-n // lanes)


def load_cycles(n: int, lanes: int, scanner: bool, values: np.ndarray | None = None):
    """Cycles of the input load: ``n`` values, ``lanes`` per transfer; with the scanner of a
    zero-skipping layer, data-dependent: ``values`` int[B, T, n] -> int64[B, T] (None: the bound,
    every value nonzero)."""
    nb = beats(n, lanes)
    if lanes == 1 or not scanner:
        return n if lanes == 1 else nb
    if values is None:
        return nb + 1 + nb * (lanes - 1)
    v = np.asarray(values).reshape(values.shape[0], values.shape[1], -1)
    pad = np.zeros((v.shape[0], v.shape[1], nb * lanes), bool)
    pad[:, :, :n] = v != 0
    m = pad.reshape(v.shape[0], v.shape[1], nb, lanes).sum(axis=3)
    return (nb + 1 + np.maximum(m - 1, 0).sum(axis=2)).astype(np.int64)


def input_buffer(b, lanes: int, iw: int, lb: int, bank0: str, scanner_list: str | None) -> list[str]:
    """Declarations and write logic of Input buffer ``b`` as words of ``lanes`` values;
    ``bank0``: the Verilog expression of the bank written this step; ``scanner_list``: the ident
    of the zero-skipping consumer (adds the scanner and the list of nonzero indices)."""
    w, nb = b.width, beats(b.size, lanes)
    aw = addr_bits(nb * b.depth)
    word = "{" + ", ".join(f"in_data[{j * iw + w - 1}:{j * iw}]" for j in reversed(range(lanes))) + "}"
    L = [f"  // buffer of '{b.name}' (input): {b.depth} bank(s) x {nb} words of {lanes} x {w} bits",
         f"  reg [{lanes * w - 1}:0] buf_{b.ident} [0:{nb * b.depth - 1}];"]
    if b.depth > 1:
        L.append(f"  reg [{addr_bits(b.depth) - 1}:0] bank_{b.ident} = 0;")
    L += [f"  wire we_{b.ident} = in_valid && in_ready;",
          f"  always @(posedge clk) if (we_{b.ident}) buf_{b.ident}[{bank0} * {aw + 1}'d{nb} + lcnt] <= {word};"]
    if scanner_list is None:
        L.append("  wire scan_last = 1'b1;")
        return L
    ai, al, aj = addr_bits(b.size), addr_bits(b.size + 1), addr_bits(lanes)
    dst = scanner_list
    nzin = "{" + ", ".join(f"(in_data[{j * iw + iw - 1}:{j * iw}] != 0)" for j in reversed(range(lanes))) + "}"
    prio = "\n".join(f"      if (sm[{j}]) sj = {aj}'d{j};" for j in reversed(range(lanes)))
    ib = addr_bits(nb * lanes + 1)
    L += [f"  // scanner: lists the nonzero lanes of the last beat, one per cycle (read by zero-skipping '{dst}')",
          f"  reg [{lanes - 1}:0] sm = 0;", f"  reg [{ib - 1}:0] sb = 0;", f"  reg [{aj - 1}:0] sj;",
          f"  always @(*) begin\n      sj = {aj}'d0;\n{prio}\n  end",
          f"  wire [{lanes - 1}:0] sm_low = sm & (~sm + 1'b1);",
          "  wire scan_last = (sm & (sm - 1'b1)) == 0;",
          f"  always @(posedge clk) if (state == S_IDLE) sm <= 0; else if (we_{b.ident}) begin sm <= {nzin}; "
          f"sb <= lcnt * {ib}'d{lanes}; end else sm <= sm & ~sm_low;",
          f"  reg [{ai - 1}:0] nzl_{b.ident} [0:{b.size - 1}];", f"  reg [{al - 1}:0] nzn_{b.ident} = 0;",
          f"  wire [{ai - 1}:0] nza_{dst};", f"  reg [{ai - 1}:0] nzq_{b.ident} = 0;", f"  reg nzf_{b.ident} = 1'b0;",
          f"  wire nzw_{b.ident} = (state == S_LOAD) && (sm != 0);",
          f"  wire [{ib - 1}:0] nzi_{b.ident} = sb + sj;",
          f"  always @(posedge clk) if (nzw_{b.ident}) nzl_{b.ident}[nzn_{b.ident}[{ai - 1}:0]] <= "
          f"nzi_{b.ident}[{ai - 1}:0];",
          f"  always @(posedge clk) if (state == S_IDLE && start) nzn_{b.ident} <= 0; "
          f"else if (nzw_{b.ident}) nzn_{b.ident} <= nzn_{b.ident} + 1'b1;",
          f"  always @(posedge clk) begin nzq_{b.ident} <= nzl_{b.ident}[nza_{dst}]; "
          f"nzf_{b.ident} <= (state == S_RUN); end"]
    return L


def read_port(b, lanes: int, r: str, bank: str, el: str, d: int) -> list[str]:
    """Read port ``r`` of a packed Input buffer: value ``el`` of bank ``bank``, one cycle later."""
    w, nb = b.width, beats(b.size, lanes)
    aw = addr_bits(nb * b.depth)
    sh, ea = lanes.bit_length() - 1, addr_bits(b.size) + 1
    return [f"  wire [{ea - 1}:0] re_{r} = {el};",
            f"  wire [{aw + 1}:0] ra_{r} = {bank} * {aw + 1}'d{nb} + (re_{r} >> {sh});",
            f"  reg [{lanes * w - 1}:0] rw_{r} = 0;", f"  reg [{addr_bits(lanes) - 1}:0] rl_{r} = 0;",
            f"  reg rv_{r} = 1'b0;",
            f"  always @(posedge clk) begin rw_{r} <= buf_{b.ident}[ra_{r}[{aw - 1}:0]]; "
            f"rl_{r} <= re_{r}[{max(sh - 1, 0)}:0]; rv_{r} <= (t >= 32'd{d}); end",
            f"  wire signed [{w - 1}:0] rd_{r} = rw_{r}[rl_{r} * {w} +: {w}];"]
