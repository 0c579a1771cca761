# VRP Desktop: `make run` starts the app (with a demo workspace when none exists);
# `make test` runs the whole suite. Both create .venv and install from pyproject.toml.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO := demo-workspace
DEMO_PASSPHRASE := demo passphrase 2026
# Debian libraries Qt needs: offscreen (tests) and xcb (a real window)
QT_LIBS_TEST := libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
# independent readers the tests check our files with: age (batches), LibreOffice (workbooks);
# PostgreSQL's server binaries (the tests start a throwaway cluster as an unprivileged user)
CHECK_TOOLS := age libreoffice-calc-nogui postgresql
QT_LIBS_RUN := $(QT_LIBS_TEST) libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
	libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0

.PHONY: run test lint format bench bench-quick faults fuzz clean deps-test deps-run venv bundle bundle-test bench-startup

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# Install missing Debian packages when we can (root with apt-get); otherwise say what is missing.
define apt_ensure
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Please install these Debian packages:$$missing"; fi; \
	fi
endef

deps-test:
	$(call apt_ensure,$(QT_LIBS_TEST) $(CHECK_TOOLS))

deps-run:
	$(call apt_ensure,$(QT_LIBS_RUN))

run: $(STAMP) deps-run
	@if [ ! -f $(DEMO)/keyslots.json ]; then \
	  echo "Creating a demo workspace in $(DEMO) (user: demo, passphrase: $(DEMO_PASSPHRASE))"; \
	  VRP_PASSPHRASE="$(DEMO_PASSPHRASE)" $(VENV)/bin/vrp demo $(DEMO) --user demo \
	    --participants 300 --sessions 2000 --seed 1; \
	fi
	@echo "Sign in as 'demo' with the passphrase: $(DEMO_PASSPHRASE)"
	$(PY) -m ui --workspace $(DEMO)

# one worker per core (pytest-xdist): the suite is about 1,000 tests and 19 minutes on 2 cores
test: $(STAMP) deps-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -n auto

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench.bench_store
	$(PY) -m bench.bench_sync
	$(PY) -m bench.bench_returns
	$(PY) -m bench.bench_export
	$(PY) -m bench.bench_evaluation
	$(PY) -m bench.bench_intake
	$(PY) -m bench.bench_server_reads
	$(PY) -m bench.bench_demo
	QT_QPA_PLATFORM=offscreen $(PY) -m bench.bench_ui
	QT_QPA_PLATFORM=offscreen $(PY) -m bench.bench_startup

bench-quick: $(STAMP)
	$(PY) -m bench.bench_store --quick
	$(PY) -m bench.bench_sync --records 20000
	$(PY) -m bench.bench_returns --quick
	$(PY) -m bench.bench_export --quick
	$(PY) -m bench.bench_evaluation --quick
	$(PY) -m bench.bench_intake --providers 6
	$(PY) -m bench.bench_server_reads --people 2000 --sessions 20000
	$(PY) -m bench.bench_demo --quick
	QT_QPA_PLATFORM=offscreen $(PY) -m bench.bench_ui --quick

# issue 10: SIGKILL at named points and random moments of every writing operation (100 each),
# and the structure-aware fuzz suite over every reader (100,000 inputs); both print a tally.
faults: $(STAMP)
	FAULT_TRIALS=100 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -s --timeout=0 tests/faults

fuzz: $(STAMP)
	FUZZ_EXAMPLES=100000 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -s --timeout=0 tests/fuzz

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache

# -- packaging (issue 6; packaging/README.md) -----------------------------------------------
# `make bundle`: the one-dir PyInstaller build in dist/vrp-desktop and the Linux tarball.
# `make bundle-test`: build, then run the self-test from the built folder (from /tmp, so
# nothing in the source tree can be imported) and print the bundle's size.
BUNDLE := dist/vrp-desktop

bundle: $(STAMP) deps-test
	$(call apt_ensure,binutils)
	@start=$$(date +%s); \
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN build.spec && \
	$(PY) packaging/linux/build_tarball.py && \
	echo "Bundle built in $$(( $$(date +%s) - start )) s"

bundle-test: bundle
	cd /tmp && env -u PYTHONPATH -u VRP_FAST_KDF QT_QPA_PLATFORM=offscreen \
	  "$(CURDIR)/$(BUNDLE)/vrp-desktop" --self-test
	cd /tmp && "$(CURDIR)/$(BUNDLE)/vrp" --version
	@echo "Bundle size (unpacked), and its biggest parts:"
	@du -sh $(BUNDLE)
	@du -s $(BUNDLE)/_internal/PySide6/Qt/lib/* $(BUNDLE)/_internal/* | sort -n | tail -8 | \
	  awk '{printf "  %6.1f MB  %s\n", $$1 / 1024, $$2}'
	@ls -l dist/*.tar.gz

bench-startup: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m bench.bench_startup
