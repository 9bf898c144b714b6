# authbff: the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
BIN      := bin/authbff
TOOLS    := $(CURDIR)/.cache/bin
GOLANGCI := $(TOOLS)/golangci-lint
GOLANGCI_VERSION := v2.15.0

.PHONY: run build test test-short lint migrate validate cleanup stats bench fuzz help

help:
	@echo "make run       build and serve on http://127.0.0.1:4000 (SQLite + dev IdP when nothing is configured)"
	@echo "make test      start PostgreSQL (and Keycloak), run lint and every test, stop them"
	@echo "make lint      golangci-lint with the architecture (depguard) rules"
	@echo "make build | migrate | validate | cleanup | stats | bench | fuzz"

build:
	$(GO) build -o $(BIN) ./cmd/authbff

run: build
	./$(BIN) serve

# test starts what the tests need (a throwaway PostgreSQL cluster, Keycloak from
# Maven Central), runs lint and `go test -race ./...`, and stops them again.
test:
	./test/scripts/test.sh

test-short:
	$(GO) test -short ./...

$(GOLANGCI):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

lint: $(GOLANGCI)
	$(GOLANGCI) run ./...

migrate: build
	./$(BIN) migrate up

validate: build
	./$(BIN) validate

cleanup: build
	./$(BIN) sessions cleanup

stats: build
	./$(BIN) sessions stats

bench:
	./test/scripts/test.sh bench

# fuzz runs every fuzz target for FUZZTIME each (docs/security.md, R4);
# crashers land in the package's testdata/fuzz and become regression seeds.
# `make test` runs it with FUZZTIME=10s.
FUZZTIME ?= 60s
FUZZ_TARGETS := \
	./adapters/httpapi:FuzzResolveCallbackURL \
	./adapters/httpapi:FuzzParseAuthBody \
	./adapters/proxy:FuzzStripOwned \
	./adapters/proxy:FuzzStripAuthCookies \
	./adapters/store:FuzzParseDatabaseURL \
	./domain:FuzzParseSessionToken
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "==> $${t#*:} ($${t%%:*}, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done
