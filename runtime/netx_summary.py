"""What ``snnc inspect`` adds for a lava-dl ``.net`` file: one row per netx layer that builds
neurons, with what a netx user looks for (docs/netx_format.md#what-netx-060-builds): the
layer's index and type, the Lava neuron process (``LIF`` / ``LIFReset`` with its
``reset_interval`` and ``reset_offset``, ``Delta`` / ``SigmaDelta`` / ``Sigma``, ``RF`` /
``RF_IZ``), its threshold and decays as netx stores them, the message bits into the synapse and
out of the neuron (0 = binary spikes), the synaptic delays, and whether the output is spikes or
the membrane ``v`` of a readout that can never fire."""

from __future__ import annotations

import numpy as np

from snnc.ir.graph import Graph


def _first(value) -> int | None:
    if value is None:
        return None
    a = np.asarray(value).reshape(-1)
    return int(a[0]) if a.size else None


def _process(node) -> tuple[str, str]:
    """(Lava process, its parameters in netx's terms) of a neuron node."""
    kind = type(node).__name__
    meta = node.metadata
    if kind == "IntCubaLIF":
        name = "LIF"
        params = (f"iDecay {4096 - _first(node.current_mult)}, vDecay {4096 - _first(node.voltage_mult)}, "
                  + (f"vThMant {_first(node.threshold) >> 6}" if node.threshold is not None else "never fires"))
        if "lava_reset_interval" in meta:
            name = "LIFReset"
            params += f", reset_interval {meta['lava_reset_interval']}, reset_offset {meta['lava_reset_offset']}"
        return name, params
    if kind in ("IntDelta", "IntSigmaDelta"):
        exps = int(node.spike_exp) + int(node.state_exp)
        params = (f"vThMant {_first(node.vth) >> exps}, spike_exp {int(node.spike_exp)}, "
                  f"state_exp {int(node.state_exp)}")
        if kind == "IntSigmaDelta":
            params += f", act {node.act_mode}"
        return kind[3:], params
    if kind == "IntSigma":
        return "Sigma", "accumulates its input"
    if kind == "IntRF":
        return ("RF" if node.spike_rule == "phase" else "RF_IZ"), f"vth {_first(node.threshold)}"
    return meta.get("neuron", kind), ""


def netx_layers(graph: Graph) -> list[dict]:
    """One dict per neuron layer of an imported ``.net`` graph (empty for other graphs)."""
    rows = []
    for name in graph.metadata.get("netx_neurons", []) or []:
        node = graph.nodes[name]
        meta = node.metadata
        process, params = _process(node)
        delays = sorted({e.delay - 1 for e in graph.edges if e.dst == name and e.delay >= 1})   # DelayDense: 1 + d
        readout = getattr(node, "threshold", 0) is None
        bits_in = meta.get("message_bits_in", 0)
        rows.append({
            "node": name, "layer": meta.get("netx_layer"), "type": meta.get("netx_type", ""),
            "shape": tuple(node.shape), "process": process, "params": params,
            "in": "a_in (current)" if meta.get("netx_type") == "input" else
                  ("binary" if bits_in == 0 else f"{bits_in}-bit graded"),
            "out": ("v (readout: never fires)" if readout else
                    ("spikes" if meta.get("message_bits_out", 0) == 0 else f"{meta['message_bits_out']}-bit graded")),
            "delays": delays if any(d > 0 for d in delays) else [],
        })
    return rows


def format_netx_layers(graph: Graph) -> str:
    """The per-layer table of an imported ``.net`` graph, plus the options it was read with;
    '' for other graphs."""
    rows = netx_layers(graph)
    if not rows:
        return ""
    lines = ["netx layers:"]
    for r in rows:
        delay = f"delays {min(r['delays'])}..{max(r['delays'])}" if r["delays"] else "no delay"
        lines.append(f"  layer/{r['layer']:<2} {r['type']:<9} {str(r['shape']):<14} {r['process']:<10} in {r['in']}, "
                     f"out {r['out']}, {delay}; {r['params']}")
    meta = graph.metadata
    notes = []
    if meta.get("netx_skip_layers"):
        notes.append(f"skip_layers {meta['netx_skip_layers']}")
    if meta.get("netx_num_layers"):
        notes.append(f"num_layers {meta['netx_num_layers']}")
    notes.append(f"input: {meta.get('input_kind', '?')}")
    notes.append(f"output: {meta.get('output_kind', '?')}")
    lines.append("  " + ", ".join(notes))
    return "\n".join(lines)
