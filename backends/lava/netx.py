"""Write a lowered integer graph as a lava-dl netx ``.net`` HDF5 file (docs/netx_format.md).

netx builds a *chain*: an input layer (shape only: the first real layer's synapse input is the
network input), then dense / dense_rec / conv layers, each a synapse plus a CUBA LIF population,
with optional flatten layers and per-layer synaptic delays. :func:`write_net` accepts exactly the
graphs netx rebuilds bit-exactly and raises :class:`NotExpressible` (with the reason, which the
emitter puts in its report) for everything else.

What netx does with the numbers, and what this writer therefore stores:

* dense ``weight`` (float32, integer-valued): netx runs ``optimize_weight_bits`` (restated
  below from lava-dl 0.6.0 ``netx/utils.py``) -> ``W << s``, ``num_weight_bits``,
  ``weight_exp = -s``; Lava's Dense then derives each matrix's sign mode, clips and truncates
  (:func:`snnc.ir.netx_rules.lava_clip_truncate`) and shifts the *sum* right by s. The writer replays that
  chain and accepts the layer only if the result is the IR's weight matrix (a ``dense_rec``
  layer's two matrices are optimized jointly, each then clipped under its own sign mode);
* conv ``weight`` (C_out, C_in/groups, kH, kW) torch layout, stride/padding/dilation (y, x):
  netx flips and transposes it for Lava's Conv, which uses it unchanged;
* ``neuron``: type CUBA, ``iDecay = 4096 - current_mult`` (Lava du = iDecay - 1),
  ``vDecay = 4096 - voltage_mult``, ``vThMant = threshold >> 6`` (2**17 for a non-spiking
  readout: never reached), ``bias`` = IR bias / 64 (netx uses ``bias_exp = 6``), per neuron
  (dense: (N,), conv: Lava's (W, H, C));
* ``delay`` (dense only): IR edge delay d -> d - 1 per output neuron (DelayDense adds 1 + d').

The IR's first synapse reads graded input when its ``input_kind`` is 'graded': load the file with
``netx.hdf5.Network(net_config=..., input_message_bits=24)`` (the report says so).
"""

from __future__ import annotations

import h5py
import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.ir.intsdn import IntDelta, IntSigma, IntSigmaDelta
from snnc.ir.netx_rules import (
    GRADED_MESSAGE_BITS,
    LAVA_CONV_OUT_BITS,
    MAX_LAVA_DELAY,
    NET_FILE_EXACT_INT,
    NETX_NEVER_FIRES_VTH,
    lava_clip_truncate,
    lava_sign_mode,
    lava_truncation_bits,
    netx_bias_mant,
    netx_decays,
    netx_vth_mant,
    optimize_weight_bits,
    to_lava_layout,
)
from snnc.ir.shapes import conv_padding, infer_shapes, pair

from . import netx_exact
from .delay_groups import group_consumer
from .netx_exact import NotExpressible, file_weights, plain_dense

#: netx's threshold for neurons that never fire (``1 << 18 - 1`` = 2**17; vth << 6 = 2**23)
NEVER_FIRES_VTH = NETX_NEVER_FIRES_VTH


__all__ = ["NotExpressible", "write_net"]


def netx_optimize_weight_bits(w: np.ndarray) -> tuple[np.ndarray, int, int]:
    """lava-dl 0.6.0 ``netx.utils.optimize_weight_bits`` (:func:`snnc.ir.netx_rules.optimize_weight_bits`):
    (weights << scale_bits, num_weight_bits, weight_exp = -scale_bits). Raises NotExpressible
    where netx would clip (with a warning), fail, or shift left by a negative amount."""
    w = np.asarray(w, np.int64)
    out, nwb, wexp, clipped, problem = optimize_weight_bits(w)
    if clipped:
        raise NotExpressible(f"weights span [{int(w.min())}, {int(w.max())}]: netx clips mixed-sign weights to "
                             "[-256, 254]")
    if problem:
        raise NotExpressible(problem)
    return out, nwb, wexp


def _check_dense_weights(name: str, parts: list[np.ndarray]) -> dict:
    """Replay netx + Lava on the (jointly optimized) matrices; all must come out unchanged."""
    joint = np.hstack(parts) if len(parts) > 1 else parts[0]
    w_out, nwb, wexp = netx_optimize_weight_bits(joint)
    s = -wexp
    col = 0
    for p in parts:
        q = w_out[:, col:col + p.shape[1]]
        col += p.shape[1]
        mode = lava_sign_mode(q)
        if lava_truncation_bits(mode, nwb) < 0:
            raise NotExpressible(f"{name}: netx's num_weight_bits {nwb} exceeds Lava's 8-bit weights")
        eff = lava_clip_truncate(q, mode, nwb)
        if not np.array_equal(eff, np.asarray(p, np.int64) << s):
            bad = np.argwhere(eff != (np.asarray(p, np.int64) << s))[0]
            raise NotExpressible(f"{name}: Lava's Dense would change weight {tuple(int(i) for i in bad)} "
                                 f"({int(p[tuple(bad)])} -> {int(eff[tuple(bad)]) / 2 ** s}) after netx's "
                                 "optimize_weight_bits")
    return {"num_weight_bits": int(nwb), "weight_exp": int(wexp)}


def _neuron_group(layer: list[str], nodes: list[IN.IntCubaLIF], shape: tuple, last: bool) -> dict:
    """netx's neuron group and bias of one population: the layer's neuron plus its bias units
    (appended, 1-d layers only), which must share its decays, threshold and state reset."""
    name, node = layer[0], nodes[0]
    diffs = node.lava_differences()
    if diffs:
        raise NotExpressible(f"{name}: not a Lava LIF ({'; '.join(diffs)})")
    if node.state_reset_interval is not None and len(layer) > 1:
        raise NotExpressible(f"{name}: a state reset on a layer with bias units (netx's LIFReset population would "
                             "reset them too)")
    if node.threshold is None and not last:
        raise NotExpressible(f"{name}: a non-spiking neuron inside the chain")
    biases = [np.broadcast_to(np.asarray(0 if node.bias is None else node.bias, np.int64), shape)]
    for unit_name, unit in zip(layer[1:], nodes[1:]):
        same = (not unit.lava_differences() and unit.never_fires() == node.never_fires()
                and unit.state_reset_interval is None
                and all(np.array_equal(np.unique(getattr(unit, f)), np.unique(getattr(node, f)))
                        for f in ("current_mult", "voltage_mult", "threshold")))
        if not same:
            raise NotExpressible(f"bias unit '{unit_name}' differs from its layer '{name}' (netx has one neuron "
                                 "group per layer)")
        biases.append(np.broadcast_to(np.asarray(0 if unit.bias is None else unit.bias, np.int64), unit.shape))
    bias = np.concatenate(biases) if len(biases) > 1 else biases[0]
    mant = netx_bias_mant(bias)
    if mant is None:
        raise NotExpressible(f"{name}: bias is not a multiple of 64 with an int16 mantissa (netx uses bias_exp 6)")
    decays = netx_decays(int(np.asarray(node.current_mult).reshape(-1)[0]),
                         int(np.asarray(node.voltage_mult).reshape(-1)[0]))
    vth = netx_vth_mant(None if node.never_fires() else int(np.asarray(node.threshold).reshape(-1)[0]))
    group = {"type": "CUBA", **decays, "vThMant": vth, "refDelay": 1, "gradedSpike": 0}
    return {"neuron": group, "bias": mant if np.any(bias) else None}


class _Chain:
    """The netx layers of a graph. Bias units (``metadata['bias_unit_of']``, from the
    ``bias_units`` pass) are appended to their layer: a ConstantSource unit of the Input is an
    extra input channel, a LIF unit an extra neuron of its layer's population; the one-column /
    one-row IntDense nodes between units and layers become entries of the layers' matrices."""

    def __init__(self, graph: Graph):
        if graph.metadata.get("level") != "integer":
            raise NotExpressible("not a lowered integer graph")
        self.g = graph
        self.shapes = infer_shapes(graph)
        self.units: dict[str, list[str]] = {}
        for name, node in graph.nodes.items():
            owner = node.metadata.get("bias_unit_of")
            if owner is not None and isinstance(node, (IN.IntCubaLIF, INN.ConstantSource)):
                self.units.setdefault(owner, []).append(name)
        unit_set = {u for us in self.units.values() for u in us}
        self.extras = {n for n, node in graph.nodes.items() if isinstance(node, IN.IntDense) and (
            any(e.src in unit_set for e in graph.in_edges(n)) or any(e.dst in unit_set for e in graph.out_edges(n)))}
        self.unit_set = unit_set
        self.used: set[str] = set()

    def outs(self, name: str, *, skip_outputs: bool = True):
        return [e for e in self.g.out_edges(name) if not (skip_outputs and isinstance(self.g.nodes[e.dst], N.Output))
                and e.dst not in self.extras]

    def only(self, edges, what: str):
        if len(edges) != 1:
            raise NotExpressible(f"{what}: netx needs a chain (found {len(edges)} edges)")
        return edges[0]

    def population(self, name: str) -> list[str]:
        return [name] + self.units.get(name, [])

    def offsets(self, members: list[str]) -> dict[str, int]:
        out, k = {}, 0
        for m in members:
            out[m] = k
            k += int(np.prod(self.shapes[m]))
        return out

    def merged(self, syn: str, cols: list[str], rows: list[str], delay: int) -> np.ndarray:
        """The synapse ``syn``'s matrix with the bias-unit rows and columns: entries of every extra
        IntDense from a member of ``cols`` into a member of ``rows`` (same delay and formats)."""
        g = self.g
        node = g.nodes[syn]
        w = file_weights(syn, node)
        if len(cols) == 1 and len(rows) == 1:
            return w
        co, ro = self.offsets(cols), self.offsets(rows)
        n_cols = sum(int(np.prod(self.shapes[c])) for c in cols)
        n_rows = sum(int(np.prod(self.shapes[r])) for r in rows)
        if any(len(self.shapes[m]) != 1 for m in cols + rows):
            raise NotExpressible(f"'{syn}': bias units on a layer that is not 1-d")
        full = np.zeros((n_rows, n_cols), np.int64)
        full[:w.shape[0], :w.shape[1]] = w
        for x in sorted(self.extras - self.used):
            (ein,) = g.in_edges(x)
            eouts = g.out_edges(x)
            if ein.src not in co or len(eouts) != 1 or eouts[0].dst not in ro:
                continue
            xn = g.nodes[x]
            if eouts[0].delay != delay or ein.delay or (
                    xn.acc_bits, xn.out_bits) != (node.acc_bits, node.out_bits):
                raise NotExpressible(f"bias column '{x}' differs from its synapse '{syn}' (delay or format)")
            xw = file_weights(x, xn)
            r0, c0 = ro[eouts[0].dst], co[ein.src]
            if np.any(full[r0:r0 + xw.shape[0], c0:c0 + xw.shape[1]]):
                raise NotExpressible(f"bias column '{x}' overlaps the weights of '{syn}'")
            full[r0:r0 + xw.shape[0], c0:c0 + xw.shape[1]] = xw
            self.used.add(x)
        return full

    def layers(self) -> tuple[list[dict], dict]:
        g = self.g
        inputs = g.input_names()
        if len(inputs) != 1:
            raise NotExpressible(f"{len(inputs)} input nodes (netx has one)")
        sdnn = [n for n, node in g.nodes.items() if isinstance(node, (IntDelta, IntSigmaDelta, IntSigma))]
        if sdnn:
            raise NotExpressible(f"sigma-delta (SDNN) node(s) {sdnn[:3]}: snnc writes .net files of CUBA LIF layers "
                                 "only (network.py in the Lava folder runs this network with Lava's own Delta / "
                                 "SigmaDelta / Sigma processes)")
        if str(g.metadata.get("output_kind", "")).startswith("average readout"):
            raise NotExpressible("slayer's 'average' readout layer: netx 0.6.0 does not build it; compile with "
                                 "--num-layers N (the layers before it) to get a .net file")
        for name, node in g.nodes.items():
            if isinstance(node, INN.ConstantSource) and name in self.unit_set:
                continue
            if not isinstance(node, (N.Input, N.Output, N.Flatten, IN.IntDense, IN.IntConv2d, IN.IntCubaLIF)):
                raise NotExpressible(f"node '{name}' ({node.type_name}) has no netx layer type")
        cur = inputs[0]
        channels = self.units.get(cur, [])
        in_shape = tuple(self.shapes[cur])
        if channels and len(in_shape) != 1:
            raise NotExpressible("bias channels on an input that is not 1-d")
        layers = [{"type": "input",
                   "shape": np.asarray((in_shape[0] + len(channels),) if channels else in_shape, np.int64)}]
        info = {"input_message_bits": 0, "output": None, "nodes": [cur] + channels, "populations": [],
                "bias_channels": [{"node": c, "channel": in_shape[0] + i,
                                   "value": int(np.asarray(g.nodes[c].value).reshape(-1)[0])}
                                  for i, c in enumerate(channels)]}
        flatten_pending = False
        rec_synapses: set[str] = set()
        prev = cur
        neuron0 = self.input_neuron(cur)
        if neuron0 is not None:
            if channels:
                raise NotExpressible("bias channels on an input layer with a neuron")
            layers[0].update(self.input_layer(neuron0))
            info["populations"].append(self.population(neuron0))
            info["nodes"] += self.population(neuron0)
            cur = prev = neuron0
        while True:
            outs = [e for e in self.outs(cur) if e.dst not in rec_synapses]
            if not outs:
                break
            if cur != inputs[0] and any(isinstance(g.nodes[e.dst], N.Output) for e in g.out_edges(cur)):
                raise NotExpressible(f"'{cur}' feeds an Output inside the chain (netx exposes only the last layer)")
            group = [x.dst for x in outs] if len(outs) > 1 and self.delay_group(outs) else None
            e = outs[0] if group else self.only(outs, f"'{cur}'")
            if e.delay != 0:
                raise NotExpressible(f"edge {e.src} -> {e.dst} has delay {e.delay} before a synapse")
            nxt = g.nodes[e.dst]
            if isinstance(nxt, N.Flatten):
                if len(self.shapes[e.dst]) != 1 or len(g.in_edges(e.dst)) != 1:
                    raise NotExpressible(f"'{e.dst}': netx flattens everything into one axis")
                if self.units.get(cur):
                    raise NotExpressible(f"bias units of '{cur}' before a flatten")
                layers.append({"type": "flatten", "shape": np.asarray(self.shapes[e.dst], np.int64)})
                flatten_pending = True
                cur = e.dst
                info["nodes"].append(cur)
                continue
            if not isinstance(nxt, (IN.IntDense, IN.IntConv2d)):
                raise NotExpressible(f"'{e.dst}' ({nxt.type_name}) after '{cur}': netx needs a dense/conv synapse")
            if len(g.in_edges(e.dst)) != 1:
                raise NotExpressible(f"synapse '{e.dst}' has several inputs")
            first = len(layers) == 1 or (flatten_pending and len(layers) == 2)
            layer, neuron = self.layer(group or [e.dst], first, self.population(prev))
            layer["_neuron"] = neuron
            if first and (nxt.input_kind == "graded" or any(c["value"] != 1 for c in info["bias_channels"])):
                info["input_message_bits"] = GRADED_MESSAGE_BITS
            if flatten_pending and not isinstance(nxt, IN.IntDense):
                raise NotExpressible("netx flattens only into a dense layer")
            flatten_pending = False
            layers.append(layer)
            info["populations"].append(self.population(neuron))
            info["nodes"] += (group or [e.dst]) + self.population(neuron) + ([layer["_rec"]] if "_rec" in layer else [])
            rec_synapses.update([layer["_rec"]] if "_rec" in layer else [])
            cur = prev = neuron
        last = g.nodes[cur]
        if not isinstance(last, IN.IntCubaLIF):
            raise NotExpressible("the chain does not end in a neuron layer")
        outputs = [e.dst for e in g.out_edges(cur) if isinstance(g.nodes[e.dst], N.Output)]
        if not outputs or any(e.delay for e in g.out_edges(cur) if e.dst in outputs):
            raise NotExpressible("the last layer must feed an Output without delay")
        unused = sorted(self.extras - self.used)
        if unused:
            raise NotExpressible(f"bias column(s) {unused} fit no layer's synapse")
        covered = set(info["nodes"]) | set(outputs) | self.extras
        missing = [n for n in g.nodes if n not in covered]
        if missing:
            raise NotExpressible(f"node(s) {missing} are not on the chain")
        info["reset"] = netx_exact.netx_reset([g.nodes[p[0]] for p in info["populations"]])
        info["output"] = ("spikes (s_out)" if last.threshold is not None
                          else "membrane v of the last layer (never spikes)")
        return layers, info

    def input_neuron(self, inp: str) -> str | None:
        """netx's input layer with a neuron: the Input drives one LIF's ``a_in`` (edge delay 0)."""
        outs = self.outs(inp)
        if len(outs) == 1 and outs[0].delay == 0 and isinstance(self.g.nodes[outs[0].dst], IN.IntCubaLIF):
            return outs[0].dst
        return None

    def input_layer(self, name: str) -> dict:
        """Neuron group (and netx's unused input transform, kept from an import) of an input
        layer with a neuron. Its bias is netx's ``Network(input_bias=...)``, not a file field."""
        node = self.g.nodes[name]
        if node.bias is not None and np.any(node.bias):
            raise NotExpressible(f"'{name}': the input neuron's bias is netx's input_bias option, not a .net field "
                                 "(compile without --input-bias and pass input_bias to netx.hdf5.Network)")
        group = _neuron_group(self.population(name), [self.g.nodes[n] for n in self.population(name)],
                              tuple(self.shapes[name]), last=False)
        out = {"neuron": group["neuron"]}
        for key, value in dict(self.g.metadata.get("netx_input_transform") or {}).items():
            if key in ("weight", "bias"):
                out[key] = np.asarray(value, np.float32)
        return out

    def delay_group(self, outs) -> bool:
        """``outs`` are the per-delay IntDense parts of one netx DelayDense (the import's form):
        each reads only this node and feeds one and the same neuron population
        (:func:`.delay_groups.group_consumer`, shared with the process-network planner)."""
        consumer = group_consumer(self.g, [e.dst for e in outs], self.extras)
        return consumer is not None and isinstance(self.g.nodes[consumer], IN.IntCubaLIF)

    def exact_dense(self, syns: list[str], e, cols: list[str], rows: list[str], rec: list) -> dict:
        """Fields of a dense layer in the import's form (per-delay parts, netx-scaled weights with
        ``weight_exp``): :func:`.netx_exact.dense_fields`."""
        g = self.g
        if len(rows) > 1 or len(cols) > 1:
            raise NotExpressible(f"'{syns[0]}': bias units on a delayed or netx-scaled dense layer")
        forward = []
        for s in syns:
            outs = [x for x in g.out_edges(s) if x.dst not in self.extras]
            if len(outs) != 1 or outs[0].dst != e.dst:
                raise NotExpressible(f"'{s}': a delayed synapse that does not feed '{e.dst}'")
            forward.append((g.nodes[s], outs[0].delay))
        rnode = None
        layer: dict = {}
        if rec:
            r = self.only(rec, f"'{e.dst}' inputs")
            rnode = g.nodes[r.src]
            ok = (isinstance(rnode, IN.IntDense) and r.delay == 1
                  and [(x.src, x.delay) for x in g.in_edges(r.src)] == [(e.dst, 0)]
                  and [x.dst for x in g.out_edges(r.src)] == [e.dst])
            if not ok:
                raise NotExpressible(f"'{e.dst}': a second input that is not a netx recurrent dense ({r.src})")
            layer["_rec"] = r.src
        graded = g.nodes[syns[0]].input_kind == "graded"
        fields = netx_exact.dense_fields(syns[0], forward, rnode, graded)
        w = fields["weight"]
        layer.update({"type": "dense_rec" if rnode is not None else "dense", "weight": w.astype(np.float32),
                      "inFeatures": w.shape[1], "outFeatures": w.shape[0],
                      "_check": {"replayed": "netx optimize_weight_bits + Lava Dense give the graph's synapses"}})
        if "weight_rec" in fields:
            layer["weight_rec"] = fields["weight_rec"].astype(np.float32)
        if "delay" in fields:
            layer["delay"] = fields["delay"].astype(np.float32)
        return layer

    def layer(self, syns: list[str], first: bool, cols: list[str]) -> tuple[dict, str]:
        g = self.g
        syn = syns[0]
        node = g.nodes[syn]
        e = self.only([x for x in g.out_edges(syn) if x.dst not in self.extras], f"synapse '{syn}'")
        neuron = g.nodes[e.dst]
        if not isinstance(neuron, IN.IntCubaLIF):
            raise NotExpressible(f"synapse '{syn}' feeds {neuron.type_name}, not a CUBA LIF")
        d = e.delay
        rows = self.population(e.dst)
        shape = tuple(self.shapes[e.dst])
        if len(rows) > 1:
            shape = (sum(int(np.prod(self.shapes[r])) for r in rows),)
        last = not self.outs(e.dst)
        layer: dict = {}
        rec = [x for x in g.in_edges(e.dst) if x.src not in syns and x.src not in self.extras]
        # the plain dense path writes weight >> -weight_exp (snnc's loihi2 quantizer: an 8-bit
        # mantissa with a weight_exp); other formats (an imported .net: odd or clipped weights,
        # graded inputs, several delayed parts) are replayed through netx exactly
        netx_form = isinstance(node, IN.IntDense) and (len(syns) > 1 or any(
            isinstance(g.nodes[n], IN.IntDense) and not plain_dense(g.nodes[n])
            for n in syns + [x.src for x in rec]))
        if netx_form:
            layer.update(self.exact_dense(syns, e, cols, rows, rec))
            layer["shape"] = np.asarray(shape, np.int64)
        elif isinstance(node, IN.IntDense):
            if node.acc_bits != 32 or node.out_bits != 32:
                raise NotExpressible(f"'{syn}': acc_bits/out_bits differ from netx's Dense")
            if not 1 <= d <= MAX_LAVA_DELAY + 1:
                raise NotExpressible(f"'{syn}': delay {d} outside 1..{MAX_LAVA_DELAY + 1}")
            parts = [self.merged(syn, cols, rows, d)]
            if rec:
                r = self.only(rec, f"'{e.dst}' inputs")
                rnode = g.nodes[r.src]
                ok = (isinstance(rnode, IN.IntDense) and r.delay == d and rnode.weight_exp <= 0
                      and [(x.src, x.delay) for x in g.in_edges(r.src)] == [(e.dst, 0)]
                      and [x.dst for x in g.out_edges(r.src)] == [e.dst] and rnode.acc_bits == 32
                      and rnode.out_bits == 32)
                if not ok:
                    raise NotExpressible(f"'{e.dst}': a second input that is not a netx recurrent dense "
                                         f"({r.src})")
                if d > 1:
                    raise NotExpressible(f"'{e.dst}': a recurrent dense with delay {d}: netx 0.6.0's RecurrentDense "
                                         "hands the forward delay matrix to the recurrent synapse and fails")
                parts.append(self.merged(r.src, rows, rows, r.delay))
                layer["_rec"] = r.src
            check = _check_dense_weights(syn, parts)
            layer.update({"type": "dense_rec" if rec else "dense", "shape": np.asarray(shape, np.int64),
                          "weight": parts[0].astype(np.float32), "inFeatures": parts[0].shape[1],
                          "outFeatures": parts[0].shape[0], "_check": check})
            if rec:
                layer["weight_rec"] = parts[1].astype(np.float32)
            if d > 1:
                layer["delay"] = np.full(shape[0], d - 1, np.float32)
        else:
            if rec:
                raise NotExpressible(f"'{e.dst}' has several inputs")
            if len(rows) > 1 or len(cols) > 1:
                raise NotExpressible(f"'{syn}': bias units on a conv layer")
            if d != 1:
                raise NotExpressible(f"'{syn}': conv layers have no delay in netx (edge delay {d})")
            if node.weight_exp != 0 or node.bias is not None or node.out_bits != LAVA_CONV_OUT_BITS:
                raise NotExpressible(f"'{syn}': weight_exp/bias/out_bits differ from Lava's Conv")
            w = np.asarray(node.weight, np.int64)
            if np.abs(w).max() >= NET_FILE_EXACT_INT:
                raise NotExpressible(f"'{syn}': weights beyond float32's exact integers")
            in_shape = tuple(self.shapes[g.in_edges(syn)[0].src])
            pad = conv_padding(node, in_shape[1:], syn)
            layer.update({"type": "conv", "shape": np.asarray(shape, np.int64), "weight": w.astype(np.float32),
                          "stride": np.asarray(pair(node.stride, "stride", syn), np.int64),
                          "padding": np.asarray(pad, np.int64),
                          "dilation": np.asarray(pair(node.dilation, "dilation", syn), np.int64),
                          "groups": int(node.groups), "inChannels": int(w.shape[1] * node.groups),
                          "outChannels": int(w.shape[0]), "kernelSize": np.asarray(w.shape[2:], np.int64)})
        group = _neuron_group(rows, [g.nodes[r] for r in rows], tuple(self.shapes[e.dst]), last)
        layer["neuron"] = group["neuron"]
        if group["bias"] is not None:
            b = group["bias"]
            layer["bias"] = (to_lava_layout(b, shape) if len(shape) > 1 else b).astype(np.float32)
        return layer, e.dst


def write_net(graph: Graph, path: str) -> dict:
    """Write ``graph`` as a netx ``.net`` file; returns what the report needs (how to load it,
    what its output is). Raises NotExpressible when netx cannot build it exactly."""
    layers, info = _Chain(graph).layers()
    with h5py.File(path, "w") as f:
        root = f.create_group("layer")
        for i, layer in enumerate(layers):
            grp = root.create_group(str(i))
            grp.create_dataset("type", data=np.array([layer["type"].encode("ascii")], dtype="S10"))
            for key, value in layer.items():
                if key in ("type", "neuron") or key.startswith("_"):
                    continue
                grp.create_dataset(key, data=value)
            if "neuron" in layer:
                ng = grp.create_group("neuron")
                for key, value in layer["neuron"].items():
                    if key == "type":
                        ng.create_dataset("type", data=np.array([value.encode("ascii")], dtype="S10"))
                    else:
                        ng.create_dataset(key, data=value)
    summary = []
    for layer in layers:
        row = {k: (v.tolist() if isinstance(v, np.ndarray) and v.size <= 4 else
                   (list(v.shape) if isinstance(v, np.ndarray) else v))
               for k, v in layer.items() if not k.startswith("_") and k not in ("weight", "weight_rec", "bias")}
        row.update({"node": layer.get("_neuron"), "weights": layer.get("_check")})
        summary.append({k: v for k, v in row.items() if v is not None})
    return {"written": True, "layers": summary, "input_message_bits": info["input_message_bits"],
            "neurons": [layer["_neuron"] for layer in layers if "_neuron" in layer],
            "populations": info["populations"], "bias_channels": info["bias_channels"],
            "netx_options": dict(info["reset"] or {}),
            "output": info["output"],
            "load": ("from lava.lib.dl import netx; net = netx.hdf5.Network(net_config='network.net'"
                     + (f", input_message_bits={info['input_message_bits']}" if info["input_message_bits"] else "")
                     + "".join(f", {k}={v}" for k, v in (info["reset"] or {}).items())
                     + "); connect a RingBuffer to net.inp"
                     + "".join(f"; drive input channel {c['channel']} with {c['value']} at every step (bias "
                               f"channel '{c['node']}')" for c in info["bias_channels"])),
            "notes": ("graded first layer: Lava's int32 dot runs on the netx-scaled weights, so it wraps "
                      "2**weight_exp earlier than the IR (no difference unless |acc| nears 2**31)")
            if info["input_message_bits"] else ""}
