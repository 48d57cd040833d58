import numpy as np
import pytest

from sgdsim import schedules


def test_step_drops_divides_at_milestones():
    s = schedules.step_drops(0.1, 10, (3, 5))
    np.testing.assert_allclose(s(np.arange(7)), [0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_constant_and_inverse_time():
    np.testing.assert_array_equal(schedules.constant(0.5)(np.arange(3)), [0.5] * 3)
    np.testing.assert_allclose(schedules.inverse_time(1.0, 2.0)(np.arange(3)), [1, 2 / 3, 0.5])


@pytest.mark.parametrize(
    "make",
    [
        lambda: schedules.constant(-1),
        lambda: schedules.constant(np.nan),
        lambda: schedules.step_drops(0.1, 0.5, (1,)),
        lambda: schedules.step_drops(0.1, 10, (5, 3)),
        lambda: schedules.step_drops(0.1, 10, (-1,)),
        lambda: schedules.inverse_time(0.1, 0),
    ],
)
def test_bad_schedules(make):
    with pytest.raises(ValueError):
        make()
