"""C code of one layer per integer node kind: the registry, the shared helpers, and the
structural kinds (copies, pooling, constants). Synapses live in :mod:`.synapses`, neurons in
:mod:`.neurons` (importing this package registers all of them).

A generator gets a :class:`LayerSpec` (the node, its C name, shapes, the width of its summed
input, its reuse factor) and returns a :class:`LayerCode`: file-scope declarations (constant
parameters, static state), the statements of one time step (with their HLS pragmas), the
statements that restore the initial state, and the layer's hardware shape
(:class:`~.pragmas.LayerHW`: lanes, II, multipliers, read by the resource estimate).
Step statements read ``x`` (``<c>_in_t[in_size]``: the node's summed input at this step, typed
with its proven width), write ``y`` (the node's output row) and may read ``t`` (``int64_t``: the
step index since the last reset). Whole-window nodes (TimeMix with latency 0) instead read
``xw[W][in_size]`` and write ``yw[W][..]``; a streaming TimeMix (latency W, loihi2 graphs) is a
per-step node with static window buffers.

Every operation is a function of :mod:`snnc.ir.intops` (``snnc_add``, ``snnc_decay``, ...), in
the same order as the simulator's kernel (:mod:`snnc.backends.sim.int_kernels`,
:mod:`snnc.backends.sim.int_neuron_kernels`), so the generated C and the simulator agree bit
for bit. Sums of products accumulate in an accumulator of the width their bound needs
(:mod:`.widths`), or in ``uint64_t`` modulo 2**64 (the simulator's int64) beyond 62 bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.registry import Registry
from snnc.ir.shapes import pair

from . import pragmas as P
from .pragmas import LayerHW
from .widths import Range, TypeTable, bits_for_values, c_literal

#: width of input ports when the Input node does not state a bound (``metadata['max_abs']``)
DEFAULT_INPUT_BITS = 32


@dataclass
class ArrayInfo:
    """An array of a layer, for the pragmas and the resource estimate."""

    cname: str
    size: int           # elements
    bits: int           # stored width
    lane_extent: int    # elements along the lane dimension (partitioned into LayerHW.lanes banks); 0: not
    lane_dim: int = 1   # that dimension, 1-based (ARRAY_PARTITION dim=)
    const: bool = True  # weights / parameters (True) or state / accumulators (False)


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
    reuse: int = 1
    arrays: list[ArrayInfo] = field(default_factory=list)
    #: bound of |the summed input| (sum of the sources' :mod:`snnc.ir.value_bounds` bounds; inf: none)
    in_bound: float = math.inf

    @property
    def x_bound(self) -> float:
        """Bound of |x|: :attr:`in_bound`, and at most what ``in_bits`` holds."""
        return min(self.in_bound, 2.0 ** (self.in_bits - 1))

    @property
    def x_range(self) -> Range:
        """Interval of each element of ``x`` (either part of a complex input)."""
        return Range.bound(self.in_bound) & Range.bits(self.in_bits)

    @property
    def in_size(self) -> int:
        return (2 if self.in_complex else 1) * int(np.prod(self.in_shape, dtype=np.int64))

    @property
    def n(self) -> int:
        """Neurons / output elements (not counting the imaginary half of complex values)."""
        return int(np.prod(self.out_shape, dtype=np.int64))

    @property
    def in_type(self) -> str:
        """C type of the summed input ``x`` (``in_bits`` wide)."""
        return f"{self.cname}_in_t"


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
    hw: LayerHW | None = None      # lanes, II, multipliers at the layer's reuse factor (None: no work)
    #: declarations of the fast C-simulation branch only (:mod:`.fastpath`; not in the HLS design)
    fast_decls: list[str] = field(default_factory=list)


#: node type -> ``fn(spec) -> LayerCode``
GENERATORS: Registry = Registry("fpga C kernels")
generates = GENERATORS.register


def layer_code(spec: LayerSpec) -> LayerCode:
    gen = GENERATORS.get(type(spec.node))
    if gen is None:
        raise UnsupportedError(f"the fpga backend has no C kernel for {type(spec.node).__name__}", node=spec.name,
                               hint="compile the model for the fpga or sim target first (snnc compile --target fpga)")
    if spec.in_complex and not isinstance(spec.node, (INN.IntRF, N.Flatten, N.Output)):
        raise UnsupportedError("complex input (from an IntComplexDense) is only accepted by IntRF", node=spec.name)
    return gen(spec)


def partition_pragmas(spec: LayerSpec, hw: LayerHW | None) -> str:
    """ARRAY_PARTITION pragmas of every lane-indexed array of the layer."""
    if hw is None:
        return ""
    return "".join(P.partition(a.cname, hw, a.lane_dim, a.lane_extent) for a in spec.arrays if a.lane_extent)


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


def const_array(spec: LayerSpec, fname: str, values, lane_dim: int | None = None) -> tuple[str, str]:
    """A ``static const`` parameter array of the layer: (its C name, its declaration). ``lane_dim``
    (1-based): the dimension indexed by the lane loop (partitioned); None: not partitioned."""
    a = np.asarray(values, dtype=np.int64)
    cname = f"{spec.cname}_p_{fname}"
    t = spec.types.add(f"{cname}_t", bits_for_values(a))
    extent = int(a.shape[lane_dim - 1]) if lane_dim else 0
    spec.arrays.append(ArrayInfo(cname, int(a.size), spec.types.bits[t], extent, lane_dim or 1))
    dims = "".join(f"[{d}]" for d in a.shape)
    return cname, f"static const {t} {cname}{dims} = {_array_literal(a)};"


def work_array(spec: LayerSpec, cname: str, ctype: str, size: int, bits: int, lane_extent: int,
               dims: str | None = None, lane_dim: int = 1) -> str:
    """A static (non-constant) array of the layer, e.g. an accumulator: its declaration."""
    spec.arrays.append(ArrayInfo(cname, int(size), int(bits), int(lane_extent), lane_dim, const=False))
    return f"static {ctype} {cname}{dims or f'[{size}]'};"


def per_neuron(spec: LayerSpec, code: LayerCode, fname: str, value, index: str = "i") -> str:
    """C expression of a parameter that broadcasts over the layer's neurons: a literal when all
    neurons share one value, else an element of a constant array."""
    a = np.broadcast_to(np.asarray(value, dtype=np.int64), tuple(spec.out_shape)).reshape(-1)
    if a.size == 0 or np.all(a == a[0]):
        return c_literal(int(a[0])) if a.size else "0"
    cname, decl = const_array(spec, fname, a, lane_dim=1)
    code.decls.append(decl)
    return f"(int64_t){cname}[{index}]"


def scalar(value) -> str:
    return c_literal(int(np.asarray(value).reshape(-1)[0]))


def state_array(spec: LayerSpec, code: LayerCode, sname: str, bits: int, init: str = "0") -> str:
    cname = f"{spec.cname}_s_{sname}"
    t = spec.types.add(f"{cname}_t", bits)
    code.decls.append(work_array(spec, cname, t, spec.n, spec.types.bits[t], spec.n))
    code.reset += f"for (int64_t i = 0; i < {spec.n}; ++i) {cname}[i] = {init};\n"
    code.states.append((sname, cname, spec.n))
    return cname


def _indent(text: str, n: int = 4) -> str:
    pad = " " * n
    return "".join(pad + line + "\n" if line.strip() else "\n" for line in text.splitlines())


def neuron_loop(spec: LayerSpec, code: LayerCode, lines: list[str], mults_per_neuron: int) -> str:
    """``for i in neurons`` with the lane pragmas of the layer's reuse factor around ``lines``."""
    code.hw = P.layer_hw(spec.reuse, spec.n, 1, mults_per_neuron, style="unroll")
    return (f"for (int64_t i = 0; i < {spec.n}; ++i) {{\n" + P.lane_loop(code.hw)
            + _indent("\n".join(lines), 2) + "}\n")


# ----------------------------------------------------------------------------------------
# structure: copies, pooling, constants
# ----------------------------------------------------------------------------------------


@generates(N.Output, N.Flatten)
def _copy(spec: LayerSpec) -> LayerCode:
    code = LayerCode(out_bits=spec.in_bits, out_complex=spec.in_complex)
    code.hw = P.layer_hw(spec.reuse, spec.in_size, 1, 0, style="unroll")
    code.body = f"for (int64_t i = 0; i < {spec.in_size}; ++i) {{\n{P.lane_loop(code.hw)}  y[i] = x[i];\n}}\n"
    return code


@generates(N.SumPool2d)
def _sum_pool(spec: LayerSpec) -> LayerCode:
    """Pipelined over the output elements; the kh x kw window adds are the lane loop."""
    node = spec.node
    kh, kw = pair(node.kernel_size, "kernel_size", spec.name)
    sy, sx = pair(node.stride, "stride", spec.name)
    py, px = pair(node.padding, "padding", spec.name)
    c, h, w = spec.in_shape
    _, ho, wo = spec.out_shape
    out_bits = min(64, spec.in_bits + math.ceil(math.log2(kh * kw)),
                   (Range.bound(spec.in_bound) * Range(0, kh * kw)).width())
    code = LayerCode(out_bits=out_bits)
    code.hw = P.layer_hw(spec.reuse, kh * kw, spec.n, 0)
    acc_t = spec.types.add_acc(f"{spec.cname}_acc_t", out_bits)
    code.body = f"""for (int64_t c = 0; c < {c}; ++c)
  for (int64_t oy = 0; oy < {ho}; ++oy)
    for (int64_t ox = 0; ox < {wo}; ++ox) {{
{_indent(P.pipeline(code.hw), 6)}      {acc_t} acc = 0;
      for (int64_t ky = 0; ky < {kh}; ++ky) {{
{_indent(P.unroll(), 8)}        const int64_t iy = oy * {sy} - {py} + ky;
        for (int64_t kx = 0; kx < {kw}; ++kx) {{
{_indent(P.unroll(), 10)}          const int64_t ix = ox * {sx} - {px} + kx;
          if (iy >= 0 && iy < {h} && ix >= 0 && ix < {w}) acc += ({acc_t})x[(c * {h} + iy) * {w} + ix];
        }}
      }}
      y[(c * {ho} + oy) * {wo} + ox] = (int64_t)acc;
    }}
"""
    return code


@generates(INN.ConstantSource)
def _constant(spec: LayerSpec) -> LayerCode:
    value = np.broadcast_to(np.asarray(spec.node.value, np.int64), tuple(spec.out_shape))
    code = LayerCode(out_bits=bits_for_values(value), source=True)
    v = per_neuron(spec, code, "value", value)
    code.body = neuron_loop(spec, code, [f"y[i] = {v};"], 0)
    return code
