// Package mail renders the portal's e-mail (verification codes, notices to account owners and
// guardians) in English and Simplified Chinese, as plain text and accessible HTML, and builds
// the raw MIME message an e-mail service sends. It imports no AWS SDK.
//
// Every mail says who sent it and why the reader gets it, and links only to the URLs it is
// given and the operator's site: no images, no tracking pixels, nothing fetched on opening
// (promise P08).
package mail
