# Third-party gRPC tools that check the server from outside the project:
# grpcurl (reflection: list, describe, call with JSON bodies) and
# grpc-health-probe (the probe Kubernetes pods run). Both are Go programs,
# built from the Go module proxy at pinned versions into $(TOOLS)/bin, so
# tests/test_third_party_tools.py runs the same binaries a user would.
# First build a few minutes on 2 cores (most of it downloading and compiling
# modules); about 20 s with ~/go/pkg/mod and the Go build cache warm; nothing
# once the binaries are in place.

GRPCURL_VERSION := v1.9.4
GRPC_HEALTH_PROBE_VERSION := v0.4.63

.PHONY: tools-grpcurl

tools-grpcurl: $(TOOLS)/bin/grpcurl $(TOOLS)/bin/grpc-health-probe ## pinned grpcurl and grpc-health-probe in .tools/bin

# Each binary depends on a stamp named after its version: a new version, or a
# deleted binary, rebuilds it; otherwise nothing runs. GOTOOLCHAIN=local builds
# with the installed Go and never fetches another toolchain.
GRPCURL_STAMPS := $(TOOLS)/stamps/grpcurl-$(GRPCURL_VERSION).version \
	$(TOOLS)/stamps/grpc-health-probe-$(GRPC_HEALTH_PROBE_VERSION).version
$(GRPCURL_STAMPS):
	mkdir -p $(@D)
	touch $@

$(TOOLS)/bin/grpcurl: $(TOOLS)/stamps/grpcurl-$(GRPCURL_VERSION).version
	@command -v go >/dev/null || { echo "error: go not found; install Go (1.26) to build grpcurl" >&2; exit 1; }
	GOBIN=$(TOOLS)/bin GOTOOLCHAIN=local go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)
	touch $@

$(TOOLS)/bin/grpc-health-probe: $(TOOLS)/stamps/grpc-health-probe-$(GRPC_HEALTH_PROBE_VERSION).version
	@command -v go >/dev/null || { echo "error: go not found; install Go (1.26) to build grpc-health-probe" >&2; exit 1; }
	GOBIN=$(TOOLS)/bin GOTOOLCHAIN=local go install github.com/grpc-ecosystem/grpc-health-probe@$(GRPC_HEALTH_PROBE_VERSION)
	touch $@
