# dynapi developer tasks. `make test` is the command CI runs.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2

.PHONY: run test test-short lint vuln bench bench-load build

run: ## serve on 127.0.0.1:8080 with the embedded store under ./data
	$(GO) run ./cmd/dynapi serve

build:
	CGO_ENABLED=0 $(GO) build -o bin/dynapi ./cmd/dynapi

test: ## every test, with the race detector
	$(GO) test -race -count=1 ./...

test-short:
	$(GO) test -short -count=1 ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	.ci/vulncheck

vuln: ## govulncheck on called code (fails on a vulnerable module)
	.ci/vulncheck

bench: ## in-process benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-load: ## wrk against dynapi and fiberlimit on separate cores
	bench/run.sh
