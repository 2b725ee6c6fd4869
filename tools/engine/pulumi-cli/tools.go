//go:build tools

// The Pulumi CLI the tests drive, built from the Go module proxy (no PyPI wheel ships the CLI).
// pkg/v3's own go.mod replaces the SDK with a relative path, so `go install ...@version` refuses it;
// this wrapper module requires pkg/v3 and the SDK at one version instead. Build: tools/engine/build-pulumi.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
