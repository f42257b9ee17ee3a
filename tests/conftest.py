"""Test settings shared by every module: no colour or terminal detection from the environment."""

import os
import signal

# Typer reads these at import time: set them before any test imports bpsim.cli.
os.environ["_TYPER_FORCE_DISABLE_TERMINAL"] = "1"
os.environ["TERMINAL_WIDTH"] = "100"

import pytest

# A shell starts background commands with Ctrl-C ignored, and the programs these tests start
# would inherit that; the tests of Ctrl-C need it handled however the suite was started.
signal.signal(signal.SIGINT, signal.default_int_handler)

from bpsim.i18n import set_language


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES", "TERM"):
        monkeypatch.delenv(variable, raising=False)
    for variable in ("LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    set_language("en")
