# Thin targets: each installs what it needs (.venv from requirements.txt) and runs one command.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install install-browser test-browser server server-stop test-faults test-scripts report export serve bench-lm baselines demo demo-full sentiment sentiment-quick pos pos-quick lm lm-quick test bench train sweep compare ui clean

install: $(INSTALLED)

# uv installs the same pinned packages as pip in about 60 s against pip's 173 s (2026-12-06, no cache, a
# fresh venv each; the bytecode compiled at install, as pip does: this machine sets PYTHONDONTWRITEBYTECODE)
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
$(UV):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(INSTALLED): requirements.txt pyproject.toml | $(UV)
	$(UV) pip install --quiet --python $(PY) --compile-bytecode -r requirements.txt
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	touch $@

# the main job: long-range memory sweep (adding problem, short and long T) + spectral-radius law
demo: install
	$(PY) experiments/long_range.py
	$(PY) experiments/spectral_radius.py

# the gradient lab at full size: T up to 400, the copy task, the causal conv stack (hours on 2 cores)
demo-full: install
	$(PY) experiments/long_range.py --preset full
	$(PY) experiments/spectral_radius.py --length 100

# the tests on both cores, a test at a time, the longest files first (5 min 30 s of tests on a clean
# clone, plus 1 min 12 s of first install, 2026-12-07 18:43 UTC); test-faults:
# those that kill processes, mount full or read-only stores (unshare -m, as root), stop a real
# mlflow server, and run sweeps on a two-node Ray cluster logging to a PostgreSQL-backed server,
# one node killed (one at a time); CI runs test, test-browser, test-scripts and test-faults
test: install
	$(PY) -m pytest -m "not faults and not cluster and not scripts and not browser" -n 2 --dist load --durations=15

# the MLflow UI and the sweep's HTML report in headless Chromium (after make install-browser; else they skip)
test-browser: install
	$(PY) -m pytest -m browser

test-faults: install
	$(PY) -m pytest -m "faults or cluster"

# the experiment scripts and the notebook end to end on slices of real data (sentiment, pos, lm, long_range,
# notebooks/rnn_zoo_tour.ipynb); CI runs them
test-scripts: install
	$(PY) -m pytest -m scripts -n 2 --dist loadfile

# what tests/test_browser.py drives: Debian's chromium (apt-get: run it as root) and Playwright for
# Python (its driver only: it uses that chromium, no browser download); without them the test skips
install-browser: install
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	$(UV) pip install --quiet --python $(PY) playwright==1.65.2

# the real-data comparisons: full = the study's grid for the task (each cell at its study recipe,
# no clipping and global norm, the study's seeds or SEEDS=0,1,2; hours), quick = the same cells and
# recipes on a few CPU minutes of data. ARGS="--set dataset=sst2" (sentiment) or
# "--set dataset=tinyshakespeare" (lm) picks the task's other study
SEEDS ?=
SEED_ARGS = $(if $(SEEDS),--seeds $(SEEDS))
sentiment: install
	$(PY) experiments/sentiment.py --preset full $(SEED_ARGS) $(ARGS)
sentiment-quick: install
	$(PY) experiments/sentiment.py --preset quick $(SEED_ARGS) $(ARGS)
pos: install
	$(PY) experiments/pos_tagging.py --preset full $(SEED_ARGS) $(ARGS)
pos-quick: install
	$(PY) experiments/pos_tagging.py --preset quick $(SEED_ARGS) $(ARGS)
lm: install
	$(PY) experiments/language_model.py --preset full $(SEED_ARGS) $(ARGS)
lm-quick: install
	$(PY) experiments/language_model.py --preset quick $(SEED_ARGS) $(ARGS)

bench: install
	$(PY) benchmarks/rnn_throughput.py

# what a model that only counts scores on each preset's data (majority class, most frequent tag, unigram),
# then every study's strong baselines, an MLflow run each (tf-idf + logistic regression, NBSVM, averaged
# perceptron, Kneser-Ney; python -m zoo baselines): ARGS="--study sst2,ptb" goes to the second,
# COUNT_ARGS="--presets quick" to the first
baselines: install
	$(PY) benchmarks/count_baselines.py $(COUNT_ARGS)
	$(PY) -m zoo baselines $(ARGS)

# the PTB language model's step against PyTorch's (when TORCH_PYTHON can import torch)
TORCH_PYTHON ?= $(PY)
bench-lm: install
	$(PY) benchmarks/lm_throughput.py --torch-python $(TORCH_PYTHON) $(ARGS)

# e.g. make train ARGS="--set cell=gru --set clipping=global_norm"
train: install
	$(PY) -m zoo train $(ARGS)

# e.g. make sweep ARGS="--grid cell=vanilla,gru --grid clipping=none,global_norm --set epochs=3"
sweep: install
	$(PY) -m zoo sweep $(ARGS)

compare: install
	$(PY) -m zoo compare

# the studies (experiments/study.py): tables and figures from the store into docs/results/ and README.md
report: install
	$(PY) -m zoo report $(ARGS)

# the MLflow UI over the same store, on this machine only (it has no logins: make server shares runs); one web
# worker and none of MLflow's GenAI job consumers (a store of training runs needs neither)
HOST ?= 127.0.0.1
PORT ?= 5000
ui: install
	$(PY) -m zoo ui --host $(HOST) --port $(PORT)

# a team tracking server: mlflow server on PostgreSQL (data, artifacts and logs in mlruns/server),
# on 127.0.0.1:5050 (HOST=0.0.0.0 to share it), with MLflow's logins: the administrator's password is in
# mlruns/server/secrets.json; python -m zoo server user add NAME --permission EDIT adds a person
SERVER_PORT ?= 5050
DATABASE_PORT ?= 5433
server: install
	$(PY) -m zoo server start --host $(HOST) --port $(SERVER_PORT) --database-port $(DATABASE_PORT)
server-stop: install
	$(PY) -m zoo server stop

# a finished run for use elsewhere: make export RUN=<run id>, or the best run of EXPERIMENT;
# every format (model.keras, saved_model/, mlflow_model/, model.onnx), or FORMAT=onnx (a list: keras,onnx)
EXPERIMENT ?= sentiment
FORMAT ?= all
export: install
	$(PY) -m zoo export $(if $(RUN),--run $(RUN),--experiment $(EXPERIMENT)) --format "$(FORMAT)"

# a registered model behind HTTP on 127.0.0.1 with the current environment (POST /invocations)
MODEL ?= models:/zoo-$(EXPERIMENT)/latest
SERVE_PORT ?= 5001
serve: install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" MLFLOW_TRACKING_URI="$${MLFLOW_TRACKING_URI:-sqlite:///$(CURDIR)/mlruns/mlflow.db}" \
	$(VENV)/bin/mlflow models serve -m "$(MODEL)" --env-manager local --host 127.0.0.1 --port $(SERVE_PORT)

clean:
	rm -rf $(VENV) benchmarks/results .pytest_cache
