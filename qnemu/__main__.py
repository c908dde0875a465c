"""``python -m qnemu`` runs the command line."""

from qnemu.cli import main

main()
