// Package mail renders the portal's e-mail (verification codes, notices to account owners and
// guardians, consent receipts, the operator's marketing mail, the mails of data-subject
// requests: codes, receipts, updates, copies of data, the outcome of an erasure and the
// operator's digest of due requests, and the notices sent to many: a personal information
// security incident and a privacy policy update) in English and Simplified Chinese, as plain
// text and accessible HTML, and builds the raw MIME message an e-mail service sends, with
// attachments (a consent receipt's JSON).
// It imports no AWS SDK.
//
// Every mail says who sent it and why the reader gets it, and links only to the URLs it is
// given and the operator's site: no images, no tracking pixels, no rewritten links, nothing
// fetched on opening (promise P08). Open and click tracking, where a reader asked for it
// (Message.Tracked), is the sending service's, never the templates'. Marketing mail, and only
// marketing mail, carries RFC 8058 one-click unsubscribe headers and shows the unsubscribe
// link (promise P19): a breach notice and a policy update go whatever the reader's marketing
// choice, and offer no unsubscribe.
package mail
