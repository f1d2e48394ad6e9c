# Confab: `make run` serves on :8080, `make test` runs every test. Both start a private
# PostgreSQL under target/pg (scripts/pg.sh) when DATABASE_URL is unset.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
PG := scripts/pg.sh
# Development secret for `make run`, made once and kept in target/ (production sets its own).
DEV_SECRET_FILE := target/dev-jwt-secret

.PHONY: run test check fmt clippy db-url db-stop schema clean-db bench bench-quick

# The database URL: the caller's DATABASE_URL, else the private cluster's.
define with_db
DATABASE_URL="$${DATABASE_URL:-$$($(PG) url)}"; [ -n "$$DATABASE_URL" ]; export DATABASE_URL;
endef

run:
	@mkdir -p target; [ -s $(DEV_SECRET_FILE) ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > $(DEV_SECRET_FILE)
	@$(with_db) export CONFAB__AUTH__JWT_SECRET="$${CONFAB__AUTH__JWT_SECRET:-$$(cat $(DEV_SECRET_FILE))}"; \
	  $(CARGO) build --release --bin confab; \
	  CONFAB__SERVER__HOST="$${CONFAB__SERVER__HOST:-0.0.0.0}" $(CARGO) run --release --bin confab -- serve

test:
	@$(with_db) $(CARGO) test --all-targets -- --test-threads=$${TEST_THREADS:-4}

check: fmt clippy test

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

# Print the private database's URL (starting it if needed); stop it.
db-url:
	@$(PG) url
db-stop:
	@$(PG) stop

# Regenerate src/db/schema.rs from the migrated database (needs diesel_cli with postgres).
schema:
	@$(with_db) diesel migration run && diesel print-schema > src/db/schema.rs

# Benchmarks (issue 7): Confab beside a Django Channels peer and a Node ws peer, five scenarios,
# results in target/bench/<timestamp>.{json,md}. bench-quick uses small sizes (under 2 minutes
# once built); bench uses the issue's sizes.
bench:
	@scripts/bench.sh
bench-quick:
	@scripts/bench.sh --quick
