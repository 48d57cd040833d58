# Two commands on a fresh machine:  `make book`  and  `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NB     := $(wildcard chapters/*.ipynb)

.PHONY: venv book test outputs lab clean bench

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

## Build the website into _build/html (warnings are errors; notebooks are executed).
book: venv
	$(VENV)/bin/jupyter-book build . --builder html -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

## Unit tests of sgdsim and every chapter notebook under strict nbval.
test: venv
	$(VENV)/bin/pytest

## Re-execute every notebook in place to refresh the stored outputs.
outputs: venv
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=300 $(NB)

## Open the notebooks in JupyterLab (widgets work there).
lab: venv
	$(VENV)/bin/jupyter lab chapters/

## Benchmarks against the performance targets (never part of the tests); writes
## benchmarks/results.md (shown in the book) and results.json. Options:
## make bench BENCH_ARGS="--quick"   (see .venv/bin/python benchmarks/bench.py --help)
bench: venv
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf _build
