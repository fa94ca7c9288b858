# The two commands of the README: `make book` and `make test`.
# Both set themselves up on a fresh clone: they create .venv from the pinned
# requirements.lock and install the qda package (editable) into it.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
# Bytecode caches (git-ignored __pycache__) are written even where the environment says not
# to (PYTHONDONTWRITEBYTECODE): otherwise each of the hundreds of Python processes a
# `make test` starts (kernels, commands, pytest workers) compiles the package and re-rewrites
# the test modules' asserts from source.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NBVAL_DIR := _build/nbval
CHAPTERS := $(wildcard chapters/*.md chapters/project/*.md)
# Jupyter Book's execution cache is keyed on code cells only (jupyter-book #1633):
# key it also on the package, the data, tools/ (the build and the demo project), the lock file
# and the configuration. (A build on
# QDA_PROJECT uses tools/project_book.py, which executes every chapter afresh.)
INPUTS_HASH = $(shell { cat requirements.lock _config.yml; find src data tools -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 cat; } | sha256sum | cut -c1-16)

.PHONY: book test install lint nbval html unit browser bench clean data project-check deidentify-gate fmt interop interop-envs tool-checks browser-check

install: $(STAMP)

# The lock is installed with uv where it can be had (a `uv` on PATH, or uv from PyPI at the
# version the lock pins, installed into the venv by pip), with pip otherwise: the same pins
# either way. QDA_NO_UV=1 forces pip.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	UV=""
	if [ -z "$${QDA_NO_UV:-}" ]; then
	  if command -v uv >/dev/null 2>&1; then UV="uv"
	  elif $(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep -E '^uv==' requirements.lock)"; then
	    UV="$(BIN)/python -m uv"
	  fi
	fi
	if [ -n "$$UV" ]; then
	  echo "installing requirements.lock with uv"
	  # --compile-bytecode: the .pyc files pip writes by default (uv does not), so that no process
	  # compiles the libraries from source again
	  $$UV pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	  $$UV pip install --quiet --python $(BIN)/python --no-deps -e .
	else
	  echo "installing requirements.lock with pip"
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	fi
	touch $(STAMP)

## make book: execute every chapter (cached) and build the HTML book.
## With QDA_PROJECT: check its mapping, then its identifying data, then build its pages.
book: install project-check deidentify-gate
	if [ -n "$(QDA_PROJECT)" ]; then
	  $(BIN)/python tools/project_book.py "$(QDA_PROJECT)"
	else
	  $(MAKE) --no-print-directory html
	  echo "Book built: open file://$(CURDIR)/_build/html/index.html"
	fi

# Check the project's qda-project.yml before any chapter runs (one line per problem, exit 2).
project-check: install
	if [ -n "$(QDA_PROJECT)" ]; then $(BIN)/python -m qda check-project "$(QDA_PROJECT)"; fi

# Refuse to publish a real project (QDA_PROJECT) whose identifying-data findings
# have not been marked as reviewed (see chapters/rerun-your-project.md).
deidentify-gate: install project-check
	if [ -n "$(QDA_PROJECT)" ]; then $(BIN)/python -m qda deidentify-check --gate "$(QDA_PROJECT)"; fi

html: install
	mkdir -p _build
	if [ "$$(cat _build/.inputs-hash 2>/dev/null)" != "$(INPUTS_HASH)" ]; then
	  # new inputs: drop the execution cache and Sphinx's saved environment, so that every
	  # chapter is read and executed again (Sphinx alone re-reads only edited chapters)
	  rm -rf _build/.jupyter_cache _build/.doctrees _build/jupyter_execute
	  echo "$(INPUTS_HASH)" > _build/.inputs-hash
	fi
	# Jupyter Book's build (-W -n --keep-going) with one job per core: chapters execute in parallel
	$(BIN)/python tools/build_book.py .

## make test, at once: lint, the unit tests, the checks that build their own books or
## drive other tools (project books, qc, Taguette), and the HTML build (which executes every
## chapter, once) followed by the browser check of the built book.
# Each chapter is executed once, by the build: a raising cell or a failing hidden assert
# fails it (nb_execution_raise_on_error, -W; tests/test_chapter_failure.py), and the
# execution cache it fills is the one `make book` reuses after a prose edit.
# The three share the two cores (make -j3): the build executes two chapters at a time, and
# much of the other checks' time is spent waiting on other processes. Each step's output is
# printed whole when it ends.
test: install interop-envs
	rm -rf _build/.jupyter_cache _build/.doctrees _build/jupyter_execute   # execute every chapter afresh
	$(MAKE) --no-print-directory -j3 --output-sync=target lint unit tool-checks browser-check

PY_SOURCES := src tests tools benchmarks

lint: install
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)

unit: install
	$(BIN)/python -m pytest tests -m "not slow and not browser and not book and not interop" -n 2 -q

# Not part of `make test` (the build executes the chapters): every chapter under pytest,
# one test per cell, for an author who wants that report. nbval collects .ipynb only:
# convert the MyST chapters into a scratch folder the book does not read, keeping the
# layout so that relative paths still work.
nbval: install
	rm -rf $(NBVAL_DIR)
	mkdir -p $(NBVAL_DIR)/chapters/project
	for f in $(CHAPTERS); do
	  $(BIN)/jupytext --quiet --to ipynb --output $(NBVAL_DIR)/$${f%.md}.ipynb $$f
	done
	$(BIN)/python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env -n 2 --dist loadfile -q $(NBVAL_DIR)/chapters

browser: install
	$(BIN)/python -m pytest tests -m "browser or book" -q

# The browser check of the book `make html` builds (its prerequisite).
browser-check: html
	$(BIN)/python -m pytest tests -m browser -q -rs

# The project books (marker book) and the exchange with qc and Taguette (marker interop):
# they build their own books or run other programs, and need no `make html`.
tool-checks: install interop-envs
	$(INTEROP_EXPORTS)
	$(BIN)/python -m pytest tests -m "(book or interop) and not browser and not slow" -n 2 --dist loadfile -q -rs

## make interop (the last step of `make test`): exchange with real clients, qc and Taguette
## (tests/test_interop_*.py, marker interop). Each runs in its own virtual environment,
## made once from its lock (the two need different SQLAlchemy majors): .venv-qc from
## requirements-interop-qc.lock, .venv-taguette from requirements-interop-taguette.lock,
## with uv where it can be had (as $(STAMP)), pip otherwise. A changed lock makes its
## environment anew. One that cannot be made prints one line (the installer's output is in
## _build/interop-NAME.log) and its tests skip, saying why.
INTEROP_ENVS := qc taguette
# the interop tests find the clients through these variables (skipping, with the reason, without)
define INTEROP_EXPORTS
if [ -f .venv-qc/.installed ]; then export QDA_QC="$(CURDIR)/.venv-qc/bin/qc"; fi
if [ -f .venv-taguette/.installed ]; then export QDA_TAGUETTE="$(CURDIR)/.venv-taguette/bin/python"; fi
endef

interop: interop-envs
	$(INTEROP_EXPORTS)
	$(BIN)/python -m pytest tests/test_interop_*.py -m interop -n 2 -q -rs

interop-envs: install
	@mkdir -p _build   # @: the recipe is not echoed (its messages are the ones that matter)
	UV=""
	if [ -z "$${QDA_NO_UV:-}" ]; then
	  if command -v uv >/dev/null 2>&1; then UV="uv"
	  elif $(BIN)/python -m uv --version >/dev/null 2>&1; then UV="$(BIN)/python -m uv"
	  fi
	fi
	for name in $(INTEROP_ENVS); do
	  venv=.venv-$$name lock=requirements-interop-$$name.lock log=_build/interop-$$name.log
	  if [ -f $$venv/.installed ] && [ $$venv/.installed -nt $$lock ]; then continue; fi
	  rm -rf $$venv
	  if { $(PYTHON) -m venv $$venv &&
	       if [ -n "$$UV" ]; then $$UV pip install --quiet --compile-bytecode --python $$venv/bin/python -r $$lock
	       else $$venv/bin/python -m pip install --quiet --disable-pip-version-check -r $$lock; fi
	     } >$$log 2>&1; then
	    touch $$venv/.installed
	  else
	    rm -rf $$venv
	    echo "interop: could not install $$lock into $$venv (see $$log); its tests will skip"
	  fi
	done

bench: install
	$(BIN)/python benchmarks/run.py

## Regenerate data/ from the seeded generator (byte-identical on every run).
data: install
	$(BIN)/python -m qda generate --out data

clean:
	rm -rf _build

## Normalise chapters as jupytext writes them (so saving from JupyterLab makes no diff).
fmt: install
	$(BIN)/ruff format $(PY_SOURCES)
	$(BIN)/python tools/fmt_chapter.py $(CHAPTERS)
