"""Cycle-accurate numpy simulator (float graphs and lowered integer graphs)."""

from . import int_kernels, int_neuron_kernels, sdn_kernels  # noqa: F401
from .simulator import Simulator, Trace, simulate

__all__ = ["Simulator", "Trace", "simulate"]
