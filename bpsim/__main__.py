"""`python -m bpsim` runs the command line."""

from bpsim.cli import app

app(prog_name="bpsim")
