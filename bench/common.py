"""What every benchmark shares."""

import math


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile, p in [0, 100], of unsorted values (nan when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
