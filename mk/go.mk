# Go: the module github.com/openenv-grpc/openenv-grpc/gen/go (generated
# packages plus the openenvgrpc helpers), the example trainer (examples/go)
# and the conformance client (tests/conformance/go), each a module of its
# own with a `replace` to the local gen/go.
#
# tools-go installs the pinned generators into $(TOOLS)/bin (about 1 min the
# first time, then nothing: a stamp per version pair). build-go checks gofmt,
# vets and unit-tests the package and builds both programs (first time, with
# empty caches, about 2 min of CPU and 230 MB of module and build cache).
# Versions come from the committed go.mod/go.sum files; -mod=readonly
# refuses to change them, and GOTOOLCHAIN=local builds with the installed Go
# rather than fetching another. With the module and build caches
# (~/go/pkg/mod, ~/.cache/go-build) a second build takes seconds.

GO ?= go
GO_MIN := 1.26
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GO_TOOLS_STAMP := $(TOOLS)/stamps/go-protoc-gen-go-$(PROTOC_GEN_GO_VERSION)-grpc-$(PROTOC_GEN_GO_GRPC_VERSION)
GO_ENV := GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"
GO_PKG := gen/go
GO_EXAMPLE := examples/go
GO_CONFORMANCE := tests/conformance/go

.PHONY: tools-go build-go go-check

tools-go: go-check $(GO_TOOLS_STAMP) ## protoc-gen-go and protoc-gen-go-grpc, pinned, in .tools/bin

build-go: tools-go ## Go package (vet + unit tests), example trainer, conformance client
	@unformatted=$$(gofmt -l $(GO_PKG)/openenvgrpc $(GO_EXAMPLE) $(GO_CONFORMANCE)); \
	if [ -n "$$unformatted" ]; then echo "error: not gofmt-formatted (run gofmt -w): $$unformatted" >&2; exit 1; fi
	cd $(GO_PKG) && $(GO_ENV) $(GO) vet ./... && $(GO_ENV) $(GO) test ./...
	mkdir -p $(TOOLS)/examples $(TOOLS)/conformance
	cd $(GO_EXAMPLE) && $(GO_ENV) $(GO) vet ./... && $(GO_ENV) $(GO) build -o $(TOOLS)/examples/go .
	cd $(GO_CONFORMANCE) && $(GO_ENV) $(GO) vet ./... && $(GO_ENV) $(GO) build -o $(TOOLS)/conformance/go .

# A missing or old Go fails here, loudly, before anything is built.
go-check:
	@command -v $(GO) >/dev/null || \
		{ echo "error: go not found: Go >= $(GO_MIN) is needed for the Go client; install Go $(GO_MIN)" >&2; exit 1; }
	@v=$$(GOTOOLCHAIN=local $(GO) env GOVERSION | sed 's/^go//'); \
	if [ "$$(printf '%s\n%s\n' "$(GO_MIN)" "$$v" | sort -V | head -n1)" != "$(GO_MIN)" ]; then \
		echo "error: Go $$v is too old: the Go client needs Go >= $(GO_MIN)" >&2; exit 1; fi

$(GO_TOOLS_STAMP):
	mkdir -p $(TOOLS)/bin $(TOOLS)/stamps
	GOBIN=$(TOOLS)/bin GOTOOLCHAIN=local $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS)/bin GOTOOLCHAIN=local $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	touch $@
