//go:build tools

// The Kubernetes control plane the tests run on loopback (kube-apiserver, kube-controller-manager, kube-scheduler),
// built from the Go module proxy: no registry here ships these binaries. k8s.io/kubernetes replaces its
// staging modules with ./staging paths, so `go install` refuses it; this wrapper points each one at the
// published k8s.io/<name> module of the same release instead. Build: make control-plane.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
