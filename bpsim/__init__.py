"""bpsim: watch asyncio queues and backpressure work, on a virtual clock.

General layout: the engine (`scenario`, `clock`, `workload`, `policies`, `pipeline`, `ledger`,
`engine`) is plain asyncio and imports no UI library; `bpsim.render` turns its events, snapshots
and results into Rich renderables; `bpsim.cli` wires them into the `bpsim` command.

The public names below are imported on first use, so that `bpsim --help` does not pay for the
engine and pydantic (`import bpsim; bpsim.run(...)` works as usual).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"  # the only place the version is written (pyproject.toml reads it)
__all__ = ["Policy", "RunResult", "Scenario", "Simulation", "compare", "load", "run", "sweep", "__version__"]

_HOMES = {
    "RunResult": "bpsim.engine",
    "Simulation": "bpsim.engine",
    "compare": "bpsim.api",
    "load": "bpsim.api",
    "run": "bpsim.api",
    "sweep": "bpsim.api",
    "Policy": "bpsim.scenario",
    "Scenario": "bpsim.scenario",
}

if TYPE_CHECKING:
    from bpsim.api import compare, load, run, sweep
    from bpsim.engine import RunResult, Simulation
    from bpsim.scenario import Policy, Scenario


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'bpsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
