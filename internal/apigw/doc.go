// Package apigw adapts the portal's handlers to API Gateway REST proxy events: it decodes
// request bodies strictly, maps application errors to HTTP statuses in one table, and answers
// every error as an RFC 9457 application/problem+json document.
package apigw
