//go:build tools

// Package tools pins Traefik for the local cluster's Traefik image. This module exists because
// `go install github.com/traefik/traefik/v3/cmd/traefik@version` refuses a module with replace
// lines: go.mod copies Traefik's own, and build.sh builds its command from here.
package tools

import _ "github.com/traefik/traefik/v3/cmd/traefik"
