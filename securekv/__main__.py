"""`python -m securekv ...` is the umbrella CLI (`python -m securekv server --port 7777`)."""

from securekv.cli import entry

entry()
