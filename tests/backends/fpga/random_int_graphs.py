"""Random small lowered integer graphs for backend equivalence tests (fpga C vs simulator).

``random_int_graph(seed)`` draws a chain of 1-3 blocks (synapse -> neuron) over every integer
node kind, with random widths and overflow modes (often narrow, so wraps and saturations really
happen), per-neuron or shared parameters, edge delays, a recurrent synapse, a constant bias
source, a residual (two edges into one synapse), conv/pool/flatten front ends, and an LM-HT
whole-window block. Parameters stay inside each node's documented domain.
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.ir.intnodes import IntConv2d, IntCubaLIF, IntDense

NEURON_KINDS = ("cuba", "lifb", "clif", "lmht", "lnm", "rf")


def _w(rng, shape, mag):
    return rng.integers(-mag, mag, shape, endpoint=True).astype(np.int64)


def _maybe_per_neuron(rng, n, lo, hi):
    return rng.integers(lo, hi, n, endpoint=True) if rng.random() < 0.5 else np.asarray(rng.integers(lo, hi + 1))


def _neuron(rng, kind: str, n: int):
    """(node, input scale): a neuron of ``kind`` with ``n`` neurons and the rough magnitude of
    input current that makes it active."""
    if kind == "cuba":
        bits = int(rng.choice([12, 16, 24, 32]))
        thr = None if rng.random() < 0.15 else _maybe_per_neuron(rng, n, 1, 2 ** (bits - 3))
        node = IntCubaLIF(shape=(n,), current_mult=_maybe_per_neuron(rng, n, 0, 4096),
                          voltage_mult=_maybe_per_neuron(rng, n, 0, 4096), threshold=thr,
                          bias=None if rng.random() < 0.5 else rng.integers(-2 ** (bits - 5), 2 ** (bits - 5), n),
                          input_shift=int(rng.integers(0, 7)), arith_bits=int(rng.choice([32, 64])),
                          u_bits=bits, u_overflow=str(rng.choice(["lava", "wrap", "saturate"])), v_bits=bits,
                          v_overflow=str(rng.choice(["saturate_sym", "saturate", "wrap"])),
                          comparison=str(rng.choice([">", ">="])), reset=str(rng.choice(["zero", "subtract", "none"])),
                          state_reset_interval=None if rng.random() < 0.7 else int(rng.integers(2, 9)))
        if node.state_reset_interval:
            node.state_reset_phase = int(rng.integers(0, node.state_reset_interval))
        return node, 2 ** (bits - 8)
    if kind == "lifb":
        mb = int(rng.integers(1, 5))
        thr = int(rng.integers(200, 5000))
        return INN.IntLIFB(shape=(n,), leak_mult=_maybe_per_neuron(rng, n, 2000, 4096),
                           threshold=_maybe_per_neuron(rng, n, thr // 2, thr),
                           threshold_step=np.asarray(int(rng.integers(100, thr))), max_burst=mb,
                           amplitudes=np.concatenate([[0], np.sort(rng.integers(1, 6, mb))]),
                           reset=str(rng.choice(["subtract", "zero", "multiplicative"])),
                           comparison=str(rng.choice([">", ">="])), state_bits=int(rng.choice([14, 20, 24])),
                           overflow=str(rng.choice(["saturate", "wrap"])),
                           v_min=None if rng.random() < 0.5 else np.asarray(-int(rng.integers(0, 5000)))), thr
    if kind == "clif":
        size = int(rng.integers(8, 48))
        lut_u = np.round(4096 / (1 + np.exp(-np.linspace(-8, 8, size)))).astype(np.int64)
        lut_m = np.round(4096 / (1 + np.exp(-(np.arange(64) * 256 + 128) / 4096))).astype(np.int64)
        thr = int(rng.integers(500, 5000))
        return INN.IntCLIF(shape=(n,), decay_mult=int(rng.integers(1000, 4096)), threshold=thr, lut_u=lut_u,
                           u_shift=int(rng.integers(4, 10)), u_offset=-int(rng.integers(0, size)), lut_m=lut_m,
                           m_shift=int(rng.integers(6, 10)), m_frac_bits=12, lut_frac_bits=12,
                           reset_scale=int(rng.integers(100, 2000)), comparison=str(rng.choice([">", ">="])),
                           state_bits=int(rng.choice([16, 24, 32])),
                           overflow=str(rng.choice(["saturate", "wrap"]))), thr
    if kind == "lmht":
        thr = int(rng.integers(500, 4000))
        return INN.IntLMHT(shape=(n,), leak_mult=int(rng.integers(2000, 5000)), threshold=thr,
                           levels=int(rng.integers(1, 5)), v_init=int(rng.integers(-thr, thr)),
                           window=None if rng.random() < 0.4 else int(rng.integers(2, 8)),
                           state_bits=int(rng.choice([14, 24])), overflow=str(rng.choice(["saturate", "wrap"]))), thr
    if kind == "lnm":
        fb = int(rng.integers(6, 12))
        one = 1 << fb
        thr = int(rng.integers(one // 2, 4 * one))
        return INN.IntLNM(shape=(n,), coefficients=rng.integers(-one // 2, one // 2, int(rng.integers(2, 5))),
                          frac_bits=fb, threshold=thr, v_reset=int(rng.integers(-one, one // 2)), v_min=-8 * one,
                          v_max=8 * one, reset=str(rng.choice(["zero", "subtract"])),
                          comparison=str(rng.choice([">", ">="])),
                          form=str(rng.choice(["increment", "map"]))), thr
    if kind == "rf":
        ang = rng.uniform(0.1, 1.5, n)
        mag = rng.uniform(0.5, 0.99, n)
        thr = int(rng.integers(500, 8000))
        return INN.IntRF(shape=(n,), decay_real=np.round(mag * np.cos(ang) * 4096).astype(np.int64),
                         decay_imag=np.round(mag * np.sin(ang) * 4096).astype(np.int64), threshold=thr,
                         comparison=str(rng.choice([">", ">="])), state_bits=int(rng.choice([16, 24])),
                         overflow=str(rng.choice(["saturate", "wrap"])),
                         spike_rule=str(rng.choice(["re", "phase", "iz"]))), thr
    raise ValueError(kind)


def random_int_graph(seed: int, *, kinds: tuple[str, ...] = NEURON_KINDS) -> Graph:
    rng = np.random.default_rng(seed)
    g = Graph(metadata={"level": "integer", "target": "fpga", "name": f"random_{seed}"})
    spatial = rng.random() < 0.3
    graded_input = rng.random() < 0.4
    if spatial:
        c, h, w = int(rng.integers(1, 3)), int(rng.integers(4, 8)), int(rng.integers(4, 8))
        g.add_node("input", N.Input(shape=(c, h, w)))
        k = int(rng.integers(1, 4))
        groups = int(rng.choice([1, c])) if c > 1 else 1
        c_out = groups * int(rng.integers(1, 3))
        pad = int(rng.integers(0, 2))
        g.add_node("conv", IntConv2d(input_shape=(h, w), weight=_w(rng, (c_out, c // groups, k, k), 100),
                                     stride=(int(rng.integers(1, 3)), 1), padding=(pad, pad), groups=groups,
                                     dilation=(1, int(rng.integers(1, 3))) if w > 2 * k else (1, 1),
                                     bias=None if rng.random() < 0.5 else rng.integers(-50, 50, c_out),
                                     weight_exp=int(rng.integers(-2, 3)),
                                     input_kind="graded" if graded_input else "binary",
                                     out_bits=int(rng.choice([16, 24, 64]))))
        g.add_edge("input", "conv")
        prev = "conv"
        from snnc.ir.shapes import infer_shapes

        if rng.random() < 0.5 and min(infer_shapes(g)["conv"][1:]) >= 2:
            g.add_node("pool", N.SumPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0)))
            g.add_edge(prev, "pool", int(rng.integers(0, 2)))
            prev = "pool"
        g.add_node("flat", N.Flatten(input_shape=None))
        g.add_edge(prev, "flat")
        prev = "flat"
        width = int(np.prod(infer_shapes(g)["flat"]))
        prev_kind = "graded"
    else:
        width = int(rng.integers(2, 10))
        g.add_node("input", N.Input(shape=(width,)))
        prev, prev_kind = "input", "graded" if graded_input else "binary"
    blocks = int(rng.integers(1, 4))
    for b in range(blocks):
        kind = str(rng.choice(kinds))
        n = int(rng.integers(1, 9))
        neuron, scale = _neuron(rng, kind, n)
        syn = f"syn{b}"
        mag = max(1, min(2 ** 20, scale // (4 if prev_kind == "binary" else 16)))
        if kind == "rf":
            g.add_node(syn, INN.IntComplexDense(weight_real=_w(rng, (n, width), mag),
                                                weight_imag=_w(rng, (n, width), mag),
                                                weight_exp=int(rng.integers(0, 3)),
                                                input_kind=str(rng.choice(["binary", "graded"]))))
        else:
            g.add_node(syn, IntDense(weight=_w(rng, (n, width), mag), weight_exp=int(rng.integers(-3, 4)),
                                     input_kind=prev_kind, acc_bits=int(rng.choice([24, 32, 64])),
                                     out_bits=int(rng.choice([24, 32, 64]))))
        g.add_edge(prev, syn, int(rng.integers(0, 3)))
        if kind == "lmht" and rng.random() < 0.5:          # whole-window time mixing before LM-HT
            tw = int(rng.choice([2, 4]))
            g.add_node(f"mix{b}", INN.IntTimeMix(coefficients=rng.integers(0, 3000, (tw, tw)), frac_bits=11))
            g.add_edge(syn, f"mix{b}")
            syn_out = f"mix{b}"
        else:
            syn_out = syn
        nrn = f"nrn{b}"
        g.add_node(nrn, neuron)
        g.add_edge(syn_out, nrn, int(rng.integers(0, 2)))
        if kind != "rf" and syn_out == syn and rng.random() < 0.35:      # recurrence
            g.add_node(f"rec{b}", IntDense(weight=_w(rng, (n, n), mag), input_kind="graded"))
            g.add_edge(nrn, f"rec{b}")
            g.add_edge(f"rec{b}", nrn, int(rng.integers(1, 4)))
        if kind != "rf" and rng.random() < 0.3:                         # constant bias current
            g.add_node(f"const{b}", INN.ConstantSource(shape=(1,), value=np.ones(1, np.int64)))
            g.add_node(f"cb{b}", IntDense(weight=_w(rng, (n, 1), mag), input_kind="binary"))
            g.add_edge(f"const{b}", f"cb{b}")
            g.add_edge(f"cb{b}", nrn, int(rng.integers(0, 2)))
        prev, width = nrn, n
        prev_kind = "graded" if kind in ("lifb", "lmht") or (kind == "cuba" and neuron.threshold is None) else "binary"
    g.add_node("output", N.Output(shape=(width,)))
    g.add_edge(prev, "output")
    if rng.random() < 0.3:                                   # a second output straight from the input path
        g.add_node("out_in", N.Output(shape=tuple(g.nodes["input"].shape)))
        g.add_edge("input", "out_in", int(rng.integers(0, 3)))
    return g


def window_of(graph: Graph) -> int:
    ws = [int(np.asarray(n.coefficients).shape[0]) for n in graph.nodes.values() if isinstance(n, INN.IntTimeMix)]
    return math.lcm(*ws) if ws else 1


def random_inputs(graph: Graph, seed: int, batch: int = 2, steps: int = 12) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    out = {}
    for name in graph.input_names():
        shape = (batch, steps, *graph.nodes[name].shape)
        x = (rng.random(shape) < 0.4).astype(np.int64)
        if rng.random() < 0.5:
            x = x * rng.integers(-20, 60, shape)
        out[name] = x
    return out


def near_bound_graph(seed: int) -> Graph:
    """A :func:`random_int_graph` whose values reach the bounds the backends size their types
    with: every Input declares ``metadata['max_abs']`` (a port narrower than 32 bits), and the
    first / last output row of every synapse has all weights at the row's largest magnitude with
    one sign, so an input held at +-max_abs drives those sums to their bounds (use
    :func:`near_bound_inputs`)."""
    g = random_int_graph(seed)
    rng = np.random.default_rng(seed + 7)
    for name in g.input_names():
        g.nodes[name].metadata["max_abs"] = int(2 ** int(rng.integers(2, 13)) - 1)
    for node in g.nodes.values():
        for field in ("weight", "weight_real", "weight_imag"):
            w = getattr(node, field, None)
            if w is None or np.asarray(w).ndim < 2 or isinstance(node, INN.IntTimeMix):
                continue
            w = np.array(w, dtype=np.int64)
            top = int(np.abs(w).max(initial=0)) or 1
            w[0] = top
            w[-1] = -top
            setattr(node, field, w)
    return g


def near_bound_inputs(graph: Graph, seed: int, steps: int = 12) -> dict[str, np.ndarray]:
    """Inputs at +-max_abs: sample 0 all +max_abs, sample 1 all -max_abs, sample 2 random signs
    with some zeros."""
    rng = np.random.default_rng(seed + 3)
    out = {}
    for name in graph.input_names():
        m = int(graph.nodes[name].metadata.get("max_abs", 1))
        shape = (steps, *graph.nodes[name].shape)
        mixed = rng.choice([-m, 0, m], size=shape, p=[0.4, 0.2, 0.4])
        out[name] = np.stack([np.full(shape, m), np.full(shape, -m), mixed]).astype(np.int64)
    return out
