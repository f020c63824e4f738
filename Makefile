# Entry points. `run` and `test` need only Rust, Python 3.11, Node.js 20 and npm: the local
# tools (.venv, the issuer's node_modules) are installed on first use by infra/local/stack.sh.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

STACK := bash infra/local/stack.sh
SAM_LOCAL := bash infra/local/sam_local.sh
TEMPLATE := infra/template.yaml
# The event the job gets from `make run`.
JOB_EVENT := events/schedule.json

# cargo-deny, pinned, built from crates.io into .tools/ on first use (a few minutes, once per
# version). Without LTO: it checks a lock file, its own speed does not matter.
DENY_VERSION := 0.20.2
DENY_ROOT := $(CURDIR)/.tools/cargo-deny-$(DENY_VERSION)
DENY := $(DENY_ROOT)/bin/cargo-deny

# cargo-lambda, zig, sam and cfn-lint live in the venv; SAM's cargo-lambda build needs them on PATH.
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0

.PHONY: help install up down status run test test-sam deny audit lint build deploy invoke-api invoke-job start-api fuzz bench load profile public-jwk

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-11s %s\n", $$1, $$2 }'

install: ## Install the local tools (only what changed)
	@$(STACK) install

up: ## Start the local stand-ins; environment in .local/stack.env
	@$(STACK) up

down: ## Stop the local stand-ins
	@$(STACK) down

status: ## Show the local stand-ins
	@$(STACK) status

run: ## Run the job once against the local stand-ins, show its answer and the stored rows
	@trap '$(STACK) down' EXIT; \
	$(STACK) up; \
	. .local/stack.env; \
	echo "== answer of timesheets-job"; \
	rc=0; \
	cargo lambda invoke timesheets-job --invoke-address 127.0.0.1 --invoke-port "$$LAMBDA_PORT" \
	  --data-file $(JOB_EVENT) || rc=$$?; \
	echo; \
	echo "== function logs (.local/logs/lambda.log)"; \
	cat .local/logs/lambda.log; \
	echo "== rows in $$TIMESHEETS_TABLE"; \
	python infra/local/show_rows.py || true; \
	exit $$rc

$(DENY):
	CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
	  cargo install --locked --quiet --root $(DENY_ROOT) cargo-deny --version $(DENY_VERSION)

# What the functions ship (deny.toml): one version each of rustls, rustls-webpki, hyper,
# hyper-rustls and h2; no ring, openssl or native-tls; permissive licences; crates.io only.
deny: $(DENY) ## Supply-chain gate: cargo deny check bans licenses sources (deny.toml)
	$(DENY) check --hide-inclusion-graph bans licenses sources

# The RustSec advisory database is a git repository on GitHub, fetched into cargo-deny's own
# place (~/.cargo/advisory-dbs). AUDIT_OFFLINE=1 checks against the copy already there.
audit: $(DENY) ## RustSec advisories against Cargo.lock (cargo deny check advisories; needs github.com)
	@if [ -z "$${AUDIT_OFFLINE:-}" ] && ! $(DENY) fetch db 2>/dev/null; then \
	  echo "make audit: the RustSec advisory database (https://github.com/RustSec/advisory-db) could not be fetched:" >&2; \
	  echo "make audit: NO advisory check was made. Retry with network access, or AUDIT_OFFLINE=1 to use the last fetched copy." >&2; \
	  exit 2; \
	fi
	$(DENY) --offline check --hide-inclusion-graph advisories

test: install deny ## Supply-chain gate, template lint, unit tests, stand-in tests, then end-to-end and contract tests on the stand-ins
	@if [ -f $(TEMPLATE) ]; then \
	  cfn-lint $(TEMPLATE); \
	  (cd infra && sam validate --lint -t template.yaml); \
	else \
	  echo "make test: $(TEMPLATE) does not exist yet: skipping cfn-lint and sam validate"; \
	fi
	cargo test --workspace --exclude e2e
	@if [ -d tests/infra ]; then \
	  rc=0; pytest -q -p no:cacheprovider tests/infra || rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no tests in tests/infra"; elif [ $$rc -ne 0 ]; then exit $$rc; fi; \
	fi
	pytest -q -p no:cacheprovider infra/local/tests
	@trap '$(STACK) down' EXIT; \
	$(STACK) up; \
	. .local/stack.env; \
	cargo test -p e2e; \
	pytest -q -p no:cacheprovider tests/contract

# sam build, then sam local invoke and start-api in Docker on the stand-ins (docs/sam-local.md).
test-sam: install ## sam build, then the sam local tests on the stand-ins (needs Docker, or root to start one)
	@$(SAM_LOCAL) test

lint: install ## rustfmt, clippy, the verifier library's docs and package, cfn-lint, sam validate --lint
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc -p jwt-access-token --no-deps
	cargo package -p jwt-access-token --allow-dirty --quiet
	cfn-lint $(TEMPLATE)
	cd infra && sam validate --lint -t template.yaml

# --no-cached: SAM's cache hashes all of CodeUri (the workspace, target/ and .venv included) on
# every build and fails when cargo writes to target/ meanwhile; cargo's own cache is enough.
build: install ## sam build (arm64 through cargo-lambda and zig), then the bootstrap sizes
	cd infra && sam build --no-cached
	python infra/local/bootstrap_sizes.py infra/.aws-sam/build

# samconfig.toml is read from infra/. Until its deploy parameters name a real issuer, ask for them.
deploy: build ## sam deploy with infra/samconfig.toml (--guided until it is filled in)
	@cd infra; \
	if grep -q '^\[default\.deploy\.parameters\]' samconfig.toml 2>/dev/null \
	   && ! grep -q 'YOUR_DOMAIN' samconfig.toml; then \
	  sam deploy; \
	else \
	  sam deploy --guided; \
	fi

# sam local needs Docker; these run on the stand-ins, with no AWS account (docs/sam-local.md).
invoke-api: build ## sam local invoke of the API with events/upload.json and a local token (needs Docker)
	@$(SAM_LOCAL) invoke-api

invoke-job: build ## sam local invoke of the job with events/schedule.json, through sam local start-api
	@$(SAM_LOCAL) invoke-job

start-api: build ## sam local start-api on http://127.0.0.1:3000 with the stand-ins, until Ctrl-C
	@$(SAM_LOCAL) start-api

fuzz: ## The property-based fuzz tests (bearer, token, body parsing) with 20000 cases each
	PROPTEST_CASES=20000 cargo test -p jwt-access-token --lib bearer_extraction_never_panics
	PROPTEST_CASES=20000 cargo test -p timesheets-api --test fuzz

# Release bootstraps built as `cargo lambda build` builds them (each package on its own, so no
# other package's features leak in), then the bench driver; figures in docs/performance.md.
bench: install ## Figures of the API function next to a hello-world lambda_http function and a one-PutItem one
	cargo build --release -p timesheets-api --bin timesheets-api
	cargo build --release -p timesheets-job --bin timesheets-job
	cargo build --release -p hello-lambda
	cargo build --release -p hello-put
	cargo build --release -p lambda-bench
	target/release/lambda-bench --api target/release/timesheets-api \
	  --hello target/release/hello-lambda --hello-put target/release/hello-put \
	  --job target/release/timesheets-job --repo .

# Bounded (20,000 entries), not part of `make test`: 8 release API sandboxes on the local DynamoDB.
load: install ## Load test: 8 API sandboxes, 20,000 entries with duplicates; rows, ids, replays, counter writes
	cargo build --release -p timesheets-api --bin timesheets-api
	cargo build --release -p lambda-bench
	target/release/lambda-bench --load --api target/release/timesheets-api --repo .

# The same bootstraps with symbols (profile `profiling`), warm requests under callgrind.
profile: install ## Where a warm request's CPU goes, by function (callgrind; dumps in .local/profile)
	cargo build --profile profiling -p timesheets-api --bin timesheets-api
	cargo build --profile profiling -p hello-lambda
	cargo build --release -p lambda-bench
	target/release/lambda-bench --api target/profiling/timesheets-api \
	  --hello target/profiling/hello-lambda --repo . --profile .local/profile

# The job's private_key_jwt signing key, to register with the issuer: STACK_NAME=<stack> or
# KEY_ID=<kms key> read from AWS, else the key of the running local stand-ins (.local/stack.env).
# FORMAT=jwk (default), jwks, pem (Auth0 Dashboard) or auth0 (Management API body); ALG= overrides.
public-jwk: install ## Print the job's public signing key as a JWK (STACK_NAME=, KEY_ID=, FORMAT=, ALG=)
	@if [ -z "$(STACK_NAME)$(KEY_ID)" ] && [ -f .local/stack.env ]; then . .local/stack.env; fi; \
	python infra/local/public_jwk.py $(if $(STACK_NAME),--stack-name '$(STACK_NAME)') $(if $(KEY_ID),--key-id '$(KEY_ID)') \
	  $(if $(ALG),--alg '$(ALG)') $(if $(FORMAT),--format '$(FORMAT)')
