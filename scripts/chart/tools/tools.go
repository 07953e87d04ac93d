//go:build tools

// Package tools pins the chart's tools: helm, which the tests use to lint, install, upgrade and
// uninstall the console's chart, and crane, which pushes the console's image archive to a registry.
// scripts/chart/tools.sh builds both from here.
package tools

import (
	_ "github.com/google/go-containerregistry/cmd/crane"
	_ "helm.sh/helm/v4/cmd/helm"
)
