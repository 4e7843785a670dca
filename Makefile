# Every target installs what it needs: `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 3

DEMO_DATA := data/co2_weekly.csv
DEMO_ARGS := --target co2 --time-col date --horizon 52 --fill interpolate
RUN ?= models/co2_weekly

.PHONY: install runtime demo train tune forecast evaluate export test test-slow docs lint bench bench-accuracy bench-export bench-options bench-m4 bench-m3 bench-epf bench-epf-refit bench-scale clean

RUNTIME := $(VENV)/.runtime

$(RUNTIME): pyproject.toml  ## what `forecaster` needs to run: no test, lint, engine or ONNX tools
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)  ## the development set on top: pytest, ruff, mypy, Dask/Ray through Fugue, ONNX tools, mkdocs
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

runtime: $(RUNTIME)

install: $(STAMP)

demo: runtime  ## train on the bundled CO2 series, forecast a year, plot it
	$(BIN)/forecaster doctor $(DEMO_DATA) $(DEMO_ARGS)
	$(BIN)/forecaster train $(DEMO_DATA) $(DEMO_ARGS) --out $(RUN)
	$(BIN)/forecaster forecast $(RUN) --data $(DEMO_DATA)
	@echo "run directory: $(RUN)/ (forecast.csv, forecast.png, validation.png, loss.png, metrics.json)"

train: runtime
	$(BIN)/forecaster train $(DEMO_DATA) $(DEMO_ARGS) --out $(RUN)

$(RUN)/manifest.json:
	$(MAKE) train

forecast: runtime $(RUN)/manifest.json
	$(BIN)/forecaster forecast $(RUN) --data $(DEMO_DATA)

HOLDOUT_RUN ?= models/co2_weekly_holdout

evaluate: runtime  ## train with the last 3 years held out, backtest them against the baselines
	$(BIN)/forecaster train $(DEMO_DATA) $(DEMO_ARGS) --holdout 156 --quiet --out $(HOLDOUT_RUN)
	$(BIN)/forecaster evaluate $(HOLDOUT_RUN) --data $(DEMO_DATA) --folds 3 --fail-if-worse-than seasonal_naive

TUNE_OUT ?= models/co2_weekly_tuned
TUNE_ARGS ?= --tuner bayesian --max-trials 8 --max-minutes 6

tune: runtime  ## a small KerasTuner search on CO2 -> $(TUNE_OUT)/best, trials.csv, trials.png
	$(BIN)/forecaster tune $(DEMO_DATA) $(DEMO_ARGS) $(TUNE_ARGS) --out $(TUNE_OUT)

export: runtime $(RUN)/manifest.json  ## self-contained SavedModel -> $(RUN)/export/
	$(BIN)/forecaster export $(RUN)
	$(BIN)/saved_model_cli show --dir $(RUN)/export/saved_model --tag_set serve --signature_def serving_default

TORCH_VENV ?= .venv-torch
QUICK ?=

$(TORCH_VENV)/.installed:  ## plain PyTorch for the speed comparison (benchmarks/vs_torch.py), apart from ours
	test -x $(TORCH_VENV)/bin/python || $(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/python -m pip install -q torch==2.13.0 numpy pandas
	touch $@

bench: install $(RUN)/manifest.json $(TORCH_VENV)/.installed  ## every speed/memory figure -> benchmarks/RESULTS.md (QUICK=--quick: smoke run)
	$(PY) benchmarks/startup.py
	$(PY) benchmarks/throughput.py $(QUICK)
	$(PY) benchmarks/pipeline.py $(QUICK)
	$(PY) benchmarks/vs_torch.py $(QUICK) --torch-python $(TORCH_VENV)/bin/python
	$(PY) benchmarks/large_panel.py $(QUICK)
	$(PY) benchmarks/wide_frames.py $(QUICK)
	$(PY) benchmarks/export_latency.py --run $(RUN) --data $(DEMO_DATA) --record

bench-export: install $(RUN)/manifest.json  ## exported vs in-process forecasts; latency at batch 1 and 1000
	$(PY) benchmarks/export_latency.py --run $(RUN) --data $(DEMO_DATA)

# one worker per core (at most 4), each file's tests on one worker so a file's shared fixtures are made once
PARALLEL ?= -n auto --maxprocesses 4 --dist loadfile

test: install  ## the fast suite: everything but the tests marked slow
	$(BIN)/pytest -q $(PARALLEL)

test-slow: install  ## end-to-end processes: kill -9 and resume, full disks, tuning chiefs, clusters, fresh interpreters
	$(BIN)/pytest -q -m slow $(PARALLEL)

docs: install  ## the documentation site from docs/ (the README is its home page) -> site/
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

lint: install
	$(BIN)/ruff check forecaster tests benchmarks docs/hooks.py docs/examples
	$(BIN)/ruff format --check forecaster tests benchmarks docs/hooks.py docs/examples
	$(BIN)/mypy forecaster

ETT ?= ../shared/data/ett/ETTh1.csv

bench-accuracy: install  ## ETTh1 at horizons 96/192/336/720 -> benchmarks/ETTh1.md
	$(PY) benchmarks/ett_table.py --data $(ETT)

M4 ?= ../shared/data/m4

bench-m4: install  ## M4 Weekly, the ETTh1 panel and its 960-hour pieces with the train defaults, test split -> benchmarks/M4.md (~12 min)
	$(PY) benchmarks/m4_table.py --m4 $(M4) --ett $(ETT)

EPF ?= ../shared/data/epf

bench-epf: install  ## EPF day-ahead prices NP and PJM, trained once, with and without --future -> benchmarks/EPF.md (~30 min)
	$(PY) benchmarks/epf.py --table --shared $(EPF)

EPF_REFITS := NP:7 NP:1 NP:7:scratch PJM:7 PJM:1 PJM:7:scratch

bench-epf-refit: install  ## EPF NP and PJM over the two test years, refitted weekly / daily / weekly from scratch -> benchmarks/EPF.md (~40 h on 2 cores; run again, it goes on from the refits kept in .epf-refits/)
	for row in $(EPF_REFITS); do \
		set -- $$(echo $$row | tr : ' '); \
		$(PY) benchmarks/epf.py --shared $(EPF) --market $$1 --refit-every $$2 $${3:+--refit-from-scratch} \
			--keep .epf-refits/$$1-$$2$${3:+-scratch} | tail -1 > .epf-row.json && \
		$(PY) benchmarks/epf.py --record .epf-row.json || exit 1; \
	done; rm -f .epf-row.json; $(PY) benchmarks/epf.py --refit-table

M3 ?= ../shared/data/m3

bench-m3: install  ## M3 Yearly/Quarterly/Other as panels and 30 one-series runs, test split -> benchmarks/M3.md (~15 min)
	$(PY) benchmarks/m3.py --table --shared $(M3)

bench-scale: install  ## 10k/40k/160k series in Parquet shards, forecast with each engine, train -> benchmarks/SCALE.md (~11 min)
	$(PY) benchmarks/scale.py --sizes 10000,40000,160000

bench-options: install  ## calendar features / series embedding on/off, by validation and backtest MASE (~25 min)
	$(PY) benchmarks/options.py --ett $(ETT)

clean:
	rm -rf $(VENV) $(TORCH_VENV) models/*/ .pytest_cache site
