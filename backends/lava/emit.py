"""Emit a lowered integer graph as a Lava deployment folder.

    from snnc.backends.lava.emit import emit_lava
    report = emit_lava(lowered_graph, "out_lava/")

writes

* ``network.py`` + ``params.npz``: the whole network from lava-nc processes plus snnc's custom
  fixed-point processes (:mod:`.mapping` says which node becomes which process; :mod:`.codegen`
  writes the module; it needs only lava-nc and numpy);
* ``network.net``: a lava-dl netx HDF5 file, when netx can build the graph (a chain of dense /
  conv layers with CUBA LIF neurons, flatten, delays, recurrent dense); otherwise the report
  says why it was skipped (:mod:`.netx`);
* ``lava_report.json``: the node -> process table, the netx status, which nodes run on a Loihi 2
  chip and which only in Lava's CPU simulation (:mod:`.chip`), and how to load the files.

Command line: ``snnc compile MODEL --target loihi2 -o OUT`` writes it as ``OUT/lava``.
"""

from __future__ import annotations

import json
import os

from snnc.ir.files import atomic_folder
from snnc.ir.graph import Graph
from snnc.ir.version import __version__

from . import codegen, netx
from .chip import chip_status
from .mapping import plan_network

REPORT = "lava_report.json"


def emit_lava(graph: Graph, outdir: str, *, force: bool = True, net: bool = True, title: str | None = None,
              input_bounds: dict | None = None) -> dict:
    """Write the Lava folder for ``graph`` (a loihi2-lowered integer graph) into ``outdir``
    (built in a temporary sibling and renamed into place). Returns the report dict.
    ``input_bounds``: {input name: max |value|} the network may assume (see
    :func:`.mapping.plan_network`)."""
    plan = plan_network(graph, input_bounds)
    with atomic_folder(outdir, overwrite=force, prefix=".snnc-lava-") as tmp:
        files = codegen.write_network(plan, tmp, title=title or graph.metadata.get("name", "network"))
        netx_info: dict
        if net:
            try:
                netx_info = netx.write_net(graph, os.path.join(tmp, "network.net"))
                files.append("network.net")
            except netx.NotExpressible as exc:
                netx_info = {"written": False, "reason": str(exc)}
        else:
            netx_info = {"written": False, "reason": "not requested"}
        report = {
            "snnc_version": __version__,
            "files": files,
            "processes": len(plan.procs),
            "custom_processes": sorted({p.cls for p in plan.procs.values() if p.cls.startswith("Snnc")}),
            "chip": chip_status(plan),
            "mapping": plan.table,
            "unobserved": {n: r["why"] for n, r in plan.records.items() if r["kind"] == "merged"},
            "netx": netx_info,
            "run": "python network.py --inputs inputs.npz --out trace.npz --record all --states",
        }
        with open(os.path.join(tmp, REPORT), "w") as f:
            json.dump(report, f, indent=1, default=str)
            f.write("\n")
    return report
