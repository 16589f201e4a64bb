# The two commands a new user runs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo bench lint clean train-data

install: $(STAMP)

$(STAMP): setup.cfg setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest

# What CI enforces (.ci/run): ruff on all the project's code, mypy on the package.
lint: install
	$(BIN)/ruff check stylize tests bench scripts demo
	$(BIN)/ruff format --check stylize tests bench scripts demo
	$(BIN)/mypy stylize

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Stylises demo/photos with the paintings of demo/paintings (two of them never seen in training) using
# the default model and weights, offline; writes demo-output/sheet.png (and a sheet of the other image
# model) and the stylised photos.
demo: install
	$(BIN)/python demo/demo.py --out demo-output

bench: install
	$(BIN)/python bench/speed_memory.py

# Free photos and paintings ($STYLIZE_MEDIA/photos and paintings), reduced to 768 px, in .traindata/
# (git-ignored): what scripts/gpu_train.sh trains on.
train-data: install
	$(BIN)/python scripts/pack_training_data.py
