package iam

import (
	"bufio"
	"encoding/base64"
	"io"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// sesSendActions are the SES v1 sending operations, authorized on the sending identity (and
// the configuration set, when one is named). Every other v1 operation is authorized on "*".
var sesSendActions = map[string]bool{
	"SendEmail": true, "SendRawEmail": true, "SendTemplatedEmail": true, "SendBulkTemplatedEmail": true,
}

// SESChecks maps an SES v1 request (query protocol: a form with Action=<Op>) to the checks
// IAM makes. A send is authorized on arn:aws:ses:<region>:<acct>:identity/<address> for the
// Source address (or the identity SourceArn/FromArn/ReturnPathArn name, for sending
// authorization) and on configuration-set/<name> when ConfigurationSetName is given. AWS
// checks the identity that is verified, which may be the address's domain: the local cloud
// has no verified identities and takes the address's own.
func SESChecks(form url.Values, region, account string) (op string, checks []Check, err error) {
	op = form.Get("Action")
	if op == "" {
		return "", nil, &Reject{400, "MissingAction", "Missing Action"}
	}
	if !sesSendActions[op] {
		return op, []Check{{Action: "ses:" + op, Resource: "*"}}, nil
	}
	arn := func(kind, name string) string {
		return "arn:aws:ses:" + region + ":" + account + ":" + kind + "/" + name
	}
	source := form.Get("Source")
	var recipients []string
	for _, prefix := range []string{"Destinations.member.", "Destination.ToAddresses.member.", "Destination.CcAddresses.member.", "Destination.BccAddresses.member."} {
		recipients = append(recipients, members(form, prefix)...)
	}
	configSet := form.Get("ConfigurationSetName")
	if op == "SendRawEmail" && (source == "" || len(recipients) == 0 || configSet == "") {
		// Without Source or Destinations, SES reads the message's own headers.
		from, to, set := rawHeaders(form.Get("RawMessage.Data"))
		if source == "" {
			source = from
		}
		if len(recipients) == 0 {
			recipients = to
		}
		if configSet == "" {
			configSet = set
		}
	}
	keys := map[string][]string{}
	var identities []string
	if source != "" {
		addr, err := netmail.ParseAddress(source)
		if err != nil {
			return op, nil, &Reject{400, "InvalidParameterValue", "Illegal address"}
		}
		keys["ses:fromaddress"] = []string{addr.Address}
		if addr.Name != "" {
			keys["ses:fromdisplayname"] = []string{addr.Name}
		}
		identities = append(identities, arn("identity", addr.Address))
	}
	if len(recipients) > 0 {
		keys["ses:recipients"] = recipients
	}
	if v := form.Get("ReturnPath"); v != "" {
		keys["ses:feedbackaddress"] = []string{v}
	}
	// With sending authorization the named identities are checked instead of the address's.
	if a := form.Get("SourceArn"); a != "" {
		identities = []string{a}
	}
	for _, k := range []string{"FromArn", "ReturnPathArn"} {
		if a := form.Get(k); a != "" {
			identities = append(identities, a)
		}
	}
	if len(identities) == 0 {
		return op, nil, &Reject{400, "InvalidParameterValue", "Missing required header 'From'."}
	}
	action := "ses:" + op
	for _, id := range identities {
		checks = append(checks, Check{Action: action, Resource: id, Keys: keys})
	}
	if t := form.Get("Template"); t != "" && (op == "SendTemplatedEmail" || op == "SendBulkTemplatedEmail") {
		checks = append(checks, Check{Action: action, Resource: arn("template", t), Keys: keys})
	}
	if configSet != "" {
		checks = append(checks, Check{Action: action, Resource: arn("configuration-set", configSet), Keys: keys})
	}
	return op, checks, nil
}

// members reads a query-protocol list: prefix1, prefix2, ...
func members(form url.Values, prefix string) []string {
	var idx []int
	for k := range form {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			if n, err := strconv.Atoi(rest); err == nil {
				idx = append(idx, n)
			}
		}
	}
	sort.Ints(idx)
	out := make([]string, 0, len(idx))
	for _, n := range idx {
		out = append(out, form.Get(prefix+strconv.Itoa(n)))
	}
	return out
}

// rawHeaders reads From, To, Cc and X-SES-CONFIGURATION-SET from a raw message's header
// block. Only the headers are decoded, and nothing is kept or logged.
func rawHeaders(data string) (from string, to []string, configSet string) {
	dec := base64.NewDecoder(base64.StdEncoding, strings.NewReader(data))
	r := textproto.NewReader(bufio.NewReader(io.LimitReader(dec, 256<<10)))
	h, _ := r.ReadMIMEHeader()
	from = h.Get("From")
	for _, k := range []string{"To", "Cc", "Bcc"} {
		for _, v := range h.Values(k) {
			if list, err := netmail.ParseAddressList(v); err == nil {
				for _, a := range list {
					to = append(to, a.Address)
				}
			}
		}
	}
	return from, to, h.Get("X-Ses-Configuration-Set")
}
