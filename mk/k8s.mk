# deploy/k8s on a real Kubernetes API server (tests/k8s, `make test-k8s`):
# etcd from Debian (etcd-server), kube-apiserver, kube-controller-manager and
# kube-scheduler built from the Go module proxy through the wrapper module
# tests/k8s/tools (k8s.io/kubernetes cannot be `go install`ed), and kwok, whose
# fake nodes run the pods (marked Running; no container ever runs). kubectl is
# the machine's.
#
# Everything lands in one folder named after both versions,
# .tools/k8s/<kubernetes version>-kwok-<kwok version>/: it is built once and
# only a new version (in tests/k8s/tools/go.mod, or KWOK_VERSION here) builds
# it again. First build with empty Go caches: about 22 min of CPU for the
# three control-plane binaries (kube-apiserver 16, the other two 6) and 4.5
# for kwok, so roughly 13 min on 2 idle cores, plus module downloads; with
# warm Go caches (a new folder, same sources) 2 min; nothing after that.

K8S_VERSION := $(shell sed -n 's|^require k8s.io/kubernetes ||p' tests/k8s/tools/go.mod)
KWOK_VERSION := v0.8.0
K8S_TOOLS := $(TOOLS)/k8s/$(K8S_VERSION)-kwok-$(KWOK_VERSION)
K8S_CONTROL_PLANE := kube-apiserver kube-controller-manager kube-scheduler

.PHONY: tools-k8s test-k8s k8s-check

tools-k8s: k8s-check $(K8S_TOOLS)/.done ## etcd, kube-apiserver, -controller-manager, -scheduler and kwok for test-k8s

test-k8s: $(STAMP) tools-k8s ## deploy/k8s applied to a real API server: dry run, apply, roll out, roll an image change
	@OPENENV_GRPC_K8S_TOOLS=$(K8S_TOOLS) $(BIN)/python -m pytest tests/k8s $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; exit $$rc

# Debian's etcd (3.4) when it is missing, as tools-cpp does for its packages.
k8s-check:
	@command -v kubectl >/dev/null || { echo "error: kubectl not found: test-k8s applies deploy/k8s with it" >&2; exit 1; }
	@command -v go >/dev/null || { echo "error: go not found; install Go (1.26) to build the control plane" >&2; exit 1; }
	@command -v etcd >/dev/null || { \
		command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { echo "error: etcd not found \
	(as root: apt-get update && apt-get install -y etcd-server)" >&2; exit 1; }; \
		echo "tools-k8s: apt-get install etcd-server"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null; }

# The versions are pinned by tests/k8s/tools/go.mod and go.sum (-mod=readonly
# refuses any change); kwok's stage configs (what a fake node and pod do) come
# from its module, rendered into one file.
$(K8S_TOOLS)/.done:
	mkdir -p $(K8S_TOOLS)
	cd tests/k8s/tools && GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" \
		go build -o $(K8S_TOOLS)/ $(addprefix k8s.io/kubernetes/cmd/,$(K8S_CONTROL_PLANE))
	GOBIN=$(K8S_TOOLS) GOTOOLCHAIN=local go install sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION)
	kubectl kustomize "$$(GOTOOLCHAIN=local go env GOMODCACHE)/sigs.k8s.io/kwok@$(KWOK_VERSION)/kustomize/stage/fast" \
		> $(K8S_TOOLS)/kwok-stages.yaml
	touch $@
