r"""Per-parameter learning rates for :func:`sgdsim.sgd`.

A preconditioner turns a gradient sample :math:`\hat g` into an update
direction :math:`d`, and SGD steps :math:`\Phi \leftarrow \Phi - \eta\, d`.
It may keep a per-chain state (RMSProp's running mean square). The protocol
is two methods::

    state = pre.init(phi)                 # phi: (chains, dim)
    direction, state = pre.apply(state, g_hat)

Any object with these two methods can be passed as ``preconditioner=``.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_finite_array, as_symmetric_psd

__all__ = ["Diagonal", "Dense", "ChainRates", "RMSProp", "RunningVariance", "as_preconditioner"]


class Diagonal:
    r"""Fixed per-parameter rate multipliers: :math:`d_k = s_k\,\hat g_k`.

    With ``scales = 1 / sigma**2`` this is the inverse-variance rule
    :math:`\eta_k = \eta'/\sigma_k^2`, which gives every coordinate the same
    Langevin temperature :math:`\eta'/2`.

    Parameters
    ----------
    scales : array_like, shape (dim,)
        Finite, non-negative multipliers :math:`s_k`.
    """

    def __init__(self, scales):
        s = as_finite_array(scales, "scales", ndim=1)
        if np.any(s < 0):
            raise ValueError("scales must be >= 0: a negative per-parameter rate climbs the loss")
        self.scales = s

    def init(self, phi):
        if phi.shape[-1] != self.scales.shape[0]:
            raise ValueError(
                f"Diagonal preconditioner has {self.scales.shape[0]} scales "
                f"but the parameters have dim={phi.shape[-1]}"
            )
        return None

    def apply(self, state, g):
        return g * self.scales, state

    def __repr__(self) -> str:
        return f"Diagonal({self.scales!r})"


class RMSProp:
    r"""RMSProp (Tieleman & Hinton, 2012): divide by a running root mean square.

    .. math::
        v \leftarrow \beta v + (1-\beta)\,\hat g^2, \qquad
        d = \hat g / (\sqrt{v} + \epsilon),

    elementwise and per chain. Near a minimum, where the mean gradient
    vanishes, :math:`v \approx \sigma_k^2/B`, so the effective rate is
    :math:`\eta/\sigma_k` -- not the :math:`\eta/\sigma_k^2` that equalizes
    temperatures. Far from it :math:`v` estimates the *uncentered*
    :math:`g_k^2 + \sigma_k^2/B`.

    Parameters
    ----------
    beta : float in [0, 1)
        Decay of the running mean (Tieleman & Hinton use 0.9).
    eps : float >= 0
        Added to :math:`\sqrt v` to avoid division by zero.
    v0 : float or array_like (dim,), default 0
        Initial mean square (0, as in PyTorch and Keras).
    """

    def __init__(self, beta: float = 0.9, eps: float = 1e-8, v0=0.0):
        if not (np.isfinite(beta) and 0.0 <= beta < 1.0):
            raise ValueError(f"beta must be in [0, 1), got {beta!r}")
        if not (np.isfinite(eps) and eps >= 0.0):
            raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
        v0 = as_finite_array(v0, "v0", ndim=(0, 1))
        if np.any(v0 < 0):
            raise ValueError("v0 is a mean square and must be >= 0")
        self.beta, self.eps, self.v0 = float(beta), float(eps), v0

    def init(self, phi):
        return np.broadcast_to(self.v0, phi.shape).astype(float)

    def apply(self, v, g):
        v *= self.beta
        v += (1.0 - self.beta) * g * g
        return g / (np.sqrt(v) + self.eps), v

    def __repr__(self) -> str:
        return f"RMSProp(beta={self.beta:g}, eps={self.eps:g})"


class RunningVariance:
    r"""The inverse-variance rule without an oracle: divide by a *centred* running variance.

    .. math::
        m \leftarrow \beta m + (1-\beta)\,\hat g, \qquad
        v \leftarrow \beta v + (1-\beta)\,\hat g^2, \qquad
        d = \frac{\hat g}{s^2 + \epsilon}, \quad
        s^2 = \frac{v}{1-\beta^t} - \Bigl(\frac{m}{1-\beta^t}\Bigr)^2,

    elementwise and per chain, with :math:`m, v` from the *previous* steps (so the current
    sample does not shrink its own step) and the bias correction :math:`1-\beta^t` of Adam.
    The first ``warmup`` steps only fill the averages (:math:`d = 0`): a practitioner measures
    before stepping. Unlike :class:`RMSProp`, whose uncentred :math:`v` estimates
    :math:`g_k^2 + \sigma_k^2/B`, the centred :math:`s^2` tracks the minibatch variance
    :math:`\sigma_k^2/B` (plus a lag term while the mean gradient changes), so the effective
    rate approaches the inverse-variance rule :math:`\eta'B/\sigma_k^2` without being told
    :math:`\sigma_k^2`.

    Parameters
    ----------
    beta : float in [0, 1)
        Decay of both running means; a long memory (0.99) keeps :math:`1/s^2` from
        fluctuating wildly.
    eps : float >= 0
        Added to :math:`s^2` to avoid division by zero.
    warmup : int >= 1, optional
        Steps that only accumulate; default :math:`\lceil 1/(1-\beta)\rceil`.
    """

    def __init__(self, beta: float = 0.99, eps: float = 1e-8, warmup=None):
        if not (np.isfinite(beta) and 0.0 <= beta < 1.0):
            raise ValueError(f"beta must be in [0, 1), got {beta!r}")
        if not (np.isfinite(eps) and eps >= 0.0):
            raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
        w = int(np.ceil(round(1.0 / (1.0 - beta), 9))) if warmup is None else int(warmup)
        if w < 1:
            raise ValueError(f"warmup must be >= 1, got {warmup!r}")
        self.beta, self.eps, self.warmup = float(beta), float(eps), w

    def init(self, phi):
        z = np.zeros(phi.shape, dtype=float)
        return [z, z.copy(), 0]

    def apply(self, state, g):
        m, v, t = state
        if t < self.warmup:
            d = np.zeros_like(g)
        else:
            c = 1.0 - self.beta**t
            d = g / (v / c - (m / c) ** 2 + self.eps)
        m *= self.beta
        m += (1.0 - self.beta) * g
        v *= self.beta
        v += (1.0 - self.beta) * g * g
        state[2] = t + 1
        return d, state

    def __repr__(self) -> str:
        return f"RunningVariance(beta={self.beta:g}, eps={self.eps:g}, warmup={self.warmup})"


def as_preconditioner(pre):
    """Return ``pre`` as a preconditioner object (``None`` stays ``None``).

    An array is taken as :class:`Diagonal` scales.
    """
    if pre is None or (hasattr(pre, "init") and hasattr(pre, "apply")):
        return pre
    try:
        return Diagonal(pre)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "preconditioner must be None, an array of per-parameter scales, or an object "
            f"with init(phi) and apply(state, g) methods ({exc})"
        ) from None


class Dense:
    r"""A constant full-matrix preconditioner: :math:`d = P\,\hat g`.

    With :math:`P \propto \Sigma^{-1}` (the inverse gradient-noise covariance)
    the Langevin stationary law is Gibbs even when the noise is correlated,
    which no diagonal :math:`P` achieves.

    Parameters
    ----------
    matrix : array_like, shape (dim, dim)
        Symmetric positive definite :math:`P`.
    """

    def __init__(self, matrix):
        self.matrix = as_symmetric_psd(matrix, "matrix", definite=True)

    def init(self, phi):
        if phi.shape[-1] != self.matrix.shape[0]:
            raise ValueError(
                f"Dense preconditioner is {self.matrix.shape[0]}x{self.matrix.shape[0]} "
                f"but the parameters have dim={phi.shape[-1]}"
            )
        return None

    def apply(self, state, g):
        return g @ self.matrix, state  # P is symmetric: (P g)^T = g^T P

    def __repr__(self) -> str:
        return f"Dense(dim={self.matrix.shape[0]})"


class ChainRates:
    r"""Give every chain its own learning-rate multiplier: :math:`d_c = r_c\, d^{\rm inner}_c`.

    Running :func:`sgdsim.sgd` with ``lr=1`` and this preconditioner is the same
    as running one SGD per chain with rate :math:`r_c` (and the inner
    preconditioner, whose state stays per chain), in a single vectorized call:
    this is how :func:`rate_sweep` tries a grid of rates at once.

    Parameters
    ----------
    rates : array_like, shape (chains,)
        Finite, non-negative per-chain rates.
    inner : None, array_like (dim,), or preconditioner
        Applied first (e.g. :class:`sgdsim.RMSProp`).
    """

    def __init__(self, rates, inner=None):
        r = as_finite_array(rates, "rates", ndim=1)
        if np.any(r < 0):
            raise ValueError("rates must be >= 0: a negative rate climbs the loss")
        self.rates = r
        self.inner = as_preconditioner(inner)

    def init(self, phi):
        if phi.shape[0] != self.rates.shape[0]:
            raise ValueError(
                f"ChainRates has {self.rates.shape[0]} rates but there are {phi.shape[0]} chains"
            )
        return None if self.inner is None else self.inner.init(phi)

    def apply(self, state, g):
        if self.inner is not None:
            g, state = self.inner.apply(state, g)
        return g * self.rates[:, None], state

    def __repr__(self) -> str:
        return f"ChainRates({self.rates.shape[0]} chains, inner={self.inner!r})"

