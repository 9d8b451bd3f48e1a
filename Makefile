# Two commands do everything on a fresh machine with Python 3.10+:
#   make demo   set up .venv, then run `spafit-course compare` on the quick profile (offline, CPU)
#   make test   set up .venv, then run the whole test suite: unit tests and every notebook through nbval
#   make book   set up .venv, then build the course website from the notebooks' stored outputs into _build/html
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A CPU build of torch where one is at hand; set TORCH_SPEC to your own choice (e.g. "torch>=2.2") elsewhere.
TORCH_SPEC ?= torch==2.13.0
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup demo test book clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev,book]"
	touch $@

demo: setup
	$(BIN)/spafit-course compare

# Two workers, one torch thread each, each notebook whole on one worker (conftest.py); PYTEST_ARGS adds options.
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

book: setup
	$(BIN)/python -c "import jupyter_book" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[book]"
	$(BIN)/python tools/build_book.py

clean:
	rm -rf $(VENV) results _build
