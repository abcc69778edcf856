"""Where the Xilinx arbitrary-precision headers (``ap_int.h``; Apache-2.0) are on this machine.

They ship inside the ``hls4ml`` wheel (``pip install --no-deps hls4ml``), folder
``hls4ml/templates/vivado/ap_types/``; they are found through the installed package (never
copied into a generated project) or through ``$SNNC_AP_TYPES``. The typed build (``make
csim-typed``) compiles the firmware against them with ``-DSNNC_AP_TYPES``.
"""

from __future__ import annotations

import importlib.util
import os

ENV = "SNNC_AP_TYPES"
#: g++ flags of the typed build: the headers trip -Wuninitialized / -Wmaybe-uninitialized /
#: -Wint-in-bool-context under -Wall -Werror, so they are included as system headers
TYPED_FLAGS = ("-std=c++14", "-O0", "-Wall", "-Werror", "-Wno-unknown-pragmas", "-Wno-uninitialized",
               "-Wno-maybe-uninitialized", "-Wno-int-in-bool-context")


def ap_types_dir() -> str | None:
    """The folder holding ``ap_int.h``: ``$SNNC_AP_TYPES``, else the installed hls4ml's
    ``templates/vivado/ap_types``; None when neither exists (hls4ml is not imported: it needs
    its own dependencies only for its converters)."""
    env = os.environ.get(ENV)
    if env:
        return env if os.path.isfile(os.path.join(env, "ap_int.h")) else None
    try:
        spec = importlib.util.find_spec("hls4ml")
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = os.path.join(root, "templates", "vivado", "ap_types")
        if os.path.isfile(os.path.join(folder, "ap_int.h")):
            return folder
    return None


#: the Makefile's shell lookup of the same folder (the Python that runs snnc, else python3)
MAKE_LOOKUP = ("$(shell $(PYTHON) -c 'import importlib.util as u, os; s = u.find_spec(\"hls4ml\"); "
               "print(os.path.join(list(s.submodule_search_locations)[0], \"templates\", \"vivado\", \"ap_types\") "
               "if s else \"\")' 2>/dev/null)")
