"""Pass: quantize a discrete float graph and lower it to integer nodes for a target profile.

Scales. Every value on an edge is an integer ``q = round(real * scale)``. Binary spikes and
inputs have scale 1 (inputs must be integer-valued, e.g. spikes). A neuron N gets a *state
scale* S_N (integer units per real membrane unit). Each synapse P feeding N is quantized for N:

    W_eff = W * gain_N                      (gain: the neuron's input and current gains, folded in)
    W_int = round(W_eff * S_N / (sigma_P * 2**shift)),   |W_int| <= qmax = 2**(bits-1) - 1
    S_N   = qmax * sigma_P * 2**shift / max|W_eff|      (the smallest over N's synapses; per
                                                          output channel with granularity 'channel')

where sigma_P is the scale of P's input and ``shift`` is the neuron's input shift (6, as Lava's
``a_in << 6``: six fractional bits of state below the weight LSB, which keep the 12-bit decay's
rounding small). Thresholds, biases and resets are ``round(x * S_N)``, decays
``round(retention * 2**decay_bits)``. For ``loihi2`` the weights are doubled 8-bit values (even
integers in [-256, 254], which Lava's Dense keeps unchanged, LAVA_NETX_NIR.md §3.1), thresholds
multiples of 64 (Lava's ``vth << 6``) and biases representable as ``int16 << exp``.

An Affine bias b feeding a neuron without synaptic-current decay is added to the neuron's
per-step bias (exact); with a decaying current it is fed through the current, as a weight
column from a :class:`~snnc.ir.intneurons.ConstantSource` emitting c (exact), where c (the
real value 1 at scale c) is the largest input scale sigma of the neuron's synapses (at least 1;
127 behind an 8-bit analog input), so the bias column shares the weights' resolution instead
of bounding S a factor sigma lower.

Supported now: Linear / Affine / Conv2d synapses into ``DiscreteLIF`` neurons and the seed
neurons (LIFB, LMHT with its TimeMix, CLIF, RF, LNM), SumPool2d / AvgPool2d (as sums, the 1/k^2
folded into the next scale) and Flatten on spike paths, synapse -> Output readouts. Other node
kinds raise UnsupportedError naming the node.

S5-RF with a readout matrix V (layer 0 with zoh/bilinear discretization, spike on Re(V x) > 1)
is lowered to existing node kinds (every backend runs them): the state [re; im] lives in a
non-spiking IntCubaLIF register, the complex decay is a recurrent IntDense rotation (delay 1,
floor shift by decay_bits), Re(V x) an IntDense readout and the spike a stateless IntCubaLIF
threshold; the state's static bound is proven here (``metadata['state_bound']``, used by
check_ranges). Not for ``loihi2`` (the rotation weights need 12+ bits).

LM-HT's T x T time mixing (IntTimeMix) is lowered whole-window: ``hw['whole_window']`` holds the
window length in steps, and the report says so per node. It is non-causal (step t of a window
needs the window's later inputs), so a streaming target (``loihi2``) runs it one window late:
``insert_latency`` turns every IntTimeMix into the causal form (``latency`` = W, ``phase`` =
the steps the synapses before it delay its input) and sets every IntLMHT's ``phase`` to its own
input delay, which keeps the LM-HT windows aligned with the input and the neurons idle (no
spurious spikes) until their first real input arrives; see :func:`insert_latency`.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Edge, Graph
from snnc.ir.shapes import infer_shapes, pair

from .pipeline import CompileContext, register_pass

_SYNAPSES = (N.Linear, N.Affine, N.Conv2d)
_NEURONS = {N.DiscreteLIF, N.LIFB, N.LMHT, N.CLIF, N.RF, N.LNM}
INPUT_SHIFT = 6
#: width of quantized analog inputs (signed)
INPUT_BITS = 8


def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


class _Lowering:
    def __init__(self, graph: Graph, ctx: CompileContext):
        self.g, self.ctx = graph, ctx
        self.p = ctx.config.profile
        self.shapes = infer_shapes(graph)
        self.out = Graph(metadata={**graph.metadata, "level": "integer", "target": self.p.name})
        self.scale: dict[str, np.ndarray | float] = {}   # output scale per node
        self.weights: dict[str, N.Node] = {}            # lowered synapses, by name
        self.qmax = (1 << (self.p.weight_bits - 1)) - 1
        self.rewired: set[tuple[str, str]] = set()      # original edges replaced by a lowering

    # -- helpers ----------------------------------------------------------------------------

    def consumers(self, name: str) -> list[str]:
        return [e.dst for e in self.g.out_edges(name)]

    def src_scale(self, name: str) -> float:
        """Scale of a node's output, for nodes that feed synapses (no synapse upstream)."""
        if name in self.scale:
            s = self.scale[name]
            if np.ndim(s) and np.unique(s).size > 1:
                raise UnsupportedError("a synapse input with per-channel scales", node=name)
            return float(np.asarray(s).reshape(-1)[0])
        node = self.g.nodes[name]
        if isinstance(node, N.Input):
            if node.metadata.get("analog"):
                # analog input (e.g. direct pixel encoding): INPUT_BITS-bit signed samples
                s = ((1 << (INPUT_BITS - 1)) - 1) / float(node.metadata.get("max_abs", 1.0))
            else:
                s = float(node.metadata.get("scale", 1.0))
        elif isinstance(node, N.DiscreteLIF) and node.v_threshold is not None:
            s = 1.0
        elif isinstance(node, N.LIFB):
            s = float(lifb_payload(node)[1])
        elif isinstance(node, N.LMHT):
            s = 1.0 / float(node.v_threshold)      # payload k, real value k * theta
        elif isinstance(node, (N.CLIF, N.RF, N.LNM)):
            s = 1.0
        elif isinstance(node, (N.SumPool2d, N.Flatten, N.AvgPool2d)):
            ins = {self.src_scale(e.src) for e in self.g.in_edges(name)}
            if len(ins) != 1:
                raise UnsupportedError("inputs with different scales", node=name)
            s = ins.pop()
            if isinstance(node, N.AvgPool2d):
                k = pair(node.kernel_size, "kernel_size", name)
                s *= k[0] * k[1]
        else:
            raise UnsupportedError(f"integer lowering of {node.type_name} feeding a synapse is not supported yet",
                                   node=name)
        self.scale[name] = s
        return s

    def neuron_gain(self, neuron: N.DiscreteLIF, name: str, n_out: int, per_channel_axis0: bool) -> np.ndarray:
        """g_in * g_v per output row (shape (n_out,))."""
        g = _f(neuron.input_gain) * _f(neuron.current_gain)
        g = np.broadcast_to(g, self.shapes[name])
        if per_channel_axis0:
            flat = g.reshape(g.shape[0], -1)
            if not np.all(flat == flat[:, :1]):
                raise UnsupportedError("input gain varies within a channel; cannot fold into conv weights",
                                       node=name, field="input_gain")
            return flat[:, 0]
        return g.reshape(-1)[:n_out] if g.size == n_out else np.broadcast_to(g.reshape(-1), (n_out,))

    # -- main -----------------------------------------------------------------------------

    def run(self) -> Graph:
        for name in self.g.evaluation_order():
            node = self.g.nodes[name]
            if isinstance(node, N.Input):
                self.out.nodes[name] = node
                self.src_scale(name)
            elif isinstance(node, N.DiscreteLIF):
                self.lower_lif(name, node)
            elif isinstance(node, N.LIFB):
                self.lower_lifb(name, node)
            elif isinstance(node, N.LMHT):
                self.lower_lmht(name, node)
            elif isinstance(node, N.CLIF):
                self.lower_clif(name, node)
            elif isinstance(node, N.RF):
                self.lower_rf(name, node)
            elif isinstance(node, N.LNM):
                self.lower_lnm(name, node)
            elif isinstance(node, N.TimeMix):
                # whole-window here; a streaming target's insert_latency makes it causal (one window late)
                if not all(isinstance(self.g.nodes[c], N.LMHT) for c in self.consumers(name)):
                    raise UnsupportedError("TimeMix must feed LMHT neurons", node=name)
            elif isinstance(node, (N.SumPool2d, N.Flatten)):
                self.out.nodes[name] = node
            elif isinstance(node, N.AvgPool2d):
                self.out.nodes[name] = N.SumPool2d(kernel_size=node.kernel_size, stride=node.stride,
                                                   padding=node.padding, metadata=dict(node.metadata))
            elif isinstance(node, _SYNAPSES):
                consumers = self.consumers(name)
                if not consumers:
                    raise UnsupportedError("synapse without consumer", node=name)
                kinds = {type(self.g.nodes[c]) for c in consumers}
                if kinds == {N.Output}:
                    self.lower_readout(name, node)
                elif not kinds <= _NEURONS | {N.TimeMix}:
                    raise UnsupportedError(
                        f"synapse feeding {sorted(k.__name__ for k in kinds)} is not supported by the integer "
                        "lowering yet", node=name)
                # synapses into neurons are lowered together with their neuron
            elif isinstance(node, N.Output):
                self.out.nodes[name] = node
            else:
                raise UnsupportedError(f"integer lowering of {node.type_name} is not supported yet", node=name,
                                       hint="supported: Linear/Affine/Conv2d, DiscreteLIF (LIF/CubaLIF/IF), "
                                            "pooling, Flatten")
        # keep insertion order of the original graph
        order = [n for n in self.g.nodes if n in self.out.nodes] + [n for n in self.out.nodes if n not in self.g.nodes]
        self.out.nodes = {n: self.out.nodes[n] for n in order}
        self.out.edges += [e for e in self.g.edges if (e.src, e.dst) not in self.rewired]
        for name, node in self.out.nodes.items():
            if isinstance(node, N.Output):
                src = [e.src for e in self.g.in_edges(name)]
                s = self.scale.get(src[0], 1.0) if src else 1.0
                node.metadata["scale"] = np.asarray(s, np.float64)
            if isinstance(node, N.Input):
                node.metadata["scale"] = float(self.scale.get(name, 1.0))
                if node.metadata.get("analog"):
                    node.metadata["max_abs"] = float((1 << (INPUT_BITS - 1)) - 1)  # now in integer units
        return self.out

    def _quantize_synapse(self, name: str, node: N.Node, gain: np.ndarray, S: np.ndarray, sigma: float,
                          shift: int) -> N.Node:
        w = _f(node.weight)
        w_eff = w * gain.reshape((-1,) + (1,) * (w.ndim - 1))
        factor = (S / (sigma * 2 ** shift)).reshape((-1,) + (1,) * (w.ndim - 1))
        w_int = _on_weight_grid(w_eff * factor, self.qmax, self.p.weight_format)
        err = np.abs(w_int / factor - w_eff).max() / max(np.abs(w_eff).max(), 1e-30)
        src_kinds = {self._output_kind(e.src) for e in self.g.in_edges(name)}
        input_kind = "binary" if src_kinds == {"binary"} else "graded"
        self.ctx.note(name, weight_bits=self.p.weight_bits, weight_max_abs=int(np.abs(w_int).max(initial=0)),
                      weight_rel_error=float(err), input_kind=input_kind)
        if isinstance(node, N.Conv2d):
            return IN.IntConv2d(input_shape=node.input_shape, weight=w_int, stride=node.stride, padding=node.padding,
                                dilation=node.dilation, groups=node.groups, bias=None, weight_exp=0,
                                input_kind=input_kind, out_bits=self.p.conv_out_bits,
                                metadata=dict(node.metadata))
        return IN.IntDense(weight=w_int, weight_exp=0, input_kind=input_kind,
                           acc_bits=self.p.dense_acc_bits, out_bits=self.p.dense_out_bits,
                           metadata=dict(node.metadata))

    def _output_kind(self, name: str) -> str:
        node = self.g.nodes[name]
        if isinstance(node, N.DiscreteLIF) and node.v_threshold is not None:
            return "binary"
        if isinstance(node, (N.CLIF, N.RF, N.LNM)):
            return "binary"
        return "graded"

    def lower_readout(self, name: str, node: N.Node) -> None:
        """Synapse straight into an Output: per-tensor scale, no neuron."""
        sigma = self.src_scale(self.g.in_edges(name)[0].src)
        w = _f(node.weight)
        gain = np.ones(w.shape[0])
        S = np.asarray(self.qmax * sigma / max(np.abs(w).max(), 1e-30))
        self.out.nodes[name] = self._quantize_synapse(name, node, gain, np.broadcast_to(S, (w.shape[0],)), sigma, 0)
        b = getattr(node, "bias", None)
        if b is not None and np.any(b):
            raise UnsupportedError("Affine bias in a readout without neuron", node=name)
        self.scale[name] = float(S)

    def _drive(self, name: str, gain_of, *, shift: int, weight_exp: int = 0,
               current_decay=None, per_tensor: bool = False,
               bias_as_input: bool = False, pow2: bool = False) -> tuple[tuple, np.ndarray, dict]:
        """Choose the state scale S (per output row) of neuron ``name`` from its incoming synapses
        and lower those synapses. ``gain_of(n_rows, conv)`` gives the gain folded into the weights;
        ``shift`` is the neuron's own input shift, ``weight_exp`` a left shift applied by the
        synapse to its accumulator. Returns (shape, S, Affine biases by synapse)."""
        shape = self.shapes[name]
        syn = [e.src for e in self.g.in_edges(name)]
        mixes = {}
        for i, s0 in enumerate(syn):          # a TimeMix between synapse and neuron (LM-HT) is looked through
            if isinstance(self.g.nodes[s0], N.TimeMix):
                inner = [e.src for e in self.g.in_edges(s0)]
                if len(inner) != 1:
                    raise UnsupportedError("TimeMix needs exactly one input synapse", node=s0)
                mixes[inner[0]] = s0
                syn[i] = inner[0]
        bad = [s for s in syn if not isinstance(self.g.nodes[s], _SYNAPSES)]
        if bad:
            raise UnsupportedError(f"neuron input from {bad[0]} ({self.g.nodes[bad[0]].type_name}) is not a synapse; "
                                   "the integer lowering needs Linear/Affine/Conv2d before each neuron", node=name)
        for s in syn:
            if len(self.consumers(s)) != 1:
                raise UnsupportedError("synapse feeding several nodes", node=s)
            if len({self.src_scale(e.src) for e in self.g.in_edges(s)}) != 1:
                raise UnsupportedError("synapse inputs with different scales", node=s)
        conv = isinstance(self.g.nodes[syn[0]], N.Conv2d)
        n_rows = shape[0]
        if not conv and len(shape) != 1:
            raise UnsupportedError(f"dense synapse into neurons of shape {shape}", node=name)
        gain = gain_of(n_rows, conv)
        total_shift = shift + weight_exp
        sigmas = {s: self.src_scale(self.g.in_edges(s)[0].src) for s in syn}
        alpha = current_decay
        biases = {s: _f(self.g.nodes[s].bias) for s in syn
                  if getattr(self.g.nodes[s], "bias", None) is not None and np.any(self.g.nodes[s].bias)}
        bias_value = _bias_source_value(sigmas.values())
        # row maxima of |W_eff| over all incoming synapses (and bias columns through the current)
        row_max = np.zeros(n_rows)
        for s in syn:
            w = np.abs(_f(self.g.nodes[s].weight)).reshape(n_rows, -1) * np.abs(gain)[:, None]
            row_max = np.maximum(row_max, w.max(axis=1) / sigmas[s])
            if s in biases and (bias_as_input or (alpha is not None and np.any(alpha))):
                row_max = np.maximum(row_max, np.abs(biases[s] * gain) / bias_value)
        row_max = np.where(row_max > 0, row_max, 1.0)
        if self.p.weight_granularity == "tensor":
            S = np.full(n_rows, self.qmax * 2 ** total_shift / row_max.max())
        else:
            S = self.qmax * 2 ** total_shift / row_max
        if per_tensor or pow2:
            S = np.full(n_rows, S.min())
        if pow2:  # a power-of-two state scale 2**F (LNM's Horner rescales by shifts)
            S = np.full(n_rows, 2.0 ** np.floor(np.log2(S.min())))
        for s in syn:
            q = self._quantize_synapse(s, self.g.nodes[s], gain, S, sigmas[s], total_shift)
            q.weight_exp = weight_exp
            self.out.nodes[s] = q
            if s in mixes:
                tm = self.g.nodes[mixes[s]]
                F = self.p.decay_bits
                window = int(np.shape(tm.coefficients)[0])
                self.out.nodes[mixes[s]] = INN.IntTimeMix(
                    coefficients=np.round(_f(tm.coefficients) * 2 ** F).astype(np.int64), frac_bits=F,
                    metadata=dict(tm.metadata), hw={"whole_window": window})
                self.ctx.note(mixes[s], execution="whole_window", window=window)
            if bias_as_input and s in biases:
                # a constant input current: fed where the synapse's output goes (into the TimeMix
                # for LM-HT, whose mixing then weights it like the rest of the current)
                self._bias_through_current(s, mixes.get(s, name), biases[s] * gain, S, total_shift,
                                           weight_exp=weight_exp, out_shape=self.shapes[s], value=bias_value)
        return shape, S, {"gain": gain, "biases": {} if bias_as_input else biases, "bias_value": bias_value}

    def lower_lif(self, name: str, node: N.DiscreteLIF) -> None:
        alpha = None if node.current_decay is None else _f(node.current_decay)
        shift = INPUT_SHIFT
        shape, S, extra = self._drive(name, lambda n, conv: self.neuron_gain(node, name, n, conv), shift=shift,
                                      current_decay=alpha)
        gain, biases = extra["gain"], extra["biases"]
        S_full = S.reshape((-1,) + (1,) * (len(shape) - 1)) * np.ones(shape)
        D = self.p.decay_bits
        cur = 0 if alpha is None else np.round(np.broadcast_to(alpha, shape) * 2 ** D).astype(np.int64)
        vol = np.round(np.broadcast_to(_f(node.voltage_decay), shape) * 2 ** D).astype(np.int64)
        bias_real = np.zeros(shape) if node.bias is None else np.broadcast_to(_f(node.bias), shape).copy()
        for s, b in biases.items():
            b_rows = b * gain
            b_full = b_rows.reshape((-1,) + (1,) * (len(shape) - 1)) * np.ones(shape)
            if alpha is None or not np.any(alpha):
                bias_real = bias_real + b_full
            else:
                self._bias_through_current(s, name, b_rows, S, shift, out_shape=self.shapes[s],
                                           value=extra["bias_value"])
        bias_int = np.round(bias_real * S_full).astype(np.int64)
        thr = None
        if node.v_threshold is not None:
            thr_real = np.broadcast_to(_f(node.v_threshold), shape)
            m = self.p.threshold_multiple
            thr = (np.round(thr_real * S_full / m) * m).astype(np.int64)
            if node.reset == "zero" and node.v_reset is not None and np.any(node.v_reset):
                raise UnsupportedError("reset to a non-zero v_reset is not supported by the integer lowering",
                                       node=name, field="v_reset")
        if node.v_min is not None:
            raise UnsupportedError("a lower membrane bound (v_min) is not supported by the integer lowering",
                                   node=name, field="v_min")
        if self.p.bias_mantissa_bits is not None:
            bias_int = _representable_bias(bias_int, self.p.bias_mantissa_bits)
        thr_arr = None if thr is None else _compact(thr)
        bits = self.p.state_bits
        lif = IN.IntCubaLIF(
            shape=tuple(shape), current_mult=_compact(cur), voltage_mult=_compact(vol), threshold=thr_arr,
            bias=None if not np.any(bias_int) else _compact(bias_int), input_shift=shift, decay_bits=D,
            arith_bits=self.p.neuron_arith_bits, u_bits=bits,
            u_overflow=self.p.current_overflow or ("wrap" if self.p.state_overflow == "wrap" else "saturate"),
            v_bits=bits, v_overflow="saturate_sym" if self.p.state_overflow == "saturate" else "wrap",
            comparison=node.comparison, reset="none" if thr is None else node.reset,
            metadata={**node.metadata, "scale": S_full.reshape(-1)[0] if np.unique(S).size == 1 else S})
        self.out.nodes[name] = lif
        self.scale[name] = 1.0 if thr is not None else S_full
        self.ctx.note(name, state_bits=bits, decay_bits=D, state_scale=float(S.min()),
                      threshold_rel_error=_rel_err(thr, node.v_threshold, S_full),
                      voltage_decay_error=float(np.abs(vol / 2 ** D - np.broadcast_to(_f(node.voltage_decay),
                                                                                       shape)).max()))

    def lower_lifb(self, name: str, node: N.LIFB) -> None:
        """LIFB -> IntLIFB. The synapse shifts its accumulator left by INPUT_SHIFT (six fractional
        state bits). For the soft-reset count neuron (reset 'subtract', threshold_step = threshold)
        the leak multiplier and the threshold are rounded to multiples of 2**COUNT_ALIGN_BITS, so
        that threshold * leak_mult is a multiple of 2**decay_bits: the precondition of the exact
        LIF-population decoupling (passes.decouple_burst)."""
        def gain_of(n_rows, conv):
            g = np.broadcast_to(_f(1.0 if node.input_gain is None else node.input_gain), self.shapes[name])
            return g.reshape(n_rows, -1)[:, 0]

        shape, S, extra = self._drive(name, gain_of, shift=0, weight_exp=INPUT_SHIFT, bias_as_input=True)
        D = self.p.decay_bits
        S_full = S.reshape((-1,) + (1,) * (len(shape) - 1)) * np.ones(shape)
        theta = np.broadcast_to(_f(node.v_threshold), shape)
        step = theta if node.threshold_step is None else np.broadcast_to(_f(node.threshold_step), shape)
        count_neuron = node.reset == "subtract" and np.allclose(step, theta)
        leak = np.broadcast_to(_f(node.leak), shape)
        align = 1 << COUNT_ALIGN_BITS if count_neuron else 1
        leak_mult = (np.round(leak * 2 ** D / align) * align).astype(np.int64)
        thr = (np.round(theta * S_full / align) * align).astype(np.int64)
        stp = thr if count_neuron else np.round(step * S_full).astype(np.int64)
        amps, q = lifb_payload(node)
        self.out.nodes[name] = INN.IntLIFB(
            shape=tuple(shape), leak_mult=_compact(leak_mult), threshold=_compact(thr), threshold_step=_compact(stp),
            max_burst=int(node.max_burst), amplitudes=amps, decay_bits=D, reset=node.reset,
            comparison=node.comparison, state_bits=self.p.state_bits,
            overflow="saturate" if self.p.state_overflow == "saturate" else "wrap",
            v_min=None if node.v_min is None else _compact(np.round(np.broadcast_to(_f(node.v_min), shape) * S_full)),
            metadata={**node.metadata, "scale": float(S.min()), "payload_scale": q})
        self.scale[name] = float(q)
        self.ctx.note(name, state_bits=self.p.state_bits, decay_bits=D, state_scale=float(S.min()),
                      threshold_rel_error=_rel_err(thr, theta, S_full),
                      leak_error=float(np.abs(leak_mult / 2 ** D - leak).max()), payload_scale=q,
                      decouplable=bool(count_neuron))

    def _unit_gain(self, name):
        return lambda n_rows, conv: np.ones(n_rows)

    def lower_lmht(self, name: str, node: N.LMHT) -> None:
        """LMHT -> IntLMHT (payload k = level count, real value k*theta); TimeMix -> IntTimeMix
        with decay_bits fractional bits."""
        if node.comparison != ">=":
            raise UnsupportedError("LMHT levels are floor(h/theta): comparison must be '>='", node=name,
                                   field="comparison")
        shape, S, extra = self._drive(name, self._unit_gain(name), shift=0, weight_exp=INPUT_SHIFT, per_tensor=True,
                                      bias_as_input=True)
        S0, D = float(S[0]), self.p.decay_bits
        self.out.nodes[name] = INN.IntLMHT(
            shape=tuple(shape), leak_mult=int(round(node.leak * 2 ** D)), threshold=int(round(node.v_threshold * S0)),
            levels=int(node.levels), v_init=int(round(node.v_init * S0)), window=node.window, decay_bits=D,
            state_bits=self.p.state_bits, overflow="saturate" if self.p.state_overflow == "saturate" else "wrap",
            metadata={**node.metadata, "scale": S0})
        self.scale[name] = 1.0 / float(node.v_threshold)
        self.ctx.note(name, state_scale=S0, state_bits=self.p.state_bits,
                      threshold_rel_error=abs(round(node.v_threshold * S0) / S0 - node.v_threshold) / node.v_threshold,
                      leak_error=abs(round(node.leak * 2 ** D) / 2 ** D - node.leak))

    def lower_clif(self, name: str, node: N.CLIF) -> None:
        """CLIF -> IntCLIF: sigmoids as clamped look-up tables (a documented approximation:
        sigma(u/tau) sampled at bucket midpoints over |u/tau| < 8 in 256 buckets; sigma(m) over
        m in [0, 16) in 256 buckets; entries with 12 fractional bits)."""
        shape, S, extra = self._drive(name, self._unit_gain(name), shift=0, weight_exp=INPUT_SHIFT, per_tensor=True,
                                      bias_as_input=True)
        S0, D, L = float(S[0]), self.p.decay_bits, 12
        tau = float(node.tau)
        span = 16 * tau * S0
        u_shift = max(0, int(np.ceil(np.log2(span / 256))))
        u_offset = int(np.floor(-8 * tau * S0 / 2 ** u_shift))
        size = int(np.ceil(span / 2 ** u_shift)) + 1
        centers = ((np.arange(size) + u_offset) * 2.0 ** u_shift + 2.0 ** u_shift / 2) / S0
        lut_u = np.round(_sigmoid(centers / tau) * 2 ** L).astype(np.int64)
        m_frac, m_shift = 12, 8
        m_centers = (np.arange(256) * 2.0 ** m_shift + 2.0 ** (m_shift - 1)) / 2 ** m_frac
        lut_m = np.round(_sigmoid(m_centers) * 2 ** L).astype(np.int64)
        self.out.nodes[name] = INN.IntCLIF(
            shape=tuple(shape), decay_mult=int(round((1 - 1 / tau) * 2 ** D)), threshold=int(round(node.v_threshold
                                                                                                   * S0)),
            lut_u=lut_u, u_shift=u_shift, u_offset=u_offset, lut_m=lut_m, m_shift=m_shift, m_frac_bits=m_frac,
            lut_frac_bits=L, reset_scale=int(round(S0)), decay_bits=D, comparison=node.comparison,
            state_bits=max(self.p.state_bits, self.p.clif_state_bits_min),
            metadata={**node.metadata, "scale": S0})
        self.scale[name] = 1.0
        self.ctx.note(name, state_scale=S0, sigmoid="lut", lut_u_entries=size, lut_m_entries=256)

    def lower_rf(self, name: str, node: N.RF) -> None:
        """RF -> IntComplexDense (both weight parts, accumulators shifted left by INPUT_SHIFT) +
        IntRF (per-neuron complex decay with decay_bits fractional bits). With a readout matrix
        V (S5-RF layer 0, zoh) see :meth:`_lower_rf_readout`."""
        ins = self.g.in_edges(name)
        if len(ins) != 1 or not isinstance(self.g.nodes[ins[0].src], (N.Linear, N.Affine)):
            raise UnsupportedError("RF needs exactly one complex Linear/Affine input", node=name)
        syn_name = ins[0].src
        syn = self.g.nodes[syn_name]
        if getattr(syn, "bias", None) is not None and np.any(syn.bias):
            raise UnsupportedError("complex Affine bias into RF", node=syn_name, field="bias")
        sigma = self.src_scale(self.g.in_edges(syn_name)[0].src)
        w = np.asarray(syn.weight, np.complex128)
        wmax = max(np.abs(w.real).max(), np.abs(w.imag).max(), 1e-30)
        S0 = self.qmax * 2 ** INPUT_SHIFT * sigma / wmax
        factor = S0 / (sigma * 2 ** INPUT_SHIFT)
        q = lambda a: np.clip(np.round(a * factor), -self.qmax, self.qmax).astype(np.int64)  # noqa: E731
        kinds = {self._output_kind(e.src) for e in self.g.in_edges(syn_name)}
        input_kind = "binary" if kinds == {"binary"} else "graded"
        self.ctx.note(syn_name, weight_bits=self.p.weight_bits, input_kind=input_kind)
        D = self.p.decay_bits
        decay = np.broadcast_to(np.asarray(node.decay, np.complex128), self.shapes[name])
        dr, di = np.round(decay.real * 2 ** D).astype(np.int64), np.round(decay.imag * 2 ** D).astype(np.int64)
        mag = np.sqrt(dr.astype(float) ** 2 + di.astype(float) ** 2)
        if np.any(mag >= 2 ** D):
            raise UnsupportedError(f"|decay| rounds to >= 1 at {D} fractional bits (unstable)", node=name,
                                   field="decay", hint="use more decay bits (config decay_bits)")
        decay_error = float(np.abs((dr + 1j * di) / 2 ** D - decay).max())
        if node.readout is not None:
            self._lower_rf_readout(name, node, syn_name, q(w.real), q(w.imag), input_kind, dr, di, S0)
            self.ctx.note(name, decay_error=decay_error)
            return
        self.out.nodes[syn_name] = INN.IntComplexDense(weight_real=q(w.real), weight_imag=q(w.imag),
                                                       weight_exp=INPUT_SHIFT, metadata=dict(syn.metadata))
        self.out.nodes[name] = INN.IntRF(shape=tuple(self.shapes[name]), decay_real=dr, decay_imag=di,
                                         threshold=int(round(node.v_threshold * S0)), decay_bits=D,
                                         comparison=node.comparison, state_bits=self.p.state_bits,
                                         overflow="saturate" if self.p.state_overflow == "saturate" else "wrap",
                                         metadata={**node.metadata, "scale": S0})
        self.scale[name] = 1.0
        self.ctx.note(name, state_scale=S0, decay_error=decay_error)

    def _lower_rf_readout(self, name: str, node: N.RF, syn_name: str, w_re: np.ndarray, w_im: np.ndarray,
                          input_kind: str, dr: np.ndarray, di: np.ndarray, S0: float) -> None:
        """RF with a readout matrix V (y_t = V x_t, spike on Re y_t), in existing integer node
        kinds (every backend runs them); x = (re, im) is carried as one real vector [re; im]:

            {syn}           IntDense [W_re; W_im] (2P x H), weight_exp = INPUT_SHIFT
            {name}.state    IntCubaLIF (2P,), no decay, no threshold: outputs x_t = its input
            {name}.rotation IntDense [[dr, -di], [di, dr]] (diagonal blocks), weight_exp = -D,
                            edge back into {name}.state with delay 1:
                            x_t = in_t + floor(R x_{t-1} / 2**D)    (the complex decay)
            {name}.readout  IntDense [Re Vq, -Im Vq] (P x 2P), Vq = round(V * 2**D),
                            weight_exp = -D:  y_t = floor(Re(Vq x_t) / 2**D)
            {name}          IntCubaLIF (P,), no decay, no reset: s_t = 1[y_t > threshold]
        The rounding differs from IntRF's (one floor per component instead of two rtz
        products); the error is <= 1 LSB per component and step, like IntRF's."""
        shape = tuple(self.shapes[name])
        if len(shape) != 1:
            raise UnsupportedError(f"RF with a readout needs 1-d neurons, got shape {shape}", node=name,
                                   field="readout")
        P = shape[0]
        V = np.asarray(node.readout, np.complex128)
        if V.shape != (P, P):
            raise UnsupportedError(f"readout must be complex[{P}, {P}], got shape {V.shape}", node=name,
                                   field="readout")
        if self.p.weight_format == "lava_dense":
            raise UnsupportedError("an RF readout matrix becomes a recurrent rotation with 12+ bit weights, which "
                                   "Lava's 8-bit Dense cannot hold", node=name, field="readout",
                                   hint="compile for fpga or sim")
        D, bits = self.p.decay_bits, self.p.state_bits
        sat = self.p.state_overflow == "saturate"
        state, rot, ro = f"{name}.state", f"{name}.rotation", f"{name}.readout"
        syn = self.g.nodes[syn_name]
        self.out.nodes[syn_name] = IN.IntDense(weight=np.concatenate([w_re, w_im]), weight_exp=INPUT_SHIFT,
                                               input_kind=input_kind, acc_bits=64, out_bits=64,
                                               metadata=dict(syn.metadata))
        register = dict(current_mult=np.asarray(0, np.int64), voltage_mult=np.asarray(0, np.int64), input_shift=0,
                        decay_bits=D, arith_bits=64, u_bits=bits, u_overflow="saturate" if sat else "wrap",
                        v_bits=bits, v_overflow="saturate_sym" if sat else "wrap", reset="none")
        Dr, Di = np.diag(dr.reshape(-1)), np.diag(di.reshape(-1))
        rotation = np.block([[Dr, -Di], [Di, Dr]]).astype(np.int64)
        Vq = np.round(V * 2 ** D)
        readout = np.concatenate([Vq.real, -Vq.imag], axis=1).astype(np.int64)
        # static bound of |re|, |im| (complex magnitude): |x_t| <= |lq| |x_{t-1}| + |u|max + sqrt(2)
        pm = max(self._payload_bound(e.src) for e in self.g.in_edges(syn_name))
        a_re = np.abs(w_re).sum(axis=1) * pm * 2 ** INPUT_SHIFT
        a_im = np.abs(w_im).sum(axis=1) * pm * 2 ** INPUT_SHIFT
        lam = np.sqrt(dr.astype(float) ** 2 + di.astype(float) ** 2).reshape(-1) / 2 ** D
        bound = float(np.max((np.sqrt(a_re ** 2 + a_im ** 2) + np.sqrt(2)) / (1 - lam)))
        meta = {"rf_state_of": name, "layout": "[re; im]"}
        if np.isfinite(bound):      # proven here; check_ranges cannot follow the rotation loop itself
            meta["state_bound"] = int(np.ceil(bound))
        self.out.nodes[state] = IN.IntCubaLIF(shape=(2 * P,), threshold=None, **register, metadata=meta)
        self.out.nodes[rot] = IN.IntDense(weight=rotation, weight_exp=-D, input_kind="graded", acc_bits=64,
                                          out_bits=64, metadata={"rf_rotation_of": name})
        self.out.nodes[ro] = IN.IntDense(weight=readout, weight_exp=-D, input_kind="graded", acc_bits=64,
                                         out_bits=64, metadata={"rf_readout_of": name})
        self.out.nodes[name] = IN.IntCubaLIF(shape=shape, threshold=np.asarray(int(round(node.v_threshold * S0))),
                                             comparison=node.comparison, **register,
                                             metadata={**node.metadata, "scale": S0})
        delay = next(e.delay for e in self.g.in_edges(name) if e.src == syn_name)
        self.rewired.add((syn_name, name))
        self.out.edges += [Edge(syn_name, state, delay), Edge(state, rot, 0), Edge(rot, state, 1),
                           Edge(state, ro, 0), Edge(ro, name, 0)]
        self.scale[name] = 1.0
        self.ctx.note(name, state_scale=S0, readout="dense", state_bound=bound,
                      readout_error=float(np.abs(Vq / 2 ** D - V).max()))

    def _payload_bound(self, name: str) -> float:
        """Largest |integer value| on the output of an already lowered source node."""
        node = self.g.nodes[name]
        if isinstance(node, N.Input):     # analog: INPUT_BITS-bit samples; else spikes (as check_ranges)
            if node.metadata.get("analog"):
                return float((1 << (INPUT_BITS - 1)) - 1)
            return float(node.metadata.get("max_abs", 1.0))
        if isinstance(node, N.LIFB):
            return float(np.abs(lifb_payload(node)[0]).max())
        if isinstance(node, N.LMHT):
            return float(node.levels)
        if isinstance(node, (N.SumPool2d, N.AvgPool2d)):
            k = pair(node.kernel_size, "kernel_size", name)
            return k[0] * k[1] * max(self._payload_bound(e.src) for e in self.g.in_edges(name))
        if isinstance(node, N.Flatten):
            return max(self._payload_bound(e.src) for e in self.g.in_edges(name))
        if self._output_kind(name) == "binary":
            return 1.0
        return np.inf

    def lower_lnm(self, name: str, node: N.LNM) -> None:
        """LNM -> IntLNM: the state scale is a power of two 2**F (v_real = v / 2**F) so that the
        Horner products rescale by a shift."""
        shape, S, extra = self._drive(name, self._unit_gain(name), shift=0, weight_exp=INPUT_SHIFT, pow2=True,
                                      bias_as_input=True)
        scale = float(S[0])
        F = int(round(np.log2(scale)))
        r = lambda x: int(round(float(x) * scale))  # noqa: E731
        self.out.nodes[name] = INN.IntLNM(
            shape=tuple(shape), coefficients=np.round(_f(node.coefficients) * scale).astype(np.int64), frac_bits=F,
            threshold=r(node.v_threshold), v_reset=r(node.v_reset), v_min=r(node.v_min), v_max=r(node.v_max),
            reset=node.reset, comparison=node.comparison, form=node.form, metadata={**node.metadata, "scale": scale})
        self.scale[name] = 1.0
        self.ctx.note(name, state_scale=scale, frac_bits=F)

    def _bias_through_current(self, syn: str, neuron: str, b_rows: np.ndarray, S: np.ndarray, shift: int, *,
                              weight_exp: int = 0, out_shape: tuple | None = None, value: int = 1) -> None:
        """Feed the per-row constant ``b_rows`` (real units) into ``neuron`` every step, exactly:
        a ConstantSource emitting ``value`` (the real constant 1 at scale ``value``, see
        :func:`_bias_source_value`) and an integer synapse whose weights are the quantized bias
        (a 1x1 conv over a constant map for conv layers). ``shift`` = the total left shift
        between weight units and state units, ``weight_exp`` = the synapse's own part of it."""
        src = f"{syn}.bias_source"
        col = f"{syn}.bias"
        w = _bias_column_weights(np.round(b_rows * S / (value * 2 ** shift)), self.qmax, self.p.weight_format)
        kw = dict(weight_exp=weight_exp, input_kind="binary" if value == 1 else "graded")
        if out_shape is not None and len(out_shape) == 3:
            self.out.nodes[src] = INN.ConstantSource(shape=(1, *out_shape[1:]),
                                                     value=np.full((1, *out_shape[1:]), value, np.int64))
            self.out.nodes[col] = IN.IntConv2d(input_shape=tuple(out_shape[1:]), weight=w.reshape(-1, 1, 1, 1),
                                               stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, bias=None,
                                               out_bits=self.p.conv_out_bits, **kw)
        else:
            self.out.nodes[src] = INN.ConstantSource(shape=(1,), value=np.full(1, value, np.int64))
            self.out.nodes[col] = IN.IntDense(weight=w.reshape(-1, 1), acc_bits=self.p.dense_acc_bits,
                                              out_bits=self.p.dense_out_bits, **kw)
        delay = next((e.delay for e in self.g.edges if e.src == syn and e.dst == neuron), 0)
        self.out.edges.append(Edge(src, col, 0))
        self.out.edges.append(Edge(col, neuron, delay))   # the bias arrives when the synapse's output does


#: upper bound of the value a bias's ConstantSource emits
MAX_BIAS_SOURCE_VALUE = 1 << 16


def _bias_source_value(sigmas) -> int:
    """The integer c a bias column's ConstantSource emits (the real constant 1 at scale c): the
    largest input scale of the neuron's synapses, at least 1 (spikes: 1, unchanged; an 8-bit
    analog input: 127). With c = 1 behind an input of scale sigma > 1, the bias row
    |b| would bound the state scale S a factor sigma below what the weights allow (|W| / sigma),
    leaving the weights only ~qmax / sigma levels."""
    return int(min(max(1, round(max(sigmas, default=1.0))), MAX_BIAS_SOURCE_VALUE))


#: count-neuron LIFB: leak multiplier and threshold are multiples of 2**COUNT_ALIGN_BITS
COUNT_ALIGN_BITS = 6


def lifb_payload(node: N.LIFB) -> tuple[np.ndarray, int]:
    """Integer payloads for the burst amplitudes and their scale q (payload = amplitude * q):
    the smallest power of two up to 256 making every amplitude integral (BrainCog's
    {0, 1, 3, 4.5, ...} -> q = 2), else 256 with rounding."""
    amps = np.arange(node.max_burst + 1, dtype=np.float64) if node.amplitudes is None else _f(node.amplitudes)
    for k in range(9):
        q = 1 << k
        if np.allclose(amps * q, np.round(amps * q), rtol=0, atol=1e-9):
            break
    return np.round(amps * q).astype(np.int64), q


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _compact(a: np.ndarray) -> np.ndarray:
    """A scalar array when all entries agree (per layer), else the full array."""
    a = np.asarray(a, np.int64)
    if a.size and np.all(a == a.reshape(-1)[0]):
        return np.asarray(a.reshape(-1)[0], np.int64)
    return a


def _rel_err(q, real, S) -> float | None:
    if q is None or real is None:
        return None
    r = np.broadcast_to(_f(real), np.shape(S))
    return float(np.abs(q / S - r).max() / max(np.abs(r).max(), 1e-30))


def _on_weight_grid(w: np.ndarray, qmax: int, weight_format: str) -> np.ndarray:
    """Round scaled weights to the profile's weight grid (``TargetProfile.weight_format``):
    'integer': integers in [-qmax, qmax]; 'lava_dense': even integers 2 * [-qmax - 1, qmax]
    (Lava's Dense keeps doubled 8-bit weights unchanged). Returns int64 of w's shape."""
    if weight_format == "lava_dense":
        return (2 * np.clip(np.round(w / 2), -qmax - 1, qmax)).astype(np.int64)
    return np.clip(np.round(w), -qmax, qmax).astype(np.int64)


def _bias_column_weights(w: np.ndarray, qmax: int, weight_format: str) -> np.ndarray:
    """The weights of a bias column (already rounded to integers) on the profile's grid:
    'integer': clipped to [-qmax, qmax]; 'lava_dense': even, clipped to [-2 qmax, 2 qmax]."""
    if weight_format == "lava_dense":
        return np.clip(2 * np.round(w / 2), -2 * qmax, 2 * qmax).astype(np.int64)
    return np.clip(w, -qmax, qmax).astype(np.int64)


def _representable_bias(b: np.ndarray, mantissa_bits: int) -> np.ndarray:
    """Round each bias to the nearest value mant << exp with a signed ``mantissa_bits``-bit
    mantissa (Lava: int16 ``bias_mant``, ``TargetProfile.bias_mantissa_bits``)."""
    top = (1 << (mantissa_bits - 1)) - 1
    b = b.astype(np.int64)
    out = b.copy()
    big = np.abs(b) > top
    if big.any():
        exp = np.ceil(np.log2(np.abs(b[big]) / top)).astype(np.int64)
        out[big] = np.round(b[big] / 2.0 ** exp).astype(np.int64) << exp
    return out


@register_pass("calibrate_inputs", lossless=True)
def calibrate_inputs(graph: Graph, ctx: CompileContext) -> Graph:
    """Mark Input nodes fed with non-integer calibration data as analog, with their range
    (percentile of |x| from the config) in ``metadata['max_abs']``; integer data (spikes) keeps
    scale 1. Without calibration data, Inputs marked ``analog`` by the frontend keep their range."""
    out = graph.copy()
    data = ctx.calibration or {}
    for name in out.input_names():
        if name not in data:
            continue
        x = np.asarray(data[name], np.float64)
        if np.array_equal(x, np.round(x)) and not out.nodes[name].metadata.get("analog"):
            continue
        pct = ctx.config.calibration_percentile
        out.nodes[name].metadata.update(analog=True, max_abs=float(max(np.percentile(np.abs(x), pct), 1e-12)))
        ctx.note(name, analog=True, max_abs=out.nodes[name].metadata["max_abs"])
    return out


@register_pass("lower_integer", lossless=False)
def lower_integer(graph: Graph, ctx: CompileContext) -> Graph:
    """Quantize weights, thresholds, decays and biases; lower to integer nodes."""
    return _Lowering(graph, ctx).run()


@register_pass("insert_latency", lossless=False)
def insert_latency(graph: Graph, ctx: CompileContext) -> Graph:
    """Add the target's synapse latency (Lava: 1 step per connection process).

    Delays are first moved onto synapse outputs (synapses are linear and stateless, so an
    input delay equals an output delay). A synapse output edge on a cycle keeps its delay d >= 1
    (Lava's Dense provides one of those steps, so loop dynamics are unchanged); any other
    synapse output edge gets d + latency. Each node's added shift relative to the float graph
    is stored in ``hw['latency']``, which the runtime uses to align traces.

    LM-HT (the time-window nodes). With p the shift of a node's input:

    * every IntTimeMix becomes streaming: ``latency`` = W (its window), ``phase`` = p; its
      output is shifted by p + W;
    * every IntLMHT gets ``phase`` = p (idle before, window restarts at p + kW).

    Exactness (proof sketch). Let R be this graph without the added latency (edge delays as
    before this pass, IntTimeMix whole-window, IntLMHT phase 0). Claim, by induction in
    evaluation order: a node n of shift l_n outputs at step t >= l_n what R's n outputs at
    step t - l_n, and an IntTimeMix / IntLMHT outputs 0 at t < l_n (a stateless node fed only
    by such nodes, Inputs (shift 0) and zeros, too). Synapses and sums: linear and stateless,
    each edge shifted by the same l (checked below; constant sources are the same at every
    step, so their paths may arrive early). IntTimeMix: its input at p + s is R's at s, for
    s >= 0; it collects windows from p, so window k of its input is R's window k, and the
    mixed window k appears at p + (k + 1) W + i: R's output at kW + i, shifted by p + W.
    IntLMHT: idle (v = v_init, out 0) for t < p, then the same recursion as R's from
    v = v_init on the same inputs, with restarts at p + kW, R's at kW. The pre-roll inputs
    (e.g. bias currents that arrive before the data) are ignored by the idle / collecting
    nodes, and an idle neuron cannot grow to its threshold on them. So Output nodes equal R's
    shifted by their ``hw['latency']``: run T + max latency steps (inputs zero-padded) and
    read steps l .. l + T - 1."""
    lat = ctx.config.profile.synapse_latency
    out = graph.copy()
    if lat == 0:
        return out
    syn_types = (IN.IntDense, IN.IntConv2d, INN.IntComplexDense, N.SumPool2d)
    for name, node in out.nodes.items():
        if not isinstance(node, syn_types):
            continue
        ins = [i for i, e in enumerate(out.edges) if e.dst == name]
        d = max((out.edges[i].delay for i in ins), default=0)
        if d == 0:
            continue
        if len(ins) != 1:
            raise UnsupportedError("a delayed input into a synapse with several inputs", node=name)
        i = ins[0]
        out.edges[i] = Edge(out.edges[i].src, name, 0)
        out.edges = [Edge(e.src, e.dst, e.delay + d) if e.src == name else e for e in out.edges]
    rec = set(out.recurrent_edges())
    final = []
    for e in out.edges:
        if isinstance(out.nodes[e.src], syn_types):
            if e in rec:
                if e.delay < 1:
                    raise UnsupportedError("recurrent loop without delay", node=e.src)
                final.append(e)
            else:
                final.append(Edge(e.src, e.dst, e.delay + lat))
        else:
            final.append(e)
    out.edges = final
    # latency of every node relative to the float graph: longest added shift on its input paths;
    # a node fed only by constant sources (a bias column) is the same at every step
    latency = {n: 0 for n in out.nodes}
    constant = {}
    windowed = (INN.IntTimeMix, INN.IntLMHT)
    import networkx as nx

    dag = nx.DiGraph()
    dag.add_nodes_from(out.nodes)
    dag.add_edges_from((e.src, e.dst) for e in out.edges if e not in rec)
    for name in nx.lexicographical_topological_sort(dag, key=list(out.nodes).index):
        node = out.nodes[name]
        ins = [e for e in out.in_edges(name) if e not in rec]
        arrivals = {}
        for e in ins:
            added = lat if isinstance(out.nodes[e.src], syn_types) else 0
            arrivals[e] = latency[e.src] + added
            latency[name] = max(latency[name], arrivals[e])
        constant[name] = isinstance(node, INN.ConstantSource) or (
            isinstance(node, syn_types) and bool(ins) and all(constant[e.src] for e in ins)
            and len(ins) == len(out.in_edges(name)))
        if isinstance(node, windowed):
            shifts = {arrivals[e] for e in ins if not constant[e.src]}
            if len(shifts) > 1:
                raise UnsupportedError(f"the inputs of this LM-HT node arrive with different latencies "
                                       f"{sorted(shifts)} on {ctx.config.profile.name}, so its windows cannot be "
                                       "aligned with all of them", node=name,
                                       hint="compile for fpga or sim (no synapse latency)")
            p = latency[name]
            if isinstance(node, INN.IntTimeMix):
                w = node.window
                node.latency, node.phase = w, p
                node.hw = {k: v for k, v in node.hw.items() if k != "whole_window"}
                node.hw["streaming_window"] = w
                latency[name] = p + w
                ctx.note(name, execution="streaming", window=w, window_latency=w, phase=p)
            else:
                node.phase = p
                ctx.note(name, phase=p)
    for n, node in out.nodes.items():
        node.hw = {**node.hw, "latency": int(latency[n])}
    return out
