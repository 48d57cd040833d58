# Two commands on a fresh machine:  `make book`  and  `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NB     := $(wildcard chapters/*.ipynb)

# Strict nbval under the CPU dispatch of two other machines (the stored outputs must not depend
# on the CPU): an AVX2 machine, and an old x86-64-v2 one (OpenBLAS Prescott kernels, no AVX).
DISPATCH_AVX2 := OPENBLAS_CORETYPE=Haswell NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"
DISPATCH_V2   := OPENBLAS_CORETYPE=Prescott NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR"

# Builds execute notebooks without creating widgets (no comm, so nbclient cannot stall on one):
# each explorer cell then shows a kernel-free player of precomputed frames (or a note, which
# the site turns into a launch link); `make bench` times what a reader runs, without players.
STATIC := SGDSIM_STATIC_BUILD=1

.PHONY: venv site-assets book test test-dispatch test-browser test-lab check-binder outputs lab clean bench

# Front-end files the website serves itself (no CDN): MathJax 3 from the npm registry, pinned
# in tools/site-assets/package-lock.json, installed into the gitignored node_modules there.
MATHJAX := tools/site-assets/node_modules/mathjax/es5/tex-mml-chtml.js

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

site-assets: $(MATHJAX)

$(MATHJAX): tools/site-assets/package.json tools/site-assets/package-lock.json
	@command -v npm >/dev/null || { echo "make site-assets needs npm (Debian: apt-get install npm)" >&2; exit 1; }
	npm ci --prefix tools/site-assets --no-audit --no-fund --loglevel=error
	touch $@

## Build the website into _build/html (warnings are errors; notebooks are executed).
book: venv site-assets
	$(STATIC) $(VENV)/bin/jupyter-book build . --builder html -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

## Unit tests of sgdsim and every chapter notebook under strict nbval.
test: venv
	$(VENV)/bin/pytest

## The notebooks under strict nbval again, as an AVX2 machine and an old x86-64-v2 machine
## would run them (numpy's SIMD dispatch and OpenBLAS's kernels both changed).
test-dispatch: venv
	$(DISPATCH_AVX2) $(VENV)/bin/pytest chapters
	$(DISPATCH_V2) $(VENV)/bin/pytest chapters

## Drive headless Chromium over the built site (run `make book` first; needs Debian's
## chromium + chromium-driver). Screenshots go to _build/screenshots/.
test-browser: venv
	@test -f _build/html/index.html || { echo "no site in _build/html: run make book first" >&2; exit 1; }
	$(VENV)/bin/pytest -m browser tests/browser

## Every chapter in JupyterLab, as a student on Binder runs it: a JupyterLab server from the venv
## on 127.0.0.1 (serving a temporary copy of chapters/), headless Chromium clicks Run All Cells;
## no cell may fail, every explorer's widgets must render, and a mouse drag on every slider must
## move it to an intermediate value and redraw the picture (needs chromium + chromium-driver).
test-lab: venv
	$(VENV)/bin/pytest -m lab tests/browser

## Binder: print the Dockerfile that repo2docker would build (no Docker needed) into
## _build/binder/ and check that it installs requirements.txt and sgdsim. repo2docker runs from
## a throwaway venv: it is not a dependency of the book.
check-binder:
	@mkdir -p _build/binder
	@tmp=$$(mktemp -d); status=0; \
	  python3 -m venv $$tmp/venv && \
	  $$tmp/venv/bin/pip install --quiet -r tools/repo2docker-requirements.txt > $$tmp/pip.log 2>&1 || \
	    { cat $$tmp/pip.log; status=1; }; \
	  if [ $$status -eq 0 ]; then \
	    $$tmp/venv/bin/jupyter-repo2docker --no-build --debug . \
	      > _build/binder/Dockerfile 2> _build/binder/repo2docker.log || \
	      { cat _build/binder/repo2docker.log; status=1; }; \
	  fi; \
	  rm -rf $$tmp; exit $$status
	python3 tools/check_binder.py _build/binder/Dockerfile _build/binder/repo2docker.log

## Re-execute every notebook in place to refresh the stored outputs.
outputs: venv
	$(STATIC) $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=60 $(NB)

## Open the notebooks in JupyterLab (widgets work there); trusted, so that stored JavaScript
## outputs (the explorers' precomputed players) render on open, as postBuild does on Binder.
lab: venv
	$(VENV)/bin/jupyter trust chapters/*.ipynb
	$(VENV)/bin/jupyter lab chapters/

## Benchmarks against the performance targets (never part of the tests); writes
## benchmarks/results.md (shown in the book) and results.json. Options:
## make bench BENCH_ARGS="--quick"   (see .venv/bin/python benchmarks/bench.py --help)
bench: venv
	SGDSIM_STATIC_BUILD=note $(PY) benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf _build
