# authbff: the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
BIN      := bin/authbff
TOOLS    := $(CURDIR)/.cache/bin
GOLANGCI := $(TOOLS)/golangci-lint
GOLANGCI_VERSION := v2.15.0

.PHONY: run build test test-short lint migrate validate cleanup stats bench bench-load fuzz help image example

help:
	@echo "make run       build and serve on http://127.0.0.1:4000 (SQLite + dev IdP when nothing is configured)"
	@echo "make test      start PostgreSQL (and Keycloak), run lint and every test, stop them"
	@echo "make lint      golangci-lint with the architecture (depguard) rules"
	@echo "make build | migrate | validate | cleanup | stats | bench | bench-load | fuzz"
	@echo "make image     the container image $(IMAGE) (static binary FROM scratch, podman)"
	@echo "make example   the Next.js example on http://127.0.0.1:3000 in front of make run's authbff"

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

# bench-load measures GET /api/auth/session of authbff beside its yardsticks
# (a minimal net/http + pgx server and the HTTP ceiling) in one sitting.
bench-load:
	./test/load/session-bench.sh yardsticks

# fuzz runs every fuzz target for FUZZTIME each (docs/security.md, R4);
# crashers land in the package's testdata/fuzz and become regression seeds.
# `make test` runs it with FUZZTIME=60s in CI (CI=true), 10s elsewhere.
FUZZTIME ?= 60s
FUZZ_TARGETS := \
	./adapters/httpapi:FuzzResolveCallbackURL \
	./adapters/httpapi:FuzzParseAuthBody \
	./adapters/httpapi:FuzzCleanProxyPath \
	./adapters/httpapi:FuzzRawCookie \
	./adapters/httpapi:FuzzCallbackQuery \
	./adapters/keycloak:FuzzLogoutToken \
	./adapters/logging:FuzzAccessLineMatchesSlog \
	./adapters/proxy:FuzzSanitize \
	./adapters/store:FuzzParseDatabaseURL \
	./adapters/store:FuzzParseUserView \
	./domain:FuzzParseSessionToken
fuzz:
	@GO=$(GO) ./test/scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

# image builds the static binary outside the image (nothing is pulled from a
# registry: the Dockerfile starts FROM scratch) and stages it with the CA
# bundle and the passwd/group files as the build context.
IMAGE     ?= localhost/authbff:latest
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
PODMAN    ?= podman
IMAGE_CTX := bin/image
image:
	rm -rf $(IMAGE_CTX) && mkdir -p $(IMAGE_CTX)/data
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(IMAGE_CTX)/authbff ./cmd/authbff
	cp $(CA_BUNDLE) $(IMAGE_CTX)/ca-certificates.crt
	cp deploy/image/passwd deploy/image/group $(IMAGE_CTX)/
	$(PODMAN) build -f Dockerfile -t $(IMAGE) $(IMAGE_CTX)

# example runs examples/nextjs on http://127.0.0.1:$(EXAMPLE_PORT) with its
# /api/auth and /api/proxy rewritten to make run's authbff ($(AUTHBFF_URL),
# resolved at next build). Start authbff first, in another terminal, with
# its public URL on the app's origin:
#   AUTH_URL=http://127.0.0.1:3000/api/auth make run
EXAMPLE_PORT ?= 3000
AUTHBFF_URL  ?= http://127.0.0.1:4000
example:
	cd examples/nextjs && npm ci --no-audit --no-fund
	cd examples/nextjs && NEXT_TELEMETRY_DISABLED=1 AUTHBFF_URL=$(AUTHBFF_URL) npx next build
	@echo "==> http://127.0.0.1:$(EXAMPLE_PORT)  (authbff: AUTH_URL=http://127.0.0.1:$(EXAMPLE_PORT)/api/auth make run)"
	cd examples/nextjs && NEXT_TELEMETRY_DISABLED=1 npx next start --hostname 127.0.0.1 --port $(EXAMPLE_PORT)
