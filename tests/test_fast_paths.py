"""The hot paths of the simulators (issue 9's optimizations) against plain formulas.

``sample_grad`` and the SGD loop now work in place on fresh arrays, with ``take`` instead
of fancy indexing and special cases for B = 1 and dim = 1. These tests pin down that they
compute the textbook formula with the *same random draws*, never modify their inputs, and
never modify an array a user's gradient function hands back.
"""

import numpy as np
import pytest

import sgdsim


def _problems():
    g = np.random.default_rng(11)
    X = g.normal(size=(40, 3))
    X[X < -1.0] = 0.0  # exact zeros, as in real data sets
    Xl = np.c_[g.normal(size=(50, 2)), np.ones(50)]
    yl = (Xl[:, 0] + g.normal(size=50) > 0).astype(float)
    return [
        sgdsim.Quadratic(g.normal(size=25), 1.7),
        sgdsim.Quadratic(g.normal(size=(25, 2)), [[2.0, 0.3], [0.3, 0.5]]),
        sgdsim.LinearRegression(X, X @ [1.0, -2.0, 0.5] + g.normal(size=40)),
        sgdsim.LogisticRegression(Xl, yl, l2=0.05),
    ]


def _reference_sample_grad(problem, phi, batch, rng):
    """The definition: the mean of example gradients over indices drawn like the library."""
    idx = rng.integers(0, problem.n, size=phi.shape[:-1] + (batch,))
    gi = problem.example_grads(phi)  # (..., n, dim)
    picked = np.take_along_axis(gi, idx[..., None], axis=-2)
    return picked.mean(axis=-2)


@pytest.mark.parametrize("problem", _problems(), ids=repr)
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("shape", [(7,), (2, 5)])
def test_sample_grad_is_the_minibatch_mean_of_example_grads(problem, batch, shape):
    phi = np.random.default_rng(2).normal(size=shape + (problem.dim,))
    before = phi.copy()
    got = problem.sample_grad(phi, batch, np.random.default_rng(5))
    want = _reference_sample_grad(problem, phi, batch, np.random.default_rng(5))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert got.shape == phi.shape
    np.testing.assert_array_equal(phi, before)  # the input is not touched


@pytest.mark.parametrize("tilt", [0.0, 0.3])
def test_double_well_gradient_is_the_closed_form(tilt):
    h, w = 1.3, 0.7
    p = sgdsim.double_well(barrier=h, width=w, tilt=tilt, noise_var=0.5)
    x = np.linspace(-2, 2, 41)[:, None]
    before = x.copy()
    np.testing.assert_allclose(p.grad(x), 4 * h * x / w**2 * ((x / w) ** 2 - 1) + tilt,
                               rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("batch", [1, 4])
def test_noisy_potential_sample_grad_uses_the_same_draws(batch):
    p = sgdsim.double_well(barrier=1.3, width=0.7, tilt=0.2, noise_var=0.5)
    x = np.linspace(-1.5, 1.5, 9)[:, None]
    got = p.sample_grad(x, batch, np.random.default_rng(3))
    z = np.random.default_rng(3).standard_normal(x.shape)
    np.testing.assert_allclose(got, p.grad(x) + np.sqrt(0.5 / batch) * z, rtol=1e-13)


def test_a_gradient_that_returns_its_input_is_not_corrupted():
    # U = |phi|^2 / 2 with grad(phi) = phi itself (a view): the noise must not be added
    # into phi, and SGD must equal the closed-form recursion with the same draws.
    p = sgdsim.NoisyPotential(lambda q: 0.5 * (q**2).sum(-1), lambda q: q, 0.25, dim=2)
    phi = np.ones((3, 2))
    g = p.sample_grad(phi, 1, np.random.default_rng(0))
    np.testing.assert_array_equal(phi, np.ones((3, 2)))
    np.testing.assert_allclose(g, 1 + 0.5 * np.random.default_rng(0).standard_normal((3, 2)))

    traj = sgdsim.sgd(p, [1.0, -1.0], 0.1, 5, chains=3, rng=np.random.default_rng(4))
    x = np.tile([1.0, -1.0], (3, 1))
    gen = np.random.default_rng(4)
    for _ in range(5):
        x = x - 0.1 * (x + 0.5 * gen.standard_normal((3, 2)))
    np.testing.assert_allclose(traj.final, x, rtol=1e-14)


class _ConstantGradient(sgdsim.Problem):
    """A problem whose sample_grad returns the same cached array every call."""

    dim = 2

    def __init__(self):
        self.g = np.array([1.0, -2.0])

    def sample_grad(self, phi, batch_size, rng):
        return self.g

    def loss(self, phi):
        return np.asarray(phi) @ self.g


def test_the_sgd_loop_never_modifies_the_direction_it_is_given():
    p = _ConstantGradient()
    traj = sgdsim.sgd(p, [0.0, 0.0], [0.1, 0.2, 0.3], 3, chains=2, rng=1)
    np.testing.assert_array_equal(p.g, [1.0, -2.0])
    np.testing.assert_allclose(traj.final, -0.6 * np.tile(p.g, (2, 1)), rtol=1e-15)
    np.testing.assert_allclose(traj.time, [0.0, 0.1, 0.3, 0.6])


def test_divergence_to_nan_is_caught_by_the_single_pass_check():
    p = sgdsim.NoisyPotential(lambda q: q[..., 0] * 0, lambda q: q * np.nan, 1.0)
    with pytest.raises(sgdsim.DivergenceError, match="non-finite"):
        sgdsim.sgd(p, [1.0], 0.1, 40, chains=2, rng=1)


def test_integer_like_batch_sizes_are_still_validated():
    p = _problems()[0]
    phi = np.zeros((2, 1))
    assert p.sample_grad(phi, np.int64(2), 1).shape == (2, 1)
    for bad, err in ((True, TypeError), (0, ValueError), (2.0, TypeError)):
        with pytest.raises(err, match="batch_size"):
            p.sample_grad(phi, bad, 1)
