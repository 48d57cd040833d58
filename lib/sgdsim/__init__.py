"""sgdsim: small, vectorized simulators of SGD, gradient flow and Langevin dynamics.

The shared engine of the course companion to TTIC 31230's lecture "Stochastic
Gradient Descent: Gradient Flow and Langevin Dynamics". Parameters are arrays
shaped ``(chains, dim)``; every random function takes ``rng=`` (a seeded
``numpy.random.Generator`` or an integer seed).
"""

from . import datasets, estimators, plotting, schedules, stationary
from .checks import Claim, ClaimFailed, check, evaluate
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

__version__ = "0.1.0"

__all__ = [
    "check", "evaluate", "Claim", "ClaimFailed",
    "Problem", "Quadratic", "LinearRegression", "LogisticRegression", "NoisyPotential",
    "double_well",
    "gradient_flow", "gradient_descent", "sgd", "langevin", "Trajectory", "DivergenceError",
    "Diagonal", "RMSProp",
    "Estimate", "chain_mean", "batch_means", "autocorr_time", "weighted_fit", "loglog_slope",
    "temperature", "gibbs_density", "sgd_stationary_cov", "langevin_stationary_cov",
    "datasets", "estimators", "plotting", "schedules", "stationary",
]

# Chapter 3 (the TZ theorem): the second-order model, its exact SGD laws, the slope estimators.
from . import tz  # noqa: E402
from .tz import SecondOrderModel, example_hessians, headline_slope, second_order_model  # noqa: E402

__all__ += ["tz", "SecondOrderModel", "example_hessians", "second_order_model", "headline_slope"]
