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
  leading error term: :math:`\Phi_k - \Phi(t_k) = \Delta t\, E(t_k) + O(\Delta t^2)`;
* :func:`loss_rate_deviation` differences the loss along the flow, to compare
  :math:`\frac{d}{dt}\mathcal L` with :math:`-\|g\|^2`.

One step beyond first order (backward error analysis, Barrett & Dherin 2021): gradient
descent follows the gradient flow of the *modified loss*
:math:`\tilde{\mathcal L} = \mathcal L + \frac\eta4\|\nabla\mathcal L\|^2` to second order.

* :func:`modified_loss` builds :math:`\tilde{\mathcal L}` (any coefficient in place of
  :math:`\frac14`, to test a wrong one);
* :func:`modified_flow_errors` measures :math:`\max_k\|\Phi_k - \tilde\Phi(t_k)\|` on a
  ladder of steps;
* :func:`modified_error_function` predicts it:
  :math:`\Phi_k - \tilde\Phi(t_k) = \Delta t^2 E_2(t_k) + O(\Delta t^3)`;
* :func:`third_derivative` is the contraction :math:`D^3\mathcal L(\Phi)[v, v, \cdot]` that
  :math:`E_2` needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_chains, as_finite_array, as_positive_int
from ..datasets import breast_cancer
from ..dynamics import Trajectory, gradient_descent, gradient_flow
from ..problems import LogisticRegression, Quadratic

__all__ = ["FlowComparison", "compare_with_flow", "euler_global_errors", "euler_error_function",
           "loss_rate_deviation", "ModifiedLoss", "modified_loss", "modified_flow_errors",
           "modified_error_function", "third_derivative", "error_constant",
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


def euler_error_function(problem, phi0, times, *, rate=None, rtol=1e-11, atol=1e-13,
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
    rate : callable, optional
        For a schedule whose rates, as a function of the time they are used at, are
        :math:`\eta(t) = s\,r(t)`: the shape :math:`r(t)`. Then
        :math:`\Phi_k - \Phi(t_k) = s\,E(t_k) + O(s^2)` with the forcing
        :math:`-\tfrac12 r(t) H g`. Default: a constant rate (:math:`r = 1`, :math:`s = \Delta t`).
    rtol, atol, method
        Settings of :func:`scipy.integrate.solve_ivp` for the joint system of
        :math:`\Phi` and :math:`E`.

    Returns
    -------
    numpy.ndarray, shape (records, chains, dim)
        :math:`E(t)` at ``times``.
    """
    def forcing(t, p, g, h):
        r = 1.0 if rate is None else float(rate(t))
        return -0.5 * r * np.einsum("cij,cj->ci", h, g)

    return _error_function(problem, phi0, times, forcing, "euler_error_function", rtol, atol,
                           method)


def error_constant(problem, phi0, t_end, *, order=1, rate=None, points=4001) -> float:
    r"""The predicted constant :math:`C = \max_{0 \le t \le T}\|E(t)\|` of a global error.

    ``order=1``: gradient descent against the flow, :math:`E` from
    :func:`euler_error_function` (optionally with a schedule's ``rate`` shape);
    ``order=2``: against the flow of the modified loss, :math:`E_2` from
    :func:`modified_error_function`. The maximum is taken over ``points`` equally spaced
    times (and over chains).
    """
    times = np.linspace(0.0, float(t_end), as_positive_int(points, "points", minimum=2))
    if order == 1:
        e = euler_error_function(problem, phi0, times, rate=rate)
    elif order == 2:
        if rate is not None:
            raise ValueError("order=2 is for a constant step (rate=None)")
        e = modified_error_function(problem, phi0, times)
    else:
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    return float(np.linalg.norm(e, axis=-1).max())


def _error_function(problem, phi0, times, forcing, where, rtol, atol, method) -> np.ndarray:
    r"""Solve :math:`\dot E = -H(\Phi)E + F(\Phi)`, :math:`E(0) = 0`, along the flow.

    ``forcing(t, phi, g, h)`` returns :math:`F` for states ``phi`` (chains, dim), their
    gradients ``g`` and Hessians ``h`` (chains, dim, dim).
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
        raise ValueError(f"{where} needs the problem's Hessian: {exc}") from None
    if times[-1] == 0:
        return np.zeros((times.size,) + shape)
    n = phi.size

    def rhs(t, y):
        p = y[:n].reshape(shape)
        e = y[n:].reshape(shape)
        g = problem.grad(p)
        h = problem.hessian(p)  # (chains, dim, dim), symmetric
        de = -np.einsum("cij,cj->ci", h, e) + forcing(t, p, g, h)
        return np.concatenate([-g.ravel(), de.ravel()])

    y0 = np.concatenate([phi.ravel(), np.zeros(n)])
    sol = solve_ivp(rhs, (0.0, float(times[-1])), y0, method=method, t_eval=times,
                    rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"{where}: the ODE solver failed: {sol.message}")
    return sol.y[n:].T.reshape((times.size,) + shape)


def loss_rate_deviation(problem, phi0, t_end, delta, *, rtol=1e-12, atol=1e-14):
    r"""Compare :math:`\frac{d}{dt}\mathcal L(\Phi(t))` with :math:`-\|g(\Phi(t))\|^2` along the flow.

    The flow is solved on the grid :math:`t = 0, \delta, 2\delta, \dots, T` and the loss is
    differenced centrally, with spacing :math:`\delta` and again with :math:`2\delta`.

    Returns
    -------
    rel : numpy.ndarray
        :math:`|D_\delta\mathcal L + \|g\|^2| / \|g\|^2` at the interior grid points.
    estimate : numpy.ndarray
        The step-doubling estimate of the finite-difference error at spacing :math:`\delta`,
        :math:`|D_{2\delta}\mathcal L - D_\delta\mathcal L| / 3`, relative to :math:`\|g\|^2`
        (a second-order formula: the error at :math:`2\delta` is four times that at
        :math:`\delta`).
    loss : numpy.ndarray
        :math:`\mathcal L` on the grid.
    """
    t = np.arange(0.0, float(t_end) + delta / 2, delta)
    phi = gradient_flow(problem, phi0, t, rtol=rtol, atol=atol).phi[:, 0]
    loss, g2 = problem.loss(phi), np.sum(problem.grad(phi) ** 2, axis=-1)
    d1 = (loss[2:] - loss[:-2]) / (2 * delta)   # spacing delta, at t[1:-1]
    d2 = (loss[4:] - loss[:-4]) / (4 * delta)   # spacing 2 delta, at t[2:-2]
    rel = np.abs(d1 + g2[1:-1]) / g2[1:-1]
    estimate = np.abs(d2 - d1[1:-1]) / 3 / g2[2:-2]
    return rel, estimate, loss


# ----------------------------------------------------------------------------- beyond Euler
def _hvp(h, v):
    """Hessian(s) times vector(s): ``h`` (..., d, d) or (d, d), ``v`` (..., d)."""
    return np.einsum("...ij,...j->...i", h, v)


def third_derivative(problem, phi, v, *, h=1e-4) -> np.ndarray:
    r"""The third derivative of the loss contracted twice: :math:`D^3\mathcal L(\Phi)[v, v, \cdot]`.

    It is :math:`\frac{d}{d\epsilon}H(\Phi + \epsilon v)\big|_0\,v`, the change of the
    Hessian along :math:`v` applied to :math:`v`. Exact for a :class:`~sgdsim.Quadratic` (zero)
    and a :class:`~sgdsim.LogisticRegression`
    (:math:`\frac1n\sum_i w_i(2p_i - 1)\,y_i (x_i^\top v)^2 x_i`, with :math:`p_i` the
    sigmoid of minus the margin and :math:`w_i = p_i(1-p_i)`); any other problem by a central
    difference of its Hessian with step ``h`` (relative to :math:`\|v\|`).

    Parameters
    ----------
    problem : Problem
    phi, v : array_like, shape (..., dim)
    """
    phi = np.asarray(phi, dtype=float)
    v = np.broadcast_to(np.asarray(v, dtype=float), phi.shape)
    if isinstance(problem, Quadratic):
        return np.zeros_like(phi)
    if isinstance(problem, LogisticRegression):
        m = (phi @ problem.X.T) * problem.y
        p = 0.5 * (1.0 - np.tanh(0.5 * m))
        coef = p * (1.0 - p) * (2.0 * p - 1.0) * problem.y * (v @ problem.X.T) ** 2
        return coef @ problem.X / problem.n
    scale = h / max(float(np.abs(v).max()), 1e-300)
    dh = (problem.hessian(phi + scale * v) - problem.hessian(phi - scale * v)) / (2 * scale)
    return _hvp(dh, v)


@dataclass(frozen=True)
class ModifiedLoss:
    r"""The modified loss :math:`\tilde{\mathcal L} = \mathcal L + c\,\eta\,\|\nabla\mathcal L\|^2`.

    With :math:`c = \frac14` gradient descent with rate :math:`\eta` follows its gradient flow
    to second order in :math:`\eta` (backward error analysis). Its gradient is
    :math:`g + 2c\,\eta\,H g`. It has what :func:`sgdsim.gradient_flow` needs (``dim``,
    ``loss``, ``grad``).

    Attributes
    ----------
    problem : Problem
    lr : float
        :math:`\eta`.
    coef : float
        :math:`c` (:math:`\frac14` is the right one).
    """

    problem: object
    lr: float
    coef: float = 0.25

    @property
    def dim(self) -> int:
        return self.problem.dim

    def loss(self, phi) -> np.ndarray:
        g = self.problem.grad(phi)
        return self.problem.loss(phi) + self.coef * self.lr * np.sum(g**2, axis=-1)

    def grad(self, phi) -> np.ndarray:
        phi = np.asarray(phi, dtype=float)
        g = self.problem.grad(phi)
        return g + 2.0 * self.coef * self.lr * _hvp(self.problem.hessian(phi), g)


def modified_loss(problem, lr, coef=0.25) -> ModifiedLoss:
    r""":math:`\mathcal L + c\,\eta\,\|\nabla\mathcal L\|^2` (default :math:`c = \frac14`): see :class:`ModifiedLoss`."""
    lr = float(as_finite_array(lr, "lr", ndim=0))
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr:g}")
    return ModifiedLoss(problem, lr, float(coef))


def modified_flow_errors(problem, phi0, t_end, n_steps, *, coef=0.25, rtol=1e-12, atol=1e-14,
                         method="DOP853") -> np.ndarray:
    r"""Distance from gradient descent to the flow of the modified loss, on :math:`[0, T]`.

    For each :math:`N` in ``n_steps``: :math:`N` steps of gradient descent with
    :math:`\eta = T/N`, against the gradient flow of
    :math:`\mathcal L + c\,\eta\|\nabla\mathcal L\|^2` (a different flow for every
    :math:`\eta`) at the same times; returns :math:`\max_k \|\Phi_k - \tilde\Phi(k\eta)\|`.
    With :math:`c = \frac14` it is :math:`\eta^2 \max_t\|E_2(t)\| + O(\eta^3)`
    (:func:`modified_error_function`); with any other :math:`c` it is first order.
    """
    t_end = float(as_finite_array(t_end, "t_end", ndim=0))
    if not t_end > 0:
        raise ValueError(f"t_end must be > 0, got {t_end:g}")
    out = []
    for n in np.atleast_1d(n_steps):
        n = as_positive_int(int(n), "n_steps")
        lr = t_end / n
        gd = gradient_descent(problem, phi0, lr, n)
        flow = gradient_flow(modified_loss(problem, lr, coef), gd.phi[0], gd.time, rtol=rtol,
                             atol=atol, method=method)
        out.append(float(np.linalg.norm(gd.phi - flow.phi, axis=-1).max()))
    return np.array(out)


def modified_error_function(problem, phi0, times, *, rtol=1e-11, atol=1e-13,
                            method="DOP853") -> np.ndarray:
    r"""Leading-order distance from gradient descent to the flow of the modified loss: :math:`E_2(t)`.

    With :math:`\tilde\Phi` the gradient flow of
    :math:`\mathcal L + \frac\eta4\|\nabla\mathcal L\|^2` and a constant step :math:`\eta`,
    :math:`\Phi_k - \tilde\Phi(k\eta) = \eta^2 E_2(k\eta) + O(\eta^3)`, where

    .. math::
        \dot E_2 = -H E_2 - \tfrac13 H^2 g - \tfrac1{12} D^3\mathcal L[g, g], \qquad E_2(0) = 0,

    along the flow: the forcing is the :math:`\eta^3` term of one step of the modified flow
    (gradient descent has none), carried along the linearized flow. On a 1-D quadratic
    :math:`E_2(t) = -\tfrac13\lambda^3 t\, e^{-\lambda t} x_0`.

    Returns
    -------
    numpy.ndarray, shape (records, chains, dim)
    """
    def forcing(t, p, g, h):
        hg = np.einsum("cij,cj->ci", h, g)
        return -np.einsum("cij,cj->ci", h, hg) / 3.0 - third_derivative(problem, p, g) / 12.0

    return _error_function(problem, phi0, times, forcing, "modified_error_function", rtol, atol,
                           method)


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
