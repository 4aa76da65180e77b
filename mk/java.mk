# Java: the client package gen/java (Maven, dev.openenv.grpc:openenv-grpc), the
# example trainer examples/java and the conformance client tests/conformance/java.
#
# tools-java: JDK 17+ and Maven must be installed (the build fails, loudly, when
# they are not); protoc and the gRPC Java plugin, which buf runs for `make gen`
# (gen/java/buf.gen.yaml), are Maven Central executables copied into
# $(TOOLS)/bin under versioned names, so the file is its own stamp.
# build-java: `mvn install` of gen/java (compiles the committed generated code
# with the helpers, runs the unit tests, puts the jar in ~/.m2), then the example
# and the conformance client as applications depending on that jar, and a
# launcher script for each with its runtime classpath.
# Maven reuses ~/.m2; a first build downloads about 60 MB there.

JAVA_PROTOC_VERSION := 4.36.2
# 1.84/1.85 executables are not served; 1.83.1's output runs on the 1.85 runtime.
JAVA_GRPC_PLUGIN_VERSION := 1.83.1
JAVA_PLATFORM := linux-$(if $(filter aarch64 arm64,$(shell uname -m)),aarch_64,x86_64)
JAVA_PROTOC := $(TOOLS)/bin/protoc-$(JAVA_PROTOC_VERSION)
JAVA_GRPC_PLUGIN := $(TOOLS)/bin/protoc-gen-grpc-java-$(JAVA_GRPC_PLUGIN_VERSION)
JAVA_MVN := mvn -B -ntp -Dstyle.color=never
JAVA_COPY := $(JAVA_MVN) -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
	-DoutputDirectory=$(TOOLS)/java-download

.PHONY: tools-java build-java java-toolchain

java-toolchain:
	@command -v javac >/dev/null || \
		{ echo "error: no JDK (javac) on PATH: Java needs OpenJDK 17+" >&2; exit 1; }
	@command -v mvn >/dev/null || \
		{ echo "error: no mvn on PATH: Java needs Maven 3.8+" >&2; exit 1; }
	@v=$$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p'); [ "$${v:-0}" -ge 17 ] || \
		{ echo "error: javac $$v found, Java needs 17 or newer" >&2; exit 1; }

tools-java: java-toolchain $(JAVA_PROTOC) $(JAVA_GRPC_PLUGIN)

# $(call java_exe,GROUP:ARTIFACT,VERSION,OUT): Maven Central's executable for this platform.
define java_exe
	$(JAVA_COPY) -Dartifact=$(1):$(2):exe:$(JAVA_PLATFORM)
	install -D -m 0755 $(TOOLS)/java-download/$(lastword $(subst :, ,$(1)))-$(2)-$(JAVA_PLATFORM).exe $(3)
endef

$(JAVA_PROTOC): | java-toolchain
	$(call java_exe,com.google.protobuf:protoc,$(JAVA_PROTOC_VERSION),$@)

$(JAVA_GRPC_PLUGIN): | java-toolchain
	$(call java_exe,io.grpc:protoc-gen-grpc-java,$(JAVA_GRPC_PLUGIN_VERSION),$@)

# $(call java_launcher,PROJECT_DIR,MAIN_CLASS,OUT): a script running MAIN_CLASS with the
# project's classes and its runtime classpath (absolute paths, written at build time).
# This checkout's gen/java classes come first: the jar in ~/.m2 is shared by every
# checkout on the machine, and another one's `mvn install` may have replaced it.
define java_launcher
	mkdir -p $(dir $(3))
	{ echo '#!/bin/sh'; echo '# Written by `make build-java` (mk/java.mk).'; \
	  echo 'exec java -cp "$(CURDIR)/$(1)/target/classes:$(CURDIR)/gen/java/target/classes:'"$$(cat $(1)/target/classpath.txt)"'" \
	  $(2) "$$@"'; } > $(3).tmp && chmod +x $(3).tmp && mv $(3).tmp $(3)
endef

build-java: tools-java
	$(JAVA_MVN) -f gen/java/pom.xml install
	$(JAVA_MVN) -f examples/java/pom.xml package
	$(JAVA_MVN) -f tests/conformance/java/pom.xml package
	$(call java_launcher,examples/java,dev.openenv.grpc.examples.RandomAgent,$(TOOLS)/examples/java)
	$(call java_launcher,tests/conformance/java,dev.openenv.grpc.conformance.Main,$(TOOLS)/conformance/java)
