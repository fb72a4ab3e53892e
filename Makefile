# Two commands for everything: `make lab` (learn) and `make test` (check). Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mnistlab-installed
NOTEBOOKS := notebooks

.PHONY: setup lab test lint unit notebooks student-notebooks all-notebooks data student nbgrader clean

setup: $(STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "mnistlab needs Python 3.11+, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependency list changes; the package itself is editable.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

data: setup
	$(BIN)/python -m mnistlab data

# Docker images and many cloud notebooks run as root, where Jupyter refuses to start without --allow-root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

lab: setup data
	$(BIN)/jupyter lab $(NOTEBOOKS) $(ROOT_FLAG)

lint: setup
	$(BIN)/ruff check .

# Tests and notebooks are spread over the CPU cores (pytest-xdist; at most 4 workers, as each is a TensorFlow
# process): --dist loadfile keeps one file's tests, or one notebook's cells, together and in order on a worker.
PARALLEL := -n auto --maxprocesses 4 --dist loadfile

# The course's nbval plugin checks the self-check cells: ✅ in a course notebook, ❌ in a student copy
# (mnistlab/exercises/pytest_plugin.py). It is named here, where notebooks are run, rather than installed as a
# pytest11 entry point that would load it into every pytest run of any environment with mnistlab installed.
NBVAL := --nbval-lax --nbval-current-env -p mnistlab.exercises.pytest_plugin

unit: setup data
	$(BIN)/python -m pytest $(PARALLEL) tests

# Notebooks always run in fast mode here; run them yourself in JupyterLab for the full course.
notebooks: setup data
	MNISTLAB_FAST=1 $(BIN)/python -m pytest $(PARALLEL) $(NBVAL) $(NOTEBOOKS)

# The student copies run top to bottom too: every self-check must print ❌ ("not done yet"), none may
# pass untouched, and no cell may raise (mnistlab/exercises/pytest_plugin.py and grading.py). The plugin
# knows a student copy by the mark `mnistlab student` puts in its metadata.
student-notebooks: student data
	MNISTLAB_FAST=1 $(BIN)/python -m pytest $(PARALLEL) $(NBVAL) build/student

# Both in one run, so the cores share the work of the two.
all-notebooks: student data
	MNISTLAB_FAST=1 $(BIN)/python -m pytest $(PARALLEL) $(NBVAL) $(NOTEBOOKS) build/student

test: lint unit all-notebooks

student: setup
	rm -rf build/student
	$(BIN)/python -m mnistlab student --out build/student

# An nbgrader course folder for grading the exercises (README, "For instructors"). It will hold submissions
# and the gradebook, which `make clean` would delete: give it a folder of its own, NBGRADER_COURSE=~/courses/mnistlab.
NBGRADER_COURSE ?= build/nbgrader

nbgrader: setup
	$(BIN)/python -m mnistlab nbgrader --out $(NBGRADER_COURSE)

clean:
	rm -rf build .pytest_cache .ruff_cache
