"""Example user controllers, installed with qnemu.

Load one from any directory with ``--controller examples.controllers.MODULE:CLASS`` (or
``examples/controllers/MODULE.py:CLASS``): a name under ``examples`` that is not found
where you are is looked up here (:func:`qnemu.control.registry.load_controller`).
"""
