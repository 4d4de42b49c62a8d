package iam

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// Protocol is how a service frames its errors.
type Protocol int

const (
	JSON10  Protocol = iota // DynamoDB, SQS: AWS JSON 1.0
	JSON11                  // KMS, SSM: AWS JSON 1.1
	Query                   // SES v1, SQS's older protocol: a form in, XML out
	RESTXML                 // S3
)

// Fault is an error to answer in a service's protocol.
type Fault struct {
	Status  int
	Code    string
	Message string
	// Type is the JSON protocols' __type when it is not the common one for Code.
	Type string
	// QueryCode is the code an awsQueryCompatible JSON service (SQS) also sends in the
	// x-amzn-query-error header; the SDK reports it as the error code.
	QueryCode string
}

// AccessDenied is the error AWS answers when IAM refuses c, worded per service as AWS words
// it: DynamoDB, KMS and SSM "User: <session> is not authorized to perform: <action> on
// resource: <arn> because no identity-based policy allows the <action> action"; S3 the same
// with the resource in double quotes; SQS with the action in lower case; SES in its older
// "User `<session>' is not authorized to perform `<action>' on resource `<arn>'" form.
func AccessDenied(service string, caller *Caller, c *Check, d Decision) Fault {
	action, resource := c.Action, c.Resource
	switch service {
	case "s3":
		resource = strconv.Quote(resource)
	case "sqs":
		action = strings.ToLower(action)
	case "ses":
		return Fault{Status: 403, Code: "AccessDenied", Message: fmt.Sprintf("User `%s' is not authorized to perform `%s' on resource `%s'", caller.SessionARN, action, resource)}
	}
	why := "because no identity-based policy allows the " + action + " action"
	switch {
	case d.ExplicitDeny && d.ResourcePolicy:
		why = "with an explicit deny in a resource-based policy"
	case d.ExplicitDeny:
		why = "with an explicit deny in an identity-based policy"
	case d.ResourcePolicy:
		why = "because no resource-based policy allows the " + action + " action"
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", caller.SessionARN, action, resource, why)
	switch service {
	case "s3":
		return Fault{Status: 403, Code: "AccessDenied", Message: msg}
	case "sqs":
		return Fault{Status: 403, Code: "AccessDeniedException", QueryCode: "AccessDenied", Message: msg}
	}
	return Fault{Status: 400, Code: "AccessDeniedException", Message: msg}
}

// SQSKMSAccessDenied is SQS's error when the KMS key of an encrypted queue refuses the
// caller: SQS's KmsAccessDenied (query code KMS.AccessDeniedException), carrying KMS's own
// refusal the way SQS relays it.
func SQSKMSAccessDenied(caller *Caller, c *Check, d Decision) Fault {
	kms := AccessDenied("kms", caller, c, d)
	return Fault{Status: 400, Code: "KmsAccessDenied", Type: "com.amazonaws.sqs#KmsAccessDenied", QueryCode: "KMS.AccessDeniedException",
		Message: kms.Message + " (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: " + requestID() + "; Proxy: null)"}
}

// AuthFailure is why a request's authentication failed.
type AuthFailure int

const (
	MissingAuth AuthFailure = iota
	UnknownKey
	BadToken
	BadSignature
	Expired
	BadScope
)

// AuthFault is the error a service answers for an authentication failure. detail replaces the
// default message where AWS words one case differently (an expiry, a wrong scope).
func AuthFault(service string, p Protocol, f AuthFailure, detail string) Fault {
	const badSig = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	const badToken = "The security token included in the request is invalid."
	if service == "s3" {
		switch f {
		case MissingAuth:
			return Fault{Status: 403, Code: "AccessDenied", Message: "Access Denied"}
		case UnknownKey:
			return Fault{Status: 403, Code: "InvalidAccessKeyId", Message: "The AWS Access Key Id you provided does not exist in our records."}
		case BadToken:
			return Fault{Status: 400, Code: "InvalidToken", Message: "The provided token is malformed or otherwise invalid."}
		case Expired:
			if detail == "" {
				return Fault{Status: 403, Code: "RequestTimeTooSkewed", Message: "The difference between the request time and the current time is too large."}
			}
			return Fault{Status: 403, Code: "AccessDenied", Message: detail}
		case BadScope:
			return Fault{Status: 400, Code: "AuthorizationHeaderMalformed", Message: detail}
		}
		return Fault{Status: 403, Code: "SignatureDoesNotMatch", Message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	}
	query := p == Query || service == "sqs"
	msg := detail
	var code, qcode string
	switch f {
	case MissingAuth:
		code, qcode, msg = "MissingAuthenticationTokenException", "MissingAuthenticationToken", "Missing Authentication Token"
	case UnknownKey, BadToken:
		code, qcode, msg = "UnrecognizedClientException", "InvalidClientTokenId", badToken
	default:
		code, qcode = "InvalidSignatureException", "SignatureDoesNotMatch"
		if msg == "" {
			msg = badSig
		}
	}
	if query {
		if p == Query {
			return Fault{Status: 403, Code: qcode, Message: msg}
		}
		return Fault{Status: 403, Code: code, QueryCode: qcode, Message: msg}
	}
	return Fault{Status: 400, Code: code, Message: msg}
}

// RejectFault frames a Reject for a service.
func RejectFault(r *Reject, service string, p Protocol) Fault {
	f := Fault{Status: r.Status, Code: r.Code, Message: r.Message}
	if service == "sqs" && p == JSON10 {
		f.QueryCode = strings.TrimSuffix(r.Code, "Exception")
	}
	return f
}

// Write answers f in protocol p. head says the request was a HEAD (S3 answers those without
// a body).
func (f Fault) Write(w http.ResponseWriter, service string, p Protocol, head bool) {
	id := requestID()
	h := w.Header()
	var body []byte
	switch p {
	case JSON10, JSON11:
		typ := f.Code
		switch {
		case f.Type != "":
			typ = f.Type
		case p == JSON10:
			typ = "com.amazon.coral.service#" + f.Code
		}
		field := "message"
		if service == "dynamodb" && f.Code == "AccessDeniedException" {
			field = "Message" // DynamoDB capitalizes it here
		}
		body, _ = json.Marshal(map[string]string{"__type": typ, field: f.Message})
		if p == JSON10 {
			h.Set("Content-Type", "application/x-amz-json-1.0")
		} else {
			h.Set("Content-Type", "application/x-amz-json-1.1")
		}
		h.Set("X-Amzn-Requestid", id)
		if f.QueryCode != "" {
			h.Set("X-Amzn-Query-Error", f.QueryCode+";Sender")
		}
		if service == "dynamodb" {
			h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
		}
	case Query:
		if f.QueryCode != "" {
			f.Code = f.QueryCode
		}
		ns := "http://ses.amazonaws.com/doc/2010-12-01/"
		if service == "sqs" {
			ns = "http://queue.amazonaws.com/doc/2012-11-05/"
		}
		body = fmt.Appendf(nil, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			ns, html.EscapeString(f.Code), html.EscapeString(f.Message), id)
		h.Set("Content-Type", "text/xml")
		h.Set("X-Amzn-Requestid", id)
	case RESTXML:
		host := requestID() + requestID()
		body = fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>%s</HostId></Error>`,
			html.EscapeString(f.Code), html.EscapeString(f.Message), id, host)
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", id)
		h.Set("X-Amz-Id-2", host)
	}
	if head {
		w.WriteHeader(f.Status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(f.Status)
	_, _ = w.Write(body)
}

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}
