"""sgdsim: small, vectorized simulators of SGD, gradient flow and Langevin dynamics.

The shared engine of the course companion to TTIC 31230's lecture "Stochastic
Gradient Descent: Gradient Flow and Langevin Dynamics". Parameters are arrays
shaped ``(chains, dim)``; every random function takes ``rng=`` (a seeded
``numpy.random.Generator`` or an integer seed).
"""

from . import datasets, estimators, plotting, schedules, stationary
from .checks import Claim, ClaimFailed, check, evaluate, refute
from .dynamics import (
    DivergenceError,
    Trajectory,
    gradient_descent,
    gradient_flow,
    langevin,
    sgd,
)
from .estimators import Estimate, autocorr_time, batch_means, chain_mean, loglog_slope, weighted_fit
from .preconditioners import Diagonal, RMSProp
from .problems import (
    LinearRegression,
    LogisticRegression,
    NoisyPotential,
    Problem,
    Quadratic,
    double_well,
)
from .stationary import gibbs_density, langevin_stationary_cov, sgd_stationary_cov, temperature

from . import ledger  # noqa: E402  (the claims ledger page)
# Chapter 5 (RMSProp): per-parameter rates, exact preconditioned laws, temperatures.
from . import adaptive  # noqa: E402
from .adaptive import (  # noqa: E402
    ChainRates,
    Dense,
    compare,
    expected_excess_loss,
    preconditioned_langevin_stationary_cov,
    preconditioned_sgd_stationary_cov,
    rate_sweep,
    ratio_of_means,
    rmsprop_mean_square,
    rmsprop_temperature,
    rmsprop_temperature_factor,
    virial_matrix,
)

__version__ = "0.1.0"

__all__ = [
    "check", "evaluate", "refute", "Claim", "ClaimFailed",
    "Problem", "Quadratic", "LinearRegression", "LogisticRegression", "NoisyPotential",
    "double_well",
    "gradient_flow", "gradient_descent", "sgd", "langevin", "Trajectory", "DivergenceError",
    "Diagonal", "RMSProp",
    "Estimate", "chain_mean", "batch_means", "autocorr_time", "weighted_fit", "loglog_slope",
    "temperature", "gibbs_density", "sgd_stationary_cov", "langevin_stationary_cov",
    "datasets", "estimators", "plotting", "schedules", "stationary",
    "ledger",
]

# Chapter 1 (gradient flow): gradient descent as Euler's method.
from . import euler  # noqa: E402
from .euler import compare_with_flow, euler_error_function, euler_global_errors  # noqa: E402

__all__ += ["euler", "compare_with_flow", "euler_global_errors", "euler_error_function"]
__all__ += [
    "adaptive", "Dense", "ChainRates", "preconditioned_sgd_stationary_cov",
    "preconditioned_langevin_stationary_cov", "expected_excess_loss", "virial_matrix",
    "ratio_of_means", "rmsprop_temperature_factor", "rmsprop_temperature",
    "rmsprop_mean_square", "rate_sweep", "compare",
]
# Chapter 5 review: empirical orderings reported as observations (not asserted).
from .adaptive import observe  # noqa: E402

__all__ += ["observe"]
