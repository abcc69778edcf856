"""Cycle-accurate numpy simulator (float graphs and lowered integer graphs)."""

from .simulator import Simulator, Trace, simulate

__all__ = ["Simulator", "Trace", "simulate"]
