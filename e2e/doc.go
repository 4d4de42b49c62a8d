// Package e2e holds the portal's end-to-end tests: they run against the local cloud (started
// once for the package by portaltest), through the gateway, the Lambda Runtime Interface
// Emulator, the real function binaries and the emulators, and drive the site in Chromium.
package e2e
