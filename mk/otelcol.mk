# A real OpenTelemetry Collector for the tests: built by the collector builder
# (ocb) from tests/otelcol/builder.yaml, which names exactly the components of
# deploy/otel-collector.yaml (core v0.165.0, contrib v0.165.1, confmap
# providers v1.71.0), into .tools/otelcol/otelcol. tests/test_deploy_otelcol.py
# runs `otelcol validate` on the deploy config and sends our server's spans
# and metrics through it.
#
# Built once: the builder's binary carries its version in its name, and the
# collector is rebuilt only when tests/otelcol/builder.yaml (where the
# component versions are) or the builder changes. First build: about 5 min of
# CPU (on 2 idle cores about 3 min, plus module downloads); a relink after a
# builder.yaml change with warm Go caches, seconds; nothing after that.

OTELCOL_BUILDER_VERSION := v0.165.0
OTELCOL_BUILDER := $(TOOLS)/bin/ocb-$(OTELCOL_BUILDER_VERSION)
OTELCOL := $(TOOLS)/otelcol/otelcol

.PHONY: tools-otelcol

tools-otelcol: $(OTELCOL) ## the OpenTelemetry Collector of deploy/otel-collector.yaml, built with ocb, in .tools/otelcol

$(OTELCOL_BUILDER):
	@command -v go >/dev/null || { echo "error: go not found; install Go (1.26) to build the collector" >&2; exit 1; }
	mkdir -p $(TOOLS)/ocb-install
	GOBIN=$(TOOLS)/ocb-install GOTOOLCHAIN=local go install go.opentelemetry.io/collector/cmd/builder@$(OTELCOL_BUILDER_VERSION)
	mkdir -p $(@D)
	mv $(TOOLS)/ocb-install/builder $@
	rmdir $(TOOLS)/ocb-install

# ocb writes the sources next to the binary (output_path in builder.yaml),
# runs `go mod tidy` and `go build` there.
$(OTELCOL): tests/otelcol/builder.yaml $(OTELCOL_BUILDER)
	cd tests/otelcol && GOTOOLCHAIN=local $(OTELCOL_BUILDER) --config builder.yaml
	touch $@
