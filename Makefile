# Confab: `make run` serves on :8080, `make test` runs every test. Both start a private
# PostgreSQL under target/pg (scripts/pg.sh) when DATABASE_URL is unset.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
PG := scripts/pg.sh
# Development secret for `make run`, made once and kept in target/ (production sets its own).
DEV_SECRET_FILE := target/dev-jwt-secret

.PHONY: run test schemathesis check fmt clippy db-url db-stop schema redis-server run-cluster e2e bench bench-quick

# The database URL: the caller's DATABASE_URL, else the private cluster's.
define with_db
DATABASE_URL="$${DATABASE_URL:-$$($(PG) url)}"; [ -n "$$DATABASE_URL" ]; export DATABASE_URL;
endef

run:
	@mkdir -p target; [ -s $(DEV_SECRET_FILE) ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > $(DEV_SECRET_FILE)
	@$(with_db) export CONFAB__AUTH__JWT_SECRET="$${CONFAB__AUTH__JWT_SECRET:-$$(cat $(DEV_SECRET_FILE))}"; \
	  $(CARGO) build --release --bin confab; \
	  CONFAB__SERVER__HOST="$${CONFAB__SERVER__HOST:-0.0.0.0}" $(CARGO) run --release --bin confab -- serve

test: redis-server media-tools
	@tests/pg_sh.sh
	@$(with_db) $(CARGO) test --all-targets -- --test-threads=$${TEST_THREADS:-4}
	@$(with_db) SDK_NO_BUILD=1 tests/sdk/run.sh
	@$(with_db) E2E_NO_BUILD=1 tests/e2e/run.sh
	@$(with_db) scripts/schemathesis.sh

# Schemathesis alone against the OpenAPI document (the debug binary must be built).
schemathesis:
	@$(with_db) scripts/schemathesis.sh

# End-to-end tests of the web client in Debian's headless Chromium (installed when missing):
# starts `confab serve` on a free port with a fresh database, screenshots under target/e2e/.
e2e:
	@tests/e2e/run.sh

# The cluster tests start their own redis-server: install it when missing (Debian/Ubuntu).
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing redis-server (for the cluster tests)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	  else echo "redis-server is missing: install it (Debian/Ubuntu: sudo apt-get install redis-server)" >&2; exit 1; fi; }

# ---- Issue 20: the scan and preview tests run a clamd of their own (tests/api/clamd.rs) and
# poppler's pdftoppm and ffmpeg: install them when missing (Debian/Ubuntu), like redis-server.
.PHONY: media-tools
media-tools:
	@missing=""; for t in clamd:clamav-daemon sigtool:clamav pdftoppm:poppler-utils ffmpeg:ffmpeg; do \
	  command -v "$${t%%:*}" >/dev/null 2>&1 || missing="$$missing $${t##*:}"; done; \
	  [ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing (for the scan and preview tests)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing:$$missing (Debian/Ubuntu: sudo apt-get install$$missing)" >&2; exit 1; fi; }

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

# Two nodes on one machine sharing the private PostgreSQL and a local Redis: :8080 and :8081.
# Stop with Ctrl-C (both nodes and the Redis this started stop with it).
run-cluster: redis-server
	@mkdir -p target; [ -s $(DEV_SECRET_FILE) ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > $(DEV_SECRET_FILE)
	@$(with_db) export CONFAB__AUTH__JWT_SECRET="$${CONFAB__AUTH__JWT_SECRET:-$$(cat $(DEV_SECRET_FILE))}"; \
	  $(CARGO) build --release --bin confab; \
	  REDIS_PORT=$${REDIS_PORT:-6390}; \
	  redis-server --port $$REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --pidfile $(CURDIR)/target/redis.pid >/dev/null; \
	  export CONFAB__BROKER__REDIS_URL=redis://127.0.0.1:$$REDIS_PORT; \
	  trap 'kill $$(jobs -p) 2>/dev/null; kill $$(cat $(CURDIR)/target/redis.pid) 2>/dev/null' EXIT INT TERM; \
	  CONFAB__SERVER__PORT=8080 target/release/confab serve & \
	  CONFAB__SERVER__PORT=8081 target/release/confab serve & \
	  wait

# Benchmarks (issue 7): Confab beside a Django Channels peer and a Node ws peer, five scenarios,
# results in target/bench/<timestamp>.{json,md}. bench-quick uses small sizes (under 2 minutes
# once built); bench uses the issue's sizes.
bench:
	@scripts/bench.sh
bench-quick:
	@scripts/bench.sh --quick
