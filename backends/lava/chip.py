"""Which nodes of a Lava plan run on a Loihi 2 chip (docs/netx_format.md#what-runs-on-a-loihi-2-chip).

A node runs on the chip when every Lava process realizing it has a chip (Nc) process model:
``LIF``, ``LIFReset``, ``Dense``, ``DelayDense``, ``Sparse``, ``DelaySparse``, ``Conv``,
``Sigma``, ``Delta``, ``SigmaDelta``, ``RFZero``. snnc's custom ``Snnc*`` processes (and Lava's
``RF`` / ``RF_IZ``) have Python models only: under ``Loihi2HwCfg`` Lava runs them on the host
CPU, and a chip version would need hand-written neuron microcode. ``RingBuffer`` sources (the
network input, an input bias channel) are host I/O, which feeds a chip through its input
adapters. An edge's ``SnncDelay`` line counts against the edge's source node.
"""

from __future__ import annotations

from .plan import LavaPlan

#: Lava processes with a Loihi 2 chip process model
CHIP_PROCESSES = frozenset({"LIF", "LIFReset", "Dense", "DelayDense", "Sparse", "DelaySparse", "Conv", "Sigma",
                            "Delta", "SigmaDelta", "RFZero"})
#: host input/output processes (not neurocore processes, not a CPU fallback either)
HOST_IO_PROCESSES = frozenset({"RingBuffer"})

CHIP, CPU_ONLY, HOST_IO = "chip", "cpu-only", "host-io"


def chip_status(plan: LavaPlan) -> dict:
    """Per node: ``chip``, ``cpu-only`` or ``host-io``, the Lava processes and, for cpu-only
    nodes, why (the planner's note); plus the model's verdict: ``chip`` when no node is
    cpu-only. Returns ``{"verdict", "cpu_only": [node, ...], "nodes": {node: {...}}}``."""
    procs: dict[str, list] = {}
    for p in plan.procs.values():
        node = p.node
        if node is None and p.cls == "SnncDelay":                 # key '<source proc>.<port>.delay<d>'
            src = plan.procs.get(p.key.split(".delay")[0].rsplit(".", 1)[0])
            node = src.node if src is not None else None
        for n in ([node] if node is not None else []) + list(p.merged):
            procs.setdefault(n, []).append(p)
    nodes = {}
    for node, ps in procs.items():
        classes = [p.cls for p in ps]
        if all(c in HOST_IO_PROCESSES for c in classes):
            runs = HOST_IO
        elif all(c in CHIP_PROCESSES or c in HOST_IO_PROCESSES for c in classes):
            runs = CHIP
        else:
            runs = CPU_ONLY
        entry = {"runs_on": runs, "lava": sorted(set(classes))}
        if runs == CPU_ONLY:
            entry["why"] = "; ".join(sorted({(f"{p.cls}: {p.note}" if p.note else p.cls) for p in ps
                                             if p.cls not in CHIP_PROCESSES | HOST_IO_PROCESSES}))
        nodes[node] = entry
    cpu = sorted(n for n, e in nodes.items() if e["runs_on"] == CPU_ONLY)
    return {"verdict": CPU_ONLY if cpu else CHIP, "cpu_only": cpu, "nodes": nodes}
