"""Chapter 1's scenes and its checks that hold by construction (moved out of the notebook).

The notebook keeps the claims that compare a measurement with an independent prediction;
what follows from the library's own arithmetic (gradient descent on a quadratic against its
closed form, the error handling, the loss along a correctly solved flow) is tested here.
"""

import numpy as np
import pytest

import sgdsim
from sgdsim.book import gradient_flow as euler

from conftest import fd_grad


@pytest.fixture(scope="module")
def quad():
    return euler.quadratic_problem()


@pytest.fixture(scope="module")
def logi():
    return euler.logistic_problem()


@pytest.fixture(scope="module")
def eig(quad):
    lam, V = np.linalg.eigh(quad.H)
    c0 = V.T @ (np.array(euler.QUADRATIC_START) - quad.minimizer())
    return lam, V, c0


# ----------------------------------------------------------------------------- scenes
def test_quadratic_scene_has_the_stated_curvatures_and_minimizer(quad):
    np.testing.assert_allclose(np.linalg.eigvalsh(quad.H), [0.5, 5.0], rtol=1e-12)
    np.testing.assert_allclose(quad.minimizer(), [1.0, 0.5], atol=1e-12)


def test_logistic_grad_is_the_gradient_of_the_average_loss(logi):
    phi0 = np.array(euler.LOGISTIC_START)
    fd = fd_grad(lambda p: float(logi.loss(p)), phi0, h=1e-5)
    np.testing.assert_allclose(logi.grad(phi0), fd, rtol=1e-8)


# ------------------------------------------------- the flow's loss (given a correct solver)
@pytest.mark.parametrize("which, t_end, delta", [("quad", 4.0, 1e-3), ("logi", 40.0, 0.05)])
def test_loss_never_rises_along_the_flow(which, t_end, delta, quad, logi):
    problem, phi0 = ((quad, euler.QUADRATIC_START) if which == "quad"
                     else (logi, euler.LOGISTIC_START))
    rel, est, loss = euler.loss_rate_deviation(problem, phi0, t_end, delta)
    assert np.all(np.diff(loss) < 0)
    assert rel.shape == (loss.size - 2,) and est.shape == (loss.size - 4,)


def test_loss_rate_deviation_is_second_order_in_delta(quad):
    r1 = euler.loss_rate_deviation(quad, euler.QUADRATIC_START, 1.0, 2e-3)[0].max()
    r2 = euler.loss_rate_deviation(quad, euler.QUADRATIC_START, 1.0, 1e-3)[0].max()
    assert r1 / r2 == pytest.approx(4.0, rel=0.05)


# ------------------------------------------ gradient descent on the quadratic: closed forms
@pytest.mark.parametrize("eta, increases", [(0.1, 0), (0.3, 0), (0.38, 0), (0.42, 60)])
def test_gd_loss_increase_counts_match_the_closed_form(quad, eig, eta, increases):
    lam, _, c0 = eig
    k = np.arange(61)
    gd = sgdsim.gradient_descent(quad, euler.QUADRATIC_START, eta, 60)
    excess = quad.loss(gd.phi[:, 0]) - quad.minimum_loss()
    closed = 0.5 * np.sum(lam * c0**2 * (1 - eta * lam) ** (2 * k[:, None]), axis=1)
    np.testing.assert_allclose(excess, closed, rtol=1e-9, atol=1e-15)
    assert int(np.sum(np.diff(excess) > 0)) == increases


def test_gd_zigzag_flips_the_top_component_every_step(quad, eig):
    _, V, _ = eig
    phi = sgdsim.gradient_descent(quad, euler.QUADRATIC_START, 0.38, 60).phi[:, 0]
    top = (phi - quad.minimizer()) @ V[:, -1]
    assert np.all(np.sign(top[1:]) != np.sign(top[:-1]))


@pytest.mark.parametrize("eta", [0.38, 0.42])
def test_gd_distance_ratio_tends_to_the_spectral_radius(quad, eig, eta):
    lam, _, _ = eig
    phi = sgdsim.gradient_descent(quad, euler.QUADRATIC_START, eta, 150).phi[:, 0]
    d = np.linalg.norm(phi - quad.minimizer(), axis=-1)
    assert d[-1] / d[-2] == pytest.approx(np.abs(1 - eta * lam).max(), rel=1e-9)


def test_gd_lands_on_the_minimizer_when_the_start_is_an_eigenvector(quad, eig):
    # prop-gd-monotone: at eta = 1/lambda_i with Phi0 - Phi* in that eigenspace, Phi_1 = Phi*
    lam, V, _ = eig
    star = quad.minimizer()
    phi = sgdsim.gradient_descent(quad, star + V[:, 0], 1 / lam[0], 3).phi[:, 0]
    np.testing.assert_allclose(phi[1:], np.broadcast_to(star, (3, 2)), atol=1e-12)


def test_flow_decays_at_rate_lambda_min(quad, eig):
    lam, _, _ = eig
    t = np.array([0.0, 5.0, 10.0])
    d = np.linalg.norm(sgdsim.gradient_flow(quad, euler.QUADRATIC_START, t, rtol=1e-12,
                                            atol=1e-14).phi[:, 0] - quad.minimizer(), axis=-1)
    assert np.log(d[1] / d[2]) / 5.0 == pytest.approx(lam[0], abs=1e-8)
    assert np.all(d <= np.exp(-lam[0] * t) * d[0] * (1 + 1e-9))


def test_divergence_error_at_the_step_the_closed_form_predicts(quad, eig):
    lam, V, c0 = eig
    k = np.arange(1001)
    closed = quad.minimizer() + ((1 - 0.42 * lam) ** k[:, None] * c0) @ V.T
    expected = int(np.argmax(np.abs(closed).max(axis=1) > 1e8))
    with pytest.raises(sgdsim.DivergenceError) as info:
        sgdsim.gradient_descent(quad, euler.QUADRATIC_START, 0.42, 1000)
    assert info.value.step == expected


# ----------------------------------------------------------------------------- beyond Euler
def test_third_derivative_logistic_is_the_derivative_of_the_hessian(logi):
    phi = np.array([[-1.0, 0.5], [0.3, -2.0]])
    v = np.array([[0.2, -0.4], [1.0, 0.3]])

    class HessianOnly:  # no closed form: the central difference of the Hessian is used
        hessian = staticmethod(logi.hessian)

    np.testing.assert_allclose(euler.third_derivative(logi, phi, v),
                               euler.third_derivative(HessianOnly, phi, v), rtol=1e-6)
    assert np.abs(euler.third_derivative(logi, phi, v)).max() > 1e-3


def test_third_derivative_of_a_quadratic_is_zero(quad):
    np.testing.assert_array_equal(euler.third_derivative(quad, [[1.0, 2.0]], [[3.0, 4.0]]), 0.0)


@pytest.mark.parametrize("coef", [0.25, 0.5])
def test_modified_loss_gradient_is_the_gradient_of_its_loss(logi, coef):
    mod = euler.modified_loss(logi, 2.0, coef)
    phi = np.array([-1.5, 0.7])
    fd = fd_grad(lambda p: float(mod.loss(p)), phi, h=1e-5)
    np.testing.assert_allclose(mod.grad(phi), fd, rtol=1e-7)
    assert mod.dim == 2
    with pytest.raises(ValueError, match="lr must be > 0"):
        euler.modified_loss(logi, 0.0)


def test_modified_error_function_1d_closed_form():
    quad1d = sgdsim.Quadratic(np.array([[0.0], [2.0]]), 2.0)  # lambda = 2, x* = 1
    t = np.linspace(0, 3, 31)
    e2 = euler.modified_error_function(quad1d, [3.0], t)[:, 0, 0]
    np.testing.assert_allclose(e2, -8.0 / 3.0 * t * np.exp(-2 * t) * 2.0, atol=1e-10)


def test_modified_flow_errors_match_the_exact_1d_distance():
    lam, x0, t_end = 2.0, 2.0, 2.0
    quad1d = sgdsim.Quadratic(np.array([[-1.0], [1.0]]), lam)  # x* = 0
    ns = [20, 40, 80]
    got = euler.modified_flow_errors(quad1d, [x0], t_end, ns)
    for n, e in zip(ns, got):
        h, k = t_end / n, np.arange(n + 1)
        exact = np.abs((1 - h * lam) ** k - np.exp(-lam * (1 + h * lam / 2) * k * h)).max() * x0
        assert e == pytest.approx(exact, rel=1e-7)
    slope = sgdsim.loglog_slope(t_end / np.array(ns), got).coef[1]
    assert abs(slope - 2) < 0.1
    fine = [200, 400, 800]
    first = euler.modified_flow_errors(quad1d, [x0], t_end, fine, coef=0.5)  # a wrong coefficient
    assert abs(sgdsim.loglog_slope(t_end / np.array(fine), first).coef[1] - 1) < 0.1


def test_error_constant(quad):
    phi0 = euler.QUADRATIC_START
    t = np.linspace(0.0, 4.0, 4001)
    e = euler.euler_error_function(quad, phi0, t)
    assert euler.error_constant(quad, phi0, 4.0) == pytest.approx(
        np.linalg.norm(e, axis=-1).max())
    assert euler.error_constant(quad, phi0, 4.0, rate=lambda s: 1.0) == pytest.approx(
        euler.error_constant(quad, phi0, 4.0), rel=1e-9)
    assert euler.error_constant(quad, phi0, 4.0, rate=lambda s: 0.5) == pytest.approx(
        0.5 * euler.error_constant(quad, phi0, 4.0), rel=1e-8)
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        euler.error_constant(quad, phi0, 4.0, order=3)
    with pytest.raises(ValueError, match="constant step"):
        euler.error_constant(quad, phi0, 4.0, order=2, rate=lambda s: 1.0)


def test_error_function_with_a_schedule_predicts_variable_step_gd(logi):
    # rates s * exp(-t/20) in time <=> inverse_time(s, 20/s) in steps (to first order)
    phi0, s = euler.LOGISTIC_START, 1 / 16
    run = euler.compare_with_flow(logi, phi0, sgdsim.schedules.inverse_time(s, 20 / s),
                                  round(200 / s))
    c_s = euler.error_constant(logi, phi0, 20 * np.log(11), rate=lambda t: np.exp(-t / 20))
    assert run.sup_deviation / s == pytest.approx(c_s, rel=0.0084)
