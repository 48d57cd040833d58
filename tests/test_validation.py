"""Shared input checks (``sgdsim._validation``): what they accept and the errors they raise."""

import numpy as np
import pytest

from sgdsim._validation import as_increasing_grid, as_rate


@pytest.mark.parametrize("value", [1, 0.5, np.float32(2.0), np.array(3.0)])
def test_as_rate_accepts_positive_numbers(value):
    out = as_rate(value, "x")
    assert isinstance(out, float) and out == float(value)


@pytest.mark.parametrize("value", [0, -1.0, np.nan, np.inf, -np.inf])
def test_as_rate_rejects_zero_negative_and_non_finite(value):
    message = r"temperature must be (> 0|finite \(not NaN or infinite\)), got"
    with pytest.raises(ValueError, match=message):
        as_rate(value, "temperature")


def test_as_increasing_grid_accepts_and_returns_a_float_array():
    grid = as_increasing_grid([0, 1, 3], "grid", min_size=3)
    assert grid.dtype == float and np.array_equal(grid, [0.0, 1.0, 3.0])


@pytest.mark.parametrize("value", [[0.0, 1.0], [0.0, 2.0, 1.0], [0.0, 1.0, 1.0]])
def test_as_increasing_grid_rejects_short_or_non_increasing(value):
    with pytest.raises(ValueError, match="edges must be increasing with at least 3 cells"):
        as_increasing_grid(value, "edges", min_size=3, unit="cells")


def test_as_increasing_grid_rejects_non_finite_and_wrong_ndim():
    with pytest.raises(ValueError):
        as_increasing_grid([0.0, np.nan, 2.0], "grid", min_size=3)
    with pytest.raises(ValueError):
        as_increasing_grid(np.zeros((3, 2)), "grid", min_size=3)
