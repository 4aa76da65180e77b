# Rust: the crate openenv-grpc (gen/rust: generated code plus helpers), the
# example trainer (examples/rust) and the conformance client
# (tests/conformance/rust), one Cargo workspace rooted at gen/rust with one
# committed Cargo.lock.
#
# tools-rust builds the buf plugins protoc-gen-prost and protoc-gen-tonic
# (crates.io, pinned, --locked to their own lock files) into $(TOOLS)/bin,
# as debug builds: they only generate code, and a debug build takes half the
# time (about 40 s on 2 cores the first time, then nothing: a stamp per
# version pair). build-rust runs the unit tests and builds both programs in
# one release profile, so the dependencies compile once (about 1 min 45 s
# the first time; with $(RUST_TARGET) in place, a few seconds). --locked
# refuses to change Cargo.lock; ~/.cargo/registry caches the downloads.

CARGO ?= cargo
RUST_MIN := 1.88
PROTOC_GEN_PROST_VERSION := 0.5.0
PROTOC_GEN_TONIC_VERSION := 0.5.0
RUST_TOOLS_STAMP := $(TOOLS)/stamps/rust-protoc-gen-prost-$(PROTOC_GEN_PROST_VERSION)-tonic-$(PROTOC_GEN_TONIC_VERSION)
RUST_TARGET := $(TOOLS)/cargo-target
RUST_CARGO := cd gen/rust && CARGO_TARGET_DIR=$(RUST_TARGET) $(CARGO)

.PHONY: tools-rust build-rust lint-rust rust-check

tools-rust: rust-check $(RUST_TOOLS_STAMP) ## protoc-gen-prost and protoc-gen-tonic, pinned, in .tools/bin

build-rust: tools-rust ## Rust crate (unit tests), example trainer, conformance client
	$(RUST_CARGO) test --locked --release --workspace
	$(RUST_CARGO) build --locked --release --workspace --bins
	mkdir -p $(TOOLS)/examples $(TOOLS)/conformance
	install -m 755 $(RUST_TARGET)/release/random-policy $(TOOLS)/examples/rust
	install -m 755 $(RUST_TARGET)/release/openenv-conformance $(TOOLS)/conformance/rust

# Style and lints of all three crates (not part of build-rust: clippy checks
# every dependency again, which costs a first build another minute).
lint-rust: rust-check
	$(RUST_CARGO) fmt --all --check
	$(RUST_CARGO) clippy --locked --release --workspace --all-targets -- -D warnings

# A missing or old Rust toolchain fails here, loudly, before anything is built.
rust-check:
	@command -v $(CARGO) >/dev/null || \
		{ echo "error: cargo not found: Rust >= $(RUST_MIN) is needed for the Rust client; install Rust 1.95 (rustup)" >&2; exit 1; }
	@v=$$($(CARGO) --version | cut -d' ' -f2); \
	if [ "$$(printf '%s\n%s\n' "$(RUST_MIN)" "$$v" | sort -V | head -n1)" != "$(RUST_MIN)" ]; then \
		echo "error: Rust $$v is too old: the Rust client needs Rust >= $(RUST_MIN)" >&2; exit 1; fi

# One target dir for both plugins, so the second reuses what they share
# (prost-build and its dependencies); removed once they are installed.
$(RUST_TOOLS_STAMP):
	mkdir -p $(TOOLS)/bin $(TOOLS)/stamps
	CARGO_TARGET_DIR=$(TOOLS)/cargo-install $(CARGO) install --locked --debug --force --root $(TOOLS) \
		protoc-gen-prost@$(PROTOC_GEN_PROST_VERSION) protoc-gen-tonic@$(PROTOC_GEN_TONIC_VERSION)
	rm -rf $(TOOLS)/cargo-install
	touch $@
