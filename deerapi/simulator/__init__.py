"""The DeerAPI simulator: see `server.py`."""

from deerapi.simulator.server import SIMULATED_FAILURE, Simulator, Stats

__all__ = ["SIMULATED_FAILURE", "Simulator", "Stats"]
