"""The example controller, where the repository's own paths expect it.

It lives in the package (``qnemu/examples/controllers/freshest_first.py``) so that it is
installed with qnemu and loads from any directory; this file keeps the repository paths
``examples.controllers.freshest_first:FreshestFirst`` and
``examples/controllers/freshest_first.py:FreshestFirst`` working as they are.
"""

from qnemu.examples.controllers.freshest_first import FreshestFirst

__all__ = ["FreshestFirst"]
