# The two commands of the README: `make demo` runs the main job, `make test` runs every test.
SITE ?= https://xl3lackout.github.io/MHFZ-Ferias-English-Project/buki/
CLASSES ?=
REDUCERS ?= 3
OUT ?= out
MHFZ_MIRROR ?= $(CURDIR)/../shared/ferias-site/buki
# The classes the test mirror holds, comma-separated (tests/mirror-classes).
MIRROR_CLASSES := $(shell grep -v '^\#' tests/mirror-classes | paste -sd, -)

.PHONY: demo demo-mirror test lint release bench stack-test

demo: release
	scripts/demo --site '$(SITE)' --classes '$(CLASSES)' --reducers $(REDUCERS) --out-dir '$(OUT)'

# The same job over the mirror, served over HTTP on 127.0.0.1.
demo-mirror: release
	scripts/serve-mirror '$(MHFZ_MIRROR)' -- \
	  scripts/demo --site '{url}' --classes '$(MIRROR_CLASSES)' --reducers $(REDUCERS) --out-dir '$(OUT)'

# Pinned Python tools (pyspark, ansible, molecule) from a cached virtualenv (scripts/python-env).
PYTHON_ENV = PATH="$$(scripts/python-env):$$PATH"

# Tests that need Kafka, PostgreSQL, HDFS/YARN or Hive get the real ones: `scripts/stack run`
# starts the local stack on 127.0.0.1, runs the command with its variables, stops it. Each stage
# is timed (scripts/stage; .ci/run prints the table at the end).
STAGE = scripts/stage
test:
	$(STAGE) lint -- $(MAKE) --no-print-directory lint
	$(STAGE) "cargo test on the stack" -- env $(PYTHON_ENV) MHFZ_MIRROR='$(MHFZ_MIRROR)' \
	  scripts/stack run -- cargo test --workspace --locked
	# The release binaries, built once: the end-to-end run, the live check, the demo and the
	# Molecule artifacts all use them.
	$(STAGE) "release build" -- $(MAKE) --no-print-directory release
	# On one stack with the supervision layer: the pipeline end to end with its stage counts
	# reconciled, then Prometheus scraping every target and running every dashboard and rule query.
	stack=$$(mktemp -d) && \
	  $(STAGE) "end-to-end + live check" -- env $(PYTHON_ENV) MHFZ_MIRROR='$(MHFZ_MIRROR)' MHFZ_STACK_DIR="$$stack/stack" \
	  MHFZ_STACK_SERVICES='pg kafka hadoop hive monitoring' \
	  scripts/stack run -- sh -c 'scripts/end-to-end --no-build --classes $(MIRROR_CLASSES) && monitoring/live-check'; \
	  status=$$?; rm -rf "$$stack"; exit $$status
	$(STAGE) "stack self-test" -- stack/test-stack
	# The main job itself, end to end on the mirror, with the release binaries.
	out=$$(mktemp -d) && $(STAGE) "make demo-mirror" -- $(MAKE) --no-print-directory demo-mirror OUT="$$out" && rm -rf "$$out"
	# Every Ansible role converged, re-run (idempotence) and verified in podman containers, three
	# scenarios at a time (much of a scenario is waiting for JVMs and podman); each scenario's
	# time is a stage of its own.
	$(STAGE) molecule -- env $(PYTHON_ENV) molecule/run -j 3

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	$(PYTHON_ENV) yamllint --strict roles molecule ansible .config
	$(PYTHON_ENV) ansible-lint --profile production roles molecule
	$(PYTHON_ENV) monitoring/test-rules
	$(PYTHON_ENV) yamllint --strict inventory
	$(PYTHON_ENV) ansible/tests/check-argument-specs
	$(PYTHON_ENV) ansible-lint --profile production ansible
	for inventory in inventory/example inventory/vagrant; do \
	  $(PYTHON_ENV) ANSIBLE_CONFIG=ansible/ansible.cfg ansible-playbook --syntax-check -i $$inventory ansible/site.yml || exit 1; \
	done
	$(PYTHON_ENV) vagrant/check-topology
	# Every role's preconditions (tasks/preflight.yml) over both inventories, no host contacted.
	$(PYTHON_ENV) ansible/tests/check-inventories
	$(PYTHON_ENV) python3 ansible/tests/test_check_inventories.py
	# The cluster scenario's platforms, generated from inventory/vagrant (molecule/run uses them).
	$(PYTHON_ENV) molecule/cluster/platforms >/dev/null
	$(PYTHON_ENV) python3 roles/kafka/tests/test_filters.py
	$(PYTHON_ENV) python3 roles/firewall/tests/test_filters.py
	$(PYTHON_ENV) python3 -m unittest discover -s stack/tests
	# Facts kept in two places (versions, class lists, topics, ports, job names) agree.
	$(PYTHON_ENV) tests/check-agreement
	$(PYTHON_ENV) python3 tests/test_check_agreement.py
	PYTHONPATH=stack $(PYTHON_ENV) python3 -m mhfz_stack.cadvisor lint

release:
	cargo build --release --workspace --locked

bench: release
	bench/run-all
