"""`python -m qalqan.cli ...` runs the `qalqan` command."""

from qalqan.cli import main

main()
