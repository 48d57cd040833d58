import numpy as np
import pytest

import sgdsim
from conftest import fd_grad


def _lin(rng_seed=3, n=40, d=3):
    g = np.random.default_rng(rng_seed)
    X = g.normal(size=(n, d))
    y = X @ np.arange(1.0, d + 1) + g.normal(size=n)
    return sgdsim.LinearRegression(X, y)


def _logit(rng_seed=4, n=60, d=3, l2=0.1):
    g = np.random.default_rng(rng_seed)
    X = np.c_[g.normal(size=(n, d - 1)), np.ones(n)]
    y = (X[:, 0] + 0.5 * g.normal(size=n) > 0).astype(float)
    return sgdsim.LogisticRegression(X, y, l2=l2)


def _problems():
    g = np.random.default_rng(1)
    return [
        sgdsim.Quadratic(g.normal(size=(30, 2)), [[2.0, 0.3], [0.3, 0.5]]),
        sgdsim.Quadratic(g.normal(size=20), 1.5),
        _lin(),
        _logit(),
    ]


@pytest.mark.parametrize("problem", _problems(), ids=repr)
def test_grad_matches_finite_differences_and_example_grads(problem):
    phi = np.linspace(-0.7, 0.9, problem.dim)
    np.testing.assert_allclose(problem.grad(phi), fd_grad(problem.loss, phi), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(problem.example_grads(phi).mean(axis=0), problem.grad(phi),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(problem.example_losses(phi).mean(), problem.loss(phi), rtol=1e-12)


@pytest.mark.parametrize("problem", _problems(), ids=repr)
def test_broadcasting_over_leading_axes(problem):
    phi = np.random.default_rng(0).normal(size=(4, 3, problem.dim))
    assert problem.loss(phi).shape == (4, 3)
    assert problem.grad(phi).shape == (4, 3, problem.dim)
    assert problem.example_grads(phi).shape == (4, 3, problem.n, problem.dim)
    np.testing.assert_allclose(problem.grad(phi)[2, 1], problem.grad(phi[2, 1]))


@pytest.mark.parametrize("problem", _problems(), ids=repr)
@pytest.mark.parametrize("batch", [1, 4])
def test_sample_grad_is_unbiased_with_covariance_sigma_over_b(problem, batch, rng):
    phi = np.full(problem.dim, 0.3)
    chains = 40_000
    g = problem.sample_grad(np.tile(phi, (chains, 1)), batch, rng)
    mean, cov = g.mean(axis=0), np.cov(g.T).reshape(problem.dim, problem.dim)
    sigma = problem.noise_cov(phi) / batch
    # Standard error of the sample mean is sqrt(diag(Sigma/B)/chains): 4 sigma bound.
    se = np.sqrt(np.diag(sigma) / chains)
    assert np.all(np.abs(mean - problem.grad(phi)) <= 4 * se + 1e-12)
    # Sample covariance: relative error ~ sqrt(2/chains) * kurtosis factor; 5% is > 4 se here.
    np.testing.assert_allclose(cov, sigma, rtol=0.05, atol=0.05 * np.abs(sigma).max())


def test_quadratic_closed_forms():
    c = np.array([[0.0, 1.0], [2.0, -1.0], [4.0, 3.0]])
    h = np.array([[2.0, 0.0], [0.0, 0.5]])
    q = sgdsim.Quadratic(c, h)
    np.testing.assert_allclose(q.minimizer(), c.mean(axis=0))
    d = c - c.mean(axis=0)
    np.testing.assert_allclose(q.noise_cov(), h @ (d.T @ d / 3) @ h)
    np.testing.assert_allclose(q.minimum_loss(), np.mean(0.5 * np.einsum("ni,ij,nj->n", d, h, d)))
    assert q.max_stable_lr() == pytest.approx(1.0)


def test_linear_regression_minimizer_and_noise():
    p = _lin()
    np.testing.assert_allclose(p.grad(p.minimizer()), 0, atol=1e-10)
    np.testing.assert_allclose(p.hessian(), p.X.T @ p.X / p.n)
    phi = np.array([0.1, 0.2, 0.3])
    gi = p.example_grads(phi)
    np.testing.assert_allclose(p.noise_cov(phi), np.cov(gi.T, bias=True), rtol=1e-12)


def test_logistic_hessian_and_minimizer():
    p = _logit()
    phi_star = p.minimizer()
    np.testing.assert_allclose(p.grad(phi_star), 0, atol=1e-10)
    phi = np.array([0.2, -0.1, 0.4])
    fd = np.array([fd_grad(lambda x: p.grad(x)[i], phi) for i in range(p.dim)])
    np.testing.assert_allclose(p.hessian(phi), fd, rtol=1e-6, atol=1e-8)
    # Labels in {-1, +1} give the same problem as {0, 1}.
    q = sgdsim.LogisticRegression(p.X, p.y, l2=0.1)
    np.testing.assert_allclose(q.loss(phi), p.loss(phi))


def test_logistic_separable_without_ridge_has_no_minimizer():
    X = np.array([[1.0, 1.0], [2.0, 1.0], [-1.0, 1.0], [-2.0, 1.0]])
    y = np.array([1, 1, 0, 0])
    with pytest.raises(ValueError, match="separable|singular"):
        sgdsim.LogisticRegression(X, y).minimizer()


def test_double_well_shape():
    p = sgdsim.double_well(barrier=2.0, width=1.5, tilt=0.3, noise_var=0.5)
    x_star = p.minimizer()
    assert x_star[0] < 0  # positive tilt deepens the left well
    assert abs(p.grad(x_star)[0]) < 1e-9
    assert p.hessian(x_star)[0, 0] > 0
    np.testing.assert_allclose(p.grad(np.array([0.7])), fd_grad(p.loss, [0.7]), rtol=1e-7)
    np.testing.assert_allclose(p.noise_cov(), [[0.5]])
    np.testing.assert_allclose(sgdsim.double_well().loss(np.array([[1.0], [0.0]])), [0.0, 1.0])


def test_noisy_potential_forms_of_noise():
    f = lambda p: 0.5 * np.sum(p**2, axis=-1)  # noqa: E731
    g = lambda p: p  # noqa: E731
    assert sgdsim.NoisyPotential(f, g, 2.0, dim=3).noise_cov().tolist() == (2 * np.eye(3)).tolist()
    np.testing.assert_allclose(sgdsim.NoisyPotential(f, g, [1.0, 4.0]).noise_cov(), np.diag([1.0, 4.0]))
    with pytest.raises(NotImplementedError):
        sgdsim.NoisyPotential(f, g, 1.0).minimizer()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: sgdsim.Quadratic([], 1.0), "empty"),
        (lambda: sgdsim.Quadratic([[0.0, 1.0]], [[1.0, 2.0], [0.0, 1.0]]), "symmetric"),
        (lambda: sgdsim.Quadratic([[0.0, 1.0]], [[1.0, 0.0], [0.0, -1.0]]), "semi-definite"),
        (lambda: sgdsim.Quadratic([[0.0, 1.0]], np.eye(3)), "3x3|2x2"),
        (lambda: sgdsim.Quadratic([[np.nan, 1.0]], np.eye(2)), "NaN"),
        (lambda: sgdsim.LinearRegression(np.ones((3, 2)), np.ones(4)), "rows"),
        (lambda: sgdsim.LogisticRegression(np.ones((3, 2)), [0, 1, 2]), "labels"),
        (lambda: sgdsim.LogisticRegression(np.ones((2, 2)), [0, 1], l2=-1), "l2"),
        (lambda: sgdsim.NoisyPotential(1, 2, 1.0), "callables"),
        (lambda: sgdsim.double_well(barrier=-1), "barrier"),
        (lambda: sgdsim.double_well(noise_var=np.nan), "noise_var"),
    ],
)
def test_bad_construction_raises_clear_errors(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_bad_call_arguments(quad2d, rng):
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        quad2d.loss(np.ones(3))
    with pytest.raises(ValueError, match="batch_size"):
        quad2d.sample_grad(np.ones((2, 2)), 0, rng)
    with pytest.raises(TypeError, match="rng is required"):
        quad2d.sample_grad(np.ones((2, 2)), 1, None)
    with pytest.raises(ValueError, match="singular"):
        sgdsim.Quadratic([[0.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]).minimizer()
    with pytest.raises(ValueError, match="rank"):
        sgdsim.LinearRegression(np.ones((3, 2)), np.ones(3)).minimizer()


def test_sample_grad_with_given_indices_is_the_batch_mean(quad2d, rng):
    phi = np.array([[0.3, -0.2], [1.0, 2.0]])
    idx = np.array([[0, 3], [7, 7]])
    got = quad2d.sample_grad(phi, 2, rng, idx=idx)
    want = np.stack([quad2d.example_grads(phi[c])[idx[c]].mean(axis=0) for c in range(2)])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        quad2d.sample_grad(phi, 3, rng, idx=idx)
    with pytest.raises(ValueError, match=r"\[0, 50\)"):
        quad2d.sample_grad(phi, 2, rng, idx=idx + 50)
