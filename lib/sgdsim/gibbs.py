r"""Gibbs densities and stationary laws in one dimension: temperatures, densities, fits.

Langevin dynamics :math:`d\Phi = -\nabla\mathcal L\,dt + \sqrt{\eta\Sigma/B}\,dW` with
isotropic :math:`\Sigma = \sigma^2 I` has the Gibbs density :math:`p \propto e^{-\mathcal L/T}`
as its stationary law, at temperature :math:`T = \eta\sigma^2/(2B)`; SGD itself has that law
only as :math:`\eta \to 0`, and RMSProp has temperature :math:`c(\beta)\,\eta\sigma/(2\sqrt B)`.
Functions take ``loss`` as values on a 1-D ``grid`` (increasing, covering the mass) or as a
callable of ``grid[:, None]``; integrals over the grid use the trapezoidal rule.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_finite_array,
    as_generator,
    as_increasing_grid,
    as_nonnegative,
    as_positive_int,
    as_rate,
)
from .estimators import Estimate, chain_mean
from .preconditioners import RMSProp
from .problems import noise_var_1d

__all__ = [
    "temperature",
    "gibbs_density",
    "fit_temperature",
    "sgd_stationary_density",
    "sgd_stationary_temperature",
    "rmsprop_temperature",
    "rmsprop_temperature_factor",
]


def temperature(lr, noise_var, batch_size=1):
    r"""Langevin temperature :math:`T = \eta\,\sigma^2 / (2B)`: the SDE's diffusion coefficient,
    and flux balance :math:`D\,p' = -p\,\mathcal L'` gives :math:`p \propto e^{-\mathcal L/D}`."""
    lr = as_nonnegative(lr, "lr")
    noise_var = as_nonnegative(noise_var, "noise_var")
    b = as_positive_int(batch_size, "batch_size")
    return lr * noise_var / (2.0 * b)


def _loss_on_grid(loss, grid):
    grid = as_increasing_grid(grid, "grid", min_size=3)
    values = loss(grid[:, None]) if callable(loss) else loss
    return grid, as_finite_array(values, "loss values", shape=(grid.size,))


def _gibbs_weights(values, grid, t):
    """Unnormalized Gibbs weights e^{-(L - min L)/T} and their trapezoidal integral Z."""
    w = np.exp(-(values - values.min()) / t)
    return w, np.trapezoid(w, grid)


def _gibbs_moments(values, grid, t):
    w, z = _gibbs_weights(values, grid, t)
    m = np.trapezoid(w * values, grid) / z
    v = np.trapezoid(w * (values - m) ** 2, grid) / z
    return m, v


def gibbs_density(loss, grid, temperature):
    r"""The Gibbs density :math:`p(x) = e^{-\mathcal L(x)/T} / Z` on the grid (integrates to 1).

    The grid must cover the mass (a few :math:`\sqrt{T/\mathcal L''}` past the wells).
    """
    grid, values = _loss_on_grid(loss, grid)
    w, z = _gibbs_weights(values, grid, as_rate(temperature, "temperature"))
    return w / z


def fit_temperature(loss_samples, loss, grid) -> Estimate:
    r"""Maximum-likelihood temperature of samples under :math:`p_T \propto e^{-\mathcal L/T}`.

    An exponential family in :math:`\mathcal L`: :math:`\hat T` solves
    :math:`E_{\hat T}[\mathcal L] = \overline{\mathcal L}`, with the delta-method error

    .. math:: \operatorname{se}(\hat T) = \operatorname{se}(\overline{\mathcal L})\,
              \hat T^2 / \operatorname{Var}_{\hat T}[\mathcal L],

    :math:`\operatorname{se}(\overline{\mathcal L})` from :func:`sgdsim.chain_mean` of
    ``loss_samples`` (records, chains), or given as an :class:`Estimate` of the mean loss.
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
    r"""Unnormalized invariant vector of the row-stochastic kernel
    :math:`K_{ij} \propto e^{-(x_j - m_i)^2 / 2 s^2}`, banded (rows cut at :math:`\sqrt{80}\,s`).

    :math:`(K^\top - I)\pi = 0` has one redundant row; it is replaced by :math:`\pi_p = 1` at
    the point ``p`` of least loss, and the system is solved banded (densely if the band is wide).
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
        k = grid[None, :] - mean[:, None]  # in place from here: one m x m array, not five
        k /= sd
        k **= 2
        far = k >= _KERNEL_Z2_CUT
        np.minimum(k, _KERNEL_Z2_CUT, out=k)
        k *= -0.5
        np.exp(k, out=k)
        k[far] = 0.0
        _check_rows(k.sum(axis=1), grid, mean)
        k /= k.sum(axis=1, keepdims=True)
        a = k.T
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


def _step_noise_sd(problem, lr, batch_size, what) -> tuple[float, int, float]:
    r"""(:math:`\eta`, :math:`B`, step noise :math:`\eta\sigma/\sqrt B`) of 1-D SGD, checked."""
    sigma2 = noise_var_1d(problem, what)
    eta = as_rate(lr)
    b = as_positive_int(batch_size, "batch_size")
    sd = eta * np.sqrt(sigma2 / b)
    if not sd > 0:
        raise ValueError("the gradient noise is zero: SGD has no stationary density")
    return eta, b, sd


def sgd_stationary_density(problem, lr, grid, *, batch_size=1) -> np.ndarray:
    r"""Exact stationary density of 1-D SGD with Gaussian gradient noise at rate :math:`\eta`.

    With :math:`\varepsilon \sim \mathcal N(0, \sigma^2/B)` (a 1-D ``problem`` with constant
    noise), one step moves :math:`x` to :math:`y \sim \mathcal N(x - \eta\mathcal L'(x),\
    \eta^2\sigma^2/B)`; the stationary density solves :math:`p(y) = \int K(x \to y)\,p(x)\,dx`,
    discretized on the uniform ``grid`` (Nyström, rows renormalized on the grid) as the left
    null vector of :math:`K - I`. No SDE approximation: this is SGD's own law, which tends to
    the Gibbs density at :math:`T = \eta\sigma^2/(2B)` as :math:`\eta \to 0`. The spacing must
    resolve the step noise :math:`\eta\sigma/\sqrt B`. Integrates to 1 on the grid.
    """
    eta, b, sd = _step_noise_sd(problem, lr, batch_size, "sgd_stationary_density")
    grid = as_finite_array(grid, "grid", ndim=1)
    dx = np.diff(grid)
    if grid.size < 3 or np.any(dx <= 0) or np.ptp(dx) > 1e-6 * dx.mean():
        raise ValueError("grid must be uniform and increasing with at least 3 points")
    if dx[0] > 0.5 * sd:
        raise ValueError(
            f"grid spacing {dx[0]:.3g} does not resolve the step noise eta*sigma/sqrt(B) = "
            f"{sd:.3g}: use a spacing below half of it"
        )
    mean = grid - eta * problem.grad(grid[:, None])[:, 0]
    pi = _kernel_null_vector(grid, mean, sd, problem.loss(grid[:, None]))
    pi = np.clip(pi, 0.0, None)
    return pi / np.trapezoid(pi, grid)


def sgd_stationary_temperature(problem, lr, lo, hi, *, batch_size=1) -> float:
    r"""The temperature :math:`T_\eta` that :func:`fit_temperature` gives SGD's exact law.

    :func:`sgd_stationary_density` on a uniform grid over ``[lo, hi]`` (which must hold the
    mass; spacing at most a quarter of the step noise, at least 401 points), then
    :math:`E_{T_\eta}[\mathcal L] = E_{\text{SGD},\eta}[\mathcal L]`: what an infinitely long
    run would report. :math:`T_\eta \to \eta\sigma^2/(2B)` as :math:`\eta \to 0`.
    """
    eta, b, sd = _step_noise_sd(problem, lr, batch_size, "sgd_stationary_temperature")
    lo, hi = float(lo), float(hi)
    if not hi > lo:
        raise ValueError(f"need lo < hi, got lo={lo:g}, hi={hi:g}")
    n = max(401, int(np.ceil(4 * (hi - lo) / sd)) + 1)
    if n > 6000:
        raise ValueError(f"the grid would need {n} points; narrow [lo, hi] or raise lr")
    grid = np.linspace(lo, hi, n)
    dens = sgd_stationary_density(problem, eta, grid, batch_size=b)
    values = problem.loss(grid[:, None])
    mean = float(np.trapezoid(dens * values, grid))
    return fit_temperature(Estimate(mean, 1.0), values, grid).value


# --------------------------------------------------------------------------- RMSProp
def rmsprop_temperature_factor(beta=0.9, *, rng, chains=4000, steps=None,
                               sampler=None) -> Estimate:
    r"""The constant :math:`c(\beta)` in RMSProp's temperature :math:`T = c(\beta)\,\eta\sigma/2`.

    With noise :math:`\hat g = h\delta + \sigma z` near a minimum, :math:`v = \sigma^2 w`,
    :math:`w \leftarrow \beta w + (1-\beta) z^2`. For slow :math:`\delta`
    (:math:`\eta h/\sigma \ll 1-\beta`) the mean restoring rate is :math:`(\eta h/\sigma)\kappa`,
    :math:`\kappa = E[w^{-1/2}] - (1-\beta)\,E[z^2 w^{-3/2}]` (:math:`v` holds the current
    :math:`\hat g^2`), and the step variance :math:`\eta^2\nu`, :math:`\nu = E[z^2/w]`; so
    :math:`T = h\operatorname{Var}\delta = c\,\eta\sigma/2`, :math:`c = \nu/\kappa \to 1` as
    :math:`\beta \to 1`. Monte Carlo over ``chains`` copies of :math:`w`, ``steps`` samples each
    (default :math:`\max(2000, 400/(1-\beta))`) after a burn-in of :math:`40/(1-\beta)`, with a
    delta-method error over chains; ``sampler(rng, shape)`` draws :math:`z` (default normal).
    """
    RMSProp(beta=beta)  # validates beta
    gen = as_generator(rng)
    chains = as_positive_int(chains, "chains", minimum=2)
    burn = int(np.ceil(40 / (1 - beta)))
    steps = max(2000, int(np.ceil(400 / (1 - beta)))) if steps is None else as_positive_int(
        steps, "steps")
    draw = (lambda shape: gen.standard_normal(shape)) if sampler is None else (
        lambda shape: np.asarray(sampler(gen, shape), dtype=float))
    w = np.ones(chains)
    for _ in range(burn):
        z = draw(chains)
        w = beta * w + (1 - beta) * z * z
    nu = np.zeros(chains)
    a = np.zeros(chains)
    b = np.zeros(chains)
    for _ in range(steps):
        z = draw(chains)
        w = beta * w + (1 - beta) * z * z
        with np.errstate(divide="ignore"):
            iw = 1.0 / w
        if not np.all(np.isfinite(iw)):
            raise ValueError("the sampler returned exact zeros with beta=0: w = 0 has no inverse")
        nu += z * z * iw
        rs = np.sqrt(iw)
        a += rs
        b += z * z * iw * rs
    nu, a, b = nu / steps, a / steps, b / steps
    kap = a - (1 - beta) * b
    c = nu.mean() / kap.mean()
    lin = (nu - c * kap) / kap.mean()
    return Estimate(float(c), float(lin.std(ddof=1) / np.sqrt(chains)))


def rmsprop_temperature(lr, noise_std, batch_size=1, factor=1.0):
    r"""RMSProp's small-rate temperature :math:`T = c\,\eta\,\sigma/(2\sqrt B)`.

    Near the minimum :math:`v \approx \sigma^2/B`: the effective rate is
    :math:`\eta\sqrt B/\sigma` and :math:`T = (\eta\sqrt B/\sigma)(\sigma^2/B)/2`. ``factor`` is
    :math:`c(\beta)` from :func:`rmsprop_temperature_factor` (1 as :math:`\beta \to 1`).
    """
    lr = as_nonnegative(lr, "lr")
    sd = as_nonnegative(noise_std, "noise_std")
    b = as_positive_int(batch_size, "batch_size")
    f = float(getattr(factor, "value", factor))
    return f * lr * sd / (2.0 * np.sqrt(b))
