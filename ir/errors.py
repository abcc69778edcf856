"""Exception types of snnc.

Every error a user can cause (bad file, bad graph, bad option) is raised as a subclass of
:class:`SnncError`. The message names the file, node and field involved and says what to do;
the CLI prints it as one line (a traceback only with ``--debug``).
"""

from __future__ import annotations


class SnncError(Exception):
    """Base class of all errors snnc reports to users."""

    def __init__(self, message: str, *, file: str | None = None, node: str | None = None,
                 field: str | None = None, hint: str | None = None):
        self.file = file
        self.node = node
        self.field = field
        self.hint = hint
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.node:
            where.append(f"node '{self.node}'")
        if self.field:
            where.append(f"field '{self.field}'")
        text = (", ".join(where) + ": " if where else "") + self.detail
        if self.hint:
            text += f" ({self.hint})"
        return text

    def with_file(self, file: str) -> SnncError:
        """Return this error with ``file`` filled in if it was missing."""
        if self.file is None:
            self.file = file
            self.args = (self._format(),)
        return self


class FileFormatError(SnncError):
    """A model file is missing, unreadable, truncated or not in the expected format."""


class GraphError(SnncError):
    """The graph is malformed: dangling edges, unknown nodes, cycles without delay."""


class ShapeError(SnncError):
    """Shapes of connected nodes disagree, or a shape cannot be inferred."""


class ParameterError(SnncError):
    """A node parameter is invalid (NaN, inf, wrong shape, out of range)."""


class UnsupportedError(SnncError):
    """The graph uses something a pass or backend cannot handle (named in the message)."""


class ConfigError(SnncError):
    """A compile configuration (YAML or options) is invalid."""


class BackendError(SnncError):
    """A backend failed to build or run an artifact."""


class OverflowRisk(SnncError):
    """Range analysis found a state or accumulator that can overflow (raised with --strict)."""
