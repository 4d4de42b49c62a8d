# Privacy Portal. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# Lambda runs arm64 (template Globals); the local cloud passes the host's GOARCH instead.
LAMBDA_GOARCH ?= arm64
ARTIFACTS_DIR ?= .build/$(LAMBDA_GOARCH)/$*
GO_LDFLAGS := -s -w -X github.com/privacyportal/portal/internal/buildinfo.Version=$(VERSION)
# lambda.norpc drops the legacy RPC transport provided.al2023 never uses: half the binary.
GO_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) go build -tags lambda.norpc -trimpath -ldflags="$(GO_LDFLAGS)"
PORT ?= 8080
TEST_TIMEOUT ?= 14m
# An execution count, not a duration: with a duration, Go 1.26's fuzz coordinator can fail a
# target with a bare "context deadline exceeded" when the time runs out mid-input on a busy
# machine (golang/go#75804, fixed in Go 1.27). A count has no deadline to race.
FUZZ_TIME ?= 100000x
# Flags of make bench, e.g. -only campaign,export (those measurements only; the results file then
# holds only theirs), -recipients 10000 (a smaller campaign), -send-rate 100 (its SesSendRate).
BENCH_FLAGS ?=

.PHONY: help deps dev test unit fuzz bench build site deploy lint clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

deps: ## Install the pinned emulators (npm ci) and Debian's chromium when missing
	@[ -f infra/node_modules/.package-lock.json ] && [ infra/node_modules/.package-lock.json -nt infra/package-lock.json ] \
		|| (cd infra && npm ci --no-audit --no-fund --loglevel=error)
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is missing: run 'sudo apt-get install -y chromium'" >&2; exit 1; fi; }
	@# Build the pinned Hugo once (about 2 minutes on a cold cache) before tests build sites in parallel.
	@cd site/tools && go tool hugo version >/dev/null

dev: deps ## Run the portal locally on 127.0.0.1:$(PORT) (PORT=... to change); Ctrl-C stops everything
	go run ./infra/cmd/localcloud -addr 127.0.0.1:$(PORT)

# -p 1: one package at a time. On a 2-core machine, the end-to-end package (a whole local
# cloud, Chromium, argon2id in every sign-in) beside another package that starts its own
# emulators starved DynamoDB Local's start past a minute, and noise from a neighbour is what the
# timing test must not measure. One at a time, the suite takes about as long.
test: deps ## Run every test: unit, template, fuzz (short), end to end in Chromium
	go test -p 1 -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(MAKE) --no-print-directory fuzz

unit: ## Run the tests that need no emulator
	go test -count=1 $$(go list ./... | grep -v /e2e)

# Every fuzz target, as package:Target (go test -fuzz takes one target per run).
FUZZ_TARGETS := internal/apigw:FuzzDecodeJSON internal/account:FuzzDecoders internal/consent:FuzzDecoders \
	internal/requests:FuzzFileInput internal/requests:FuzzRoutes \
	internal/mail:FuzzBuildRawHeader internal/mail:FuzzBuildRawAttachment

fuzz: ## Fuzz every request decoder and the mail header builder, FUZZ_TIME (executions or a duration) each
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($${t%%:*}, $(FUZZ_TIME))"; \
		go test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZ_TIME) ./$${t%%:*} || exit 1; done

bench: deps ## Measure the functions, API, exports, erasures and a 100,000-mail campaign beside floors; writes bench/results.json. BENCH_FLAGS="-only campaign" runs some (go run ./infra/cmd/bench -h)
	go run ./infra/cmd/bench -out bench/results.json $(BENCH_FLAGS)

build: site ## Build every function for Lambda (arm64) into .build/ and the site into site/public
	@for f in $$(go run ./infra/cmd/localcloud -list-functions); do \
		$(MAKE) --no-print-directory build-$$f ARTIFACTS_DIR=.build/$(LAMBDA_GOARCH)/$$f || exit 1; \
		ls -l .build/$(LAMBDA_GOARCH)/$$f/bootstrap; done

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set; the code
# lives in functions/<logical id without "Function", lower case>/. The local cloud's own tests
# add a directory of test functions to FUNCTIONS_DIRS.
FUNCTIONS_DIRS ?= functions
build-%Function:
	@name=$$(echo '$*' | tr '[:upper:]' '[:lower:]'); pkg=; \
	for d in $(FUNCTIONS_DIRS); do [ -d "$$d/$$name" ] && { pkg=$$d/$$name; break; }; done; \
	[ -n "$$pkg" ] || { echo "no package $$name for $*Function in: $(FUNCTIONS_DIRS)" >&2; exit 1; }; \
	$(GO_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./$$pkg

site: ## Build the Hugo site into site/public with the template's default parameters
	# Hugo resolves --destination against --source: "public" is site/public.
	cd site/tools && go tool hugo --source .. --destination public --logLevel warn --cleanDestinationDir

deploy: ## Deploy to your AWS account with SAM (first time: make deploy GUIDED=1)
	infra/deploy.sh $(if $(GUIDED),--guided)

lint: ## gofmt, go vet, and go mod tidy leaving no diff
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go mod tidy -diff

clean: ## Remove build output
	rm -rf .build site/public bench/results.json

-include infra/localstack/localstack.mk
