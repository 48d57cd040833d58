r"""Gradient descent as Euler's method: comparing it with the gradient flow it discretizes.

Gradient descent with rates :math:`\eta_k`,

.. math::
    \Phi_{k+1} = \Phi_k - \eta_k\, g(\Phi_k), \qquad t_k = \sum_{j<k} \eta_j,

is the explicit Euler method for the gradient-flow ODE
:math:`\dot\Phi = -g(\Phi)` with time steps :math:`\eta_k`. This module
measures how far the iterates are from the flow *at the same time*
:math:`t_k`, and predicts that distance to leading order.

* :func:`compare_with_flow` runs gradient descent and the (high-accuracy)
  flow at the times :math:`t_k`;
* :func:`euler_global_errors` measures the global error
  :math:`\max_k \|\Phi_k - \Phi(t_k)\|` on :math:`[0, T]` for a ladder of
  constant steps :math:`\Delta t = T/N`;
* :func:`euler_error_function` solves the variational equation of the
  leading error term: :math:`\Phi_k - \Phi(t_k) = \Delta t\, E(t_k) + O(\Delta t^2)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_chains, as_finite_array, as_positive_int
from ..datasets import breast_cancer
from ..dynamics import Trajectory, gradient_descent, gradient_flow
from ..problems import LogisticRegression, Quadratic

__all__ = ["FlowComparison", "compare_with_flow", "euler_global_errors", "euler_error_function",
           "quadratic_problem", "logistic_problem", "QUADRATIC_START", "LOGISTIC_START"]


@dataclass(frozen=True)
class FlowComparison:
    """Gradient descent and the gradient flow recorded at the same times.

    Attributes
    ----------
    gd : Trajectory
        The gradient-descent run; ``gd.time`` is the sum of the rates used.
    flow : Trajectory
        The gradient flow from the same start, at the times ``gd.time``.
    """

    gd: Trajectory
    flow: Trajectory

    @property
    def deviation(self) -> np.ndarray:
        r""":math:`\max_{\text{chains}} \|\Phi_k - \Phi(t_k)\|_2` at every record, shape ``(records,)``."""
        return np.linalg.norm(self.gd.phi - self.flow.phi, axis=-1).max(axis=-1)

    @property
    def sup_deviation(self) -> float:
        r"""The global error :math:`\max_k \|\Phi_k - \Phi(t_k)\|_2` over the records."""
        return float(self.deviation.max())


def compare_with_flow(problem, phi0, lr, steps, *, chains=None, record_every=1,
                      max_norm=1e8, rtol=1e-12, atol=1e-14, method="DOP853") -> FlowComparison:
    r"""Run gradient descent and solve the gradient flow at the same "times".

    The flow is evaluated at :math:`t_k = \sum_{j<k}\eta_j`, the sum of the
    rates used before record :math:`k`, so any schedule (constant or not) is
    compared with the one ODE it discretizes.

    Parameters
    ----------
    problem : Problem
    phi0 : array_like, shape (dim,) or (chains, dim)
    lr : float, array_like (steps,), or callable
        As in :func:`sgdsim.gradient_descent`.
    steps : int
    chains, record_every, max_norm
        As in :func:`sgdsim.gradient_descent` (a divergent run raises
        :class:`sgdsim.DivergenceError`).
    rtol, atol, method
        Tolerances and method of the flow's ODE solver (:func:`sgdsim.gradient_flow`).

    Returns
    -------
    FlowComparison
    """
    gd = gradient_descent(problem, phi0, lr, steps, chains=chains, record_every=record_every,
                          max_norm=max_norm)
    flow = gradient_flow(problem, gd.phi[0], gd.time, rtol=rtol, atol=atol, method=method)
    return FlowComparison(gd=gd, flow=flow)


def euler_global_errors(problem, phi0, t_end, n_steps, *, rtol=1e-12, atol=1e-14,
                        method="DOP853") -> np.ndarray:
    r"""Global error of gradient descent on :math:`[0, T]` for constant steps :math:`\Delta t = T/N`.

    For each :math:`N` in ``n_steps`` it runs :math:`N` steps of gradient
    descent with rate :math:`\Delta t = T/N` and returns

    .. math::
        e(\Delta t) = \max_{0 \le k \le N} \max_{\text{chains}} \|\Phi_k - \Phi(k\,\Delta t)\|_2 .

    Euler's method is first order: :math:`e(\Delta t) = \Delta t \max_t\|E(t)\| + O(\Delta t^2)`
    (see :func:`euler_error_function`).

    Parameters
    ----------
    problem : Problem
    phi0 : array_like, shape (dim,) or (chains, dim)
    t_end : float > 0
        :math:`T`.
    n_steps : sequence of int >= 1
        The numbers of steps :math:`N`.
    rtol, atol, method
        The flow solver's settings; keep its error far below the smallest :math:`e`.

    Returns
    -------
    numpy.ndarray, shape (len(n_steps),)
    """
    t_end = float(as_finite_array(t_end, "t_end", ndim=0))
    if not t_end > 0:
        raise ValueError(f"t_end must be > 0, got {t_end:g}")
    ns = np.atleast_1d(np.asarray(n_steps))
    if ns.ndim != 1 or ns.size == 0 or not np.issubdtype(ns.dtype, np.integer):
        raise TypeError(f"n_steps must be a non-empty sequence of integers, got {n_steps!r}")
    ns = [as_positive_int(int(n), "n_steps") for n in ns]
    return np.array([
        compare_with_flow(problem, phi0, t_end / n, n, rtol=rtol, atol=atol,
                          method=method).sup_deviation
        for n in ns
    ])


def euler_error_function(problem, phi0, times, *, rtol=1e-11, atol=1e-13,
                         method="DOP853") -> np.ndarray:
    r"""Leading-order global error of gradient descent: the function :math:`E(t)`.

    For gradient descent with a constant step :math:`\Delta t`, the error at
    :math:`t_k = k\Delta t` has the expansion
    :math:`\Phi_k - \Phi(t_k) = \Delta t\, E(t_k) + O(\Delta t^2)`
    (Hairer, Nørsett & Wanner, *Solving ODEs I*), where :math:`E` solves the
    linear variational equation along the flow

    .. math::
        \dot E = -H(\Phi(t))\, E - \tfrac12 H(\Phi(t))\, g(\Phi(t)), \qquad E(0) = 0,

    :math:`H` being the Hessian. The forcing :math:`-\tfrac12\ddot\Phi` is the
    local error of one Euler step divided by :math:`\Delta t^2`
    (:math:`\ddot\Phi = H g` along the flow). On a 1-D quadratic
    :math:`\mathcal L = \tfrac\lambda2 x^2`: :math:`E(t) = -\tfrac12\lambda^2 t\, e^{-\lambda t} x_0`.

    Parameters
    ----------
    problem : Problem
        It needs ``grad`` and ``hessian(phi)``.
    phi0 : array_like, shape (dim,) or (chains, dim)
    times : array_like, shape (records,)
        Non-decreasing times :math:`\ge 0`.
    rtol, atol, method
        Settings of :func:`scipy.integrate.solve_ivp` for the joint system of
        :math:`\Phi` and :math:`E`.

    Returns
    -------
    numpy.ndarray, shape (records, chains, dim)
        :math:`E(t)` at ``times``.
    """
    from scipy.integrate import solve_ivp

    times = as_finite_array(times, "times", ndim=1)
    if times[0] < 0 or np.any(np.diff(times) < 0):
        raise ValueError("times must be >= 0 and non-decreasing")
    phi = as_chains(phi0, problem.dim, None)
    shape = phi.shape
    try:
        problem.hessian(phi)
    except NotImplementedError as exc:
        raise ValueError(f"euler_error_function needs the problem's Hessian: {exc}") from None
    if times[-1] == 0:
        return np.zeros((times.size,) + shape)
    n = phi.size

    def rhs(t, y):
        p = y[:n].reshape(shape)
        e = y[n:].reshape(shape)
        g = problem.grad(p)
        h = problem.hessian(p)  # (chains, dim, dim), symmetric
        de = -np.einsum("cij,cj->ci", h, e + 0.5 * g)
        return np.concatenate([-g.ravel(), de.ravel()])

    y0 = np.concatenate([phi.ravel(), np.zeros(n)])
    sol = solve_ivp(rhs, (0.0, float(times[-1])), y0, method=method, t_eval=times,
                    rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"euler_error_function: the ODE solver failed: {sol.message}")
    return sol.y[n:].T.reshape((times.size,) + shape)


# ----------------------------------------------------------------------------- scenes
#: Where the chapter starts gradient descent and the flow on its two problems.
QUADRATIC_START = (-2.0, 2.5)
LOGISTIC_START = (-3.0, 1.0)


def quadratic_problem(seed: int = 31230) -> Quadratic:
    r"""The chapter's ill-conditioned 2-D quadratic: 20 examples, curvatures 5 and 0.5.

    :math:`H = R\,\mathrm{diag}(5, 0.5)\,R^\top` with :math:`R` a rotation by
    :math:`\pi/6`; the example centres are standard normal draws from ``seed``, shifted so
    that :math:`\Phi^* = (1, 0.5)`. Shared by the notebook, its explorer and ``make bench``.
    """
    th = np.pi / 6
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    centers = np.random.default_rng(seed).normal(size=(20, 2))
    centers += np.array([1.0, 0.5]) - centers.mean(axis=0)
    return Quadratic(centers, rot @ np.diag([5.0, 0.5]) @ rot.T)


def logistic_problem() -> LogisticRegression:
    """Logistic regression on two features of the breast-cancer data (mean and worst radius)."""
    x, y = breast_cancer(intercept=False)
    return LogisticRegression(x[:, [0, 20]], y, l2=0.01)
