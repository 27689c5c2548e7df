# Thin targets: each installs what it needs (.venv from requirements.txt) and runs one command.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install demo test bench clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

demo: install
	$(PY) experiments/long_range.py

test: install
	$(PY) -m pytest

bench: install
	$(PY) benchmarks/rnn_throughput.py

clean:
	rm -rf $(VENV) benchmarks/results .pytest_cache
