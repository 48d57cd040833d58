r"""The Langevin chapter's machinery: from SGD steps to a stochastic differential equation.

SGD with a constant rate :math:`\eta` and batch size :math:`B` is modelled by the Langevin SDE

.. math::
    d\Phi = -g(\Phi)\,dt + \sqrt{\eta\,\Sigma(\Phi)/B}\;dW_t .

The laws the chapter checks it against live in the core (:mod:`sgdsim.laws` for exact
moments on quadratics, :mod:`sgdsim.gibbs` for Gibbs densities, temperature fits and SGD's
exact finite-rate law, :mod:`sgdsim.estimators` for cumulants); this module holds the two
experiments that are the chapter's own:

* :func:`printed_update` -- the slide's literal (mis-printed) update
  :math:`\Phi \leftarrow \eta\hat g`, to show that it is not a descent method;
* :func:`block_noise_sums` -- the sum of :math:`N` gradient fluctuations, whose approach to
  a Gaussian (the central limit theorem) is the step from SGD to the SDE;
* :func:`separable_factors` -- the chapter's two-coordinate problem (its scene), shared by the
  notebook and its explorer.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_chains, as_finite_array, as_generator, as_positive_int, as_rate
from ..dynamics import Trajectory, iterate_map
from ..problems import NoisyPotential, double_well, product_problem

__all__ = ["printed_update", "block_noise_sums", "separable_factors", "reshuffled_block_sums",
           "ar1_stationary_skewness", "occupation_temperature", "grouped_temperatures",
           "gibbs_chi_square", "gibbs_bin_probabilities", "chi_square_resolution"]

#: The chapter's two-coordinate problem: the double well's tilt and the quadratic's curvature.
TILT, KY = 0.3, 2.0


# ----------------------------------------------------------------------------- update rule
def printed_update(problem, phi0, lr, steps, *, chains=None, rng, batch_size=1,
                   record_every=1, max_norm=1e8) -> Trajectory:
    r"""Iterate the update *as printed on the slides*, :math:`\Phi_{k+1} = \eta\,\hat g(\Phi_k)`.

    The slides lost the "minus-equals": the intended update is SGD,
    :math:`\Phi_{k+1} = \Phi_k - \eta\,\hat g(\Phi_k)` (:func:`sgdsim.sgd`). The
    printed map replaces the parameters by a scaled gradient. On a quadratic
    :math:`\mathcal L = \tfrac12 h(\Phi - a)^2` without noise it converges (for
    :math:`\eta h < 1`) to the fixed point :math:`\Phi = -\eta h a/(1 - \eta h)`,
    not to the minimizer :math:`a`. This function exists only to show that.

    Parameters
    ----------
    problem, phi0, lr, steps, chains, rng, batch_size, record_every, max_norm
        As in :func:`sgdsim.sgd` (``lr`` a constant rate :math:`\eta \ge 0`).

    Returns
    -------
    Trajectory
        ``time`` is :math:`\eta k`, as for SGD.
    """
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


# ------------------------------------------------------------------------ the CLT step
def _fixed_point_setup(problem, phi, n_steps, samples, rng):
    """The checked arguments of a sum of gradient fluctuations at one point."""
    return (as_finite_array(phi, "phi", shape=(problem.dim,)),
            as_positive_int(n_steps, "n_steps"), as_positive_int(samples, "samples"),
            as_generator(rng))


def block_noise_sums(problem, phi, n_steps, samples, *, batch_size=1, rng) -> np.ndarray:
    r"""Sums of :math:`N` independent gradient fluctuations at a fixed point.

    .. math::
        S_N = \sum_{j=1}^{N} \bigl(g(\Phi) - \hat g_j(\Phi)\bigr),

    the random part of :math:`N` SGD steps (divided by :math:`\eta`) when the
    parameters barely move. :math:`E S_N = 0` and
    :math:`\operatorname{Cov} S_N = N\Sigma(\Phi)/B`; by the central limit
    theorem :math:`S_N/\sqrt N` tends to :math:`\mathcal N(0, \Sigma/B)`:
    its skewness falls like :math:`N^{-1/2}` and its excess kurtosis like :math:`N^{-1}`.

    Parameters
    ----------
    problem : Problem
    phi : array_like, shape (dim,)
        The point :math:`\Phi` where gradients are sampled.
    n_steps : int
        :math:`N \ge 1`.
    samples : int
        Number of independent sums.
    batch_size : int
        :math:`B`.
    rng : numpy.random.Generator or int

    Returns
    -------
    numpy.ndarray, shape (samples, dim)
    """
    phi, n, m, gen = _fixed_point_setup(problem, phi, n_steps, samples, rng)
    b = as_positive_int(batch_size, "batch_size")
    points = np.broadcast_to(phi, (m, problem.dim))
    g = problem.grad(phi)
    total = np.zeros((m, problem.dim))
    for _ in range(n):
        total += problem.sample_grad(points, b, gen)
    return n * g - total


# ----------------------------------------------------------------------------- scenes
def separable_factors(sigma_x, sigma_y, *, tilt=TILT, k_y=KY):
    r"""The 1-D factors of the chapter's 2-D problem and the 2-D problem itself.

    :math:`\mathcal L_x(x) = (x^2 - 1)^2 + c\,x` (:func:`sgdsim.double_well`,
    tilt :math:`c`) with noise variance :math:`\sigma_x^2`, and
    :math:`\mathcal L_y(y) = \tfrac12 k_y y^2` with noise variance :math:`\sigma_y^2`.

    Returns
    -------
    (x_problem, y_problem, problem) : the two 1-D problems and their product (2-D)
    """
    px = double_well(tilt=tilt, noise_var=float(sigma_x) ** 2)
    py = NoisyPotential(lambda p: 0.5 * k_y * p[..., 0] ** 2, lambda p: k_y * p,
                        float(sigma_y) ** 2, dim=1, minimizer=[0.0],
                        hessian=lambda p: np.full(p.shape[:-1] + (1, 1), k_y))
    return px, py, product_problem(px, py)


# ------------------------------------------------------------ sampling without replacement
def reshuffled_block_sums(problem, phi, n_steps, samples, *, rng) -> np.ndarray:
    r"""Sums of :math:`N` gradient fluctuations when each epoch visits every example once.

    With *reshuffled epochs* (the usual way SGD is run) the first :math:`N \le n` steps of
    an epoch use :math:`N` distinct examples, drawn without replacement. At a fixed
    :math:`\Phi` the sum :math:`S_N = \sum_{j\le N}(g - g_{i_j})` then has the
    finite-population variance

    .. math:: \operatorname{Var} S_N = N\,\Sigma\,\frac{n - N}{n - 1},

    which is :math:`N\Sigma` only for :math:`N \ll n` and exactly :math:`0` at
    :math:`N = n` (a whole epoch: the fluctuations sum to zero).

    Parameters
    ----------
    problem : a finite-sum Problem (with ``example_grads`` and ``n``)
    phi : array_like, shape (dim,)
    n_steps : int
        :math:`1 \le N \le n`.
    samples : int
        Number of independent epochs.
    rng : numpy.random.Generator or int

    Returns
    -------
    numpy.ndarray, shape (samples, dim)
    """
    phi, n, m, gen = _fixed_point_setup(problem, phi, n_steps, samples, rng)
    if n > problem.n:
        raise ValueError(f"n_steps = {n} exceeds the {problem.n} examples of one epoch")
    u = problem.grad(phi) - problem.example_grads(phi)  # (n_examples, dim): g - g_i
    first = np.argsort(gen.random((m, problem.n)), axis=1)[:, :n]  # a random permutation each
    return u[first].sum(axis=1)


# ------------------------------------------------------ SGD on a quadratic: an AR(1) chain
def ar1_stationary_skewness(gamma1, rate_times_curvature):
    r"""Exact skewness of SGD's stationary law on a 1-D quadratic finite sum.

    On :math:`\mathcal L_i = \tfrac12 h(x - a_i)^2` one SGD step is the AR(1) recursion
    :math:`y_{k+1} = (1 - u)\,y_k + u\,\xi_k` with :math:`y = x - \bar a`, :math:`u = \eta h`
    and i.i.d. innovations :math:`\xi = a_i - \bar a` of skewness :math:`\gamma_1`. Its
    stationary cumulants are :math:`\kappa_n(y) = u^n\kappa_n(\xi)/(1 - (1-u)^n)`, so

    .. math::
        \operatorname{skew}(y) = \gamma_1\,\frac{\sqrt u\,(2 - u)^{3/2}}{3 - 3u + u^2}
        = \tfrac{2^{3/2}}{3}\,\gamma_1\sqrt{u}\,\bigl(1 + O(u)\bigr):

    the shape error of the stationary law is of order :math:`\sqrt\eta`, not :math:`\eta`.
    """
    u = np.asarray(rate_times_curvature, dtype=float)
    if np.any((u <= 0) | (u >= 2)):
        raise ValueError("the AR(1) chain is stationary only for 0 < eta h < 2")
    return gamma1 * np.sqrt(u) * (2 - u) ** 1.5 / (3 - 3 * u + u * u)


# ----------------------------------------------- temperatures from different statistics
def occupation_temperature(loss, grid, split, fraction_left) -> float:
    r"""The temperature at which a Gibbs law puts mass ``fraction_left`` below ``split``.

    Solves :math:`\int_{x<s} e^{-\mathcal L/T} / \int e^{-\mathcal L/T} = f` for :math:`T`
    (the left well is the deeper one, so the fraction falls as :math:`T` rises).
    """
    from scipy.optimize import brentq

    from ..gibbs import gibbs_density

    grid = np.asarray(grid, dtype=float)
    left = grid < split

    def frac(t):
        p = gibbs_density(loss, grid, t)
        return float(np.trapezoid(p * left, grid) / np.trapezoid(p, grid))

    return float(np.exp(brentq(lambda lt: frac(np.exp(lt)) - fraction_left,
                               np.log(1e-3), np.log(1e2), xtol=1e-12)))


def grouped_temperatures(problem, x, grid, *, split, groups=20):
    r"""Three temperatures of 1-D stationary samples, each estimated in groups of chains.

    For a Gibbs law :math:`e^{-\mathcal L/T}` three different statistics give the same
    :math:`T`: the mean loss (matched to :math:`E_T\mathcal L`, :func:`sgdsim.fit_temperature`),
    the virial :math:`E[(x - c)\mathcal L'(x)] = T` (any :math:`c`; integration by parts) and
    the fraction of time spent below ``split`` (:func:`occupation_temperature`). For any other
    law they differ. Each is computed in ``groups`` disjoint groups of chains, so differences
    between statistics get standard errors that include their correlation.

    Parameters
    ----------
    problem : 1-D Problem
    x : array_like, shape (records, chains)
        Stationary samples.
    grid : array_like
        Grid for the Gibbs integrals.
    split : float
        The barrier top (separates the wells).

    Returns
    -------
    dict name -> numpy.ndarray of shape (groups,): ``"mean loss"``, ``"virial"``,
    ``"occupation"``.
    """
    from ..gibbs import fit_temperature

    x = as_finite_array(x, "x", ndim=2)
    k = as_positive_int(groups, "groups", minimum=2)
    c = x.shape[1] // k
    out = {"mean loss": [], "virial": [], "occupation": []}
    for j in range(k):
        xs = x[:, j * c:(j + 1) * c]
        loss = problem.loss(xs[..., None])
        out["mean loss"].append(fit_temperature(loss, problem.loss, grid).value)
        out["virial"].append(float(np.mean(xs * problem.grad(xs[..., None])[..., 0])))
        out["occupation"].append(occupation_temperature(problem.loss, grid, split,
                                                        float(np.mean(xs < split))))
    return {name: np.array(v) for name, v in out.items()}


def gibbs_chi_square(samples, loss, temperature, edges, min_expected=5.0):
    r"""Pearson's :math:`\chi^2` of i.i.d. samples against the Gibbs density :math:`e^{-\mathcal L/T}`.

    Bin probabilities are integrals of the Gibbs density over ``edges`` (on a fine grid);
    bins expecting fewer than ``min_expected`` draws are pooled with the outside. Under the
    hypothesis, :math:`\chi^2` has mean ``dof`` and standard deviation about
    :math:`\sqrt{2\,\mathrm{dof}}`.

    Returns
    -------
    (chi2, dof, probs) : float, int, numpy.ndarray (the unpooled bin probabilities)
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
    """Probabilities of the bins ``edges`` under the Gibbs density (normalized on the edges)."""
    from ..gibbs import gibbs_density

    edges = np.asarray(edges, dtype=float)
    g = np.linspace(edges[0], edges[-1], (edges.size - 1) * fine + 1)
    p = gibbs_density(loss, g, temperature)
    cell = 0.5 * (p[1:] + p[:-1]) * np.diff(g)
    probs = cell.reshape(edges.size - 1, fine).sum(axis=1)
    return probs / probs.sum()


def chi_square_resolution(loss, temperature, edges, n, *, z=4.0):
    r"""The smallest relative temperature error :math:`\delta` the :math:`\chi^2` test detects.

    A sample of size ``n`` from the Gibbs law at :math:`T(1+\delta)` tested against the one
    at :math:`T` raises the mean of :math:`\chi^2` by the noncentrality
    :math:`\lambda = n\sum_b (q_b - p_b)^2/p_b`; the test (``z`` standard deviations
    :math:`\sqrt{2\,\mathrm{dof}}`) detects it when :math:`\lambda \ge z\sqrt{2\,\mathrm{dof}}`.
    Returns the smallest such :math:`\delta > 0`.
    """
    from scipy.optimize import brentq

    p = gibbs_bin_probabilities(loss, temperature, edges)
    keep = n * p >= 5
    dof = int(keep.sum())

    def excess(d):
        q = gibbs_bin_probabilities(loss, temperature * (1 + d), edges)
        return n * np.sum((q[keep] - p[keep]) ** 2 / p[keep]) - z * np.sqrt(2 * dof)

    return float(brentq(excess, 1e-4, 2.0))
