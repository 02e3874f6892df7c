# The two README commands: `make demo` (main job on the embedded demo data)
# and `make test` (the test suite). Both bootstrap .venv first.
PY := .venv/bin/python
DEMO_DIR ?= demo_out
PYTEST_ARGS ?=

.PHONY: setup demo test benchmark clean-demo

setup:
	bash tools/bootstrap.sh

demo: setup
	$(PY) tools/run_demo.py --out $(DEMO_DIR)

test: setup
	$(PY) -m pytest tests $(PYTEST_ARGS)

benchmark: setup
	$(PY) tools/analysis_tools/benchmark.py

clean-demo:
	rm -rf $(DEMO_DIR)
