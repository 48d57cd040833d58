r"""Exact laws on quadratics: every closed form the book's claims are checked against, once each.

On :math:`\mathcal L(\Phi) = \tfrac12 (\Phi-\Phi^*)^\top H (\Phi-\Phi^*) + c` with additive
gradient noise of covariance :math:`\Sigma/B` (independent across steps), SGD with a constant
rate :math:`\eta` and a constant preconditioner :math:`P` is the linear recursion

.. math::
    \delta_{k+1} = (I - \eta P H)\,\delta_k - \eta P \xi_k, \qquad
    \delta = \Phi - \Phi^*, \quad \operatorname{Cov}\xi_k = \Sigma/B .

Only the noise covariance enters its mean and covariance, whatever the noise's law. With
:math:`R = P^{1/2}` the change of variables :math:`\delta = R\tilde\delta` turns it into plain
SGD on :math:`\tilde H = RHR`, :math:`\tilde\Sigma = R\Sigma R`; the functions work in those
variables. Shared arguments: ``hessian`` :math:`H` and single-example ``noise_cov``
:math:`\Sigma` (``(dim, dim)``, or scalars in 1-D), ``lr`` :math:`\eta`, ``batch_size``
:math:`B`, and ``preconditioner`` :math:`P`: ``None``, per-coordinate scales (all > 0), a
symmetric positive definite matrix, or a :class:`sgdsim.Diagonal` / :class:`sgdsim.Dense`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import (
    as_finite_array,
    as_positive_int,
    as_rate,
    as_symmetric_psd,
    sym_sqrt,
)
from .dynamics import joint_flow

__all__ = [
    "Moments",
    "stability_limit",
    "sgd_stationary_cov",
    "langevin_stationary_cov",
    "excess_loss",
    "stationary_excess_loss",
    "expected_excess_loss",
    "block_update_law",
    "quadratic_moments",
    "linear_noise_cov",
]


class Moments(NamedTuple):
    """A mean and a covariance (unpacks as ``mean, cov = ...``)."""

    mean: np.ndarray
    cov: np.ndarray


def _matrices(hessian, noise_cov, *, definite=True):
    h = as_symmetric_psd(hessian, "hessian", definite=definite)
    s = as_symmetric_psd(noise_cov, "noise_cov", dim=h.shape[0])
    return h, s


def _root(preconditioner, dim):
    r""":math:`R = P^{1/2}` of a constant preconditioner, or ``None`` for plain SGD."""
    if preconditioner is None:
        return None
    p = getattr(preconditioner, "scales", getattr(preconditioner, "matrix", preconditioner))
    p = np.asarray(p, dtype=float)
    if p.ndim == 1:
        s = as_finite_array(p, "preconditioner scales", shape=(dim,))
        if np.any(s <= 0):
            raise ValueError("preconditioner scales must be > 0 (a zero rate freezes a "
                             "coordinate: there is no stationary law)")
        return np.diag(np.sqrt(s))
    return sym_sqrt(as_symmetric_psd(p, "preconditioner", dim=dim, definite=True))


def _sym(m):
    return 0.5 * (m + np.swapaxes(m, -1, -2))


def _sandwich(m, r):
    """R M R (symmetrized), or M when R is None: to and from the variables of P = R^2."""
    return m if r is None else _sym(r @ m @ r)


def _tilde(hessian, noise_cov, preconditioner, definite=True):
    """(H, R, H~, Sigma~): checked H, R = P^(1/2) (or None), RHR and R Sigma R."""
    h, s = _matrices(hessian, noise_cov, definite=definite)
    r = _root(preconditioner, h.shape[0])
    return h, r, _sandwich(h, r), _sandwich(s, r)


def stability_limit(hessian, preconditioner=None) -> float:
    r"""The largest stable constant rate on a quadratic, :math:`2/\lambda_{\max}(P^{1/2}HP^{1/2})`.

    Beyond it the mean of SGD diverges and there is no stationary law.
    """
    h = as_symmetric_psd(hessian, "hessian")
    r = _root(preconditioner, h.shape[0])
    lam = np.linalg.eigvalsh(_sandwich(h, r))[-1]
    if lam <= 0:
        raise ValueError("the (preconditioned) Hessian has no positive eigenvalue")
    return float(2.0 / lam)


def sgd_stationary_cov(hessian, noise_cov, lr, batch_size=1, *, preconditioner=None):
    r"""Exact stationary covariance of SGD on a quadratic with additive noise.

    Solves the discrete Lyapunov equation
    :math:`C = (I-\eta PH)\,C\,(I-\eta PH)^\top + \eta^2\,P\Sigma P/B`; in 1-D
    :math:`C = \eta\,\Sigma / (B\,h\,(2 - \eta h))`. It exists only for
    :math:`0 < \eta <` :func:`stability_limit`. Returns a ``(dim, dim)`` array.
    """
    from scipy.linalg import solve_discrete_lyapunov

    h, r, ht, st = _tilde(hessian, noise_cov, preconditioner)
    eta = as_rate(lr, below=2.0 / np.linalg.eigvalsh(ht)[-1],
                  why="2/lambda_max: beyond it SGD has no stationary law")
    b = as_positive_int(batch_size, "batch_size")
    a = np.eye(h.shape[0]) - eta * ht
    c = solve_discrete_lyapunov(a, eta**2 * st / b)
    return _sandwich(_sym(c), r)


def langevin_stationary_cov(hessian, noise_cov, lr, batch_size=1, *, preconditioner=None):
    r"""Stationary covariance of the Ornstein--Uhlenbeck (Langevin) model of SGD.

    Solves the continuous Lyapunov equation (Mandt, Hoffman & Blei, 2017)
    :math:`PH\,C + C\,HP = \eta\,P\Sigma P / B`. Its excess loss
    :math:`\tfrac12\operatorname{tr}(HC)` is :math:`\eta\operatorname{tr}\Sigma/(4B)` without a
    preconditioner (the TZ slope). When
    :math:`P\Sigma = c\,I` (e.g. :math:`P = \Sigma^{-1}`) the solution is
    :math:`C = T H^{-1}` with :math:`T = \eta c/(2B)`: the Gibbs law, whatever :math:`H`.
    """
    from scipy.linalg import solve_continuous_lyapunov

    h, r, ht, st = _tilde(hessian, noise_cov, preconditioner)
    eta = as_rate(lr, positive=False)
    b = as_positive_int(batch_size, "batch_size")
    c = solve_continuous_lyapunov(ht, eta * st / b)
    return _sandwich(_sym(c), r)


def excess_loss(hessian, cov, mean=None) -> float:
    r""":math:`E\mathcal L - \mathcal L^* = \tfrac12\operatorname{tr}(HC) + \tfrac12 m^\top H m`
    when :math:`\Phi - \Phi^*` has mean :math:`m` (default 0) and covariance :math:`C`."""
    h = np.atleast_2d(np.asarray(hessian, dtype=float))
    c = np.atleast_2d(np.asarray(cov, dtype=float))
    out = 0.5 * np.trace(h @ c)
    if mean is not None:
        m = np.atleast_1d(np.asarray(mean, dtype=float))
        out += 0.5 * m @ h @ m
    return float(out)


def stationary_excess_loss(hessian, noise_cov, lr, batch_size=1, *, preconditioner=None):
    r"""Exact converged excess loss :math:`\mathcal L(\eta) - \mathcal L^*` of SGD on a quadratic.

    :math:`\tfrac12\operatorname{tr}(H\,C_\eta)` with :math:`C_\eta` from
    :func:`sgd_stationary_cov`; in 1-D :math:`\eta\,\Sigma / (2B\,(2 - \eta h))`. ``lr`` is
    one rate (a float is returned) or several (an array).
    """
    h, _ = _matrices(hessian, noise_cov)
    rates = as_finite_array(lr, "lr", ndim=(0, 1))
    out = np.array([excess_loss(h, sgd_stationary_cov(h, noise_cov, float(e), batch_size,
                                                      preconditioner=preconditioner))
                    for e in np.atleast_1d(rates)])
    return float(out[0]) if rates.ndim == 0 else out


def expected_excess_loss(hessian, noise_cov, lr, steps, *, delta0=None, cov0=None,
                         batch_size=1, preconditioner=None) -> np.ndarray:
    r"""Exact :math:`E[\mathcal L(\Phi_k)] - \mathcal L^*` of SGD on a quadratic, step by step.

    From mean offset ``delta0`` :math:`\delta_0` and covariance ``cov0`` :math:`C_0` (default 0),
    after ``steps`` :math:`k` (an int or an array); with :math:`\tilde H = Q\,\mathrm{diag}(\mu)
    \,Q^\top` and :math:`\lambda_a = 1 - \eta\mu_a`,

    .. math::
        E[\mathcal L_k] - \mathcal L^* = \tfrac12\sum_a \mu_a\Bigl(\lambda_a^{2k}
        \bigl(m_a^2 + D_{aa}\bigr) + N_{aa}\,\frac{1-\lambda_a^{2k}}{1-\lambda_a^2}\Bigr),

    :math:`m = Q^\top R^{-1}\delta_0`, :math:`D = Q^\top R^{-1} C_0 R^{-1} Q`,
    :math:`N = \eta^2 Q^\top\tilde\Sigma Q/B`. Exact at every rate; from
    ``cov0 = sgd_stationary_cov(H, Sigma, previous)`` it is the relaxation after a rate drop.
    """
    h, r, ht, st = _tilde(hessian, noise_cov, preconditioner, definite=False)
    dim = h.shape[0]
    eta = as_rate(lr, positive=False)
    b = as_positive_int(batch_size, "batch_size")
    d0 = (np.zeros(dim) if delta0 is None
          else as_finite_array(np.atleast_1d(delta0), "delta0", shape=(dim,)))
    c0 = np.zeros((dim, dim)) if cov0 is None else as_symmetric_psd(cov0, "cov0", dim=dim)
    k = np.asarray(steps)
    if not np.issubdtype(k.dtype, np.integer) or np.any(k < 0):
        raise ValueError("steps must be non-negative integers")
    mu, q = np.linalg.eigh(ht)
    lam = 1.0 - eta * mu
    rinv = np.eye(dim) if r is None else np.linalg.inv(r)
    m = q.T @ rinv @ d0
    dd = np.einsum("ia,ij,ja->a", q, rinv @ c0 @ rinv.T, q)
    n = eta**2 * np.einsum("ia,ij,ja->a", q, st, q) / b
    lam2k = lam[None, :] ** (2 * k.reshape(-1, 1))
    denom = 1.0 - lam**2
    with np.errstate(divide="ignore", invalid="ignore"):
        geo = np.where(np.abs(denom) > 1e-15, (1.0 - lam2k) / denom, k.reshape(-1, 1))
    out = 0.5 * (mu * (lam2k * (m**2 + dd) + n * geo)).sum(axis=1)
    return out.reshape(k.shape)


def block_update_law(hessian, noise_cov, delta0, lr, block, batch_size=1):
    r"""Exact mean and covariance of the average update of a block of SGD steps on a quadratic.

    SGD is :math:`e_{k+1} = A e_k - \eta\,\xi_k`, :math:`A = I - \eta H`. The average update
    over a ``block`` of :math:`L` steps from ``delta0`` :math:`e_0`,
    :math:`u = (e_0 - e_L)/(L\eta)`, has

    .. math::
        E\,u = \frac{(I - A^L)\,e_0}{L\,\eta}, \qquad
        \operatorname{Cov} u = \frac{1}{L^2} \sum_{m=0}^{L-1} A^m\,\frac{\Sigma}{B}\,A^m .

    As :math:`L\eta \to 0`, :math:`E\,u \to g(\Phi_0)` and :math:`\operatorname{Cov} u \to
    \Sigma/(BL)`. Returns :class:`Moments`.
    """
    h, s = _matrices(hessian, noise_cov, definite=False)
    d = h.shape[0]
    e0 = as_finite_array(np.atleast_1d(delta0), "delta0", shape=(d,))
    eta = as_rate(lr)
    L = as_positive_int(block, "block")
    b = as_positive_int(batch_size, "batch_size")
    a = np.eye(d) - eta * h
    powers = np.empty((L, d, d))
    powers[0] = np.eye(d)
    for m in range(1, L):  # L matrix products of size dim x dim; L is a block length
        powers[m] = powers[m - 1] @ a
    a_L = powers[-1] @ a
    mean = (np.eye(d) - a_L) @ e0 / (L * eta)
    cov = np.einsum("mij,jk,mlk->il", powers, s / b, powers) / L**2
    return Moments(mean, _sym(cov))


def quadratic_moments(problem, phi0, times, *, lr, method="sgd", dt=None, batch_size=1):
    r"""Exact mean and covariance at ``times`` on a quadratic ``problem`` with constant noise.

    From one point ``phi0`` (dim,), :math:`\delta = \Phi - \Phi^*` obeys

    * ``method="sgd"`` (step :math:`\eta`): :math:`\delta_{k+1} = (I - \eta H)\delta_k + \xi_k`,
      :math:`\operatorname{Cov}\xi = \eta^2\Sigma/B`;
    * ``method="em"`` (Euler--Maruyama of the SDE with step ``dt``):
      :math:`\delta_{k+1} = (I - \Delta t H)\delta_k + \xi_k`,
      :math:`\operatorname{Cov}\xi = \Delta t\,\eta\Sigma/B`;
    * ``method="exact"`` (the SDE :math:`d\delta = -H\delta\,dt + \sqrt{\eta\Sigma/B}\,dW`):
      :math:`E\delta(t) = e^{-Ht}\delta_0`,
      :math:`\operatorname{Cov}\delta(t) = C_\infty - e^{-Ht}C_\infty e^{-Ht}` with
      :math:`C_\infty` from :func:`langevin_stationary_cov`.

    The first two hold for any noise law; their times must be whole multiples of the step.
    Returns :class:`Moments`, ``mean`` (m, dim) and ``cov`` (m, dim, dim).
    """
    if not getattr(problem, "noise_is_constant", False):
        raise ValueError("quadratic_moments needs a problem with constant gradient noise")
    eta = as_rate(lr)
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
        return Moments(mean, cov)
    if method == "sgd":
        step, q = eta, eta**2 * sigma / b
    elif method == "em":
        if dt is None:
            raise ValueError('method="em" needs dt=')
        step = as_rate(dt, "dt")
        q = step * eta * sigma / b
    else:
        raise ValueError(f'method must be "sgd", "em" or "exact", got {method!r}')
    ks = np.rint(times / step).astype(int)
    if np.any(np.abs(ks * step - times) > 1e-9 * np.maximum(1.0, times)):
        raise ValueError(f"every time must be a whole number of {method} steps {step:g}")
    a = np.eye(dim) - step * h
    mean = np.empty((times.size, dim))
    cov = np.empty((times.size, dim, dim))
    m, c = d0.copy(), np.zeros((dim, dim))
    k_now = 0
    for i in np.argsort(ks, kind="stable"):
        for _ in range(ks[i] - k_now):
            m = a @ m
            c = a @ c @ a.T + q
        k_now = ks[i]
        mean[i] = star + m
        cov[i] = c
    return Moments(mean, cov)


def linear_noise_cov(problem, phi0, times, *, lr, batch_size=1, rtol=1e-9, atol=1e-12):
    r"""Gradient-flow path and the covariance of SGD around it to first order in :math:`\eta`
    (van Kampen's linear-noise approximation):

    .. math::
        \dot{\bar\Phi} = -g(\bar\Phi), \qquad
        \dot C = -H(\bar\Phi)\,C - C\,H(\bar\Phi) + \eta\,\Sigma(\bar\Phi)/B,
        \qquad C(0) = 0

    so :math:`E\|\Phi(t) - \bar\Phi(t)\|^2 = \operatorname{tr} C(t)\,(1 + O(\eta))`. Returns
    :class:`Moments`: the path (m, dim) and ``cov`` at the non-decreasing ``times``.
    """
    eta = as_rate(lr)
    b = as_positive_int(batch_size, "batch_size")
    phi0 = as_finite_array(phi0, "phi0", shape=(problem.dim,))
    d = problem.dim

    def cov_rate(t, m, g, c):
        h = np.asarray(problem.hessian(m)).reshape(d, d)
        s = np.asarray(problem.noise_cov(m)).reshape(d, d)
        return -h @ c - c @ h + eta * s / b

    path, cov = joint_flow(problem, phi0, times, rtol=rtol, atol=atol, extra=((d, d), cov_rate),
                           where="linear_noise_cov")
    return Moments(path, _sym(cov))
