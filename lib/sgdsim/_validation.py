"""Input validation shared by :mod:`sgdsim`: bad input raises an error that says what is wrong
and what to do, instead of producing a silent NaN curve.
"""

from __future__ import annotations

import numbers

import numpy as np

def as_generator(rng) -> np.random.Generator:
    """A Generator for ``rng``: a Generator (used as is), an integer seed or a SeedSequence.

    ``None`` is refused: every random draw in this project must be reproducible.
    """
    if rng is None:
        raise TypeError(
            "rng is required: pass rng=np.random.default_rng(SEED) (or an integer seed) "
            "so that the run is reproducible"
        )
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (numbers.Integral, np.random.SeedSequence)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be a numpy.random.Generator or an integer seed, not {type(rng).__name__}"
    )


def as_increasing_grid(value, name: str, *, min_size: int, unit: str = "points") -> np.ndarray:
    """``value`` as a finite, strictly increasing 1-D array of >= ``min_size`` entries."""
    grid = as_finite_array(value, name, ndim=1)
    if grid.size < min_size or np.any(np.diff(grid) <= 0):
        raise ValueError(f"{name} must be increasing with at least {min_size} {unit}")
    return grid


def as_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``."""
    if type(value) is int and value >= minimum:  # fast path: called once per SGD step
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_finite_array(value, name: str, *, ndim=None, shape=None, allow_empty: bool = False):
    """``value`` as a finite float array of rank ``ndim`` and ``shape`` (``None``: any length)."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric array-like: {exc}") from None
    if ndim is not None:
        ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in ndims:
            want = " or ".join(str(n) for n in ndims)
            raise ValueError(f"{name} must have {want} dimension(s), got shape {arr.shape}")
    if shape is not None and (arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape))):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty: it needs at least one entry")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; pass finite numbers")
    return arr


def as_rates(lr, steps: int) -> np.ndarray:
    """One finite rate >= 0 per step from a constant, an array (steps,) or a schedule.

    A schedule ``lr(k)`` is called once with ``k = arange(steps)``.
    """
    rates = np.asarray(lr(np.arange(steps)) if callable(lr) else lr, dtype=float)
    if rates.ndim == 0:
        rates = np.full(steps, float(rates))
    what = "the learning-rate schedule" if callable(lr) else "lr"
    if rates.shape != (steps,):
        raise ValueError(
            f"{what} must give one rate per step: expected shape ({steps},), got {rates.shape}"
        )
    if not np.all(np.isfinite(rates)):
        raise ValueError(f"{what} contains NaN or infinite rates; a learning rate must be finite")
    if np.any(rates < 0):
        bad = rates[rates < 0][0]
        raise ValueError(
            f"{what} contains a negative rate ({bad:g}); a learning rate must be >= 0 "
            "(a negative rate climbs the loss)"
        )
    return rates


def as_chains(phi0, dim: int, chains=None) -> np.ndarray:
    """A fresh ``(chains, dim)`` copy of ``phi0`` (``(dim,)``, repeated; or ``(chains, dim)``)."""
    phi0 = as_finite_array(phi0, "phi0", ndim=(1, 2))
    if phi0.shape[-1] != dim:
        raise ValueError(
            f"phi0 has {phi0.shape[-1]} coordinate(s) but the problem has dim={dim}; "
            f"pass an array of shape ({dim},) or (chains, {dim})"
        )
    if phi0.ndim == 1:
        n = 1 if chains is None else as_positive_int(chains, "chains")
        return np.repeat(phi0[None, :], n, axis=0)
    if chains is not None and as_positive_int(chains, "chains") != phi0.shape[0]:
        raise ValueError(
            f"chains={chains} disagrees with phi0 of shape {phi0.shape}; "
            "omit chains or pass phi0 of shape (dim,)"
        )
    return phi0.copy()


def as_symmetric_psd(matrix, name: str, *, dim=None, definite: bool = False) -> np.ndarray:
    """A symmetric positive semi-definite (or ``definite``) matrix, checked; a number is 1x1."""
    m = as_finite_array(np.atleast_2d(matrix), name, ndim=2)
    if m.shape[0] != m.shape[1]:
        raise ValueError(f"{name} must be square, got shape {m.shape}")
    if dim is not None and m.shape[0] != dim:
        raise ValueError(f"{name} must be {dim}x{dim}, got {m.shape}")
    scale = max(1.0, float(np.max(np.abs(m))))
    if not np.allclose(m, m.T, rtol=0, atol=1e-12 * scale):
        raise ValueError(f"{name} must be symmetric; pass (M + M.T) / 2 if that is what you mean")
    m = 0.5 * (m + m.T)
    eig = np.linalg.eigvalsh(m)
    tol = 1e-12 * scale * m.shape[0]
    if eig[0] < -tol:
        raise ValueError(
            f"{name} must be positive semi-definite; its smallest eigenvalue is {eig[0]:.3g}"
        )
    if definite and eig[0] <= tol:
        raise ValueError(
            f"{name} must be positive definite; its smallest eigenvalue is {eig[0]:.3g}"
        )
    return m


def as_nonnegative(value, name: str) -> np.ndarray:
    """``value`` as a float array of finite entries >= 0."""
    arr = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return arr


def as_rate(lr, name: str = "lr", *, positive: bool = True, below: float | None = None,
            why: str = "") -> float:
    """One number (a rate, time step, temperature...): finite, > 0 (>= 0 if not ``positive``),
    below ``below``.

    ``why`` says what the limit ``below`` is.
    """
    try:
        eta = float(np.asarray(lr, dtype=float).reshape(()))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be one number, got {lr!r}") from None
    if not np.isfinite(eta):
        raise ValueError(f"{name} must be finite (not NaN or infinite), got {lr!r}")
    if positive and not eta > 0:
        raise ValueError(f"{name} must be > 0, got {lr!r}")
    if not positive and eta < 0:
        raise ValueError(f"{name} must be >= 0, got {lr!r} (a negative rate climbs the loss)")
    if below is not None and not eta < below:
        raise ValueError(f"{name}={lr!r} must be below {below:.4g}" + (f" ({why})" if why else ""))
    return eta


def sym_sqrt(matrix) -> np.ndarray:
    r""":math:`M^{1/2} = V\operatorname{diag}(\sqrt w)V^\top` of symmetric PSD
    :math:`M = V\operatorname{diag}(w)V^\top` (or a stack); round-off negatives clipped to 0."""
    w, v = np.linalg.eigh(np.asarray(matrix, dtype=float))
    return np.einsum("...ik,...k,...jk->...ij", v, np.sqrt(np.clip(w, 0.0, None)), v)
