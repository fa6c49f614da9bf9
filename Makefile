# Every target installs what it needs first (a .venv made here).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install demo run test serve lint eval bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

MONITOR_DEMO_VAR ?= var

demo: install
	$(BIN)/monitor demo --var $(MONITOR_DEMO_VAR)

run: install
	$(BIN)/monitor run

test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Browse a store: DB=path, else var/monitor.db when it exists, else the demo's.
serve: install
	$(BIN)/monitor serve $(if $(DB),--db $(DB),$(if $(wildcard var/monitor.db),,--db var/demo.db))

lint: install
	$(BIN)/ruff check monitor tests bench
	$(BIN)/mypy monitor --ignore-missing-imports

eval: install
	$(BIN)/python -m monitor.classify.evaluate tests/data/dev_en_a.jsonl tests/data/dev_en_b.jsonl tests/data/dev_zh.jsonl
	@echo "--- held-out set 1 (scored blind once, then tuned on)"
	$(BIN)/python -m monitor.classify.evaluate --quiet tests/heldout/heldout_en.jsonl tests/heldout/heldout_zh.jsonl
	@echo "--- held-out set 2 (scored blind once, then tuned on)"
	$(BIN)/python -m monitor.classify.evaluate --quiet tests/heldout2/heldout2_en.jsonl tests/heldout2/heldout2_zh.jsonl
	@echo "--- held-out set 3 (scored blind once, then tuned on)"
	$(BIN)/python -m monitor.classify.evaluate --quiet tests/heldout3/heldout3_en.jsonl tests/heldout3/heldout3_zh.jsonl
	@echo "--- held-out set 4 (scored blind once, then tuned on)"
	$(BIN)/python -m monitor.classify.evaluate --quiet tests/heldout4/heldout4_en.jsonl tests/heldout4/heldout4_zh.jsonl
	@echo "--- held-out set 5 (scored blind once, then tuned on)"
	$(BIN)/python -m monitor.classify.evaluate --quiet tests/heldout5/heldout5_en.jsonl tests/heldout5/heldout5_zh.jsonl

bench: install
	$(BIN)/python bench/bench_classify.py
	$(BIN)/python bench/bench_extract.py
	$(BIN)/python bench/bench_poll.py

fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz.py

clean:
	rm -rf var/demo.db var/demo.db-* var/outbox .pytest_cache
