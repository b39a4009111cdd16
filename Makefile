# CNN Companion: every command a reader, a student or CI needs.
#   make book       set up, then build the website into _build/html
#   make test       set up, then lint, unit tests, pair check, nbval, book build, browser tests
#   make lab        set up, then start JupyterLab on the repository
#   make notebooks  re-execute every chapters/*.py into its .ipynb (outputs + explorers' page forms)
#   make assignments  build student and autograder notebooks of every assignments/*.py
#   make grade ASSIGNMENT=7_2 SUBMISSIONS=folder [GRADES=file.csv]  grade a folder, each in a sandbox
# Set-up is idempotent: a stamp file records that .venv matches requirements.lock,
# another that node_modules matches package-lock.json (the website's JavaScript).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-lock
DATA_DIR := /usr/share/datasets/fashion-mnist
SITE := _build/html
# `make notebooks NB=chapters/7_2_conv_images.py` re-executes just one section.
NB ?= chapters/*.py
# Run records of the notebooks' training cells (see cnnlib/runs/records.py).
RUNS := benchmarks/results/runs
# The website serves its own JavaScript, so it works offline: MathJax 3, pinned in
# package-lock.json. `make web-deps` copies it into WEB_VENDOR, which _config.yml's
# html_static_path puts in the site's _static/.
NODE_STAMP := node_modules/.installed-lock
WEB_VENDOR := _build/web-vendor
WEB_STAMP := _build/web-vendor.stamp
# The trained networks run in the reader's browser with onnxruntime-web (package-lock.json):
# its bundle rebuilt as one classic script, its wasm packed as text inside a .js file
# (pages opened from file:// can load <script> tags and nothing else; scripts/web_pack.py),
# and every shipped network exported by scripts/export_onnx.py, packed the same way.
# cnnlib/web/cnn-networks.js loads them.
ORT_DIST := node_modules/onnxruntime-web/dist
ORT_VENDOR := $(WEB_VENDOR)/onnxruntime
ORT_JS := $(ORT_VENDOR)/ort.iife.js
ORT_WASM_JS := $(ORT_VENDOR)/ort-wasm.packed.js
MODELS_VENDOR := $(WEB_VENDOR)/models
MODELS_STAMP := _build/web-models.stamp
# cnnlib's own scripts (chapter-7 operations, the explorer host and front-ends, the network
# loader), copied as they are: the site serves them from _static/.
WEB_JS := $(wildcard cnnlib/web/*.js) $(wildcard cnnlib/web/explorers/*.js)
WEB_JS_STAMP := _build/web-js.stamp
MODEL_INPUTS := scripts/export_onnx.py scripts/web_pack.py $(wildcard cnnlib/weights/*.pt) $(wildcard cnnlib/models/*.py) \
  cnnlib/runs/budget.py cnnlib/data/fashion.py
# The venv's python must come first on PATH: Jupyter kernels are started as `python`.
export PATH := $(BIN):$(PATH)
# PyPI's torch/torchvision pair, never the machine's local CPU wheel (see NOTEBOOKS.md).
export PIP_FIND_LINKS :=
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup venv data browser-deps sandbox-deps web-deps lint unit pairs nbval book site-check test lab notebooks results lock clean benchmark assignments assignments-site grade test-floor

help:
	@sed -n '2,9p' Makefile

setup: venv data

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml scripts/jupyterlab-overrides.json scripts/jupyter-server-config.json
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "CNN Companion needs Python >= 3.10, found " + sys.version.split()[0]'
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@# Double-clicking chapters/*.py in JupyterLab opens it as a (Jupytext) notebook.
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp scripts/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@# A reader's save never rewrites a built chapters/*.ipynb: it goes to my-notebooks/
	@# (cnnlib/lab/contents.py; README, "Reading in JupyterLab").
	@# (jupyter_server_config.d/ only enables extensions, so this is the venv's own
	@# jupyter_server_config.json, which Jupyter reads for any server the venv starts.)
	mkdir -p $(VENV)/etc/jupyter
	cp scripts/jupyter-server-config.json $(VENV)/etc/jupyter/jupyter_server_config.json
	@touch $(STAMP)
	@echo "venv ready: $(VENV) matches requirements.lock"

# `npm ci` installs exactly package-lock.json; it reruns only when package*.json change.
# Run as root without npm, it installs Debian's (as browser-deps does chromium).
$(NODE_STAMP): package.json package-lock.json
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "web-deps: installing Debian's npm"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	  else \
	    echo "web-deps: npm is missing; install Node.js 18+ with npm (Debian: sudo apt-get install npm)" >&2; exit 1; \
	  fi; \
	fi
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

# The files the pages load: MathJax 3, with the components and fonts it loads lazily, and
# the trained networks with the runtime that runs them.
web-deps: $(WEB_STAMP) $(ORT_JS) $(ORT_WASM_JS) $(MODELS_STAMP) $(WEB_JS_STAMP)

$(WEB_STAMP): $(NODE_STAMP) Makefile
	rm -rf $(WEB_VENDOR)/mathjax
	mkdir -p $(WEB_VENDOR)
	@# MathJax: tex-mml-chtml.js and the components it may load; not the other combined builds.
	cp -R node_modules/mathjax/es5 $(WEB_VENDOR)/mathjax
	find $(WEB_VENDOR)/mathjax -maxdepth 1 -name '*.js' ! -name tex-mml-chtml.js \
	  ! -name core.js ! -name loader.js ! -name startup.js -delete
	cp node_modules/mathjax/LICENSE $(WEB_VENDOR)/mathjax/
	@touch $(WEB_STAMP)
	@echo "web-deps: $(WEB_VENDOR) holds the site's JavaScript (package-lock.json)"

# onnxruntime-web's wasm-only bundle is an ES module, which file:// pages cannot load:
# esbuild turns it into one classic script that defines the global `ort`.
$(ORT_JS): $(NODE_STAMP)
	mkdir -p $(ORT_VENDOR)
	node_modules/.bin/esbuild $(ORT_DIST)/ort.wasm.bundle.min.mjs --bundle --format=iife \
	  --global-name=ort --minify --log-level=warning --outfile=$@.part
	mv $@.part $@

# The single-thread SIMD wasm that bundle runs (threads need cross-origin isolation, which
# file:// cannot have), packed as text in a script (~22 s: zopfli); cnn-networks.js unpacks it.
$(ORT_WASM_JS): $(NODE_STAMP) $(STAMP) scripts/web_pack.py
	mkdir -p $(ORT_VENDOR)
	rm -f $(ORT_VENDOR)/ort-wasm.b64.js
	$(BIN)/python scripts/web_pack.py $(ORT_DIST)/ort-wasm-simd-threaded.wasm $@ ort-wasm \
	  --comment "onnxruntime-web $$(node -p 'require("./node_modules/onnxruntime-web/package.json").version'): \
	ort-wasm-simd-threaded.wasm, packed by scripts/web_pack.py (Makefile, web-deps). MIT License."

# Every shipped network as <name>.onnx.js (from its shipped weights; ~3 s for all seven).
$(MODELS_STAMP): $(STAMP) $(MODEL_INPUTS)
	OMP_NUM_THREADS=1 $(BIN)/python scripts/export_onnx.py $(MODELS_VENDOR)
	@touch $(MODELS_STAMP)

$(WEB_JS_STAMP): $(WEB_JS)
	mkdir -p $(WEB_VENDOR)/explorers
	cp cnnlib/web/*.js $(WEB_VENDOR)/
	cp cnnlib/web/explorers/*.js $(WEB_VENDOR)/explorers/
	@touch $@

# Fashion-MNIST: Debian's package is how machines without internet get it.
data:
	@if ls $(DATA_DIR)/train-images-idx3-ubyte* >/dev/null 2>&1; then \
	  echo "data: Fashion-MNIST found in $(DATA_DIR)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "data: installing Debian's dataset-fashion-mnist"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	else \
	  echo "data: $(DATA_DIR) is absent and apt is not available to this user."; \
	  echo "      cnnlib will look in \$$CNNLIB_DATA, then ~/.cache/cnnlib, then download with torchvision."; \
	  echo "      To install it system-wide: sudo apt-get install dataset-fashion-mnist"; \
	fi

# Debian's Chromium drives the browser tests (Playwright's own browser download needs internet).
browser-deps:
	@if command -v chromium >/dev/null; then \
	  echo "browser: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "browser: installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "browser: chromium is missing; install it with: sudo apt-get install chromium" >&2; exit 1; \
	fi

# bubblewrap isolates each graded submission (make grade, and the grading tests).
sandbox-deps:
	@if command -v bwrap >/dev/null; then \
	  echo "sandbox: $$(command -v bwrap)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "sandbox: installing Debian's bubblewrap"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	else \
	  echo "sandbox: bubblewrap is missing; install it with: sudo apt-get install bubblewrap" >&2; exit 1; \
	fi

lint: venv
	ruff check .

# Two pytest workers on two cores, one torch thread each: torch's default of one
# thread per core in each worker oversubscribes the CPU and slows everything down.
# loadfile: each test file runs whole on one worker, so a module fixture (a graded batch
# of submissions, minutes to make) is built once. (Not loadgroup: with pytest 9 and
# pytest-xdist 3.8, xdist_group marks no longer keep tests together, and both workers
# built each batch.) --durations: each run's log names its slowest tests, where time goes.
unit: setup sandbox-deps
	OMP_NUM_THREADS=1 pytest tests/ -m "not browser" -n 2 --dist loadfile -q --durations=12

# The floor pyproject.toml promises (torch>=2.4, torchvision>=0.19), kept true: the unit
# tests on exactly those versions (CPU wheels) with every other package from the lock, in a
# venv of their own. Not part of `make test` (a second torch to download, ~1 GB installed);
# run it when the floor, the lock or code that leans on torch's behaviour changes.
FLOOR_VENV := _build/venv-floor
FLOOR_TORCH := torch==2.4.1 torchvision==0.19.1
test-floor: data
	@test -x $(FLOOR_VENV)/bin/python || $(PYTHON) -m venv $(FLOOR_VENV)
	grep -v -E '^(torch|torchvision|triton|nvidia-[a-z0-9-]+|cuda-[a-z-]+)==' requirements.lock \
	  > $(FLOOR_VENV)/lock-without-torch.txt
	$(FLOOR_VENV)/bin/python -m pip install --quiet $(FLOOR_TORCH) \
	  --index-url https://download.pytorch.org/whl/cpu
	$(FLOOR_VENV)/bin/python -m pip install --quiet -r $(FLOOR_VENV)/lock-without-torch.txt
	$(FLOOR_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(FLOOR_VENV)/bin/python -c 'import torch, torchvision; print("floor:", torch.__version__, torchvision.__version__)'
	PATH=$(CURDIR)/$(FLOOR_VENV)/bin:$$PATH OMP_NUM_THREADS=1 \
	  $(FLOOR_VENV)/bin/python -m pytest tests/ -m "not browser" -n 2 --dist loadfile -q

pairs: venv
	python scripts/check_pairs.py chapters

nbval: setup
	OMP_NUM_THREADS=1 pytest --nbval --nbval-current-env -p no:cacheprovider -n 2 --dist loadscope \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg chapters/ -q --durations=12

# The website serves each assignment's student notebook and shows the table of all of them.
assignments-site: setup
	python scripts/build_assignments.py --no-run-tests --if-changed

book: setup web-deps assignments-site
	jupyter-book build . -W -n --keep-going
	@echo
	@echo "Website built. Open: file://$(CURDIR)/$(SITE)/index.html"

# Two workers (whole files each): the 200 browser tests wait on Chromium and JupyterLab
# more than they compute, so a second worker uses the idle core (7.3 min for all of them
# on the 2-core build machine).
site-check: setup browser-deps web-deps
	pytest tests/browser -m browser -q -n 2 --dist loadfile --durations=12

test: setup browser-deps sandbox-deps lint unit pairs nbval book site-check

# Classroom: otter assign turns each master into _build/assignments/<stem>/{student,autograder}/
# and checks that its solution scores full marks. `make assignments A=7_2` builds one.
A ?=
assignments: setup
	python scripts/build_assignments.py $(A)

# Grade every file in SUBMISSIONS against the assignment `make assignments` built: each
# submission runs in a bubblewrap sandbox (no network, its own processes, read-only system),
# one per core at a time, under these limits; the tests and the scores stay outside it.
# UNISOLATED=1 grades without a sandbox, for machines where none can start (trusted code only).
ASSIGNMENT ?=
SUBMISSIONS ?=
GRADES ?=
TIMEOUT ?= 300
MEMORY_MB ?= 4096
PROCESSES ?= 64
DISK_MB ?= 512
FILE_SIZE_MB ?= 64
CPU_S ?= 600
CALL_S ?= 60
UNISOLATED ?=
grade: setup $(if $(UNISOLATED),,sandbox-deps)
	@test -n "$(ASSIGNMENT)" -a -n "$(SUBMISSIONS)" || { \
	  echo "usage: make grade ASSIGNMENT=7_2 SUBMISSIONS=path/to/folder [GRADES=grades.csv] [TIMEOUT=300] [MEMORY_MB=4096] [PROCESSES=64] [DISK_MB=512] [FILE_SIZE_MB=64] [CPU_S=600] [CALL_S=60] [UNISOLATED=1]" >&2; exit 2; }
	python scripts/grade_assignments.py "$(ASSIGNMENT)" "$(SUBMISSIONS)" --timeout $(TIMEOUT) \
	  --memory-mb $(MEMORY_MB) --processes $(PROCESSES) --disk-mb $(DISK_MB) \
	  --file-size-mb $(FILE_SIZE_MB) --cpu-s $(CPU_S) --call-s $(CALL_S) \
	  $(if $(GRADES),--grades "$(GRADES)") $(if $(UNISOLATED),--unisolated)

lab: setup
	jupyter lab --notebook-dir=$(CURDIR) $$([ "$$(id -u)" = 0 ] && echo --allow-root)

notebooks: setup
	@# jupytext syncs the sources into the .ipynb (keeping cell ids), then nbconvert
	@# executes it in place, replacing every output and storing the widget state.
	@# (`jupytext --update --execute` would keep stale outputs of changed cells.)
	@# Training cells record their runs (cnnlib.runs.records) for the results page.
	@# CNNLIB_EXPLORER_PAGES=1 makes each explorer add its website form (cnnlib/widgets/page.py);
	@# publish_notebook.py then keeps those forms and drops the live widget views, which
	@# need a kernel (see its docstring).
	@for py in $(NB); do \
	  echo "executing $$py"; \
	  jupytext --to ipynb --update --quiet "$$py"; \
	  CNNLIB_RUNS_DIR=$(CURDIR)/$(RUNS) CNNLIB_EXPLORER_PAGES=1 \
	    jupyter nbconvert --to notebook --execute --inplace --log-level=WARN \
	      --ExecutePreprocessor.record_timing=False "$${py%.py}.ipynb"; \
	  python scripts/publish_notebook.py "$${py%.py}.ipynb"; \
	done
	python scripts/build_results_page.py

# Regenerate book/results.md from the saved run records (benchmarks/results/*.json).
results: venv
	python scripts/build_results_page.py

# Re-resolve the lock from requirements.in (needs the package registry).
lock:
	rm -rf /tmp/cnnlib-lock-venv && $(PYTHON) -m venv /tmp/cnnlib-lock-venv
	/tmp/cnnlib-lock-venv/bin/pip install --quiet -r requirements.in
	/tmp/cnnlib-lock-venv/bin/pip freeze --exclude-editable > requirements.lock
	@echo "requirements.lock rewritten; commit it."

clean:
	rm -rf _build .pytest_cache test-artifacts

# LeNet training throughput, cnnlib vs d2l 1.0.3 (see benchmarks/README.md): installs d2l into
# benchmarks/.d2l-site (once, idempotent), then writes benchmarks/results/lenet_vs_d2l.json.
benchmark: setup
	PYTHON=$(BIN)/python bash benchmarks/setup_d2l_env.sh
	$(BIN)/python benchmarks/lenet_vs_d2l.py
