r"""Stationary distributions: Gibbs densities and exact laws for quadratics.

For Langevin dynamics :math:`d\Phi = -\nabla\mathcal L\,dt + \sqrt{\eta\Sigma/B}\,dW`
with isotropic :math:`\Sigma = \sigma^2 I` the stationary density is the Gibbs
density :math:`p \propto e^{-\mathcal L/T}` at temperature
:math:`T = \eta\sigma^2/(2B)`. For SGD on a quadratic the stationary covariance
is known exactly at every rate (a discrete Lyapunov equation).
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_finite_array,
    as_increasing_grid,
    as_nonnegative,
    as_positive_float,
    as_positive_int,
    as_symmetric_psd,
)

__all__ = [
    "temperature",
    "gibbs_density",
    "sgd_stationary_cov",
    "langevin_stationary_cov",
]


def temperature(lr, noise_var, batch_size=1):
    r"""Langevin temperature :math:`T = \eta\,\sigma^2 / (2B)`.

    The factor :math:`\tfrac12` is exact: the SDE's diffusion coefficient is
    :math:`\eta\sigma^2/(2B)` per unit time, and flux balance
    :math:`D\,p' = -p\,\mathcal L'` gives :math:`p \propto e^{-\mathcal L/D}`.
    """
    lr = as_nonnegative(lr, "lr")
    noise_var = as_nonnegative(noise_var, "noise_var")
    b = as_positive_int(batch_size, "batch_size")
    return lr * noise_var / (2.0 * b)


def gibbs_density(loss, grid, temperature):
    r"""The Gibbs density :math:`p(x) = e^{-\mathcal L(x)/T} / Z` on a 1-D grid.

    :math:`Z` is computed by the trapezoidal rule on the grid, so the grid
    must cover the mass (a few :math:`\sqrt{T/\mathcal L''}` past the wells).

    Parameters
    ----------
    loss : callable or array_like
        :math:`\mathcal L` evaluated on the grid, or a callable taking
        ``grid[:, None]`` (shape ``(m, 1)``) and returning shape ``(m,)``.
    grid : array_like, shape (m,)
        Increasing points.
    temperature : float > 0

    Returns
    -------
    numpy.ndarray, shape (m,)
        The density, integrating to 1 on the grid.
    """
    grid = as_increasing_grid(grid, "grid", min_size=3)
    t = as_positive_float(temperature, "temperature")
    values = loss(grid[:, None]) if callable(loss) else loss
    values = as_finite_array(values, "loss values", shape=(grid.size,))
    w = np.exp(-(values - values.min()) / t)
    return w / np.trapezoid(w, grid)


def sgd_stationary_cov(hessian, noise_cov, lr, batch_size=1):
    r"""Exact stationary covariance of SGD on a quadratic with additive noise.

    For :math:`\Phi_{k+1} - \Phi^* = (I - \eta H)(\Phi_k - \Phi^*) - \eta\,\xi_k`,
    :math:`\operatorname{Cov}\xi = \Sigma/B`, the stationary covariance solves the
    discrete Lyapunov equation

    .. math:: C = (I-\eta H)\,C\,(I-\eta H)^\top + \eta^2\,\Sigma/B .

    In 1-D, :math:`C = \eta\,\Sigma / (B\,h\,(2 - \eta h))`. A stationary law
    exists only for :math:`0 < \eta < 2/\lambda_{\max}(H)`.
    """
    from scipy.linalg import solve_discrete_lyapunov

    h = as_symmetric_psd(np.atleast_2d(hessian), "hessian", definite=True)
    s = as_symmetric_psd(np.atleast_2d(noise_cov), "noise_cov", dim=h.shape[0])
    eta = float(lr)
    b = as_positive_int(batch_size, "batch_size")
    lam = np.linalg.eigvalsh(h)[-1]
    if not (np.isfinite(eta) and 0 < eta < 2.0 / lam):
        raise ValueError(
            f"lr={lr!r} has no stationary law: it must be in (0, 2/lambda_max) = (0, {2 / lam:.4g})"
        )
    a = np.eye(h.shape[0]) - eta * h
    c = solve_discrete_lyapunov(a, eta**2 * s / b)
    return 0.5 * (c + c.T)


def langevin_stationary_cov(hessian, noise_cov, lr, batch_size=1):
    r"""Stationary covariance of the Ornstein--Uhlenbeck (Langevin) model of SGD.

    Solves the continuous Lyapunov equation of the Ornstein--Uhlenbeck model of
    Mandt, Hoffman & Blei (2017), in this package's notation

    .. math:: H C + C H = \eta\,\Sigma / B .

    Taking the trace of :math:`\tfrac12 \operatorname{tr}(HC)` gives the excess
    loss :math:`\eta\operatorname{tr}\Sigma/(4B)`: the TZ theorem's slope.
    """
    from scipy.linalg import solve_continuous_lyapunov

    h = as_symmetric_psd(np.atleast_2d(hessian), "hessian", definite=True)
    s = as_symmetric_psd(np.atleast_2d(noise_cov), "noise_cov", dim=h.shape[0])
    eta = float(lr)
    if not (np.isfinite(eta) and eta >= 0):
        raise ValueError(f"lr must be finite and >= 0, got {lr!r}")
    b = as_positive_int(batch_size, "batch_size")
    c = solve_continuous_lyapunov(h, eta * s / b)
    return 0.5 * (c + c.T)
