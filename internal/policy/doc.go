// Package policy reads the catalogue of published privacy-policy versions that the site
// generates at /policy/versions.json, and answers which version is in force on a given day
// and which are published but not yet in force.
//
// A version takes effect no earlier than NoticeDays days after it is published (promise P25);
// Parse rejects a catalogue that breaks that rule, as the site build does.
package policy
