"""FPGA backend: a Vitis-HLS-style C++ project from a lowered integer graph, its gcc C
simulation through ctypes (bit-exact with the simulator), and a pre-synthesis resource estimate.

* :func:`write_project` — the HLS project folder (:mod:`.project`)
* :func:`run_fpga` — run the generated C (:mod:`.run`; built once per content hash, :mod:`.build`)
* :func:`estimate_resources` — per-layer memory, BRAM18, multipliers, state, cycles (:mod:`.resources`)
"""

from .codegen import generate_sources, plan_model
from .project import write_project, write_project_files
from .resources import estimate_resources, format_resources
from .run import CModel, run_fpga

__all__ = ["CModel", "estimate_resources", "format_resources", "generate_sources", "plan_model", "run_fpga",
           "write_project", "write_project_files"]
