"""bpsim's type hints hold: mypy, configured by pyproject.toml's [tool.mypy], reports nothing."""

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).parent.parent

pytestmark = pytest.mark.slow  # 20-40 s without a cache; CI runs it on one Python


def test_mypy_finds_no_type_errors_in_bpsim(tmp_path: Path) -> None:
    args = ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path), str(ROOT / "bpsim")]
    stdout, stderr, status = mypy_api.run(args)
    assert status == 0, stdout + stderr
