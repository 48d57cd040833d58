"""sgdsim.gibbs: RMSProp's temperature (the Gibbs laws are tested in test_stationary)."""

import numpy as np
import pytest

import sgdsim
from sgdsim import gibbs


def test_rmsprop_factor_for_coin_noise_is_one_over_beta():
    # z = +-1: w = 1 exactly, nu = 1, kappa = beta, so c = 1 / beta with no Monte Carlo error.
    for beta in (0.5, 0.9):
        c = sgdsim.gibbs.rmsprop_temperature_factor(
            beta, rng=0, chains=10, steps=50,
            sampler=lambda rng, shape: rng.choice([-1.0, 1.0], size=shape))
        assert c.value == pytest.approx(1 / beta, rel=1e-12)
        assert c.stderr == pytest.approx(0, abs=1e-12)


def test_rmsprop_factor_gaussian_values():
    c = sgdsim.gibbs.rmsprop_temperature_factor(0.9, rng=5, chains=1000)
    from sgdsim.widgets.rmsprop import RMSPROP_FACTOR_09

    assert abs(c.value - RMSPROP_FACTOR_09) < 4 * c.stderr + 5e-5
    assert c.value < 1  # fluctuations of v lower the temperature at beta = 0.9
    near_one = sgdsim.gibbs.rmsprop_temperature_factor(0.999, rng=5, chains=200, steps=2000)
    assert abs(near_one.value - 1) < 0.01
    with pytest.raises(ValueError, match="beta"):
        sgdsim.gibbs.rmsprop_temperature_factor(1.0, rng=0)
    with pytest.raises(TypeError, match="rng"):
        sgdsim.gibbs.rmsprop_temperature_factor(0.9, rng=None)


def test_rmsprop_temperature_formula():
    assert sgdsim.gibbs.rmsprop_temperature(0.02, 2.0) == pytest.approx(0.02)
    assert sgdsim.gibbs.rmsprop_temperature(0.02, 2.0, batch_size=4, factor=0.5) == pytest.approx(0.005)
    assert sgdsim.gibbs.rmsprop_temperature(0.02, 2.0, factor=sgdsim.Estimate(0.9, 0.1)) == \
        pytest.approx(0.018)
    with pytest.raises(ValueError, match="lr"):
        sgdsim.gibbs.rmsprop_temperature(-1.0, 1.0)
    with pytest.raises(ValueError, match="noise_std"):
        sgdsim.gibbs.rmsprop_temperature(1.0, np.nan)

