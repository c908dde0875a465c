"""The optional ``qnemu[analysis]`` extra: pandas, imported only when a DataFrame is asked for."""

from __future__ import annotations

from typing import Any

from qnemu.errors import QnemuError


def pandas() -> Any:
    """The pandas module, or a clear error naming the extra to install."""
    try:
        import pandas as pd
    except ImportError:
        raise QnemuError("pandas is needed for DataFrames: pip install 'qnemu[analysis]'") from None
    return pd
