package iam

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Caller is who makes a call: a function's role session, as Lambda runs it.
type Caller struct {
	Function string // logical ID in the template
	Account  string
	Region   string
	// RoleARN is arn:aws:iam::<acct>:role/<role>; SessionARN is the assumed-role ARN AWS
	// names in its errors, arn:aws:sts::<acct>:assumed-role/<role>/<function name>.
	RoleARN    string
	SessionARN string
}

// Decision is the outcome of evaluating a check against the policies that apply to it.
type Decision struct {
	Allowed bool
	// ExplicitDeny says a Deny statement decided; Resource says it was (or, for a refusal
	// without one, that the missing allow was) in a resource-based policy.
	ExplicitDeny   bool
	ResourcePolicy bool
}

// Evaluate decides a check for the caller the way IAM does for a role in the resource's own
// account: an explicit Deny in either policy refuses; otherwise an Allow in the identity
// policies, or one in the resource policy naming the caller (not just its account), allows.
// With resourceRequired (KMS key policies), the resource policy must allow, itself or by
// naming the account and so handing the decision to the identity policies. matched is
// called for every identity-policy Allow statement that applied, with the index of the
// Action pattern that matched.
func Evaluate(c *Check, caller *Caller, identity, resource *Policy, resourceRequired bool, matched func(st *Statement, action int)) Decision {
	idAllow, idDeny := false, false
	if identity != nil {
		for i := range identity.Statements {
			st := &identity.Statements[i]
			switch st.Match(c, caller) {
			case Applies:
				if st.Effect == Deny {
					idDeny = true
				} else {
					idAllow = true
					if matched != nil {
						matched(st, st.actionIndex(c.Action))
					}
				}
			case Uncertain:
				if st.Effect == Deny {
					idDeny = true
				}
			}
		}
	}
	resAllow, resDelegate, resDeny := false, false, false
	if resource != nil {
		for i := range resource.Statements {
			st := &resource.Statements[i]
			out := st.Match(c, caller)
			if out == NotApplicable {
				continue
			}
			if st.Effect == Deny {
				resDeny = true
				continue
			}
			if out != Applies {
				continue
			}
			if st.Principal.delegates(caller) && !st.Principal.All {
				resDelegate = true
			} else {
				resAllow = true
			}
		}
	}
	switch {
	case resDeny:
		return Decision{ExplicitDeny: true, ResourcePolicy: true}
	case idDeny:
		return Decision{ExplicitDeny: true}
	case resourceRequired:
		if resAllow || (resDelegate && idAllow) {
			return Decision{Allowed: true}
		}
		return Decision{ResourcePolicy: !resDelegate}
	case idAllow || resAllow:
		return Decision{Allowed: true}
	}
	return Decision{}
}

// globalKeys are the aws: condition keys the local cloud models. Anything else under aws:
// (aws:SourceIp, aws:userid, tags...) is a key AWS would have a value for and the local cloud
// does not: unknown.
var globalKeys = map[string]func(*Caller) []string{
	"aws:principalarn":          func(c *Caller) []string { return []string{c.RoleARN} },
	"aws:principalaccount":      func(c *Caller) []string { return []string{c.Account} },
	"aws:resourceaccount":       func(c *Caller) []string { return []string{c.Account} },
	"aws:principaltype":         func(*Caller) []string { return []string{"AssumedRole"} },
	"aws:requestedregion":       func(c *Caller) []string { return []string{c.Region} },
	"aws:principalisawsservice": func(*Caller) []string { return []string{"false"} },
	"aws:viaawsservice":         func(*Caller) []string { return []string{"false"} },
	// The SDK in a Lambda function calls AWS over HTTPS; the local proxy's plain HTTP is an
	// artefact of the emulation, so bucket and queue policies that deny insecure transport
	// see what they would see in AWS.
	"aws:securetransport": func(*Caller) []string { return []string{"true"} },
	"aws:currenttime":     func(*Caller) []string { return []string{time.Now().UTC().Format(time.RFC3339)} },
	"aws:epochtime":       func(*Caller) []string { return []string{strconv.FormatInt(time.Now().Unix(), 10)} },
	// Absent for a role session making its own call.
	"aws:username": nil, "aws:multifactorauthpresent": nil, "aws:multifactorauthage": nil,
	"aws:sourcearn": nil, "aws:sourceaccount": nil, "aws:sourceowner": nil, "aws:calledvia": nil,
	"aws:calledviafirst": nil, "aws:calledvialast": nil, "aws:principalservicename": nil,
	"aws:principalservicenameslist": nil,
}

// serviceKeys are, per service, the condition keys the request mappings derive (present when
// the request carries them, absent otherwise). A key of the checked action's own service that
// is not listed is unknown; a key of another service is absent, as AWS would not set it.
var serviceKeys = map[string][]string{
	"dynamodb": {"dynamodb:enclosingoperation", "dynamodb:returnvalues", "dynamodb:returnconsumedcapacity", "dynamodb:select"},
	"s3":       {"s3:prefix", "s3:delimiter", "s3:max-keys", "s3:authtype", "s3:signatureversion", "s3:x-amz-content-sha256", "s3:x-amz-acl", "s3:x-amz-server-side-encryption", "s3:versionid"},
	"kms":      {"kms:encryptioncontext:", "kms:encryptioncontextkeys", "kms:encryptionalgorithm", "kms:requestalias", "kms:calleraccount", "kms:keyspec", "kms:keyusage", "kms:datakeypairspec", "kms:signingalgorithm", "kms:macalgorithm", "kms:grantisforawsresource"},
	"ses":      {"ses:fromaddress", "ses:fromdisplayname", "ses:recipients", "ses:feedbackaddress", "ses:apiversion"},
	"sqs":      {},
	"ssm":      {"ssm:recursive"},
}

// lookup returns a condition key's values for a check: known says whether the local cloud
// can tell, present whether the request has it.
func lookup(key string, c *Check, caller *Caller) (vals []string, present, known bool) {
	for _, u := range c.Unknown {
		if u == key || (strings.HasSuffix(u, ":") && strings.HasPrefix(key, u)) {
			return nil, false, false
		}
	}
	if v, ok := c.Keys[key]; ok {
		return v, true, true
	}
	svc, _, _ := strings.Cut(key, ":")
	if svc == "aws" {
		f, ok := globalKeys[key]
		if !ok {
			return nil, false, false
		}
		if f == nil || caller == nil {
			return nil, false, caller != nil || f == nil
		}
		return f(caller), true, true
	}
	actionSvc, _, _ := strings.Cut(c.Action, ":")
	if !strings.EqualFold(svc, actionSvc) {
		return nil, false, true
	}
	for _, k := range serviceKeys[strings.ToLower(svc)] {
		if k == key || (strings.HasSuffix(k, ":") && strings.HasPrefix(key, k)) {
			return nil, false, true
		}
	}
	return nil, false, false
}

func evalConditions(conds []Condition, c *Check, caller *Caller) Outcome {
	out := Applies
	for i := range conds {
		switch evalCondition(&conds[i], c, caller) {
		case NotApplicable:
			return NotApplicable
		case Uncertain:
			out = Uncertain
		}
	}
	return out
}

var negated = map[string]string{
	"stringnotequals": "stringequals", "stringnotequalsignorecase": "stringequalsignorecase",
	"stringnotlike": "stringlike", "numericnotequals": "numericequals",
	"arnnotequals": "arnequals", "arnnotlike": "arnlike", "datenotequals": "dateequals",
	"notipaddress": "ipaddress",
}

func evalCondition(cd *Condition, c *Check, caller *Caller) Outcome {
	vals, present, known := lookup(cd.Key, c, caller)
	if !known {
		return Uncertain
	}
	if cd.Operator == "null" {
		for _, v := range cd.Values {
			if strings.EqualFold(v, "true") == !present {
				return Applies
			}
		}
		return NotApplicable
	}
	base, neg := negated[cd.Operator]
	if !neg {
		base = cd.Operator
	}
	if !present || len(vals) == 0 {
		switch {
		case cd.IfExists, cd.Set == "forallvalues", neg && cd.Set == "":
			return Applies
		}
		return NotApplicable
	}
	anyMatch := func(v string) bool {
		for _, p := range cd.Values {
			if opMatch(base, p, v) {
				return true
			}
		}
		return false
	}
	// For a negated operator, a request value "matches" when it equals none of the values.
	valueOK := func(v string) bool { return anyMatch(v) != neg }
	result := false
	switch cd.Set {
	case "forallvalues":
		result = true
		for _, v := range vals {
			if !valueOK(v) {
				result = false
				break
			}
		}
	case "foranyvalue":
		for _, v := range vals {
			if valueOK(v) {
				result = true
				break
			}
		}
	default:
		if neg {
			result = true
			for _, v := range vals {
				if anyMatch(v) {
					result = false
				}
			}
		} else {
			for _, v := range vals {
				if anyMatch(v) {
					result = true
				}
			}
		}
	}
	if result {
		return Applies
	}
	return NotApplicable
}

func opMatch(op, policy, value string) bool {
	switch op {
	case "stringequals":
		return policy == value
	case "stringequalsignorecase":
		return strings.EqualFold(policy, value)
	case "stringlike":
		return globMatch(policy, value)
	case "bool":
		return strings.EqualFold(policy, value)
	case "arnequals", "arnlike":
		return arnMatch(policy, value)
	}
	if d, ok := strings.CutPrefix(op, "date"); ok {
		p, ok1 := parseDate(policy)
		v, ok2 := parseDate(value)
		if !ok1 || !ok2 {
			return false
		}
		switch d {
		case "equals":
			return v.Equal(p)
		case "lessthan":
			return v.Before(p)
		case "lessthanequals":
			return !v.After(p)
		case "greaterthan":
			return v.After(p)
		case "greaterthanequals":
			return !v.Before(p)
		}
		return false
	}
	if op == "ipaddress" {
		prefix, err := netip.ParsePrefix(policy)
		if err != nil {
			a, err2 := netip.ParseAddr(policy)
			if err2 != nil {
				return false
			}
			prefix = netip.PrefixFrom(a, a.BitLen())
		}
		a, err := netip.ParseAddr(value)
		return err == nil && prefix.Contains(a)
	}
	p, err1 := strconv.ParseFloat(policy, 64)
	v, err2 := strconv.ParseFloat(value, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	switch op {
	case "numericequals":
		return v == p
	case "numericlessthan":
		return v < p
	case "numericlessthanequals":
		return v <= p
	case "numericgreaterthan":
		return v > p
	case "numericgreaterthanequals":
		return v >= p
	}
	return false
}

// parseDate reads an ISO 8601 date or time, or seconds since the epoch, as IAM accepts them.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}
