# TypeScript: the npm package @openenv-grpc/client (gen/ts), the example
# trainer (examples/ts) and the conformance client (tests/conformance/ts).
#
# Every version comes from a committed package-lock.json through `npm ci`
# (cache: ~/.npm): protoc-gen-es 2.13.0 and the runtime (@bufbuild/protobuf
# 2.13.0, @connectrpc/connect and connect-node 2.1.2) in gen/ts, the newest
# that run on Node 20. Each step is a file target, so a second build only
# redoes what changed: npm ci when a lock file changes, tsc when sources
# change, the unit tests when the package or its tests change. The example
# and the conformance client install the package as a registry would (npm
# packs gen/ts: see their .npmrc), so they are reinstalled whenever the
# package's build output changes.

TS_PKG := gen/ts
TS_EXAMPLE := examples/ts
TS_CONFORMANCE := tests/conformance/ts
TS_NODE_MIN := 20
TS_NPM_CI := npm ci --no-audit --no-fund --loglevel=error
TS_SOURCES := $(shell find $(TS_PKG)/src -name '*.ts' 2>/dev/null)
TS_TESTS := $(shell find $(TS_PKG)/test -name '*.ts' 2>/dev/null)

.PHONY: tools-ts build-ts ts-node-check

tools-ts: ts-node-check $(TS_PKG)/node_modules/.package-lock.json ## protoc-gen-es, tsc and the runtime, from gen/ts/package-lock.json

build-ts: tools-ts $(TOOLS)/stamps/ts-unit-tests $(TOOLS)/examples/ts $(TOOLS)/conformance/ts \
	$(TOOLS)/stamps/ts-doc-snippet ## package (tsc + unit tests), example, conformance client

# A missing or old Node fails here, loudly, before anything is installed.
ts-node-check:
	@command -v node >/dev/null && command -v npm >/dev/null || \
		{ echo "error: node and npm (Node >= $(TS_NODE_MIN)) are needed for TypeScript; install Node $(TS_NODE_MIN)" >&2; exit 1; }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= $(TS_NODE_MIN) ? 0 : 1)' || \
		{ echo "error: Node $$(node --version) is too old: the TypeScript client needs Node >= $(TS_NODE_MIN)" >&2; exit 1; }

# npm writes node_modules/.package-lock.json on every install: a stamp that
# disappears with node_modules, so a deleted install is noticed.
$(TS_PKG)/node_modules/.package-lock.json: $(TS_PKG)/package.json $(TS_PKG)/package-lock.json | ts-node-check
	cd $(TS_PKG) && $(TS_NPM_CI)
	@touch $@

$(TS_PKG)/dist/index.js: $(TS_SOURCES) $(TS_PKG)/tsconfig.json $(TS_PKG)/node_modules/.package-lock.json
	cd $(TS_PKG) && npm run --silent build
	@touch $@

$(TOOLS)/stamps/ts-unit-tests: $(TS_PKG)/dist/index.js $(TS_TESTS) $(TS_PKG)/tsconfig.test.json
	cd $(TS_PKG) && npm test --silent
	@mkdir -p $(@D) && touch $@

# The example and the conformance client: npm ci (a fresh copy of the
# package), tsc, and a launcher in .tools that runs the build with node.
define ts_program
# npm ci does not compare the package's own dependencies with this lock
# file: loading the package catches one the lock lacks (refresh the lock
# with `npm install` here after changing gen/ts/package.json).
$(1)/node_modules/.package-lock.json: $(1)/package.json $(1)/package-lock.json $(TS_PKG)/dist/index.js
	cd $(1) && $(TS_NPM_CI)
	cd $(1) && node --input-type=module -e 'await import("@openenv-grpc/client")'
	@touch $$@

$(1)/dist/main.js: $(shell find $(1)/src -name '*.ts' 2>/dev/null) $(1)/tsconfig.json $(1)/node_modules/.package-lock.json
	cd $(1) && npm run --silent build
	@touch $$@

$(2): $(1)/dist/main.js
	@mkdir -p $$(@D)
	printf '#!/bin/sh\nexec node "%s" "$$$$@"\n' "$(CURDIR)/$(1)/dist/main.js" > $$@
	chmod +x $$@
endef

$(eval $(call ts_program,$(TS_EXAMPLE),$(TOOLS)/examples/ts))
$(eval $(call ts_program,$(TS_CONFORMANCE),$(TOOLS)/conformance/ts))

# docs/clients/ts.md shows code that must compile: type-check its ```ts block
# against the installed package, beside the example (gitignored build/).
$(TOOLS)/stamps/ts-doc-snippet: docs/clients/ts.md $(TS_EXAMPLE)/node_modules/.package-lock.json
	@mkdir -p $(TS_EXAMPLE)/build $(@D)
	sed -n '/^```ts$$/,/^```$$/{/^```/d;p;}' $< > $(TS_EXAMPLE)/build/doc_snippet.ts
	cd $(TS_EXAMPLE) && npx --no-install tsc --noEmit --strict --skipLibCheck --target ES2022 \
		--module NodeNext --moduleResolution NodeNext --types node build/doc_snippet.ts
	@touch $@
