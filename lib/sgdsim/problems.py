r"""Loss landscapes for SGD: finite sums of per-example losses and noisy potentials.

Every problem has the same interface, so the dynamics never need to know which one they run.
``phi`` has shape ``(..., dim)`` (a point, ``(chains, dim)`` or a whole trajectory), and

* ``loss(phi)``, shape ``(...)``: :math:`\mathcal{L}(\Phi) = \frac1n \sum_i \mathcal{L}_i(\Phi)`;
* ``grad(phi)``, shape ``(..., dim)``: the full-batch gradient :math:`g = \nabla\mathcal{L}`;
* ``sample_grad(phi, batch_size, rng)``: one minibatch gradient :math:`\hat g` per chain, the
  batch drawn uniformly with replacement, so :math:`E\hat g = g`,
  :math:`\operatorname{Cov}\hat g = \Sigma(\Phi)/B`; finite sums also accept ``idx=`` (integer
  indices of shape ``(..., batch_size)``), the minibatch to use instead of a random draw;
* ``noise_cov(phi)``, shape ``(..., dim, dim)``: the single-example gradient covariance
  :math:`\Sigma(\Phi) = \frac1n\sum_i (g_i - g)(g_i - g)^\top` (``phi=None``: the constant
  matrix, where it does not depend on :math:`\Phi`);
* ``hessian(phi)``, shape ``(..., dim, dim)``; ``minimizer()``, :math:`\Phi^*` of shape ``(dim,)``;
* finite sums also have ``n``, ``example_losses(phi)`` ``(..., n)``, ``example_grads(phi)``
  ``(..., n, dim)`` and ``example_hessians(phi)`` ``(n, dim, dim)``.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_finite_array,
    as_generator,
    as_nonnegative,
    as_positive_int,
    as_rate,
    as_symmetric_psd,
    sym_sqrt,
)

__all__ = [
    "Problem",
    "Quadratic",
    "LinearRegression",
    "LogisticRegression",
    "NoisyPotential",
    "double_well",
    "product_problem",
]


class Problem:
    """Base class: shared validation and the derived quantities every problem has."""

    dim: int
    #: ``True`` when the gradient-noise covariance does not depend on the parameters.
    noise_is_constant: bool = False

    def _phi(self, phi, name: str = "phi") -> np.ndarray:
        arr = np.asarray(phi, dtype=float)
        if arr.ndim == 0 or arr.shape[-1] != self.dim:
            raise ValueError(
                f"{name} must have shape (..., {self.dim}) for this {type(self).__name__}, "
                f"got {arr.shape}"
            )
        return arr

    def _constant(self, m, phi):
        """A copy of ``m`` (``phi=None``), or ``m`` broadcast over ``phi``'s leading axes."""
        if phi is None:
            return m.copy()
        return np.broadcast_to(m, self._phi(phi).shape[:-1] + m.shape).copy()

    def minimum_loss(self) -> float:
        r""":math:`\mathcal{L}(\Phi^*)`."""
        return float(self.loss(self.minimizer()))

    def max_stable_lr(self) -> float:
        r""":math:`2/\lambda_{\max}(H(\Phi^*))`, the largest stable gradient-descent rate."""
        lam = np.linalg.eigvalsh(self.hessian(self.minimizer()))[-1]
        return float("inf") if lam <= 0 else float(2.0 / lam)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


class _FiniteSum(Problem):
    r"""Shared machinery of finite sums :math:`\mathcal L = \frac1n\sum_i \mathcal L_i`."""

    n: int

    def __init__(self, X, y):
        X = as_finite_array(X, "X", ndim=2)
        y = as_finite_array(y, "y", ndim=1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
        self.X, self.y = X, y
        self.n, self.dim = X.shape

    def _indices(self, phi: np.ndarray, batch_size, rng, idx=None) -> np.ndarray:
        b = as_positive_int(batch_size, "batch_size")
        if idx is None:
            return as_generator(rng).integers(0, self.n, size=phi.shape[:-1] + (b,))
        idx = np.asarray(idx)
        if idx.shape != phi.shape[:-1] + (b,) or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"idx must be integer example indices of shape "
                             f"{phi.shape[:-1] + (b,)}, got {idx.dtype} {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise ValueError(f"idx must lie in [0, {self.n})")
        return idx

    def loss(self, phi) -> np.ndarray:
        return self.example_losses(phi).mean(axis=-1)

    def noise_cov(self, phi=None) -> np.ndarray:
        if phi is None:
            raise ValueError(f"the gradient noise of {type(self).__name__} depends on the "
                             "parameters; pass phi")
        gi = self.example_grads(phi)
        d = gi - gi.mean(axis=-2, keepdims=True)
        return np.einsum("...ni,...nj->...ij", d, d) / self.n

    def _point(self, phi):
        """One point (default: the minimizer), shape (dim,)."""
        phi = self.minimizer() if phi is None else self._phi(phi)
        if phi.ndim != 1:
            raise ValueError(f"phi must be one point of shape ({self.dim},), got {phi.shape}")
        return phi

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, dim={self.dim})"


class Quadratic(_FiniteSum):
    r"""Quadratics with a shared Hessian, :math:`\mathcal{L}_i = \tfrac12 (\Phi - a_i)^\top H
    (\Phi - a_i)`, from ``centers`` :math:`a_i` (n, dim) and PSD ``hessian`` :math:`H`.

    Then :math:`g = H(\Phi - \bar a)`, :math:`\Phi^* = \bar a`, and the noise is additive with
    constant :math:`\Sigma = H C_a H`, :math:`C_a = \frac1n\sum_i (a_i-\bar a)(a_i-\bar a)^\top`.
    """

    noise_is_constant = True

    def __init__(self, centers, hessian):
        c = as_finite_array(centers, "centers", ndim=(1, 2))
        if c.ndim == 1:
            c = c[:, None]
        self.centers = c
        self.n, self.dim = c.shape
        self.H = as_symmetric_psd(hessian, "hessian", dim=self.dim)
        self._abar = c.mean(axis=0)
        d = c - self._abar
        self._loss_at_min = float(0.5 * np.einsum("ni,ij,nj->", d, self.H, d) / self.n)

    def example_losses(self, phi) -> np.ndarray:
        d = self._phi(phi)[..., None, :] - self.centers
        return 0.5 * np.einsum("...ni,ij,...nj->...n", d, self.H, d)

    def loss(self, phi) -> np.ndarray:
        # closed form of the mean: 1/2 (phi-abar)' H (phi-abar) + L(phi*)
        d = self._phi(phi) - self._abar
        return 0.5 * np.einsum("...i,ij,...j->...", d, self.H, d) + self._loss_at_min

    def grad(self, phi) -> np.ndarray:
        return self._times_h(self._phi(phi) - self._abar)

    def _times_h(self, d):
        """``d @ H``; in 1-D the same single product in place (matmul costs 5x more)."""
        if self.dim == 1:
            d *= self.H[0, 0]
            return d
        return d @ self.H

    def example_grads(self, phi) -> np.ndarray:
        return (self._phi(phi)[..., None, :] - self.centers) @ self.H

    def sample_grad(self, phi, batch_size, rng, idx=None) -> np.ndarray:
        phi = self._phi(phi)
        idx = self._indices(phi, batch_size, rng, idx)
        # ``take`` makes the copy fancy indexing makes, 3x faster; then updated in place
        if idx.shape[-1] > 1:
            a = self.centers.take(idx, axis=0).mean(axis=-2)
        else:
            a = self.centers.take(idx[..., 0], axis=0)
        np.subtract(phi, a, out=a)
        return self._times_h(a)

    def example_hessians(self, phi=None) -> np.ndarray:
        self._point(phi)
        return np.broadcast_to(self.H, (self.n, self.dim, self.dim)).copy()

    def hessian(self, phi=None) -> np.ndarray:
        return self._constant(self.H, phi)

    def noise_cov(self, phi=None) -> np.ndarray:
        d = self.centers - self._abar
        return self._constant(self.H @ (d.T @ d / self.n) @ self.H, phi)

    def minimizer(self) -> np.ndarray:
        if np.linalg.eigvalsh(self.H)[0] <= 1e-12 * max(1.0, np.abs(self.H).max()):
            raise ValueError("the Hessian is singular: the minimizer is not unique")
        return self._abar.copy()


class LinearRegression(_FiniteSum):
    r"""Least squares, :math:`\mathcal{L}_i(\Phi) = \tfrac12 (x_i^\top\Phi - y_i)^2`.

    :math:`g_i = x_i (x_i^\top\Phi - y_i)`: the noise is multiplicative (its covariance depends
    on :math:`\Phi`); :math:`H_i = x_i x_i^\top`, :math:`H = \frac1n X^\top X`.
    ``X`` has shape (n, dim), ``y`` shape (n,).
    """

    def _residuals(self, phi):
        return self._phi(phi) @ self.X.T - self.y  # (..., n)

    def example_losses(self, phi) -> np.ndarray:
        return 0.5 * self._residuals(phi) ** 2

    def grad(self, phi) -> np.ndarray:
        return self._residuals(phi) @ self.X / self.n

    def example_grads(self, phi) -> np.ndarray:
        return self._residuals(phi)[..., :, None] * self.X

    def sample_grad(self, phi, batch_size, rng, idx=None) -> np.ndarray:
        phi = self._phi(phi)
        idx = self._indices(phi, batch_size, rng, idx)
        if idx.shape[-1] == 1:
            # g = x r in place in the fresh copy of the rows (the einsum below would add the
            # products to +0: an exactly zero component could differ in its sign)
            i = idx[..., 0]
            g = self.X.take(i, axis=0)  # (..., dim)
            r = np.einsum("...i,...i->...", g, phi)
            r -= self.y.take(i)
            g *= r[..., None]
            return g
        xb = self.X.take(idx, axis=0)  # (..., B, dim)
        r = np.einsum("...bi,...i->...b", xb, phi)
        r -= self.y.take(idx)
        g = np.einsum("...bi,...b->...i", xb, r)
        g /= idx.shape[-1]
        return g

    def example_hessians(self, phi=None) -> np.ndarray:
        self._point(phi)
        return np.einsum("ni,nj->nij", self.X, self.X)

    def hessian(self, phi=None) -> np.ndarray:
        return self._constant(self.X.T @ self.X / self.n, phi)

    def minimizer(self) -> np.ndarray:
        if np.linalg.matrix_rank(self.X) < self.dim:
            raise ValueError("X has rank < dim: the least-squares minimizer is not unique")
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]


class LogisticRegression(_FiniteSum):
    r"""Logistic loss with a ridge penalty,
    :math:`\mathcal{L}_i(\Phi) = \log(1 + e^{-y_i x_i^\top \Phi}) + \tfrac{\lambda}{2}\|\Phi\|^2`.

    ``X`` (n, dim) holds the inputs (add a column of ones for an intercept), ``y`` labels in
    {0, 1} or {-1, +1}; ``l2`` is :math:`\lambda \ge 0` (positive for separable data, or no
    minimizer exists).
    """

    def __init__(self, X, y, l2: float = 0.0):
        super().__init__(X, y)
        labels = set(np.unique(self.y).tolist())
        if labels <= {0.0, 1.0}:
            self.y = 2.0 * self.y - 1.0
        elif not labels <= {-1.0, 1.0}:
            raise ValueError(f"labels must be in {{0, 1}} or {{-1, +1}}, got {sorted(labels)}")
        self.l2 = float(as_nonnegative(l2, "l2"))
        self._phi_star = None

    def _margins(self, phi):
        return (self._phi(phi) @ self.X.T) * self.y  # (..., n)

    def example_losses(self, phi) -> np.ndarray:
        phi = self._phi(phi)
        ridge = 0.5 * self.l2 * np.sum(phi**2, axis=-1)[..., None]
        return np.logaddexp(0.0, -self._margins(phi)) + ridge

    @staticmethod
    def _coef(margins):
        # d/dm log(1 + e^{-m}) = -sigmoid(-m), written stably
        return -0.5 * (1.0 - np.tanh(0.5 * margins))

    def grad(self, phi) -> np.ndarray:
        phi = self._phi(phi)
        s = self._coef(self._margins(phi)) * self.y
        return s @ self.X / self.n + self.l2 * phi

    def example_grads(self, phi) -> np.ndarray:
        phi = self._phi(phi)
        s = self._coef(self._margins(phi)) * self.y
        return s[..., :, None] * self.X + self.l2 * phi[..., None, :]

    def sample_grad(self, phi, batch_size, rng, idx=None) -> np.ndarray:
        phi = self._phi(phi)
        idx = self._indices(phi, batch_size, rng, idx)
        xb, yb = self.X.take(idx, axis=0), self.y.take(idx)
        m = np.einsum("...bi,...i->...b", xb, phi) * yb
        g = np.einsum("...bi,...b->...i", xb, self._coef(m) * yb)
        if idx.shape[-1] > 1:
            g /= idx.shape[-1]
        g += self.l2 * phi
        return g

    def example_hessians(self, phi=None) -> np.ndarray:
        r""":math:`H_i = p_i(1-p_i)\,x_i x_i^\top + \lambda I`, :math:`p_i` = sigmoid(-margin)."""
        phi = self._point(phi)
        p = 0.5 * (1.0 - np.tanh(0.5 * (self.y * (self.X @ phi))))
        h = np.einsum("n,ni,nj->nij", p * (1.0 - p), self.X, self.X)
        return h + self.l2 * np.eye(self.dim)

    def hessian(self, phi) -> np.ndarray:
        p = 0.5 * (1.0 - np.tanh(0.5 * self._margins(phi)))
        h = np.einsum("...n,ni,nj->...ij", p * (1.0 - p), self.X, self.X) / self.n
        return h + self.l2 * np.eye(self.dim)

    def minimizer(self, tol: float = 1e-13, max_iter: int = 100) -> np.ndarray:
        """Newton's method with backtracking, from zero; cached."""
        if self._phi_star is not None:
            return self._phi_star.copy()
        phi = np.zeros(self.dim)
        for _ in range(max_iter):
            g = self.grad(phi)
            if np.linalg.norm(g) <= tol * max(1.0, np.linalg.norm(phi)):
                break
            try:
                step = np.linalg.solve(self.hessian(phi), g)
            except np.linalg.LinAlgError:
                raise ValueError(
                    "the Hessian is singular: no unique minimizer (add l2 > 0)"
                ) from None
            t, f0 = 1.0, self.loss(phi)
            while self.loss(phi - t * step) > f0 - 0.25 * t * g @ step and t > 1e-12:
                t *= 0.5
            phi = phi - t * step
        else:
            raise ValueError(
                "Newton's method did not converge: the data may be separable; add l2 > 0"
            )
        if self.l2 == 0 and np.all(self._margins(phi) > 0):
            raise ValueError("the data are linearly separable: no minimizer exists; add l2 > 0")
        self._phi_star = phi
        return phi.copy()

    def __repr__(self) -> str:
        return f"LogisticRegression(n={self.n}, dim={self.dim}, l2={self.l2:g})"


class NoisyPotential(Problem):
    r"""A potential :math:`U` observed through gradients with additive Gaussian noise:
    :math:`\hat g = \nabla U(\Phi) + \varepsilon`,
    :math:`\varepsilon \sim \mathcal N(0, \Sigma/B)`.

    ``loss``, ``grad`` and (optional) ``hessian`` are callables of ``phi`` (..., dim);
    ``noise_cov`` :math:`\Sigma` is a variance (isotropic, in ``dim`` dimensions, default 1), a
    diagonal or a PSD matrix.
    """

    noise_is_constant = True

    def __init__(self, loss, grad, noise_cov, *, dim=None, minimizer=None, hessian=None):
        if not (callable(loss) and callable(grad)):
            raise TypeError("loss and grad must be callables of phi with shape (..., dim)")
        cov = np.asarray(noise_cov, dtype=float)
        if cov.ndim == 0:
            d = 1 if dim is None else as_positive_int(dim, "dim")
            cov = float(cov) * np.eye(d)
        elif cov.ndim == 1:
            cov = np.diag(as_finite_array(cov, "noise_cov"))
        cov = as_symmetric_psd(cov, "noise_cov", dim=dim)
        self.dim = cov.shape[0]
        self.Sigma = cov
        self._noise_factor = sym_sqrt(cov)
        self._loss, self._grad, self._hess = loss, grad, hessian
        self._min = None if minimizer is None else as_finite_array(
            minimizer, "minimizer", shape=(self.dim,)
        )

    def loss(self, phi) -> np.ndarray:
        return np.asarray(self._loss(self._phi(phi)), dtype=float)

    def grad(self, phi) -> np.ndarray:
        return np.asarray(self._grad(self._phi(phi)), dtype=float)

    def sample_grad(self, phi, batch_size, rng) -> np.ndarray:
        phi = self._phi(phi)
        b = as_positive_int(batch_size, "batch_size")
        z = as_generator(rng).standard_normal(phi.shape)
        if self.dim == 1:
            z *= self._noise_factor[0, 0]
        else:
            z = z @ self._noise_factor
        if b > 1:  # dividing by sqrt(1) = 1 is exact: skip the pass
            z /= np.sqrt(b)
        z += self.grad(phi)  # the user's grad may return a view: add into our own array
        return z

    def noise_cov(self, phi=None) -> np.ndarray:
        return self._constant(self.Sigma, phi)

    def hessian(self, phi) -> np.ndarray:
        if self._hess is None:
            raise NotImplementedError("this NoisyPotential was built without a hessian")
        return np.asarray(self._hess(self._phi(phi)), dtype=float)

    def minimizer(self) -> np.ndarray:
        if self._min is None:
            raise NotImplementedError("this NoisyPotential was built without a minimizer")
        return self._min.copy()


def noise_var_1d(problem, what: str) -> float:
    r""":math:`\sigma^2` of a 1-D ``problem`` with constant noise; ``what`` names the caller."""
    if problem.dim != 1 or not getattr(problem, "noise_is_constant", False):
        raise ValueError(f"{what} needs a 1-D problem with constant noise")
    return float(np.atleast_2d(problem.noise_cov())[0, 0])


def double_well(barrier: float = 1.0, width: float = 1.0, tilt: float = 0.0,
                noise_var: float = 1.0) -> NoisyPotential:
    r"""A 1-D double well :math:`U(x) = h((x/w)^2 - 1)^2 + c\,x` with gradient noise
    :math:`\mathcal N(0, \sigma^2)`.

    ``barrier`` :math:`h > 0`, ``width`` :math:`w > 0` (wells near :math:`\pm w`), ``tilt``
    :math:`c` (for :math:`c > 0` the left well is deeper), ``noise_var`` :math:`\sigma^2 \ge 0`.
    """
    as_rate(barrier, "barrier")
    as_rate(width, "width")
    if not np.isfinite(tilt):
        raise ValueError(f"tilt must be finite, got {tilt!r}")
    as_nonnegative(noise_var, "noise_var")
    h, w, c = float(barrier), float(width), float(tilt)

    def loss(phi):
        x = phi[..., 0]
        return h * ((x / w) ** 2 - 1.0) ** 2 + c * x

    def grad(phi):
        # 4 h x / w^2 ((x/w)^2 - 1) + c, evaluated in the same order with two temporaries
        x = phi[..., :1]
        u = x / w
        np.square(u, out=u)
        u -= 1.0
        out = x * (4.0 * h)
        out /= w**2
        out *= u
        out += c
        return out

    def hessian(phi):
        x = phi[..., :1, None]
        return h * (12.0 * x**2 / w**4 - 4.0 / w**2)

    # stationary points solve 4h/w^4 x^3 - 4h/w^2 x + c = 0; keep the lowest real one
    roots = np.roots([4 * h / w**4, 0.0, -4 * h / w**2, c])
    real = roots[np.abs(roots.imag) < 1e-9].real
    x_star = real[np.argmin(loss(real[:, None]))]
    return NoisyPotential(loss, grad, noise_var, dim=1, minimizer=[x_star], hessian=hessian)


def product_problem(x_problem, y_problem):
    r"""The 2-D problem :math:`\mathcal L(x, y) = \mathcal L_x(x) + \mathcal L_y(y)` with
    independent noise :math:`\operatorname{diag}(\sigma_x^2, \sigma_y^2)`.

    Both factors are 1-D with constant noise; SGD then moves the coordinates independently and
    the Langevin law factorizes, with :math:`T_x = \eta\sigma_x^2/2`,
    :math:`T_y = \eta\sigma_y^2/2`.
    Returns a :class:`NoisyPotential` whose minimizer is the pair of the factors' minimizers.
    """
    sx = noise_var_1d(x_problem, "product_problem's x_problem")
    sy = noise_var_1d(y_problem, "product_problem's y_problem")

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
