"""Browser tests of the built website (pytest -m browser; see test_website.py)."""
