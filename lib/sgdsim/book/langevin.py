r"""The Langevin chapter's experiments: from SGD steps to the SDE
:math:`d\Phi = -g(\Phi)\,dt + \sqrt{\eta\,\Sigma(\Phi)/B}\;dW_t`.

Exact moments on quadratics are in :mod:`sgdsim.laws`, Gibbs densities and temperature fits
in :mod:`sgdsim.gibbs`. Gibbs laws here are :math:`\propto e^{-\mathcal L/T}`.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_chains, as_finite_array, as_generator, as_positive_int, as_rate
from ..dynamics import Trajectory, iterate_map
from ..gibbs import fit_temperature, gibbs_density
from ..problems import NoisyPotential, double_well, product_problem

__all__ = ["printed_update", "block_noise_sums", "separable_factors", "reshuffled_block_sums",
           "ar1_stationary_skewness", "occupation_temperature", "grouped_temperatures",
           "gibbs_chi_square", "gibbs_bin_probabilities", "chi_square_resolution"]

#: The chapter's two-coordinate problem: the double well's tilt and the quadratic's curvature.
TILT, KY = 0.3, 2.0


def printed_update(problem, phi0, lr, steps, *, chains=None, rng, batch_size=1,
                   record_every=1, max_norm=1e8) -> Trajectory:
    r"""The update as printed on the slides, :math:`\Phi_{k+1} = \eta\,\hat g(\Phi_k)` (the
    "minus-equals" of SGD lost), to show it is no descent method: on
    :math:`\tfrac12 h(\Phi - a)^2` it converges to :math:`-\eta h a/(1 - \eta h)`, not to
    :math:`a`. Arguments as in :func:`sgdsim.sgd`; ``time`` is :math:`\eta k`."""
    steps = as_positive_int(steps, "steps", minimum=0)
    eta = as_rate(lr, positive=False)
    phi = as_chains(phi0, problem.dim, chains)
    batch_size = as_positive_int(batch_size, "batch_size")
    gen = as_generator(rng)

    def direction(p):  # p <- p - 1 * (p - eta g_hat)  ==  eta g_hat
        return p - eta * problem.sample_grad(p, batch_size, gen)

    traj = iterate_map("The printed update", problem, phi, np.ones(steps), direction,
                       record_every, max_norm)
    return Trajectory(phi=traj.phi, time=eta * traj.step, step=traj.step)


def _fixed_point_setup(problem, phi, n_steps, samples, rng):
    """The checked arguments of a sum of gradient fluctuations at one point."""
    return (as_finite_array(phi, "phi", shape=(problem.dim,)),
            as_positive_int(n_steps, "n_steps"), as_positive_int(samples, "samples"),
            as_generator(rng))


def block_noise_sums(problem, phi, n_steps, samples, *, batch_size=1, rng) -> np.ndarray:
    r"""``samples`` independent sums :math:`S_N = \sum_{j=1}^{N} (g(\Phi) - \hat g_j(\Phi))` at
    the fixed point ``phi``, shape (samples, dim).

    :math:`\operatorname{Cov} S_N = N\Sigma/B`; by the central limit theorem the skewness of
    :math:`S_N/\sqrt N` falls like :math:`N^{-1/2}`, its excess kurtosis like :math:`N^{-1}`.
    """
    phi, n, m, gen = _fixed_point_setup(problem, phi, n_steps, samples, rng)
    b = as_positive_int(batch_size, "batch_size")
    points = np.broadcast_to(phi, (m, problem.dim))
    total = np.zeros((m, problem.dim))
    for _ in range(n):
        total += problem.sample_grad(points, b, gen)
    return n * problem.grad(phi) - total


def separable_factors(sigma_x, sigma_y, *, tilt=TILT, k_y=KY):
    r"""The chapter's 2-D problem and its 1-D factors: (x_problem, y_problem, problem).

    :math:`\mathcal L_x = (x^2 - 1)^2 + c\,x` (:func:`sgdsim.double_well`, tilt :math:`c`)
    with noise variance :math:`\sigma_x^2`, :math:`\mathcal L_y = \tfrac12 k_y y^2` with
    :math:`\sigma_y^2`.
    """
    px = double_well(tilt=tilt, noise_var=float(sigma_x) ** 2)
    py = NoisyPotential(lambda p: 0.5 * k_y * p[..., 0] ** 2, lambda p: k_y * p,
                        float(sigma_y) ** 2, dim=1, minimizer=[0.0],
                        hessian=lambda p: np.full(p.shape[:-1] + (1, 1), k_y))
    return px, py, product_problem(px, py)


def reshuffled_block_sums(problem, phi, n_steps, samples, *, rng) -> np.ndarray:
    r""":math:`S_N = \sum_{j\le N}(g - g_{i_j})` over the first :math:`N \le n` examples of
    ``samples`` random epochs (without replacement) of a finite sum, shape (samples, dim).

    Its variance is :math:`N\Sigma\,(n - N)/(n - 1)`: zero for a whole epoch.
    """
    phi, n, m, gen = _fixed_point_setup(problem, phi, n_steps, samples, rng)
    if n > problem.n:
        raise ValueError(f"n_steps = {n} exceeds the {problem.n} examples of one epoch")
    u = problem.grad(phi) - problem.example_grads(phi)  # (n_examples, dim): g - g_i
    first = np.argsort(gen.random((m, problem.n)), axis=1)[:, :n]  # a random permutation each
    return u[first].sum(axis=1)


def ar1_stationary_skewness(gamma1, rate_times_curvature):
    r"""Exact stationary skewness of SGD on a 1-D quadratic finite sum, innovations of
    skewness :math:`\gamma_1`, :math:`u = \eta h`:

    .. math::
        \operatorname{skew} = \gamma_1\,\frac{\sqrt u\,(2 - u)^{3/2}}{3 - 3u + u^2}
        = \tfrac{2^{3/2}}{3}\,\gamma_1\sqrt{u}\,\bigl(1 + O(u)\bigr),

    from the AR(1) cumulants :math:`\kappa_n = u^n\kappa_n(\xi)/(1 - (1-u)^n)`.
    """
    u = np.asarray(rate_times_curvature, dtype=float)
    if np.any((u <= 0) | (u >= 2)):
        raise ValueError("the AR(1) chain is stationary only for 0 < eta h < 2")
    return gamma1 * np.sqrt(u) * (2 - u) ** 1.5 / (3 - 3 * u + u * u)


def occupation_temperature(loss, grid, split, fraction_left) -> float:
    """The temperature at which the Gibbs law puts mass ``fraction_left`` below ``split``
    (the left well being the deeper one), by root finding on ``grid``."""
    from scipy.optimize import brentq

    grid = np.asarray(grid, dtype=float)
    left = grid < split

    def frac(t):
        p = gibbs_density(loss, grid, t)
        return float(np.trapezoid(p * left, grid) / np.trapezoid(p, grid))

    return float(np.exp(brentq(lambda lt: frac(np.exp(lt)) - fraction_left,
                               np.log(1e-3), np.log(1e2), xtol=1e-12)))


def grouped_temperatures(problem, x, grid, *, split, groups=20):
    r"""Three temperatures of 1-D stationary samples ``x`` (records, chains), each in
    ``groups`` disjoint groups of chains: the ``"mean loss"`` (:func:`sgdsim.fit_temperature`),
    the ``"virial"`` :math:`E[x\,\mathcal L'(x)]` and the ``"occupation"`` below ``split``
    (:func:`occupation_temperature`). They agree only for a Gibbs law. Returns name -> (groups,).
    """
    x = as_finite_array(x, "x", ndim=2)
    k = as_positive_int(groups, "groups", minimum=2)
    c = x.shape[1] // k
    out = {"mean loss": [], "virial": [], "occupation": []}
    for j in range(k):
        xs = x[:, j * c:(j + 1) * c]
        out["mean loss"].append(fit_temperature(problem.loss(xs[..., None]), problem.loss,
                                                grid).value)
        out["virial"].append(float(np.mean(xs * problem.grad(xs[..., None])[..., 0])))
        out["occupation"].append(occupation_temperature(problem.loss, grid, split,
                                                        float(np.mean(xs < split))))
    return {name: np.array(v) for name, v in out.items()}


def gibbs_chi_square(samples, loss, temperature, edges, min_expected=5.0):
    r"""Pearson's :math:`\chi^2` of i.i.d. ``samples`` against the Gibbs law on the bins ``edges``.

    Bins expecting fewer than ``min_expected`` draws are pooled with the outside; under the
    hypothesis :math:`\chi^2` has mean ``dof`` and sd about :math:`\sqrt{2\,\mathrm{dof}}`.
    Returns ``(chi2, dof, probs)`` (the unpooled bin probabilities).
    """
    probs = gibbs_bin_probabilities(loss, temperature, edges)
    x = as_finite_array(samples, "samples", ndim=1)
    counts = np.histogram(x, bins=edges)[0]
    expected = x.size * probs
    big = expected >= min_expected
    obs = np.r_[counts[big], counts[~big].sum() + (x.size - counts.sum())]
    exp = np.r_[expected[big], expected[~big].sum() + x.size * (1 - probs.sum())]
    if exp[-1] < min_expected:
        obs, exp = obs[:-1], exp[:-1]
        exp = exp * obs.sum() / exp.sum()
    return float(np.sum((obs - exp) ** 2 / exp)), int(exp.size - 1), probs


def gibbs_bin_probabilities(loss, temperature, edges, fine=40):
    """Probabilities of the bins ``edges`` under the Gibbs law normalized on the edges
    (trapezoids on ``fine`` cells per bin)."""
    edges = np.asarray(edges, dtype=float)
    g = np.linspace(edges[0], edges[-1], (edges.size - 1) * fine + 1)
    p = gibbs_density(loss, g, temperature)
    cell = 0.5 * (p[1:] + p[:-1]) * np.diff(g)
    probs = cell.reshape(edges.size - 1, fine).sum(axis=1)
    return probs / probs.sum()


def chi_square_resolution(loss, temperature, edges, n, *, z=4.0):
    r"""The smallest relative temperature error :math:`\delta > 0` the :math:`\chi^2` test of
    ``n`` samples detects: the noncentrality :math:`n\sum_b (q_b - p_b)^2/p_b` of the law at
    :math:`T(1+\delta)` reaches ``z`` standard deviations :math:`\sqrt{2\,\mathrm{dof}}`."""
    from scipy.optimize import brentq

    p = gibbs_bin_probabilities(loss, temperature, edges)
    keep = n * p >= 5
    dof = int(keep.sum())

    def excess(d):
        q = gibbs_bin_probabilities(loss, temperature * (1 + d), edges)
        return n * np.sum((q[keep] - p[keep]) ** 2 / p[keep]) - z * np.sqrt(2 * dof)

    return float(brentq(excess, 1e-4, 2.0))
