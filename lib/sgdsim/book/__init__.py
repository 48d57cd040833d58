"""The book layer: each chapter's machinery and scenes, and the claims ledger.

``sgdsim``'s core (problems, simulation, exact laws, Gibbs laws, estimators, claims) never
imports this package (``tests/test_layers.py`` enforces it); the chapters, their explorers
(:mod:`sgdsim.widgets`) and ``make bench`` do. One module per chapter:

* :mod:`~sgdsim.book.gradient_flow` -- gradient descent as Euler's method;
* :mod:`~sgdsim.book.sgd_convergence` -- SGD against the flow, learning-rate drops;
* :mod:`~sgdsim.book.tz_theorem` -- the second-order model and the slope of the excess loss;
* :mod:`~sgdsim.book.langevin` -- from SGD steps to the SDE;
* :mod:`~sgdsim.book.rmsprop` -- per-parameter rates, the benchmark;
* :mod:`~sgdsim.book.ledger` -- every claim of the book, read from the stored outputs.
"""
