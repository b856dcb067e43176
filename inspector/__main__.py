"""`python -m inspector` is the same as `mtls-inspect`."""

from inspector.cli import run

run()
