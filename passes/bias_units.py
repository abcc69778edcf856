"""Pass ``bias_units`` (loihi2): constant bias inputs as netx "bias units", exactly.

The integer lowering feeds a constant current (an Affine bias into a decaying synaptic current,
or a bias on recurrent weights) through a ``ConstantSource`` and a one-column ``IntDense``
(:func:`snnc.passes.lowering.synapses.bias_through_current`). netx has no constant source, but
it has what deep-learning exports have always used instead, *bias units*: an input channel that
is always on, or a neuron of the layer before that fires at every step. This pass replaces each
hidden-layer ``ConstantSource`` by such a neuron; the ``.net`` writer then appends the units to
their layers (an extra row of the layer's population, an extra column of the next synapse).

A bias column B (weights b, fed by a constant c) arrives at neuron N with edge delay d_B (the
first arrival is step d_B: the constant is on from step 0). It is re-attached to one of N's
dense synapses X (forward from the layer before, or recurrent from N itself), of delay d_X, as
a column from a unit U of X's source layer L that fires at every step t >= s = d_B - d_X:

* L is the network Input, s = 0: the ConstantSource stays, marked as the input's bias channel
  (``metadata['bias_unit_of']``); the ``.net`` input gets one more channel, driven with c;
* L is a spiking Lava LIF layer, s = 0: U is a copy of L's neuron (same decays, threshold,
  formats, state reset) with zero inputs and bias ``(vth // 64 + 1) * 64`` > vth: v = bias
  after every reset, so it fires at every step from step 0;
* s > 0 (the bias on recurrent weights, which starts a step later): U has bias 0 and one input,
  weight w from a unit of the layer before L that fires from s - d_L (recursively), with the
  smallest even w whose current ``w * c' << 6`` exceeds vth: from step s on u >= w c' << 6 > vth
  (u never decays below its newest input; the fixed point ``a 2**12 / (2**12 - current_mult)``
  must stay below Lava's 24-bit wrap), so v = u > vth after every reset; before s, u = v = 0.

Only B's source and delay change (the column's weights b stay), and a constant needs c = 1 for a
neuron unit (a neuron emits 1). So every original node computes exactly what it computed before
(equal traces on every node; tests/passes/test_bias_units.py checks it on random inputs); the
units are new nodes named ``<layer>.bias_unit<s>``. A constant the rules above cannot place
stays a ConstantSource, and the ``.net`` writer says why it skipped the file.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.graph import Edge, Graph
from snnc.ir.netx_rules import (
    BIAS_MANT_MAX,
    NETX_BIAS_EXP,
    VTH_SHIFT,
)

from .pipeline import CompileContext, register_pass

#: Lava's 24-bit current: |u| must stay below 2**23 (it wraps beyond)
_U_LIMIT = 1 << 23
#: the largest weight on Lava's doubled 8-bit grid
_W_MAX = 254


class _Refused(Exception):
    """This constant cannot become a bias unit (the message says why)."""


def _lif_layer(g: Graph, name: str) -> IN.IntCubaLIF:
    node = g.nodes[name]
    if not isinstance(node, IN.IntCubaLIF) or node.never_fires() or node.lava_differences():
        raise _Refused(f"'{name}' is not a spiking Lava LIF layer")
    if len(node.shape) != 1:
        raise _Refused(f"'{name}' is not a dense (1-d) population")
    return node


def _dense_inputs(g: Graph, neuron: str, skip: set[str]) -> list[tuple[str, str, int]]:
    """(synapse, source layer, delay) of the IntDense synapses feeding ``neuron`` (not the bias
    columns in ``skip``), each with one input edge without delay."""
    out = []
    for e in g.in_edges(neuron):
        syn = g.nodes[e.src]
        if e.src in skip or not isinstance(syn, IN.IntDense):
            continue
        ins = g.in_edges(e.src)
        if len(ins) == 1 and ins[0].delay == 0:
            out.append((e.src, ins[0].src, e.delay))
    return out


class _Builder:
    def __init__(self, g: Graph, columns: set[str]):
        self.g = g
        self.columns = columns                  # bias columns (never a layer's own synapse)
        self.units: dict[tuple[str, int], str] = {}

    def unit(self, layer: str, start: int, value: int) -> str:
        """A node of ``layer``'s population that emits ``value`` at every step >= ``start``."""
        g = self.g
        key = (layer, start)
        if key in self.units:
            return self.units[key]
        node = g.nodes[layer]
        if isinstance(node, N.Input):
            if start != 0:
                raise _Refused(f"a bias starting at step {start} behind the input (an input channel is on from "
                               "step 0)")
            name = f"{layer}.bias_channel"
            g.nodes[name] = INN.ConstantSource(shape=(1,), value=np.ones(1, np.int64),
                                               metadata={"bias_unit_of": layer}, hw={"latency": 0})
            self.units[key] = name
            return name
        if value != 1:
            raise _Refused(f"a constant {value} into a synapse fed by spikes (a bias neuron emits 1)")
        lif = _lif_layer(g, layer)
        thr = int(np.asarray(lif.threshold).reshape(-1)[0])
        name = f"{layer}.bias_unit{start}"
        fwd = [(s, src, d) for s, src, d in _dense_inputs(g, layer, self.columns) if src != layer]
        if len(fwd) != 1:
            raise _Refused(f"'{layer}' has {len(fwd)} forward dense synapses (a bias unit needs one: its row)")
        syn, src, d = fwd[0]
        ref = g.nodes[syn]
        if start == 0:
            mant = (thr >> NETX_BIAS_EXP) + 1
            if mant > BIAS_MANT_MAX:
                raise _Refused(f"'{layer}': threshold {thr} leaves no int16 bias mantissa above it")
            g.nodes[name] = _copy_lif(lif, bias=mant << NETX_BIAS_EXP)
            # its row of the layer's synapse: zero weights from the layer before
            row = f"{name}.row"
            g.nodes[row] = IN.IntDense(weight=np.zeros((1, np.shape(ref.weight)[1]), np.int64), weight_exp=0,
                                       input_kind=ref.input_kind, acc_bits=ref.acc_bits, out_bits=ref.out_bits,
                                       hw={"latency": int(ref.hw.get("latency", 0))})
            self.columns.add(row)
            g.edges += [Edge(src, row, 0), Edge(row, name, d)]
        else:
            if start - d < 0:
                raise _Refused(f"a bias unit in '{layer}' from step {start} is earlier than its synapse's delay {d}")
            driver = self.unit(src, start - d, 1)
            c = int(np.asarray(g.nodes[driver].value).reshape(-1)[0]) if isinstance(
                g.nodes[driver], INN.ConstantSource) else 1
            w = (thr >> VTH_SHIFT) // c + 1
            w += w % 2
            a = (w * c) << VTH_SHIFT
            cm = int(np.asarray(lif.current_mult).reshape(-1)[0])
            if w > _W_MAX or cm >= 1 << lif.decay_bits or a * (1 << lif.decay_bits) // (
                    (1 << lif.decay_bits) - cm) >= _U_LIMIT:
                raise _Refused(f"'{layer}': no 8-bit weight drives a bias unit over threshold {thr} without "
                               "wrapping its current")
            g.nodes[name] = _copy_lif(lif, bias=None)
            col = f"{name}.drive"
            g.nodes[col] = IN.IntDense(weight=np.full((1, 1), w, np.int64), weight_exp=0,
                                       input_kind="binary" if c == 1 else "graded", acc_bits=ref.acc_bits,
                                       out_bits=ref.out_bits)
            self.columns.add(col)
            g.edges += [Edge(driver, col, 0), Edge(col, name, d)]
            g.nodes[col].hw = {"latency": int(g.nodes[syn].hw.get("latency", 0))}
        g.nodes[name].metadata["bias_unit_of"] = layer
        g.nodes[name].hw = {"latency": int(node.hw.get("latency", 0))}
        self.units[key] = name
        return name


def _copy_lif(lif: IN.IntCubaLIF, bias) -> IN.IntCubaLIF:
    return IN.IntCubaLIF(shape=(1,), current_mult=np.asarray(np.asarray(lif.current_mult).reshape(-1)[0]),
                         voltage_mult=np.asarray(np.asarray(lif.voltage_mult).reshape(-1)[0]),
                         threshold=np.asarray(np.asarray(lif.threshold).reshape(-1)[0]),
                         bias=None if bias is None else np.asarray(bias, np.int64),
                         input_shift=lif.input_shift, decay_bits=lif.decay_bits, arith_bits=lif.arith_bits,
                         u_bits=lif.u_bits, u_overflow=lif.u_overflow, v_bits=lif.v_bits, v_overflow=lif.v_overflow,
                         comparison=lif.comparison, reset=lif.reset, state_reset_interval=lif.state_reset_interval,
                         state_reset_phase=lif.state_reset_phase)


def _bias_column(g: Graph, src: str) -> tuple[str, str, int, int] | None:
    """(column, neuron, delay, value) when ConstantSource ``src`` feeds one IntDense column that
    feeds one 1-d IntCubaLIF, else None."""
    k = g.nodes[src]
    outs = g.out_edges(src)
    if np.asarray(k.value).size != 1 or len(outs) != 1 or outs[0].delay:
        return None
    col = outs[0].dst
    node = g.nodes[col]
    if not isinstance(node, IN.IntDense) or np.shape(node.weight)[1] != 1 or len(g.in_edges(col)) != 1:
        return None
    nxt = g.out_edges(col)
    if len(nxt) != 1 or not isinstance(g.nodes[nxt[0].dst], IN.IntCubaLIF):
        return None
    return col, nxt[0].dst, nxt[0].delay, int(np.asarray(k.value).reshape(-1)[0])


def bias_units(graph: Graph) -> tuple[Graph, dict[str, str]]:
    """Replace every ConstantSource bias that the rules of the module docstring can place by bias
    units. Returns the new graph and {constant source: what became of it} for the report."""
    g = graph.copy()
    found = {s: _bias_column(g, s) for s, n in g.nodes.items() if isinstance(n, INN.ConstantSource)}
    columns = {f[0] for f in found.values() if f is not None}
    b = _Builder(g, columns)
    notes = {src: "kept: not a one-column bias into a LIF" for src, f in found.items() if f is None}

    def behind_input(item) -> bool:
        return any(isinstance(g.nodes[layer], N.Input) and d == item[1][2]
                   for _, layer, d in _dense_inputs(g, item[1][1], columns))

    # input channels first, so that delayed units reuse them as drivers
    todo = sorted(((s, f) for s, f in found.items() if f is not None), key=lambda it: not behind_input(it))
    for src, f in todo:
        col, neuron, d_b, value = f
        reasons = []
        for syn, layer, d_x in sorted(_dense_inputs(g, neuron, columns), key=lambda t: t[1] == neuron):
            trial = g.copy()
            b.g, saved = trial, dict(b.units)
            try:
                if isinstance(trial.nodes[layer], N.Input):
                    if d_b != d_x:
                        raise _Refused(f"a bias starting at step {d_b - d_x} behind the input")
                    trial.nodes[src].metadata["bias_unit_of"] = layer
                    if value == 1:
                        b.units.setdefault((layer, 0), src)
                    notes[src] = f"input bias channel of '{layer}' (value {value})"
                else:
                    unit = b.unit(layer, d_b - d_x, value) if d_b >= d_x else None
                    if unit is None:
                        raise _Refused(f"the bias arrives before synapse '{syn}' delivers")
                    trial.edges = [e for e in trial.edges if e.src != src and e.dst != col and e.src != col]
                    trial.edges += [Edge(unit, col, 0), Edge(col, neuron, d_x)]
                    del trial.nodes[src]
                    notes[src] = f"bias unit '{unit}' (column '{col}' of '{syn}')"
                g = trial
                break
            except _Refused as exc:
                b.units = saved
                reasons.append(f"via '{syn}': {exc}")
        else:
            notes[src] = "kept: " + ("; ".join(reasons) or "no dense synapse into the neuron")
        b.g = g
    return g, notes


@register_pass("bias_units", lossless=True)
def _bias_units(graph: Graph, ctx: CompileContext) -> Graph:
    """ConstantSource biases -> netx bias units (an always-on input channel or neuron), exactly."""
    out, notes = bias_units(graph)
    for src, what in notes.items():      # on the bias column (the constant source may be gone)
        col = next((e.dst for e in graph.out_edges(src)), src)
        ctx.note(col, bias_unit=f"constant '{src}': {what}")
    return out
