# Two entry points: `make run` (set up, then the tutorial's experiment) and `make test`.
# Set-up creates .venv and installs the package with its test tools; torch is pinned by
# constraints.txt to the CPU wheel this project's machines have on disk.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run test bench clean

$(STAMP): pyproject.toml constraints.txt
	@command -v fluidsynth >/dev/null && [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing fluidsynth and fluid-soundfont-gm (apt)"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				fluidsynth fluid-soundfont-gm >/dev/null; } || \
				echo "warning: apt-get could not install fluidsynth: SoundFont tests will skip"; \
		else echo "warning: fluidsynth / fluid-soundfont-gm missing and not root: SoundFont tests will skip"; fi; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "python3 -m venv failed; installing python3-venv (needs root)"; \
		apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/chordscope run --force

test: setup
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/bench_train.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
