// Package testfunctions holds functions that exist only to test the local cloud: they are
// never in template.yaml, and the local cloud's tests add them to a copy of it.
package testfunctions
