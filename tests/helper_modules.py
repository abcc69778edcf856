"""One loader for the tests' helper files (graph builders, .net writers, other test modules).

Pytest runs with ``--import-mode=importlib`` (pyproject), so a test module cannot import a
sibling file by name: tests/ is not on ``sys.path`` and has no ``__init__.py``. The tests/
folder is, however, the ``snnc.tests`` namespace package (the repository root is the package
``snnc``), so a test module imports this loader as ``from snnc.tests.helper_modules import load``
in both environments, without touching ``sys.path`` (putting tests/ itself there would merge
tests/lava into the ``lava`` namespace package of the Lava env).

``load("frontend/netx_files.py")`` imports that file as ``snnc.tests.frontend.netx_files``: one
module object per file, shared by every test module that loads it (cached in ``sys.modules``).
"""

from __future__ import annotations

import importlib
from types import ModuleType


def load(relative_path: str) -> ModuleType:
    """The helper module at ``relative_path`` (a .py file, relative to tests/, '/'-separated),
    imported once under the name ``snnc.tests.<path with / as .>``."""
    if not relative_path.endswith(".py") or relative_path.startswith("/"):
        raise ValueError(f"expected a .py path relative to tests/, got {relative_path!r}")
    return importlib.import_module("snnc.tests." + relative_path[:-3].replace("/", "."))
