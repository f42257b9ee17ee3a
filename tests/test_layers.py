"""The engine imports no user-interface library: it can be used, and tested, without one."""

import subprocess
import sys


def test_the_engine_imports_neither_rich_nor_typer():
    code = (
        "import sys, bpsim, bpsim.engine, bpsim.scenario, bpsim.pipeline, bpsim.clock;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'typer', 'click') or m.startswith('bpsim.render') or m == 'bpsim.cli'))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_the_engine_never_reads_the_wall_clock():
    # Pacing (clock.py) is the one place allowed to: it maps virtual time to wall time.
    from pathlib import Path

    import bpsim

    engine_files = ["engine.py", "pipeline.py", "policies.py", "ledger.py", "history.py", "workload.py", "stats.py"]
    package = Path(bpsim.__file__).parent
    for name in engine_files:
        text = (package / name).read_text()
        assert "import time" not in text and "monotonic" not in text and "perf_counter" not in text, name
