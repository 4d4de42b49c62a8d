// Package privacy is the portal's domain: data subjects, consent purposes, data-subject
// requests with their deadlines and refusal grounds, and the application error type. It
// imports no AWS SDK; adapters in sibling packages implement its interfaces.
package privacy
