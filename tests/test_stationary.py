import numpy as np
import pytest

import sgdsim


def test_temperature_has_factor_one_half():
    assert sgdsim.temperature(0.1, 4.0) == pytest.approx(0.2)
    assert sgdsim.temperature(0.1, 4.0, batch_size=4) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        sgdsim.temperature(-0.1, 1.0)


def test_gibbs_density_normalized_and_gaussian_for_quadratic():
    grid = np.linspace(-8, 8, 4001)
    p = sgdsim.gibbs_density(lambda x: 0.5 * 2.0 * x[:, 0] ** 2, grid, 0.5)
    assert np.trapezoid(p, grid) == pytest.approx(1.0, rel=1e-12)
    # exp(-h x^2 / (2T)) is N(0, T/h)
    exact = np.exp(-(grid**2) / (2 * 0.25)) / np.sqrt(2 * np.pi * 0.25)
    np.testing.assert_allclose(p, exact, atol=1e-9)
    # double well: symmetric wells carry equal mass
    dw = sgdsim.double_well()
    q = sgdsim.gibbs_density(dw.loss, np.linspace(-3, 3, 3001), 0.3)
    np.testing.assert_allclose(q, q[::-1], rtol=1e-12)


def test_gibbs_density_bad_input():
    with pytest.raises(ValueError, match="increasing"):
        sgdsim.gibbs_density(np.zeros(3), [0, 2, 1], 1.0)
    with pytest.raises(ValueError, match="temperature"):
        sgdsim.gibbs_density(np.zeros(3), [0, 1, 2], 0.0)
    with pytest.raises(ValueError, match="shape"):
        sgdsim.gibbs_density(np.zeros(4), [0, 1, 2], 1.0)


def test_sgd_stationary_cov_1d_closed_form_and_lyapunov():
    h, s, eta, b = 2.0, 3.0, 0.3, 2
    c = sgdsim.sgd_stationary_cov(h, s, eta, b)
    assert c[0, 0] == pytest.approx(eta * s / (b * h * (2 - eta * h)))
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    S = np.array([[1.0, 0.2], [0.2, 0.5]])
    C = sgdsim.sgd_stationary_cov(H, S, 0.2)
    A = np.eye(2) - 0.2 * H
    np.testing.assert_allclose(C, A @ C @ A.T + 0.04 * S, atol=1e-14)
    with pytest.raises(ValueError, match="no stationary law"):
        sgdsim.sgd_stationary_cov(H, S, 2.0 / np.linalg.eigvalsh(H)[-1])


def test_langevin_stationary_cov_trace_gives_quarter():
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    S = np.array([[1.0, 0.2], [0.2, 0.5]])
    eta = 0.01
    C = sgdsim.langevin_stationary_cov(H, S, eta)
    np.testing.assert_allclose(H @ C + C @ H, eta * S, atol=1e-15)
    # excess loss 1/2 tr(HC) = eta tr(S) / 4: the TZ slope
    assert 0.5 * np.trace(H @ C) == pytest.approx(eta * np.trace(S) / 4, rel=1e-12)
    # and the discrete law approaches it as eta -> 0
    Cd = sgdsim.sgd_stationary_cov(H, S, eta)
    np.testing.assert_allclose(Cd, C, rtol=2 * eta * np.linalg.eigvalsh(H)[-1])
