# The two commands of the README. Each installs what is missing first (scripts/setup.sh).
.PHONY: setup demo test bench

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/legionella demo

test: setup
	.venv/bin/python -m pytest -q $(PYTEST_ARGS)

bench: setup
	.venv/bin/python -m pytest benchmarks -q --benchmark-only $(PYTEST_ARGS)
