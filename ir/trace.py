"""The result of running a graph on any backend: per-node outputs and per-state traces,
``[B, T, *shape]`` arrays (batch first, time second)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Trace:
    """Result of a run. ``outputs``: node name -> [B, T, *shape]; ``states``:
    ``'<node>.<state>'`` -> [B, T, *shape] (state after the step); ``unobserved``: node name ->
    why the backend cannot read that node's output (e.g. Lava: a delay part merged into one
    process), so it is missing from ``outputs`` on purpose."""

    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    states: dict[str, np.ndarray] = field(default_factory=dict)
    unobserved: dict[str, str] = field(default_factory=dict)
