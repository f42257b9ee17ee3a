"""Golden-text comparisons: `assert_golden("name", text)` against tests/golden/name.txt.

Run the tests with BPSIM_UPDATE_GOLDEN=1 to (re)write the files after a deliberate change, then
read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("BPSIM_UPDATE_GOLDEN") == "1" or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs; BPSIM_UPDATE_GOLDEN=1 rewrites it"
