// Package catalog holds the portal's one catalogue of consent purposes and optional profile
// fields: catalog.json beside this file. The functions read it through internal/privacy, the
// site reads the same file as Hugo data (hugo.toml mounts this directory's JSON as data), and
// the page scripts read what the site renders from it. A purpose or an optional field is added
// in catalog.json and nowhere else; tests in internal/privacy and site/ fail when the file is
// incomplete or the site and the functions disagree.
//
// The file's shape: "purposes" is a list of {id, essential, marketing, legalBasis ("contract"
// or "consent"), since (the policy version that introduced it), name and description (by
// locale: "en", "zh-CN")}; "optionalFields" is a list of {key (the API's JSON name), purpose
// (the id of the purpose it is stored under), maxLength, pattern (optional; a regular
// expression valid in Go and JavaScript), input (HTML input type, default text), autocomplete,
// label, consent (the consent box's text) and invalid (what a value not matching pattern is
// told), by locale}.
package catalog

import _ "embed"

// JSON is catalog.json, as embedded at build time.
//
//go:embed catalog.json
var JSON string
