"""The chapter's fit of L(eta) near 0: its truncation bias is small for the rates it uses.

The notebook fits c0 + c1 eta + c2 eta^2 to the converged loss at eta <= 0.1 and tests c1
against tr(Sigma)/4. A fit that stops at eta^2 is biased by the higher terms of L(eta); applied
to the exact law with the notebook's weights (standard errors ~ 0.0065 eta, as measured with
400 chains), the bias must stay below half a standard error, so that the 4-sigma claim means
what it says. (Fitting up to eta = 0.2 would not pass: the check has teeth.)
"""

import numpy as np

import sgdsim
from sgdsim.book import sgd_convergence as convergence

RATES = np.array([0.005, 0.01, 0.02, 0.035, 0.05, 0.07, 0.1])


def _bias_in_se(rates):
    q = convergence.quadratic_problem()
    H, S = q.H, q.noise_cov()
    exact = q.minimum_loss() + sgdsim.stationary_excess_loss(H, S, rates)
    se = 0.0065 * rates
    fit = sgdsim.weighted_fit(rates, exact, se, powers=(0, 1, 2))
    truth = np.array([q.minimum_loss(), np.trace(S) / 4])
    return (fit.coef[:2] - truth) / fit.stderr[:2]


def test_truncation_bias_of_the_chapter_fit_is_below_half_a_standard_error():
    assert np.all(np.abs(_bias_in_se(RATES)) < 0.5)


def test_the_bias_check_can_fail():
    wider = np.array([0.05, 0.1, 0.2, 0.4, 0.7])
    assert np.max(np.abs(_bias_in_se(wider))) > 0.5


def test_tr_sigma_over_4_is_the_derivative_of_the_exact_law_at_zero():
    q = convergence.quadratic_problem()
    eta = 1e-7
    d = sgdsim.stationary_excess_loss(q.H, q.noise_cov(), eta) / eta
    assert abs(d - np.trace(q.noise_cov()) / 4) < 1e-6
