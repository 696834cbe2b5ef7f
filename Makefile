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
	@[ -f /usr/share/sounds/sf2/OPL-3_FM_128M.sf2 ] || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing opl3-soundfont, the held-out SoundFont (apt)"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				opl3-soundfont >/dev/null; } || \
				echo "warning: apt-get could not install opl3-soundfont: held-out tests will skip"; \
		else echo "warning: opl3-soundfont missing and not root: held-out tests will skip"; fi; }
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing chromium and chromium-driver, for the browser tests (apt)"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				chromium chromium-driver >/dev/null; } || \
				echo "warning: apt-get could not install chromium: browser tests will skip"; \
		else echo "warning: chromium / chromium-driver missing and not root: browser tests will skip"; fi; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "python3 -m venv failed; installing python3-venv (needs root)"; \
		apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/chordscope run --force

test: setup
	$(BIN)/ruff check src tests benchmarks examples tools
	$(BIN)/python -m pytest -q
	$(BIN)/python -m pytest -q --doctest-modules src/chordscope  # the docstrings' examples

bench: setup
	$(BIN)/python benchmarks/bench_train.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache

# madmom's CNN chord recogniser, the reference that benchmarks compare against, in its own venv
# (.venv-madmom; madmom is no dependency of chordscope). Pins: benchmarks/requirements-madmom.txt.
# Use: .venv-madmom/bin/python benchmarks/reference_madmom.py AUDIO... -o OUTDIR
.PHONY: reference
reference:
	@[ -x .venv-madmom/bin/python ] || $(PYTHON) -m venv .venv-madmom
	@[ -f .venv-madmom/.gitignore ] || echo '*' > .venv-madmom/.gitignore
	.venv-madmom/bin/python -m pip install -q -r benchmarks/requirements-madmom.txt
	.venv-madmom/bin/python benchmarks/reference_madmom.py --check
