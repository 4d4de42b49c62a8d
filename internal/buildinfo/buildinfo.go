// Package buildinfo holds the version stamped into every binary at build time
// (-ldflags "-X github.com/privacyportal/portal/internal/buildinfo.Version=...").
package buildinfo

// Version is the build's version: a git description, or "dev" for unstamped builds.
var Version = "dev"
