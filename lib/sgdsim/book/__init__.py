"""The book layer: one module per chapter (its machinery and scenes, shared by the chapter,
its explorer in :mod:`sgdsim.widgets` and ``make bench``) and :mod:`~sgdsim.book.ledger`,
which reads every claim of the book from the stored outputs. The core of ``sgdsim`` never
imports this package (``tests/test_layers.py``).
"""
