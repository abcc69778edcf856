"""FPGA backend: a Vitis-HLS-style C++ project from a lowered integer graph, its gcc C
simulation through ctypes (bit-exact with the simulator), and a pre-synthesis resource estimate.

* :func:`write_project` — the HLS project folder (:mod:`.project`); ``reuse_factor=R`` or
  ``{node: R, 'default': R}`` sets the parallelism of every layer's pragmas (:mod:`.pragmas`)
* :func:`run_fpga` — run the generated C (:mod:`.run`; built once per content hash with
  -O3 -march=native and the fast C-simulation bodies of :mod:`.fastpath`, :mod:`.build`)
* :func:`estimate_resources` — per-layer multipliers, memory bits, BRAM18, cycles from the
  pragmas' numbers, checked against a part's DSP / BRAM budget (:mod:`.resources`)
* widths of every array and accumulator from value bounds (:mod:`.widths`); the ap_int headers
  of the typed build (:mod:`.ap_types`)
"""

from .codegen import generate_sources, plan_model
from .project import write_project, write_project_files
from .resources import estimate_resources, format_resources
from .run import CModel, run_fpga

__all__ = ["CModel", "estimate_resources", "format_resources", "generate_sources", "plan_model", "run_fpga",
           "write_project", "write_project_files"]
