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

# Chapter 2 (SGD convergence)
from . import convergence
from .checks import OneSidedClaim, check_positive
from .convergence import (
    DropRun,
    block_update_law,
    block_updates,
    converged_loss,
    stationary_excess_loss,
    sup_distance,
    train_with_drops,
)

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
    # Chapter 2 (SGD convergence)
    "convergence", "check_positive", "OneSidedClaim", "sup_distance", "block_updates",
    "block_update_law", "stationary_excess_loss", "converged_loss", "train_with_drops", "DropRun",
]
