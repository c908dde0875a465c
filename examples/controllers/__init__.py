"""Example user controllers (load with --controller examples.controllers.MODULE:CLASS)."""
