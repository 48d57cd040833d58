r"""The stochastic-differential-equation picture of SGD (the Langevin chapter's tools).

SGD with a constant rate :math:`\eta` and batch size :math:`B` is modelled by the
Langevin SDE

.. math::
    d\Phi = -g(\Phi)\,dt + \sqrt{\eta\,\Sigma(\Phi)/B}\;dW_t ,

whose 1-D stationary density (constant noise :math:`\sigma^2`) is the Gibbs density
:math:`p \propto e^{-\mathcal L/T}` at temperature :math:`T = \eta\sigma^2/(2B)`.
This module holds what is needed to *test* that model against SGD itself:

* :func:`printed_update` -- the slide's literal (mis-printed) update
  :math:`\Phi \leftarrow \eta\hat g`, to show that it is not a descent method;
* :func:`block_noise_sums` -- the sum of :math:`N` gradient fluctuations, whose
  approach to a Gaussian (the central limit theorem) is the step from SGD to the SDE;
* :func:`cumulants` -- variance, skewness and excess kurtosis with standard errors;
* :func:`quadratic_moments` -- exact means and covariances of SGD, of Euler--Maruyama
  and of the exact SDE (Ornstein--Uhlenbeck) on a quadratic;
* :func:`linear_noise_cov` -- the small-:math:`\eta` covariance of SGD around the
  gradient-flow path (the linear-noise approximation);
* :func:`gibbs_mean_loss` and :func:`fit_temperature` -- maximum-likelihood
  temperature of samples under the Gibbs family;
* :func:`sgd_stationary_density` -- the *exact* stationary density of 1-D SGD with
  Gaussian gradient noise at a finite rate (no SDE approximation), by discretizing
  its transition kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import (
    as_chains,
    as_finite_array,
    as_generator,
    as_increasing_grid,
    as_positive_float,
    as_positive_int,
    as_rates,
)
from .dynamics import Trajectory, _iterate
from .estimators import Estimate, chain_mean

__all__ = [
    "printed_update",
    "block_noise_sums",
    "Cumulants",
    "cumulants",
    "quadratic_moments",
    "linear_noise_cov",
    "gibbs_mean_loss",
    "fit_temperature",
    "sgd_stationary_density",
    "sgd_stationary_temperature",
    "product_problem",
    "EnsembleGap",
    "compare_ensembles",
]


def _one_rate(lr) -> float:
    return float(as_rates(lr, 1)[0])


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
    eta = _one_rate(lr)
    phi = as_chains(phi0, problem.dim, chains)
    batch_size = as_positive_int(batch_size, "batch_size")
    gen = as_generator(rng)

    def direction(p):  # p <- p - 1 * (p - eta g_hat)  ==  eta g_hat
        return p - eta * problem.sample_grad(p, batch_size, gen)

    traj = _iterate("The printed update", problem, phi, np.ones(steps), direction,
                    record_every, max_norm)
    return Trajectory(phi=traj.phi, time=eta * traj.step, step=traj.step)


# ------------------------------------------------------------------------ the CLT step
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
    phi = as_finite_array(phi, "phi", shape=(problem.dim,))
    n = as_positive_int(n_steps, "n_steps")
    m = as_positive_int(samples, "samples")
    b = as_positive_int(batch_size, "batch_size")
    gen = as_generator(rng)
    points = np.broadcast_to(phi, (m, problem.dim))
    g = problem.grad(phi)
    total = np.zeros((m, problem.dim))
    for _ in range(n):
        total += problem.sample_grad(points, b, gen)
    return n * g - total


@dataclass(frozen=True)
class Cumulants:
    """Variance, skewness and excess kurtosis of a sample, each with a standard error."""

    variance: Estimate
    skewness: Estimate
    excess_kurtosis: Estimate


def cumulants(x, groups: int = 20) -> Cumulants:
    r"""Variance, skewness :math:`\kappa_3/\kappa_2^{3/2}` and excess kurtosis :math:`\kappa_4/\kappa_2^2`.

    The sample is cut into ``groups`` equal groups; in each, the cumulants are
    estimated with Fisher's unbiased k-statistics :math:`k_2, k_3, k_4`, and the
    standardized ratios are formed. The estimate is the mean over groups and its
    standard error the spread of the groups over :math:`\sqrt{\text{groups}}`
    (the groups are independent when the sample is i.i.d.). The ratios carry a
    bias of order 1/(group size), negligible for groups of a thousand or more.

    Parameters
    ----------
    x : array_like, shape (n,)
        Independent draws; at least 8 per group.
    groups : int
        At least 2.
    """
    x = as_finite_array(x, "x", ndim=1)
    k = as_positive_int(groups, "groups", minimum=2)
    size = x.size // k
    if size < 8:
        raise ValueError(f"cumulants needs at least 8 draws per group; got {x.size} for {k} groups")
    y = x[: k * size].reshape(k, size)
    y = y - y.mean(axis=1, keepdims=True)  # k-statistics k2..k4 are shift invariant
    n = float(size)
    s2, s3, s4 = (np.sum(y**p, axis=1) for p in (2, 3, 4))  # s1 = 0 after centering
    k2 = s2 / (n - 1)
    k3 = n * s3 / ((n - 1) * (n - 2))
    k4 = (n * n * (n + 1) * s4 - 3 * n * (n - 1) * s2 * s2) / (n * (n - 1) * (n - 2) * (n - 3))
    if np.any(k2 <= 0):
        raise ValueError("a group of the sample is constant: its skewness is undefined")
    return Cumulants(variance=chain_mean(k2), skewness=chain_mean(k3 / k2**1.5),
                     excess_kurtosis=chain_mean(k4 / k2**2))


# ------------------------------------------------------------- moments: SGD vs the SDE
def _times_as_steps(times, step, what) -> np.ndarray:
    k = np.rint(times / step).astype(int)
    if np.any(np.abs(k * step - times) > 1e-9 * np.maximum(1.0, times)):
        raise ValueError(f"every time must be a whole number of {what} steps {step:g}")
    return k


def quadratic_moments(problem, phi0, times, *, lr, method="sgd", dt=None, batch_size=1):
    r"""Exact mean and covariance at the given times on a quadratic with constant noise.

    With :math:`H` the Hessian, :math:`\Phi^*` the minimizer and
    :math:`\Sigma` the single-example noise covariance, the deviation
    :math:`\delta = \Phi - \Phi^*` obeys

    * ``method="sgd"`` (step :math:`\eta`):
      :math:`\delta_{k+1} = (I - \eta H)\delta_k + \xi_k`, :math:`\operatorname{Cov}\xi = \eta^2\Sigma/B`;
    * ``method="em"`` (Euler--Maruyama of the SDE with step :math:`\Delta t`):
      :math:`\delta_{k+1} = (I - \Delta t H)\delta_k + \xi_k`,
      :math:`\operatorname{Cov}\xi = \Delta t\,\eta\Sigma/B`;
    * ``method="exact"`` (the Ornstein--Uhlenbeck SDE
      :math:`d\delta = -H\delta\,dt + \sqrt{\eta\Sigma/B}\,dW`):
      :math:`E\delta(t) = e^{-Ht}\delta_0`,
      :math:`\operatorname{Cov}\delta(t) = C_\infty - e^{-Ht}C_\infty e^{-Ht}` with
      :math:`HC_\infty + C_\infty H = \eta\Sigma/B`.

    The first two hold for any noise distribution (only its covariance enters).

    Parameters
    ----------
    problem : Problem
        A quadratic loss with constant noise (e.g. :class:`sgdsim.Quadratic`).
    phi0 : array_like, shape (dim,)
    times : array_like, shape (m,)
        Non-negative; for ``"sgd"`` and ``"em"`` whole multiples of the step.
    lr : float
        :math:`\eta`.
    method : {"sgd", "em", "exact"}
    dt : float
        The Euler--Maruyama step (``method="em"`` only).
    batch_size : int

    Returns
    -------
    mean : numpy.ndarray, shape (m, dim)
    cov : numpy.ndarray, shape (m, dim, dim)
    """
    from .stationary import langevin_stationary_cov

    if not getattr(problem, "noise_is_constant", False):
        raise ValueError("quadratic_moments needs a problem with constant gradient noise")
    eta = _one_rate(lr)
    b = as_positive_int(batch_size, "batch_size")
    phi0 = as_finite_array(phi0, "phi0", shape=(problem.dim,))
    times = as_finite_array(times, "times", ndim=1)
    if np.any(times < 0):
        raise ValueError("times must be >= 0")
    star = problem.minimizer()
    h = np.atleast_2d(problem.hessian(star))
    sigma = np.atleast_2d(problem.noise_cov())
    d0 = phi0 - star
    dim = problem.dim
    if method == "exact":
        w, v = np.linalg.eigh(h)
        c_inf = langevin_stationary_cov(h, sigma, eta, b)
        mean = np.empty((times.size, dim))
        cov = np.empty((times.size, dim, dim))
        for i, t in enumerate(times):
            e = (v * np.exp(-w * t)) @ v.T
            mean[i] = star + e @ d0
            cov[i] = c_inf - e @ c_inf @ e
        return mean, cov
    if method == "sgd":
        step, q = eta, eta**2 * sigma / b
    elif method == "em":
        if dt is None:
            raise ValueError('method="em" needs dt=')
        step = float(as_finite_array(dt, "dt", ndim=0))
        if not step > 0:
            raise ValueError(f"dt must be > 0, got {dt!r}")
        q = step * eta * sigma / b
    else:
        raise ValueError(f'method must be "sgd", "em" or "exact", got {method!r}')
    if step == 0:
        raise ValueError("lr must be > 0 for method='sgd'")
    ks = _times_as_steps(times, step, method)
    a = np.eye(dim) - step * h
    mean = np.empty((times.size, dim))
    cov = np.empty((times.size, dim, dim))
    m, c = d0.copy(), np.zeros((dim, dim))
    order = np.argsort(ks, kind="stable")
    k_now = 0
    for i in order:
        for _ in range(ks[i] - k_now):
            m = a @ m
            c = a @ c @ a.T + q
        k_now = ks[i]
        mean[i] = star + m
        cov[i] = c
    return mean, cov


def linear_noise_cov(problem, phi0, times, *, lr, batch_size=1, rtol=1e-9, atol=1e-12):
    r"""Gradient-flow path and the covariance of SGD around it to first order in :math:`\eta`.

    For small :math:`\eta`, SGD from :math:`\Phi_0` stays within
    :math:`O(\sqrt\eta)` of the gradient flow :math:`\bar\Phi(t)`, and the
    fluctuation :math:`\Phi(t) - \bar\Phi(t)` is approximately Gaussian with
    covariance :math:`C(t)` solving the linearized (Lyapunov) equation

    .. math::
        \dot{\bar\Phi} = -g(\bar\Phi), \qquad
        \dot C = -H(\bar\Phi)\,C - C\,H(\bar\Phi) + \eta\,\Sigma(\bar\Phi)/B,
        \qquad C(0) = 0,

    (van Kampen's linear-noise approximation). So
    :math:`E\|\Phi(t) - \bar\Phi(t)\|^2 = \operatorname{tr} C(t)\,(1 + O(\eta))`.

    Parameters
    ----------
    problem : Problem
        Needs ``grad``, ``hessian`` and ``noise_cov``.
    phi0 : array_like, shape (dim,)
    times : array_like, shape (m,)
        Non-decreasing, >= 0.
    lr : float
        :math:`\eta`.

    Returns
    -------
    path : numpy.ndarray, shape (m, dim)
    cov : numpy.ndarray, shape (m, dim, dim)
    """
    from scipy.integrate import solve_ivp

    eta = _one_rate(lr)
    b = as_positive_int(batch_size, "batch_size")
    phi0 = as_finite_array(phi0, "phi0", shape=(problem.dim,))
    times = as_finite_array(times, "times", ndim=1)
    if times[0] < 0 or np.any(np.diff(times) < 0):
        raise ValueError("times must be >= 0 and non-decreasing")
    d = problem.dim

    def rhs(t, y):
        m, c = y[:d], y[d:].reshape(d, d)
        h = np.asarray(problem.hessian(m)).reshape(d, d)
        s = np.asarray(problem.noise_cov(m)).reshape(d, d)
        dc = -h @ c - c @ h + eta * s / b
        return np.r_[-problem.grad(m), dc.ravel()]

    y0 = np.r_[phi0, np.zeros(d * d)]
    if times[-1] == 0:
        return np.repeat(phi0[None], times.size, 0), np.zeros((times.size, d, d))
    sol = solve_ivp(rhs, (0.0, float(times[-1])), y0, t_eval=times, rtol=rtol, atol=atol,
                    method="DOP853")
    if not sol.success:
        raise RuntimeError(f"linear_noise_cov: the ODE solver failed: {sol.message}")
    y = sol.y.T
    cov = y[:, d:].reshape(-1, d, d)
    return y[:, :d], 0.5 * (cov + np.swapaxes(cov, 1, 2))


# -------------------------------------------------------------- temperature by likelihood
def _loss_on_grid(loss, grid):
    grid = as_increasing_grid(grid, "grid", min_size=3)
    values = loss(grid[:, None]) if callable(loss) else loss
    return grid, as_finite_array(values, "loss values", shape=(grid.size,))


def _gibbs_moments(values, grid, t):
    w = np.exp(-(values - values.min()) / t)
    z = np.trapezoid(w, grid)
    m = np.trapezoid(w * values, grid) / z
    v = np.trapezoid(w * (values - m) ** 2, grid) / z
    return m, v


def gibbs_mean_loss(loss, grid, temperature) -> tuple[float, float]:
    r"""Mean and variance of :math:`\mathcal L` under the Gibbs density :math:`e^{-\mathcal L/T}/Z`.

    Integrals by the trapezoidal rule on ``grid`` (which must cover the mass).
    Their derivative is :math:`\frac{d}{dT}E_T[\mathcal L] = \operatorname{Var}_T[\mathcal L]/T^2 > 0`.

    Parameters
    ----------
    loss : callable or array_like
        As in :func:`sgdsim.gibbs_density`.
    grid : array_like, shape (m,)
    temperature : float > 0

    Returns
    -------
    (mean, variance) : tuple of float
    """
    grid, values = _loss_on_grid(loss, grid)
    t = as_positive_float(temperature, "temperature")
    m, v = _gibbs_moments(values, grid, t)
    return float(m), float(v)


def fit_temperature(loss_samples, loss, grid) -> Estimate:
    r"""Maximum-likelihood temperature of samples under :math:`p_T(x) \propto e^{-\mathcal L(x)/T}`.

    The Gibbs densities form an exponential family with sufficient statistic
    :math:`\mathcal L`, so the likelihood equation is moment matching:
    :math:`\hat T` solves :math:`E_{\hat T}[\mathcal L] = \overline{\mathcal L}`,
    the sample mean of the loss. The standard error follows by the delta method,

    .. math:: \operatorname{se}(\hat T) = \operatorname{se}(\overline{\mathcal L})\,
              \hat T^2 / \operatorname{Var}_{\hat T}[\mathcal L],

    with :math:`\operatorname{se}(\overline{\mathcal L})` from
    :func:`sgdsim.chain_mean` -- the spread of per-chain time averages -- which
    is valid whatever the autocorrelation along the chains.

    Parameters
    ----------
    loss_samples : array_like, shape (records, chains), or Estimate
        :math:`\mathcal L(\Phi)` along independent chains after burn-in (at least
        2 chains), or an already computed mean with its standard error.
    loss : callable or array_like
        :math:`\mathcal L` on the grid (as in :func:`sgdsim.gibbs_density`).
    grid : array_like, shape (m,)
        Increasing points covering the mass of the density.

    Returns
    -------
    Estimate
    """
    from scipy.optimize import brentq

    grid, values = _loss_on_grid(loss, grid)
    est = loss_samples if isinstance(loss_samples, Estimate) else chain_mean(loss_samples)
    lo_v, hi_v = values.min(), float(np.trapezoid(values, grid) / (grid[-1] - grid[0]))
    if not lo_v < est.value < hi_v:
        raise ValueError(
            f"the mean sample loss {est.value:.4g} is outside the range of Gibbs means on this "
            f"grid ({lo_v:.4g}, {hi_v:.4g}): widen the grid or check the samples"
        )
    scale = max(float(np.ptp(values)), 1e-300)

    def f(log_t):
        return _gibbs_moments(values, grid, np.exp(log_t))[0] - est.value

    lo, hi = np.log(scale * 1e-8), np.log(scale * 1e8)
    log_t = brentq(f, lo, hi, xtol=1e-14, rtol=1e-13)
    t = float(np.exp(log_t))
    var = _gibbs_moments(values, grid, t)[1]
    return Estimate(t, float(est.stderr * t * t / var))


# --------------------------------------------------------- exact finite-rate stationary law
#: Kernel weights below e^-40 (relative size < 1e-17) are dropped: they only add
#: subnormal numbers, which make a dense solve very slow, and they make the matrix banded.
_KERNEL_Z2_CUT = 80.0


def _kernel_null_vector(grid, mean, sd, loss_values):
    r"""Invariant vector of the row-stochastic Gaussian kernel ``K[i, j] ~ exp(-(x_j - m_i)^2 / 2 sd^2)``.

    Each row keeps the grid points within :math:`\sqrt{80}` standard deviations of its
    mean, so ``K`` is banded (the band is the step noise plus the largest drift
    :math:`\eta|\mathcal L'|` on the grid). The stationary equation
    :math:`(K^\top - I)\pi = 0` has one redundant row (its rows sum to zero); it is
    replaced by :math:`\pi_p = 1` at the grid point ``p`` of least loss, where
    :math:`\pi` is largest, and the banded system is solved by LU (a dense solve when
    the band is wide). The result is unnormalized.
    """
    from scipy.linalg import solve_banded

    m = grid.size
    dx = (grid[-1] - grid[0]) / (m - 1)
    half = int(np.ceil(np.sqrt(_KERNEL_Z2_CUT) * sd / dx)) + 1
    centre = np.rint((mean - grid[0]) / dx).astype(int)  # nearest grid index of each mean
    p = int(np.argmin(loss_values))
    rhs = np.zeros(m)
    rhs[p] = 1.0
    band = half + int(np.max(np.abs(centre - np.arange(m))))
    if 2 * band + 1 > m // 4:  # a wide band: solve densely
        z2 = ((grid[None, :] - mean[:, None]) / sd) ** 2
        k = np.where(z2 < _KERNEL_Z2_CUT, np.exp(-0.5 * np.minimum(z2, _KERNEL_Z2_CUT)), 0.0)
        _check_rows(k.sum(axis=1), grid, mean)
        a = (k / k.sum(axis=1, keepdims=True)).T
        a[np.arange(m), np.arange(m)] -= 1.0
        a[p] = 0.0
        a[p, p] = 1.0
        return np.linalg.solve(a, rhs)
    cols = centre[:, None] + np.arange(-half, half + 1)[None, :]  # (m, 2 half + 1)
    inside = (cols >= 0) & (cols < m)
    z2 = ((grid[np.clip(cols, 0, m - 1)] - mean[:, None]) / sd) ** 2
    keep = inside & (z2 < _KERNEL_Z2_CUT)
    w = np.where(keep, np.exp(-0.5 * np.minimum(z2, _KERNEL_Z2_CUT)), 0.0)
    _check_rows(w.sum(axis=1), grid, mean)
    w /= w.sum(axis=1, keepdims=True)  # k[i, j]: step i -> j, conditioned on staying on the grid
    rows = np.broadcast_to(np.arange(m)[:, None], cols.shape)
    src, dst, val = rows[keep], cols[keep], w[keep]  # A = K^T - I has A[dst, src] = val
    lower = max(1, int(np.max(dst - src)))  # A[r, s] != 0 only for -upper <= r - s <= lower
    upper = max(1, int(np.max(src - dst)))
    ab = np.zeros((lower + upper + 1, m))  # banded storage: ab[upper + r - s, s] = A[r, s]
    ab[upper + dst - src, src] = val
    ab[upper] -= 1.0
    s_lo, s_hi = max(0, p - lower), min(m, p + upper + 1)  # row p of A becomes pi_p = 1
    ab[upper + p - np.arange(s_lo, s_hi), np.arange(s_lo, s_hi)] = 0.0
    ab[upper, p] = 1.0
    return solve_banded((lower, upper), ab, rhs)


def _check_rows(total, grid, mean):
    if np.any(total == 0):
        i = int(np.argmin(total))
        raise ValueError(
            f"one SGD step from x = {grid[i]:.4g} lands far outside the grid (mean "
            f"{mean[i]:.4g}): the grid must hold the chain; widen it or lower lr"
        )


def sgd_stationary_density(problem, lr, grid, *, batch_size=1) -> np.ndarray:
    r"""Exact stationary density of 1-D SGD with Gaussian gradient noise at rate :math:`\eta`.

    With :math:`\hat g = \mathcal L'(x) + \varepsilon`,
    :math:`\varepsilon \sim \mathcal N(0, \sigma^2/B)`, one SGD step moves
    :math:`x` to :math:`y \sim \mathcal N(x - \eta\mathcal L'(x),\ \eta^2\sigma^2/B)`.
    The stationary density solves :math:`p(y) = \int K(x \to y)\,p(x)\,dx`;
    discretized on the grid (Nyström with trapezoidal weights, rows
    renormalized on the grid), it is the left null vector of :math:`K - I`, found
    by a banded solve with the balance equation at the point of least loss replaced
    by :math:`\pi = 1` there (well conditioned even when the wells are decoupled
    to round-off at low temperature).
    No SDE approximation is made: this is SGD's own law at finite :math:`\eta`,
    which tends to the Gibbs density at :math:`T = \eta\sigma^2/(2B)` as
    :math:`\eta \to 0`. Resolve the step noise: the grid spacing should be
    well below :math:`\eta\sigma/\sqrt B`.

    Parameters
    ----------
    problem : Problem
        1-D with constant noise (e.g. :func:`sgdsim.double_well`).
    lr : float > 0
    grid : array_like, shape (m,)
        Uniform, increasing, covering the mass.
    batch_size : int

    Returns
    -------
    numpy.ndarray, shape (m,)
        The density on the grid, integrating to 1 by the trapezoidal rule.
    """
    if problem.dim != 1 or not getattr(problem, "noise_is_constant", False):
        raise ValueError("sgd_stationary_density needs a 1-D problem with constant noise")
    eta = _one_rate(lr)
    if eta <= 0:
        raise ValueError("lr must be > 0")
    b = as_positive_int(batch_size, "batch_size")
    grid = as_finite_array(grid, "grid", ndim=1)
    dx = np.diff(grid)
    if grid.size < 3 or np.any(dx <= 0) or np.ptp(dx) > 1e-6 * dx.mean():
        raise ValueError("grid must be uniform and increasing with at least 3 points")
    sd = eta * np.sqrt(float(np.atleast_2d(problem.noise_cov())[0, 0]) / b)
    if not sd > 0:
        raise ValueError("the gradient noise is zero: SGD has no stationary density")
    if dx[0] > 0.5 * sd:
        raise ValueError(
            f"grid spacing {dx[0]:.3g} does not resolve the step noise eta*sigma/sqrt(B) = "
            f"{sd:.3g}: use a spacing below half of it"
        )
    mean = grid - eta * problem.grad(grid[:, None])[:, 0]
    pi = _kernel_null_vector(grid, mean, sd, problem.loss(grid[:, None]))
    pi = np.clip(pi, 0.0, None)
    return pi / np.trapezoid(pi, grid)


# ----------------------------------------------------------------- separable problems
def product_problem(x_problem, y_problem):
    r"""The 2-D problem :math:`\mathcal L(x, y) = \mathcal L_x(x) + \mathcal L_y(y)` with independent noise.

    Both factors are 1-D problems with constant Gaussian gradient noise (e.g.
    :func:`sgdsim.double_well` or a 1-D :class:`sgdsim.NoisyPotential`) with
    variances :math:`\sigma_x^2, \sigma_y^2`. The result has noise covariance
    :math:`\operatorname{diag}(\sigma_x^2, \sigma_y^2)`, so SGD moves the two
    coordinates independently and its Langevin stationary density factorizes,
    :math:`p(x, y) \propto e^{-\mathcal L_x(x)/T_x}\,e^{-\mathcal L_y(y)/T_y}` with
    :math:`T_x = \eta\sigma_x^2/2`, :math:`T_y = \eta\sigma_y^2/2`.

    Returns
    -------
    NoisyPotential
        ``dim = 2``; its ``minimizer()`` is the pair of the factors' minimizers.
    """
    from .problems import NoisyPotential

    for name, p in (("x_problem", x_problem), ("y_problem", y_problem)):
        if p.dim != 1 or not getattr(p, "noise_is_constant", False):
            raise ValueError(f"{name} must be a 1-D problem with constant noise")
    sx = float(np.atleast_2d(x_problem.noise_cov())[0, 0])
    sy = float(np.atleast_2d(y_problem.noise_cov())[0, 0])

    def loss(phi):
        return x_problem.loss(phi[..., :1]) + y_problem.loss(phi[..., 1:])

    def grad(phi):
        return np.concatenate([x_problem.grad(phi[..., :1]), y_problem.grad(phi[..., 1:])], -1)

    def hessian(phi):
        h = np.zeros(phi.shape[:-1] + (2, 2))
        h[..., 0, 0] = x_problem.hessian(phi[..., :1])[..., 0, 0]
        h[..., 1, 1] = y_problem.hessian(phi[..., 1:])[..., 0, 0]
        return h

    try:
        star = np.r_[x_problem.minimizer(), y_problem.minimizer()]
    except NotImplementedError:
        star = None
    return NoisyPotential(loss, grad, [sx, sy], minimizer=star, hessian=hessian)


def sgd_stationary_temperature(problem, lr, lo, hi, *, batch_size=1) -> float:
    r"""The temperature that SGD's *exact* finite-rate stationary law has under :func:`fit_temperature`.

    :func:`sgd_stationary_density` on a uniform grid over ``[lo, hi]`` (spacing at most a
    quarter of the step noise :math:`\eta\sigma/\sqrt B`, at least 401 points), then the
    moment-matched Gibbs temperature :math:`T_\eta` with
    :math:`E_{T_\eta}[\mathcal L] = E_{\text{SGD},\eta}[\mathcal L]`. It is what an
    infinitely long SGD run would report; :math:`T_\eta \to \eta\sigma^2/(2B)` as
    :math:`\eta \to 0`, and the difference is SGD's finite-:math:`\eta` correction.

    Parameters
    ----------
    problem : Problem
        1-D with constant Gaussian noise.
    lr : float > 0
    lo, hi : float
        An interval holding the mass of the stationary law.
    batch_size : int

    Returns
    -------
    float
    """
    eta = _one_rate(lr)
    b = as_positive_int(batch_size, "batch_size")
    lo, hi = float(lo), float(hi)
    if not hi > lo:
        raise ValueError(f"need lo < hi, got lo={lo:g}, hi={hi:g}")
    if problem.dim != 1 or not getattr(problem, "noise_is_constant", False):
        raise ValueError("sgd_stationary_temperature needs a 1-D problem with constant noise")
    sd = eta * np.sqrt(float(np.atleast_2d(problem.noise_cov())[0, 0]) / b)
    if not sd > 0:
        raise ValueError("lr and the gradient noise must be > 0")
    n = max(401, int(np.ceil(4 * (hi - lo) / sd)) + 1)
    if n > 6000:
        raise ValueError(f"the grid would need {n} points; narrow [lo, hi] or raise lr")
    grid = np.linspace(lo, hi, n)
    dens = sgd_stationary_density(problem, eta, grid, batch_size=b)
    values = problem.loss(grid[:, None])
    mean = float(np.trapezoid(dens * values, grid))
    return fit_temperature(Estimate(mean, 1.0), values, grid).value


# ------------------------------------------------------------ comparing two ensembles
@dataclass(frozen=True)
class EnsembleGap:
    """Differences between two independent ensembles of chains, with standard errors."""

    mean_diff: tuple  #: per coordinate, ``Estimate`` of mean(a) - mean(b)
    spread_ratio: Estimate  #: tr Cov(a) / tr Cov(b)


def compare_ensembles(a, b) -> EnsembleGap:
    r"""Compare the mean and the spread of two independent samples of chains.

    ``mean_diff[j]`` estimates :math:`E a_j - E b_j` with standard error
    :math:`\sqrt{s_{a,j}^2/n_a + s_{b,j}^2/n_b}`; ``spread_ratio`` estimates
    :math:`\operatorname{tr}\operatorname{Cov} a / \operatorname{tr}\operatorname{Cov} b`
    with a delta-method standard error from the spread of :math:`\|a - \bar a\|^2`
    (valid for any distribution with a fourth moment).

    Parameters
    ----------
    a, b : array_like, shape (n_a, dim) and (n_b, dim)
        Independent draws (e.g. the final states of independent chains).
    """
    a = as_finite_array(a, "a", ndim=2)
    b = as_finite_array(b, "b", ndim=2)
    if a.shape[1] != b.shape[1] or min(a.shape[0], b.shape[0]) < 2:
        raise ValueError("a and b need the same dim and at least 2 draws each")
    se = np.sqrt(a.var(0, ddof=1) / a.shape[0] + b.var(0, ddof=1) / b.shape[0])
    diff = a.mean(0) - b.mean(0)
    spreads = []
    for x in (a, b):
        r2 = np.sum((x - x.mean(0)) ** 2, axis=1) * x.shape[0] / (x.shape[0] - 1)
        spreads.append((r2.mean(), r2.std(ddof=1) / np.sqrt(x.shape[0])))
    (ta, sa), (tb, sb) = spreads
    ratio = ta / tb
    return EnsembleGap(
        mean_diff=tuple(Estimate(float(d), float(s)) for d, s in zip(diff, se)),
        spread_ratio=Estimate(float(ratio), float(ratio * np.hypot(sa / ta, sb / tb))),
    )
