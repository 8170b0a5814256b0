"""``kith faults``: Kith's real processes under SIGKILL, an empty broker and poison messages.

Each scenario starts its own broker, database and services as child processes
(``platform``, ``processes``), seeds them through the API (``world``, ``neighbourhoods``),
causes its fault, and then checks, as an observer reading topics and databases
(``reading``), what was lost and what was applied twice (``result``).
"""

from kith.faults.command import faults
from kith.faults.result import ScenarioResult
from kith.faults.scenarios import SCENARIOS, Options

__all__ = ["SCENARIOS", "Options", "ScenarioResult", "faults"]
