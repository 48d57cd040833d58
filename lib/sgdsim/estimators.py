r"""Estimators with honest error bars.

SGD samples are autocorrelated, so a naive standard error ``std / sqrt(n)`` over all
recorded steps is too small. The estimators here take their errors from the spread of
*independent* chains (samples shaped ``(records, chains)``), valid whatever the
autocorrelation; the fits propagate those errors into confidence intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_finite_array, as_positive_int

__all__ = [
    "Estimate",
    "MatrixEstimate",
    "Cumulants",
    "cumulants",
    "ratio_of_means",
    "virial_matrix",
    "EnsembleGap",
    "compare_ensembles",
    "Fit",
    "chain_mean",
    "autocorr_time",
    "weighted_fit",
    "loglog_slope",
]


def _binary(f):
    """``f(self, b, sb)`` as an operator on a number or an :class:`Estimate` ``b ± sb``."""

    def op(self, other):
        if isinstance(other, Estimate):
            return f(self, other.value, other.stderr)
        if isinstance(other, (int, float, np.floating, np.integer)):
            return f(self, float(other), 0.0)
        return NotImplemented
    return op


@dataclass(frozen=True)
class Estimate:
    r"""A value with its standard error, and first-order error propagation.

    Arithmetic with numbers and *independent* estimates follows the delta method:
    :math:`a \pm b` has error :math:`\sqrt{s_a^2 + s_b^2}`, :math:`ab` and :math:`a/b` relative
    error :math:`\sqrt{(s_a/a)^2 + (s_b/b)^2}`, :math:`a^p` relative error :math:`|p|\,s_a/|a|`.
    For correlated quantities estimate the combination per chain instead.
    """

    value: float
    stderr: float

    @_binary
    def __add__(self, b, sb):
        return Estimate(self.value + b, float(np.hypot(self.stderr, sb)))

    __radd__ = __add__

    def __neg__(self):
        return Estimate(-self.value, self.stderr)

    @_binary
    def __sub__(self, b, sb):
        return Estimate(self.value - b, float(np.hypot(self.stderr, sb)))

    def __rsub__(self, other):
        return (-self).__add__(other)

    @_binary
    def __mul__(self, b, sb):  # d(ab) = b da + a db
        return Estimate(self.value * b, float(np.hypot(b * self.stderr, self.value * sb)))

    __rmul__ = __mul__

    @_binary
    def __truediv__(self, b, sb):  # d(a/b) = da / b - a db / b^2
        if b == 0:
            raise ZeroDivisionError("Estimate divided by zero")
        return Estimate(self.value / b, float(np.hypot(self.stderr / b, self.value * sb / b**2)))

    @_binary
    def __rtruediv__(self, a, sa):
        return Estimate(a, sa) / self

    def __pow__(self, p):
        if not isinstance(p, (int, float, np.integer, np.floating)):
            return NotImplemented
        if self.value == 0 and p < 1:
            raise ZeroDivisionError("the error of 0 ** p with p < 1 is undefined")
        v = self.value ** p
        return Estimate(float(v), float(abs(p * self.value ** (p - 1)) * self.stderr))

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """Normal-approximation confidence interval."""
        from scipy.stats import norm

        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        z = float(norm.ppf(0.5 + level / 2))
        return (self.value - z * self.stderr, self.value + z * self.stderr)

    def __iter__(self):  # allows ``value, err = estimate``
        return iter((self.value, self.stderr))

    def __format__(self, spec):
        spec = spec or ".4g"
        return f"{self.value:{spec}} ± {self.stderr:{spec}}"


def chain_mean(samples) -> Estimate:
    r"""Mean over time and chains :math:`\frac1C\sum_c \bar x_c`, standard error
    :math:`s(\bar x_c)/\sqrt C`; ``samples`` (records, chains) or (chains,), burn-in dropped."""
    x = as_finite_array(samples, "samples", ndim=(1, 2))
    per_chain = x if x.ndim == 1 else x.mean(axis=0)
    c = per_chain.size
    if c < 2:
        raise ValueError("chain_mean needs at least 2 independent chains for a standard error")
    return Estimate(float(per_chain.mean()), float(per_chain.std(ddof=1) / np.sqrt(c)))


def autocorr_time(series, c: float = 5.0) -> float:
    r"""Integrated autocorrelation time :math:`\tau = 1 + 2\sum_{t\ge1}\rho(t)`.

    FFT autocorrelation (averaged over the chains of a (n, chains) ``series``), cut by Sokal's
    window at the smallest :math:`M \ge c\,\tau(M)`. AR(1): :math:`\tau = (1+a)/(1-a)`.
    """
    x = as_finite_array(series, "series", ndim=(1, 2))
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    if n < 4:
        raise ValueError("autocorr_time needs a series of at least 4 points")
    d = x - x.mean(axis=0)
    f = np.fft.rfft(d, n=2 * n, axis=0)
    acf = np.fft.irfft(f * np.conj(f), axis=0)[:n].mean(axis=1)
    if acf[0] <= 0:
        raise ValueError("the series is constant: its autocorrelation time is undefined")
    rho = acf / acf[0]
    taus = 2.0 * np.cumsum(rho) - 1.0
    window = np.arange(n) >= c * taus
    m = int(np.argmax(window)) if window.any() else n - 1
    return float(taus[m])


@dataclass(frozen=True)
class Fit:
    """Result of a weighted least-squares fit."""

    coef: np.ndarray  #: coefficients, lowest power first
    cov: np.ndarray  #: their covariance
    chi2: float  #: weighted residual sum of squares
    dof: int  #: degrees of freedom

    @property
    def stderr(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def estimate(self, i: int) -> Estimate:
        """Coefficient ``i`` as an :class:`Estimate`."""
        return Estimate(float(self.coef[i]), float(self.stderr[i]))

    @property
    def p_value(self) -> float:
        """Probability of a chi-square at least this large if the model is right."""
        from scipy.stats import chi2

        return float(chi2.sf(self.chi2, self.dof)) if self.dof > 0 else float("nan")


def weighted_fit(x, y, yerr, powers=(0, 1)) -> Fit:
    r"""Weighted least squares :math:`y \approx \sum_p c_p x^p` with known errors.

    Minimizes :math:`\sum_j (y_j - \sum_p c_p x_j^p)^2 / \sigma_j^2`; the coefficients'
    covariance is :math:`(A^\top W A)^{-1}`, exact when ``yerr`` are the true standard errors
    of independent ``y``. ``powers=(1,)`` fits a line through the origin.
    """
    x = as_finite_array(x, "x", ndim=1)
    y = as_finite_array(y, "y", shape=(x.size,))
    s = as_finite_array(yerr, "yerr", shape=(x.size,))
    if np.any(s <= 0):
        raise ValueError("yerr must be > 0")
    powers = tuple(int(p) for p in powers)
    if x.size < len(powers):
        raise ValueError(f"{len(powers)} coefficients need at least {len(powers)} points")
    a = x[:, None] ** np.asarray(powers)[None, :] / s[:, None]
    b = y / s
    cov = np.linalg.inv(a.T @ a)
    coef = cov @ a.T @ b
    chi2 = float(np.sum((a @ coef - b) ** 2))
    return Fit(coef=coef, cov=cov, chi2=chi2, dof=x.size - len(powers))


def loglog_slope(x, y) -> Fit:
    r"""Least-squares line through :math:`(\log x, \log y)`: ``coef[1]`` is :math:`p` in
    :math:`y \approx C x^p`, its error from the residual scatter (``dof`` = n - 2)."""
    x = as_finite_array(x, "x", ndim=1)
    y = as_finite_array(y, "y", shape=(x.size,))
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("loglog_slope needs x > 0 and y > 0")
    if x.size < 3:
        raise ValueError("loglog_slope needs at least 3 points for a slope with an error")
    lx, ly = np.log(x), np.log(y)
    a = np.c_[np.ones_like(lx), lx]
    coef, res, *_ = np.linalg.lstsq(a, ly, rcond=None)
    dof = x.size - 2
    resid = ly - a @ coef
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.inv(a.T @ a)
    return Fit(coef=coef, cov=cov, chi2=float(resid @ resid), dof=dof)


@dataclass(frozen=True)
class Cumulants:
    """Variance, skewness and excess kurtosis of a sample, each with a standard error."""

    variance: Estimate
    skewness: Estimate
    excess_kurtosis: Estimate


def cumulants(x, groups: int = 20) -> Cumulants:
    r"""Variance, skewness :math:`\kappa_3/\kappa_2^{3/2}` and excess kurtosis
    :math:`\kappa_4/\kappa_2^2` of i.i.d. draws ``x``, with standard errors.

    Fisher's k-statistics averaged over ``groups`` equal groups (>= 8 draws each), with the
    groups' spread as error; the ratios carry a bias of order 1/(group size).
    """
    x = as_finite_array(x, "x", ndim=1)
    k = as_positive_int(groups, "groups", minimum=2)
    size = x.size // k
    if size < 8:
        raise ValueError(f"cumulants needs at least 8 draws per group; got {x.size} for {k} "
                         "groups")
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


@dataclass(frozen=True)
class EnsembleGap:
    """Differences between two independent ensembles of chains, with standard errors."""

    mean_diff: tuple  #: per coordinate, ``Estimate`` of mean(a) - mean(b)
    spread_ratio: Estimate  #: tr Cov(a) / tr Cov(b)


def compare_ensembles(a, b) -> EnsembleGap:
    r"""Compare the mean and the spread of independent draws ``a`` (n_a, dim), ``b`` (n_b, dim).

    ``mean_diff[j]`` estimates :math:`E a_j - E b_j` (error
    :math:`\sqrt{s_{a,j}^2/n_a + s_{b,j}^2/n_b}`); ``spread_ratio``
    :math:`\operatorname{tr}\operatorname{Cov} a / \operatorname{tr}\operatorname{Cov} b`, with a
    delta-method error from the spread of :math:`\|a - \bar a\|^2`.
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


@dataclass(frozen=True)
class MatrixEstimate:
    """A matrix of values with their standard errors; ``m[i, j]`` is an :class:`Estimate`."""

    value: np.ndarray
    stderr: np.ndarray

    def __getitem__(self, idx) -> Estimate:
        return Estimate(float(self.value[idx]), float(self.stderr[idx]))

    @property
    def diagonal(self) -> list[Estimate]:
        return [self[i, i] for i in range(self.value.shape[0])]


def virial_matrix(problem, phi, center=None) -> MatrixEstimate:
    r"""Estimate :math:`V_{ij} = E[(\Phi-c)_i\, g_j(\Phi)]` from stationary samples.

    A Gibbs law :math:`e^{-\mathcal L/T}` has :math:`V = T\,I` for any loss and centre
    :math:`c` (default :math:`\Phi^*`); a product law of a separable loss has
    :math:`V = \mathrm{diag}(T_k)`; on a quadratic :math:`V = CH`. ``phi`` (records, chains,
    dim); errors from the spread of the chains' time averages.
    """
    phi = as_finite_array(phi, "phi", ndim=3)
    c = problem.minimizer() if center is None else as_finite_array(
        center, "center", shape=(phi.shape[-1],))
    d = phi - c
    g = problem.grad(phi)
    per_chain = np.einsum("rci,rcj->cij", d, g) / phi.shape[0]
    n = per_chain.shape[0]
    if n < 2:
        raise ValueError("virial_matrix needs at least 2 independent chains for standard errors")
    return MatrixEstimate(per_chain.mean(axis=0), per_chain.std(axis=0, ddof=1) / np.sqrt(n))


def ratio_of_means(numerator, denominator) -> Estimate:
    r"""Estimate :math:`E[a]/E[b]` from paired samples, with a delta-method standard error.

    From the chains' time averages: :math:`R = \bar a/\bar b`,
    :math:`\mathrm{se}(R) = s(\bar a_c - R\,\bar b_c) / (\sqrt C\,|\bar b|)`."""
    a = as_finite_array(numerator, "numerator", ndim=(1, 2))
    b = as_finite_array(denominator, "denominator", shape=a.shape)
    if a.ndim == 2:
        a, b = a.mean(axis=0), b.mean(axis=0)
    if a.size < 2:
        raise ValueError("ratio_of_means needs at least 2 independent chains")
    mb = b.mean()
    if mb == 0:
        raise ValueError("the denominator's mean is 0: the ratio is undefined")
    r = a.mean() / mb
    return Estimate(float(r), float((a - r * b).std(ddof=1) / (np.sqrt(a.size) * abs(mb))))

