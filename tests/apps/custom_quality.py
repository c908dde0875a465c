"""A custom quality function for the registry tests (loaded by dotted path)."""


def linear(fidelity: float) -> float:
    """q = F (a toy app)."""
    return fidelity


NOT_CALLABLE = 3
