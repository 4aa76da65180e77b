//go:build tools

// Package tools pins the control-plane commands that mk/k8s.mk builds with
// `go build k8s.io/kubernetes/cmd/<name>` from this module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
