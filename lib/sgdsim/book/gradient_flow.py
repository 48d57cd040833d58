r"""Gradient descent as Euler's method for the gradient flow it discretizes.

Gradient descent :math:`\Phi_{k+1} = \Phi_k - \eta_k\, g(\Phi_k)` is the explicit Euler
method for :math:`\dot\Phi = -g(\Phi)` at the times :math:`t_k = \sum_{j<k} \eta_j`. With a
constant step :math:`\Delta t` its global error is first order,
:math:`\Phi_k - \Phi(t_k) = \Delta t\, E(t_k) + O(\Delta t^2)`; against the flow of the
*modified loss* :math:`\mathcal L + \frac\eta4\|\nabla\mathcal L\|^2` (backward error analysis,
Barrett & Dherin 2021) it is second order, :math:`\eta^2 E_2(t_k) + O(\eta^3)`. ``rtol``,
``atol`` and ``method`` are the settings of the high-accuracy ODE solver; ``H`` is the Hessian.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_chains, as_positive_int, as_rate
from ..datasets import breast_cancer
from ..dynamics import Trajectory, gradient_descent, gradient_flow, joint_flow
from ..problems import LogisticRegression, Quadratic

__all__ = ["FlowComparison", "compare_with_flow", "euler_global_errors", "euler_error_function",
           "loss_rate_deviation", "ModifiedLoss", "modified_loss", "modified_flow_errors",
           "modified_error_function", "third_derivative", "error_constant",
           "quadratic_problem", "logistic_problem", "QUADRATIC_START", "LOGISTIC_START"]


@dataclass(frozen=True)
class FlowComparison:
    """A gradient-descent run ``gd`` and the gradient flow ``flow`` at the times ``gd.time``."""

    gd: Trajectory
    flow: Trajectory

    @property
    def sup_deviation(self) -> float:
        r"""The global error :math:`\max_k \|\Phi_k - \Phi(t_k)\|_2` (over chains too)."""
        return float(np.linalg.norm(self.gd.phi - self.flow.phi, axis=-1).max())


def compare_with_flow(problem, phi0, lr, steps, *, chains=None, record_every=1,
                      max_norm=1e8, rtol=1e-12, atol=1e-14, method="DOP853") -> FlowComparison:
    """Gradient descent (arguments as in :func:`sgdsim.gradient_descent`, any schedule) and the
    gradient flow from the same start at the same times."""
    gd = gradient_descent(problem, phi0, lr, steps, chains=chains, record_every=record_every,
                          max_norm=max_norm)
    flow = gradient_flow(problem, gd.phi[0], gd.time, rtol=rtol, atol=atol, method=method)
    return FlowComparison(gd=gd, flow=flow)


def _ladder_errors(problem, phi0, t_end, n_steps, flow_problem, rtol, atol, method):
    r""":math:`\max_k \|\Phi_k - \tilde\Phi(t_k)\|` for :math:`N` steps of :math:`\eta = T/N`,
    :math:`N` in ``n_steps``, :math:`\tilde\Phi` the flow of ``flow_problem(eta)``."""
    t_end = as_rate(t_end, "t_end")
    ns = np.atleast_1d(np.asarray(n_steps))
    if ns.ndim != 1 or ns.size == 0 or not np.issubdtype(ns.dtype, np.integer):
        raise TypeError(f"n_steps must be a non-empty sequence of integers, got {n_steps!r}")
    out = []
    for n in [as_positive_int(int(n), "n_steps") for n in ns]:
        gd = gradient_descent(problem, phi0, t_end / n, n)
        flow = gradient_flow(flow_problem(t_end / n), gd.phi[0], gd.time, rtol=rtol, atol=atol,
                             method=method)
        out.append(float(np.linalg.norm(gd.phi - flow.phi, axis=-1).max()))
    return np.array(out)


def euler_global_errors(problem, phi0, t_end, n_steps, *, rtol=1e-12, atol=1e-14,
                        method="DOP853") -> np.ndarray:
    r"""Global error :math:`e(\Delta t) = \max_{k \le N}\|\Phi_k - \Phi(k\,\Delta t)\|_2` of
    gradient descent on :math:`[0, T]` with :math:`\Delta t = T/N`, for every :math:`N` in
    ``n_steps``; :math:`e = \Delta t \max_t\|E(t)\| + O(\Delta t^2)`."""
    return _ladder_errors(problem, phi0, t_end, n_steps, lambda lr: problem, rtol, atol, method)


def euler_error_function(problem, phi0, times, *, rate=None, rtol=1e-11, atol=1e-13,
                         method="DOP853") -> np.ndarray:
    r"""The leading error :math:`E(t)` of gradient descent at ``times``, (records, chains, dim).

    It solves the variational equation along the flow (Hairer, Nørsett & Wanner)

    .. math::
        \dot E = -H(\Phi)\, E - \tfrac12 r(t)\, H(\Phi)\, g(\Phi), \qquad E(0) = 0,

    the forcing being the local error of one Euler step (:math:`\ddot\Phi = H g`). For a
    schedule :math:`\eta(t) = s\,r(t)`, ``rate`` is :math:`r` and the error is
    :math:`s\,E + O(s^2)`; default :math:`r = 1`. On :math:`\tfrac\lambda2 x^2`:
    :math:`E(t) = -\tfrac12\lambda^2 t\, e^{-\lambda t} x_0`.
    """
    def forcing(t, p, g, h):
        r = 1.0 if rate is None else float(rate(t))
        return -0.5 * r * np.einsum("cij,cj->ci", h, g)

    return _error_function(problem, phi0, times, forcing, "euler_error_function", rtol, atol,
                           method)


def error_constant(problem, phi0, t_end, *, order=1, rate=None, points=4001) -> float:
    r"""The predicted constant :math:`\max_{0 \le t \le T}\|E(t)\|` over ``points`` times:
    ``order=1`` :func:`euler_error_function` (with ``rate``), ``order=2``
    :func:`modified_error_function`."""
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
    r"""Solve :math:`\dot E = -H(\Phi)E + F`, :math:`E(0) = 0`, jointly with the flow;
    ``forcing(t, phi, g, h)`` returns :math:`F` (chains, dim)."""
    phi = as_chains(phi0, problem.dim, None)
    try:
        problem.hessian(phi)
    except NotImplementedError as exc:
        raise ValueError(f"{where} needs the problem's Hessian: {exc}") from None

    def error_rate(t, p, g, e):
        h = problem.hessian(p)
        return -np.einsum("cij,cj->ci", h, e) + forcing(t, p, g, h)

    return joint_flow(problem, phi, times, rtol=rtol, atol=atol, method=method,
                      extra=(phi.shape, error_rate), where=where)[1]


def loss_rate_deviation(problem, phi0, t_end, delta, *, rtol=1e-12, atol=1e-14):
    r"""Compare :math:`\frac{d}{dt}\mathcal L(\Phi(t))` with :math:`-\|g\|^2` along the flow.

    The loss on the grid :math:`0, \delta, \dots, T` is differenced centrally with spacings
    :math:`\delta` and :math:`2\delta`. Returns ``rel``
    :math:`= |D_\delta\mathcal L + \|g\|^2| / \|g\|^2` at the interior points, ``estimate``
    :math:`= |D_{2\delta}\mathcal L - D_\delta\mathcal L| / (3\|g\|^2)` (the step-doubling
    estimate of the second-order difference error) and ``loss`` on the grid.
    """
    t = np.arange(0.0, float(t_end) + delta / 2, delta)
    phi = gradient_flow(problem, phi0, t, rtol=rtol, atol=atol).phi[:, 0]
    loss, g2 = problem.loss(phi), np.sum(problem.grad(phi) ** 2, axis=-1)
    d1 = (loss[2:] - loss[:-2]) / (2 * delta)  # spacing delta, at t[1:-1]
    d2 = (loss[4:] - loss[:-4]) / (4 * delta)  # spacing 2 delta, at t[2:-2]
    rel = np.abs(d1 + g2[1:-1]) / g2[1:-1]
    estimate = np.abs(d2 - d1[1:-1]) / 3 / g2[2:-2]
    return rel, estimate, loss


def _hvp(h, v):
    """Hessian(s) ``h`` (..., d, d) times vector(s) ``v`` (..., d)."""
    return np.einsum("...ij,...j->...i", h, v)


def third_derivative(problem, phi, v, *, h=1e-4) -> np.ndarray:
    r""":math:`D^3\mathcal L(\Phi)[v, v, \cdot] = \frac{d}{d\epsilon}H(\Phi + \epsilon v)\,v`.

    Exact for a :class:`~sgdsim.Quadratic` (zero) and a :class:`~sgdsim.LogisticRegression`
    (:math:`\frac1n\sum_i w_i(2p_i - 1)\,y_i (x_i^\top v)^2 x_i`, :math:`p_i` the sigmoid of
    minus the margin, :math:`w_i = p_i(1-p_i)`); otherwise a central difference of the
    Hessian with step ``h`` relative to :math:`\|v\|_\infty`.
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
    r"""The modified loss :math:`\mathcal L + c\,\eta\,\|\nabla\mathcal L\|^2`, gradient
    :math:`g + 2c\,\eta\,H g` (``coef`` :math:`c = \frac14` is the right one)."""

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
    """The :class:`ModifiedLoss` of ``problem`` at rate ``lr`` > 0."""
    return ModifiedLoss(problem, as_rate(lr), float(coef))


def modified_flow_errors(problem, phi0, t_end, n_steps, *, coef=0.25, rtol=1e-12, atol=1e-14,
                         method="DOP853") -> np.ndarray:
    r""":math:`\max_k \|\Phi_k - \tilde\Phi(k\eta)\|` on :math:`[0, T]`, :math:`\eta = T/N`,
    :math:`\tilde\Phi` the flow of :math:`\mathcal L + c\,\eta\|\nabla\mathcal L\|^2`:
    :math:`\eta^2 \max_t\|E_2(t)\| + O(\eta^3)` for :math:`c = \frac14`, first order otherwise."""
    return _ladder_errors(problem, phi0, t_end, n_steps,
                          lambda lr: modified_loss(problem, lr, coef), rtol, atol, method)


def modified_error_function(problem, phi0, times, *, rtol=1e-11, atol=1e-13,
                            method="DOP853") -> np.ndarray:
    r"""The leading distance :math:`E_2(t)` from gradient descent to the modified flow.

    .. math::
        \dot E_2 = -H E_2 - \tfrac13 H^2 g - \tfrac1{12} D^3\mathcal L[g, g], \qquad E_2(0) = 0,

    the forcing being the :math:`\eta^3` term of one step of the modified flow. On
    :math:`\tfrac\lambda2 x^2`: :math:`E_2(t) = -\tfrac13\lambda^3 t\, e^{-\lambda t} x_0`.
    """
    def forcing(t, p, g, h):
        hg = np.einsum("cij,cj->ci", h, g)
        return -np.einsum("cij,cj->ci", h, hg) / 3.0 - third_derivative(problem, p, g) / 12.0

    return _error_function(problem, phi0, times, forcing, "modified_error_function", rtol, atol,
                           method)


#: Where the chapter starts gradient descent and the flow on its two problems.
QUADRATIC_START = (-2.0, 2.5)
LOGISTIC_START = (-3.0, 1.0)


def quadratic_problem(seed: int = 31230) -> Quadratic:
    r"""The chapter's 2-D quadratic: 20 examples, :math:`H = R\,\mathrm{diag}(5, 0.5)\,R^\top`
    (:math:`R` a rotation by :math:`\pi/6`), centres shifted so that :math:`\Phi^* = (1, 0.5)`."""
    th = np.pi / 6
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    centers = np.random.default_rng(seed).normal(size=(20, 2))
    centers += np.array([1.0, 0.5]) - centers.mean(axis=0)
    return Quadratic(centers, rot @ np.diag([5.0, 0.5]) @ rot.T)


def logistic_problem() -> LogisticRegression:
    """Logistic regression on two features of the breast-cancer data (mean and worst radius)."""
    x, y = breast_cancer(intercept=False)
    return LogisticRegression(x[:, [0, 20]], y, l2=0.01)
