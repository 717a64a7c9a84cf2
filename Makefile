# Entry points.  Every target installs what it needs the first time
# (.venv with the pinned packages of requirements.txt) and reuses it later.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all venv test demo soak mpy bench firmware deploy clean fuzz

all: test

$(STAMP): requirements.txt pyproject.toml tools/bootstrap.sh
	@PYTHON=$(PYTHON) sh tools/bootstrap.sh $(VENV)
	@touch $@

venv: $(STAMP)

# the whole suite: CPython (pytest) and MicroPython (core tests on .mpy)
test: $(STAMP)
	@$(BIN)/python host_tests/run.py

# strongSwan gateway in namespaces + the device client on MicroPython
demo: $(STAMP)
	@$(BIN)/python -m tools.demo

# a long-lived tunnel under constant rekeying: 10 minutes, a rekey every
# 10 s, on MicroPython (SOAK_ARGS=--short: 30 s, as CI runs it)
soak: $(STAMP)
	@$(BIN)/python -m tools.soak $(SOAK_ARGS)

# coverage-guided fuzzing (atheris) of the IKE decoder, the session's
# receive path in every state and ESP decapsulation: 1,000,000 inputs per
# target, crashers in build/fuzz/<target>/crashes
# (FUZZ_ARGS="--target session --runs 50000", --jobs 2, --help)
fuzz: $(STAMP)
	@$(BIN)/python -m tools.fuzz $(FUZZ_ARGS)

# lib/ikev2 compiled with mpy-cross into build/mpy
mpy: $(STAMP)
	@$(BIN)/ikev2-mpy

# cost of each primitive on both runtimes, with ratios to a same-run baseline
bench: $(STAMP)
	@$(BIN)/ikev2-bench

# MicroPython with the library and the app frozen in, for a board in boards/
# (or BOARD=unix): needs MPY_DIR (a MicroPython tree) and, for the ESP32
# boards, ESP-IDF; says how to get them when they are missing
firmware: $(STAMP)
	@$(BIN)/python -m tools.firmware "$(BOARD)" "$(MPY_DIR)"

# compile and copy the app, the library and a device's files to a board:
#   make deploy PORT=/dev/ttyUSB0 DEVICE=devices/sensor-01 [FROZEN=1|ROMFS=1] [DRY_RUN=1]
deploy: $(STAMP)
	@$(BIN)/python -m tools.deploy $(if $(PORT),--port "$(PORT)") \
	    $(if $(DEVICE),--device "$(DEVICE)") $(if $(FROZEN),--frozen) \
	    $(if $(ROMFS),--romfs) $(if $(DRY_RUN),--dry-run)

clean:
	rm -rf build .venv
