# Two commands: `make book` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader calls `alembic` by name, so the venv's bin comes first on PATH.
export PATH := $(BIN):$(PATH)
# The book turns progress bars off; so do the tests.
export DLCOURSE_PROGRESS := 0
export PYTHONHASHSEED := 0
JOBS ?= 2

include exercises/instructor.mk

.PHONY: help venv book book-clean learner-repo test test-fast bench assignments autograde feedback grades clean

help:
	@echo "make book        build the HTML book into _build/html (executes every chapter, cached),"
	@echo "                 with the learner wheel at _build/html/wheel/ (publish the folder as is)"
	@echo "make learner-repo  the student notebooks + requirements.txt in _build/learner-repo (nbgitpuller, Binder)"
	@echo "make test        run the whole test suite (builds the book once and shares it)"
	@echo "make bench       benchmark table against PyTorch and nbgrader -> benchmarks/results.md"
	@echo "make assignments / autograde / feedback / grades   the instructor workflow (see README)"

venv: $(STAMP)

# Both distributions, editable: dlcourse (the learner package, this folder) and
# dlcourse-grade (the instructor's grader, grader/).
$(STAMP): pyproject.toml grader/pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]" -e ./grader
	touch $(STAMP)

# One BLAS/OpenMP thread per process for the book and the tests: on a small shared
# machine several threads per process made chapters and workers several times slower.
# (`make bench` keeps the defaults: it measures the machine as a user would have it.)
book test test-fast: export OPENBLAS_NUM_THREADS := 1
book test test-fast: export OMP_NUM_THREADS := 1
book test test-fast: export MKL_NUM_THREADS := 1

# The exercise pages link the released (student) notebooks, so they are generated first,
# each only when its source notebook changed (a warm `make book` stays a few seconds).
RELEASED := $(foreach a,$(EXERCISE_IDS),exercises/release/$(a)/$(a).ipynb)

$(RELEASED): exercises/release/%.ipynb: exercises/source/%.ipynb | $(STAMP)
	cd exercises && $(BIN)/nbgrader generate_assignment $(firstword $(subst /, ,$*)) --force --log-level=WARN

# The build also writes the learner wheel to _build/html/wheel/dlcourse-<version>-py3-none-any.whl
# (_ext/learner_wheel.py; rebuilt only when dlcourse/ or pyproject.toml changed), the address that
# every notebook's install cell names; html.baseurl in _config.yml is the book's public URL.
book: $(STAMP) $(RELEASED)
	$(BIN)/jupyter-book build . --builder html --warningiserror --keep-going

# A folder to publish as the learners' own repository: the released notebooks only, and a
# requirements.txt that installs dlcourse from the book. For nbgitpuller links on a JupyterHub
# (exercises/README.md) or a Binder that has nothing of the instructor's.
learner-repo: $(STAMP) $(RELEASED)
	rm -rf _build/learner-repo && mkdir -p _build/learner-repo
	cp $(RELEASED) _build/learner-repo/
	$(BIN)/python exercises/make_sources.py --learner-repo _build/learner-repo

book-clean:
	rm -rf _build

test: $(STAMP) book
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup tests

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -m "not book and not grading and not browser" tests

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf _build .pytest_cache
