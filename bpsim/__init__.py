"""bpsim: watch asyncio queues and backpressure work, on a virtual clock.

General layout: the engine (`scenario`, `clock`, `workload`, `policies`, `pipeline`, `ledger`,
`engine`) is plain asyncio and imports no UI library; `bpsim.render` turns its events, snapshots
and results into Rich renderables; `bpsim.cli` wires them into the `bpsim` command.
"""

from bpsim.engine import RunResult, Simulation, run
from bpsim.scenario import Policy, Scenario

__version__ = "0.1.0"
__all__ = ["Policy", "RunResult", "Scenario", "Simulation", "run", "__version__"]
