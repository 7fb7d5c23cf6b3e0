# The two set-up commands of a fresh machine: `make run` (the main job) and `make test` (the suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install native run dry-run test bench schemas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Recompile the routing core with mypyc after editing routing/ or contracts/ (until then it imports pure Python).
native: $(STAMP)
	$(BIN)/python setup.py native

# The main job: the whole system on this machine, playing a scripted day of traffic. Ctrl-C stops it.
run: $(STAMP)
	$(BIN)/omniroute dev --demo

# Routing without a broker: the shipped sample traffic through decide(), one line per message.
dry-run: $(STAMP)
	@echo "Dry-run of the shipped sample traffic (one line per message; drop --summary for the JSON contract)."
	@echo "== alkonect / email ==";    $(BIN)/omniroute route --summary --tenant alkonect --channel email deploy/samples/alkonect/*.eml
	@echo "== izonie / messenger ==";  $(BIN)/omniroute route --summary --tenant izonie --channel messenger deploy/samples/izonie/*.json
	@echo "== conek / whatsapp ==";    $(BIN)/omniroute route --summary --tenant conek --channel whatsapp deploy/samples/conek/*.json

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/decide.py

schemas: $(STAMP)
	$(BIN)/omniroute schemas --write

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
