# C++: the CMake package openenv_grpc (gen/cpp: the generated messages and
# stubs plus the tensor, error and session helpers), the example trainer
# (examples/cpp) and the conformance client (tests/conformance/cpp). The
# last two are built against the package as installed into $(CPP_PREFIX),
# through find_package(openenv_grpc), the way a user's project finds it.
#
# tools-cpp installs Debian 12's packages when they are missing (apt-get,
# as root) and fails unless they are the versions gen/cpp was generated
# for: gRPC 1.51 and protobuf 3.21, whose /usr/bin/protoc and
# grpc_cpp_plugin gen/cpp/buf.gen.yaml runs (generated code compiles only
# against the protobuf that generated it); nlohmann-json 3.11 for the
# conformance client; GoogleTest 1.12 for the unit tests; CMake 3.25. The
# Debian release pins them. About 15 s when missing, nothing after (stamp).
#
# build-cpp: about 3 min on 2 cores the first time (the generated .pb.cc
# files are most of it), then seconds: CMake rebuilds only what changed.
# Build trees live in $(CPP_OUT), never in git.

CPP_DEBS := cmake g++ libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
	nlohmann-json3-dev libgtest-dev
CPP_OUT := $(TOOLS)/cpp
CPP_PREFIX := $(CPP_OUT)/prefix
CPP_JOBS ?= $(shell nproc)
CPP_CMAKE := cmake -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=$(CPP_PREFIX)
CPP_TOOLS_STAMP := $(TOOLS)/stamps/cpp-debian12-grpc1.51-protobuf3.21

.PHONY: tools-cpp build-cpp

tools-cpp: $(CPP_TOOLS_STAMP) ## Debian's gRPC 1.51, protobuf 3.21 (protoc, grpc_cpp_plugin), nlohmann-json, GoogleTest

build-cpp: tools-cpp ## C++ package (unit tests, install), example trainer, conformance client, doc snippet
	$(CPP_CMAKE) -S gen/cpp -B $(CPP_OUT)/package -DOPENENV_GRPC_TESTS=ON -DOPENENV_GRPC_WERROR=ON >/dev/null
	cmake --build $(CPP_OUT)/package --parallel $(CPP_JOBS)
	ctest --test-dir $(CPP_OUT)/package --output-on-failure
	cmake --install $(CPP_OUT)/package --prefix $(CPP_PREFIX) >/dev/null
	$(CPP_CMAKE) -S examples/cpp -B $(CPP_OUT)/example >/dev/null
	cmake --build $(CPP_OUT)/example --parallel $(CPP_JOBS)
	$(CPP_CMAKE) -S tests/conformance/cpp -B $(CPP_OUT)/conformance >/dev/null
	cmake --build $(CPP_OUT)/conformance --parallel $(CPP_JOBS)
	install -D -m 755 $(CPP_OUT)/example/trainer $(TOOLS)/examples/cpp
	install -D -m 755 $(CPP_OUT)/conformance/conformance $(TOOLS)/conformance/cpp
	$(MAKE) --no-print-directory $(CPP_OUT)/doc/snippet

# The code of docs/clients/cpp.md, compiled and linked as a user would,
# so the docs cannot drift from the API.
$(CPP_OUT)/doc/snippet: docs/clients/cpp.md $(CPP_PREFIX)/lib/libopenenv_grpc.a
	mkdir -p $(@D)
	sed -n '/^```cpp$$/,/^```$$/p' docs/clients/cpp.md | sed '1d;$$d' > $(@D)/snippet.cc
	test -s $(@D)/snippet.cc || { echo "error: no cpp block in docs/clients/cpp.md" >&2; exit 1; }
	g++ -std=c++17 -Wall -Wextra -Werror $(@D)/snippet.cc -I$(CPP_PREFIX)/include \
		$(CPP_PREFIX)/lib/libopenenv_grpc.a $$(pkg-config --cflags --libs grpc++ protobuf) -o $@

$(CPP_TOOLS_STAMP): mk/cpp.mk
	@missing=""; for p in $(CPP_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { echo "error: the C++ client needs \
	Debian 12 packages:$$missing (as root: apt-get update && apt-get install -y$$missing)" >&2; exit 1; }; \
		echo "tools-cpp: apt-get install$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	fi
	@v=$$(dpkg-query -W -f='$${Version}' libgrpc++-dev); case "$$v" in 1.51.*) ;; *) echo "error: gen/cpp \
	needs gRPC 1.51 (Debian 12's libgrpc++-dev), found $$v" >&2; exit 1;; esac
	@v=$$(/usr/bin/protoc --version); case "$$v" in *" 3.21."*) ;; *) echo "error: gen/cpp needs \
	protoc 3.21 (Debian 12's protobuf-compiler), found $$v" >&2; exit 1;; esac
	@v=$$(cmake --version | sed -n 's/^cmake version //p'); \
	[ "$$(printf '3.25\n%s\n' "$$v" | sort -V | head -n1)" = 3.25 ] || \
		{ echo "error: the C++ client needs CMake >= 3.25, found $$v" >&2; exit 1; }
	@mkdir -p $(@D) && touch $@
