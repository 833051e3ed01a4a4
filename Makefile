# clientreg: one-command set-up. `make run` finds or starts PostgreSQL
# (scripts/postgres.sh), creates the clientreg database, bootstraps the first
# tenant with its first console admin (email and one-time password printed)
# and serves the API and the console on :8080. `make test` runs every test
# against a real server and, for the console, a headless Chromium
# (scripts/chromium.sh installs it when missing).
SHELL := /bin/bash
GO ?= go
ADDR ?= :8080

.PHONY: all run test bench build vet clean

all: build

build:
	$(GO) build -o bin/clientreg ./cmd/clientreg

vet:
	$(GO) vet ./...

# DATABASE_URL: as set by the caller when it is reachable, else the
# `clientreg` database on the server scripts/postgres.sh finds or starts
# (created by `clientreg createdb`).
run: build
	@set -euo pipefail; \
	admin_url=$$(scripts/postgres.sh | tail -n 1); \
	if [ "$${DATABASE_URL:-}" != "$$admin_url" ]; then \
		DATABASE_URL=$$(printf '%s\n' "$$admin_url" | sed -E 's#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/clientreg#'); \
	fi; \
	export DATABASE_URL; \
	mkdir -p .data; \
	printf '%s\n' "$$DATABASE_URL" > .data/database-url; \
	if [ ! -s .data/master.key ]; then \
		( umask 077; head -c 32 /dev/urandom | base64 > .data/master.key ); \
		echo "generated .data/master.key" >&2; \
	fi; \
	export CLIENTREG_MASTER_KEY="$${CLIENTREG_MASTER_KEY:-$$(cat .data/master.key)}"; \
	bin/clientreg createdb; \
	bin/clientreg bootstrap --token-file .data/admin-token; \
	exec bin/clientreg serve --addr $(ADDR)

test:
	@set -euo pipefail; \
	if [ -z "$${TEST_DATABASE_URL:-}" ]; then \
		TEST_DATABASE_URL=$$(scripts/postgres.sh | tail -n 1); \
	fi; \
	export TEST_DATABASE_URL; \
	echo "TEST_DATABASE_URL=$$TEST_DATABASE_URL" >&2; \
	CHROMIUM_PATH=$$(scripts/chromium.sh | tail -n 1); \
	export CHROMIUM_PATH; \
	$(GO) test -race -count=1 -timeout 9m ./...

bench:
	@set -euo pipefail; \
	if [ -z "$${TEST_DATABASE_URL:-}" ]; then \
		TEST_DATABASE_URL=$$(scripts/postgres.sh | tail -n 1); \
	fi; \
	export TEST_DATABASE_URL; \
	$(GO) run ./cmd/clientreg-bench

clean:
	rm -rf bin/
