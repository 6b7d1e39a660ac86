# mflab: the two ways in are `make lab` and `make test` (see README.md). Both set up .venv first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install; older than pyproject.toml or constraints.txt means "install again".
STAMP := $(VENV)/.installed
# The pinned versions the stored notebook outputs were made with (see the file's header).
CONSTRAINTS := constraints.txt
SANITIZE := tests/nbval_sanitize.cfg
NB_DIR ?= notebooks
NOTEBOOKS := $(sort $(wildcard $(NB_DIR)/*.ipynb))

# Extra arguments for JupyterLab, e.g. make lab LAB_ARGS="--no-browser --port 8899"
LAB_ARGS ?=
# JupyterLab refuses to start as root without --allow-root (containers, CI).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# Extra arguments for Voila, e.g. make demo VOILA_ARGS="--no-browser --port 8877". Voila has no
# root check (and no --allow-root option), so it needs no ROOT_FLAG.
VOILA_ARGS ?=
# The lesson whose cells tagged demo-app make up the live app (found by its tag, not its number).
DEMO_NB ?= $(firstword $(shell grep -l '"demo-app"' $(NOTEBOOKS) /dev/null 2>/dev/null))
# Where `make workspace`, `make student` and `make slides` write (all ignored by git).
WORKSPACE_DIR ?= workspace
STUDENT_DIR ?= student
SLIDES_DIR ?= slides
# make student ANSWERS=click keeps the concept-check answers behind a click (default: removed).
ANSWERS ?=

.PHONY: help setup lab lab-key workspace test unit-and-notebooks unit unit-nonumba notebooks-test notebooks lesson-times bench student slides \
	demo data clean distclean

help:
	@echo "make lab        set up .venv and your workspace/ (make workspace), then start JupyterLab on it"
	@echo "make workspace  add the lessons missing from workspace/ (your own copies: no solutions, check answers"
	@echo "                behind a click); a lesson already there is never overwritten"
	@echo "make test       set up .venv, then run the unit tests and every notebook under nbval"
	@echo "make notebooks  re-execute every notebook in place (store fresh outputs)"
	@echo "make bench      run the benchmarks in bench/ (in their own venv, bench/.venv, with Surprise, implicit, myFM)"
	@echo "make lesson-times  how long each lesson takes to run (three runs each, on copies)"
	@echo "make data       check data/ml-100k against its sha256 sums; fetch it if missing or damaged"
	@echo "                (make data FROM=path/to/ml-100k.zip installs a local copy of the archive)"
	@echo "For instructors (see INSTRUCTORS.md):"
	@echo "make lab-key    start JupyterLab on the answer key, $(NB_DIR)/ (solutions, check answers, speaker notes)"
	@echo "make student    write student copies to $(STUDENT_DIR)/ (rewritten each time): no solution, no speaker"
	@echo "                notes, no concept-check answer (ANSWERS=click keeps them behind a click), outputs"
	@echo "                cleared, mflab.checks calls kept, and a README.md with the lessons and the notation"
	@echo "make slides     write one lecture deck per lesson and an index page to $(SLIDES_DIR)/ (offline)"
	@echo "make demo       serve the rate-and-recommend app (the lesson's demo-app cells) with Voila, for the projector"
	@echo "                (make demo VOILA_ARGS=\"--no-browser --port 8877\")"
	@echo "make clean      remove caches and build files; make distclean also removes .venv"

$(BIN)/python:
	@echo "==> creating $(VENV) with $(PYTHON) -m venv"
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	@echo "==> installing mflab and its lab and test extras into $(VENV), versions from $(CONSTRAINTS)"
	$(BIN)/python -m pip install -c $(CONSTRAINTS) -e ".[lab,test]"
	@touch $@

setup: $(STAMP)

# The student's workspace (mflab/course/views.py): the lessons without solutions or speaker notes,
# concept-check answers behind a click, outputs cleared, and a README.md with the lesson table and
# the notation table that the lessons link to. Created when absent; lessons missing from it are
# added; a file already there is never overwritten. Running and saving there never touches notebooks/.
workspace: setup
	$(BIN)/python -m mflab.course.views workspace $(NB_DIR) $(WORKSPACE_DIR)

# The kernel is the venv's own python: ipykernel installs a "python3" kernelspec inside .venv, and
# JUPYTER_PREFER_ENV_PATH=1 makes it win over any user-wide or system-wide "python3" kernelspec.
lab: workspace
	@echo "==> starting JupyterLab on $(WORKSPACE_DIR)/, your own copies of the lessons (Ctrl-C to stop)"
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter lab $(WORKSPACE_DIR)/ $(ROOT_FLAG) $(LAB_ARGS)

# The answer key, for instructors: the lessons themselves, served from the repository root so that
# their links to ../README.md work. Saving a lesson here rewrites the outputs nbval compares (git diff
# shows it, git checkout -- $(NB_DIR)/ undoes it).
lab-key: setup
	@echo "==> starting JupyterLab on the answer key, $(NB_DIR)/ (Ctrl-C to stop); a save rewrites its stored outputs"
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" \
	    --LabApp.default_url=/lab/tree/$(NB_DIR) $(ROOT_FLAG) $(LAB_ARGS)

# make test, in two stages, each announced by one line and followed by pytest's progress:
#  1. the unit tests and every lesson under nbval, in ONE pytest session spread over the cores
#     (pytest-xdist, --dist loadfile: a test file, or a notebook's cells, stay together on one worker,
#     so a lesson runs top to bottom in one kernel);
#  2. the tests of the compiled loops again with numba switched off (MFLAB_NO_NUMBA=1): the plain
#     Python each numba kernel compiles must give the same answers and the same errors.
# BLAS runs single-threaded in each worker (two workers already fill two cores; OpenBLAS's own
# threads on top made some tests 5-10 times slower on a busy machine).
TEST_WORKERS ?= 2
# The lessons are stored with the outputs of this machine's own OpenBLAS kernels (make notebooks);
# the tests run them under another kernel where the CPU can (Haswell's: any x86-64 CPU with AVX2), so
# an output that depends on the BLAS kernel fails here at once rather than on a student's laptop.
# Set OPENBLAS_CORETYPE to test another kernel (NEHALEM, ZEN, ...), or OPENBLAS_CORETYPE= for the native one.
ifeq ($(origin OPENBLAS_CORETYPE),undefined)
OPENBLAS_CORETYPE := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo HASWELL)
endif
TEST_ENV = OPENBLAS_NUM_THREADS=1 $(if $(OPENBLAS_CORETYPE),OPENBLAS_CORETYPE=$(OPENBLAS_CORETYPE),)
# The test files of the modules with a numba kernel (sgd, _history, implicit, fm): stage 2 runs these.
COMPILED_TESTS := tests/test_sgd.py tests/test_numba_switch.py tests/test_objective.py \
	tests/test_implicit_als.py tests/test_bpr.py tests/test_hostile_implicit.py tests/test_fm.py \
	tests/test_contract.py

test: setup
	@start=$$(date +%s); \
	echo "==> [1/2] unit tests and the $(words $(NOTEBOOKS)) lessons under nbval, on $(TEST_WORKERS) workers$(if $(OPENBLAS_CORETYPE), (OpenBLAS kernel $(OPENBLAS_CORETYPE)),)"; \
	$(MAKE) --no-print-directory unit-and-notebooks || exit 1; \
	echo "==> [2/2] the compiled loops' tests with numba switched off ($$(( $$(date +%s) - start )) s so far)"; \
	$(MAKE) --no-print-directory unit-nonumba || exit 1; \
	echo "==> all tests passed in $$(( $$(date +%s) - start )) s"

# Stage 1 alone. The kernels get the default inline backend (under MPLBACKEND=Agg a figure cell
# would lose its stored output); the unit tests choose Agg themselves (tests/conftest.py).
unit-and-notebooks: setup
	env -u MPLBACKEND $(TEST_ENV) $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile \
	    --nbval --nbval-current-env --nbval-sanitize-with $(SANITIZE) tests/ $(NOTEBOOKS)

# The unit tests alone, or the lessons alone (one after another), for a quicker loop while editing.
unit: setup
	@echo "==> unit tests (tests/)"
	MPLBACKEND=Agg $(TEST_ENV) $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile tests/

notebooks-test: setup
	@echo "==> notebooks under nbval, strict, sanitized with $(SANITIZE)"
	env -u MPLBACKEND $(TEST_ENV) $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile \
	    --nbval --nbval-current-env --nbval-sanitize-with $(SANITIZE) $(NOTEBOOKS)

# Stage 2 alone. Tests marked needs_numba (about the compiled code itself, or minutes long as plain
# Python) are left out.
unit-nonumba: setup
	MFLAB_NO_NUMBA=1 MPLBACKEND=Agg $(TEST_ENV) $(BIN)/python -m pytest -q -n $(TEST_WORKERS) \
	    -m "not needs_numba" -W "ignore:mflab runs its training loops as plain Python:UserWarning" \
	    $(COMPILED_TESTS)

# Store fresh outputs after editing a lesson; no timings in the cell metadata and no widget state in
# the notebook's metadata (both change on every run; lesson 13's app is live only in a kernel).
notebooks: setup
	@for nb in $(NOTEBOOKS); do \
	    echo "==> executing $$nb"; \
	    env -u MPLBACKEND $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	        --ExecutePreprocessor.record_timing=False --ExecutePreprocessor.store_widget_state=False \
	        "$$nb" || exit 1; \
	done

# How long each lesson runs in a fresh kernel (the lesson standard: under 60 s), three runs each, on
# copies; in the test environment, since the lessons need its packages.
lesson-times: setup
	env -u MPLBACKEND $(BIN)/python bench/lesson_times.py --runs 3

# The benchmarks run in their own venv, bench/.venv: mflab plus Surprise, the reference they are
# compared with, which is never a dependency of mflab itself (bench/requirements.txt).
BENCH_VENV := bench/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml bench/requirements.txt
	@echo "==> setting up $(BENCH_VENV): mflab and the benchmark-only references (bench/requirements.txt)"
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -e ".[spark]"
	$(BENCH_VENV)/bin/python -m pip install -r bench/requirements.txt || \
	    echo "    could not install bench/requirements.txt: the tables will leave the reference libraries' rows out"
	@touch $@

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/ml100k.py
	$(BENCH_VENV)/bin/python bench/als_search.py
	$(BENCH_VENV)/bin/python bench/scale.py --json bench/results/scale.json
	$(BENCH_VENV)/bin/python bench/bayes_ml100k.py
	$(BENCH_VENV)/bin/python bench/implicit_ml100k.py

# MovieLens 100K: re-check the repository's copy and fetch GroupLens's archive (verified file by file)
# when it is missing or damaged; FROM= installs a downloaded ml-100k.zip instead, with the same checks.
FROM ?=
data: setup
	$(BIN)/python -m mflab.datasets.fetch $(if $(FROM),--from "$(FROM)",)

# Student copies to hand out (mflab/course/views.py, the workspace's code): every cell tagged
# "solution" removed, one "your answer" cell in place of each run of them, no speaker notes, outputs
# cleared; tests/test_student.py runs this target. It overwrites the copies in $(STUDENT_DIR)/, so
# hand them out before students write in them.
student: setup
	$(BIN)/python -m mflab.course.views student $(NB_DIR) $(STUDENT_DIR) $(if $(ANSWERS),--answers $(ANSWERS),)

# Lecture decks (mflab/course/slides.py): a title and one formula, figure, table or question per
# slide, the prose in the speaker notes; reveal.js and MathJax 3 copied from the venv, so the decks
# open from disk with no network.
slides: setup
	$(BIN)/python -m mflab.course.slides --out $(SLIDES_DIR) $(NOTEBOOKS)

# The live app as a web page. Voila shows every cell of the notebook it serves, hidden answers too,
# so it serves a page made of the lesson's cells tagged demo-app (mflab.demo.app_page: the model and
# the app) written to $(DEMO_DIR)/. The kernel is the venv's, as for `make lab`.
DEMO_DIR := build/demo
demo: setup
	@test -n "$(DEMO_NB)" || { echo "no lesson in $(NB_DIR)/ has cells tagged demo-app"; exit 1; }
	$(BIN)/python -m mflab.demo $(DEMO_NB) $(DEMO_DIR)
	@echo "==> serving the app of $(DEMO_NB) with Voila (Ctrl-C to stop); the page is ready once the model is fitted"
	env -u MPLBACKEND JUPYTER_PREFER_ENV_PATH=1 $(BIN)/voila $(DEMO_DIR)/$(notdir $(DEMO_NB)) $(VOILA_ARGS)

clean:
	rm -rf .pytest_cache .hypothesis build *.egg-info
	find . \( -name .venv -o -name .git \) -prune -o -type d \( -name __pycache__ -o -name .ipynb_checkpoints \) -print0 \
	    | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV)
