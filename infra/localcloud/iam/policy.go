package iam

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Check is one authorization an AWS call needs: an action on a resource, and the condition
// keys the request carries. A call may need several (a transaction needs one per item).
type Check struct {
	// Action is "service:Operation", e.g. "dynamodb:UpdateItem".
	Action string
	// Resource is an ARN, or "*" for actions without resource-level permissions.
	Resource string
	// Keys are the condition keys of the request, by lower-case name.
	Keys map[string][]string
	// Unknown are condition keys (lower case; a name ending in ':' covers all under it) that
	// AWS would set for this check and the local cloud cannot tell.
	Unknown []string
}

// Effect is a statement's effect.
type Effect bool

const (
	Deny  Effect = false
	Allow Effect = true
)

// Statement is one statement of a policy document.
type Statement struct {
	Sid    string
	Effect Effect
	// Actions are the Action (or, with NotAction, the NotAction) patterns, lower case.
	Actions   []string
	NotAction bool
	// Resources are the Resource (or NotResource) patterns.
	Resources   []string
	NotResource bool
	Conditions  []Condition
	// Principal is set in resource-based policies only.
	Principal *Principal
	// Source says where the statement came from, e.g. "inline policy 2" or
	// "DynamoDBCrudPolicy".
	Source string
	// written are the Action patterns as the policy writes them, for reports.
	written []string
}

// Policy is a set of statements: a function's identity policies, or one resource's policy.
type Policy struct {
	Statements []Statement
}

// Principal is the Principal element of a resource-based policy statement.
type Principal struct {
	All     bool     // "*" or {"AWS": "*"}
	AWS     []string // account IDs, account root ARNs, role and session ARNs
	Service []string
}

// Condition is one condition-key test of a statement: Operator(Key, Values).
type Condition struct {
	// Operator is the base operator in lower case (e.g. "stringequals"); Set is "",
	// "foranyvalue" or "forallvalues"; IfExists is the ...IfExists suffix.
	Operator string
	Set      string
	IfExists bool
	Key      string // lower case
	Values   []string
}

// ParsePolicyDocument reads a policy document (resolved JSON: maps, lists, strings) and checks
// that the local cloud can evaluate it: an element or operator it does not know is an error,
// never silently ignored. resource says whether it is a resource-based policy (which needs a
// Principal) or an identity-based one (which must not have one).
func ParsePolicyDocument(doc any, source string, resource bool) (*Policy, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a policy document must be an object, got %T", source, doc)
	}
	for k := range m {
		switch k {
		case "Version", "Id", "Statement":
		default:
			return nil, fmt.Errorf("%s: unknown policy element %q", source, k)
		}
	}
	if v, ok := m["Version"]; ok && v != "2012-10-17" && v != "2008-10-17" {
		return nil, fmt.Errorf("%s: unknown policy Version %v", source, v)
	}
	raw := m["Statement"]
	list, ok := raw.([]any)
	if !ok {
		if raw == nil {
			return nil, fmt.Errorf("%s: no Statement", source)
		}
		list = []any{raw}
	}
	p := &Policy{}
	for i, s := range list {
		st, err := parseStatement(s, fmt.Sprintf("%s statement %d", source, i+1), resource)
		if err != nil {
			return nil, err
		}
		st.Source = source
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(raw any, where string, resource bool) (Statement, error) {
	var st Statement
	m, ok := raw.(map[string]any)
	if !ok {
		return st, fmt.Errorf("%s: a statement must be an object", where)
	}
	for k := range m {
		switch k {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal":
		case "NotPrincipal":
			return st, fmt.Errorf("%s: NotPrincipal is not supported by the local cloud", where)
		default:
			return st, fmt.Errorf("%s: unknown statement element %q", where, k)
		}
	}
	st.Sid, _ = m["Sid"].(string)
	switch m["Effect"] {
	case "Allow":
		st.Effect = Allow
	case "Deny":
		st.Effect = Deny
	default:
		return st, fmt.Errorf("%s: Effect must be Allow or Deny, got %v", where, m["Effect"])
	}
	var err error
	_, hasA := m["Action"]
	_, hasNA := m["NotAction"]
	switch {
	case hasA && hasNA:
		return st, fmt.Errorf("%s: both Action and NotAction", where)
	case hasA:
		st.written, err = stringList(m["Action"])
	case hasNA:
		st.NotAction = true
		st.written, err = stringList(m["NotAction"])
	default:
		return st, fmt.Errorf("%s: no Action or NotAction", where)
	}
	if err != nil {
		return st, fmt.Errorf("%s: action: %w", where, err)
	}
	for _, a := range st.written {
		if a != "*" && !strings.Contains(a, ":") {
			return st, fmt.Errorf("%s: action %q is not service:action", where, a)
		}
		st.Actions = append(st.Actions, strings.ToLower(a))
	}
	_, hasR := m["Resource"]
	_, hasNR := m["NotResource"]
	switch {
	case hasR && hasNR:
		return st, fmt.Errorf("%s: both Resource and NotResource", where)
	case hasR:
		st.Resources, err = stringList(m["Resource"])
	case hasNR:
		st.NotResource = true
		st.Resources, err = stringList(m["NotResource"])
	default:
		return st, fmt.Errorf("%s: no Resource or NotResource", where)
	}
	if err != nil {
		return st, fmt.Errorf("%s: resource: %w", where, err)
	}
	if p, ok := m["Principal"]; ok {
		if !resource {
			return st, fmt.Errorf("%s: an identity-based policy cannot have a Principal", where)
		}
		if st.Principal, err = parsePrincipal(p); err != nil {
			return st, fmt.Errorf("%s: %w", where, err)
		}
	} else if resource {
		return st, fmt.Errorf("%s: a resource-based policy statement needs a Principal", where)
	}
	if c, ok := m["Condition"]; ok {
		if st.Conditions, err = parseConditions(c); err != nil {
			return st, fmt.Errorf("%s: %w", where, err)
		}
	}
	return st, nil
}

func parsePrincipal(raw any) (*Principal, error) {
	if raw == "*" {
		return &Principal{All: true}, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Principal must be \"*\" or an object, got %v", raw)
	}
	p := &Principal{}
	for k, v := range m {
		vals, err := stringList(v)
		if err != nil {
			return nil, fmt.Errorf("Principal %s: %w", k, err)
		}
		switch k {
		case "AWS":
			for _, a := range vals {
				if a == "*" {
					p.All = true
				}
			}
			p.AWS = vals
		case "Service":
			p.Service = vals
		case "Federated", "CanonicalUser":
			// Never a function's role: no statement with only these applies to it.
		default:
			return nil, fmt.Errorf("unknown Principal type %q", k)
		}
	}
	return p, nil
}

// operators are the condition operators the local cloud evaluates; a policy using any other
// makes it refuse to start, so nothing is evaluated on a guess.
var operators = map[string]bool{
	"stringequals": true, "stringnotequals": true, "stringequalsignorecase": true,
	"stringnotequalsignorecase": true, "stringlike": true, "stringnotlike": true,
	"numericequals": true, "numericnotequals": true, "numericlessthan": true,
	"numericlessthanequals": true, "numericgreaterthan": true, "numericgreaterthanequals": true,
	"bool": true, "arnequals": true, "arnlike": true, "arnnotequals": true, "arnnotlike": true,
	"null": true, "dateequals": true, "datenotequals": true, "datelessthan": true,
	"datelessthanequals": true, "dategreaterthan": true, "dategreaterthanequals": true,
	"ipaddress": true, "notipaddress": true,
}

func parseConditions(raw any) ([]Condition, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Condition must be an object")
	}
	var out []Condition
	ops := make([]string, 0, len(m))
	for op := range m {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		block, ok := m[op].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Condition %s must be an object", op)
		}
		c := Condition{Operator: strings.ToLower(op)}
		if set, rest, ok := strings.Cut(c.Operator, ":"); ok {
			if set != "foranyvalue" && set != "forallvalues" {
				return nil, fmt.Errorf("unknown condition set operator %q", op)
			}
			c.Set, c.Operator = set, rest
		}
		if base, ok := strings.CutSuffix(c.Operator, "ifexists"); ok && base != "" {
			c.Operator, c.IfExists = base, true
		}
		if !operators[c.Operator] {
			return nil, fmt.Errorf("condition operator %q is not supported by the local cloud", op)
		}
		if c.Operator == "null" && (c.IfExists || c.Set != "") {
			return nil, fmt.Errorf("condition operator %q is not valid", op)
		}
		for key, v := range block {
			vals, err := stringList(v)
			if err != nil {
				return nil, fmt.Errorf("Condition %s %s: %w", op, key, err)
			}
			cc := c
			cc.Key, cc.Values = strings.ToLower(key), vals
			out = append(out, cc)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// stringList reads a policy value that may be one scalar or a list of scalars.
func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case bool:
		return []string{strconv.FormatBool(x)}, nil
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, err := stringList(e)
			if err != nil {
				return nil, err
			}
			if len(s) != 1 {
				return nil, fmt.Errorf("nested list")
			}
			out = append(out, s[0])
		}
		return out, nil
	case []string:
		return x, nil
	}
	return nil, fmt.Errorf("want a string or a list of strings, got %T (an intrinsic function the template loader did not resolve?)", v)
}

// Outcome is how a statement applies to a check.
type Outcome int8

const (
	// NotApplicable: the statement's action, resource or conditions do not match.
	NotApplicable Outcome = iota
	// Applies: it matches, conditions and all.
	Applies
	// Uncertain: action and resource match, but a condition reads a key the local cloud
	// cannot derive from the request (e.g. kms:ViaService, aws:SourceIp). Such a statement
	// neither allows (an Allow counts as not applying) nor is let off (a Deny counts as
	// applying): the local cloud fails closed both ways.
	Uncertain
)

// Match says how st applies to c, for the given principal (resource-based policies only).
func (st *Statement) Match(c *Check, principal *Caller) Outcome {
	if st.Principal != nil && !st.Principal.matches(principal) {
		return NotApplicable
	}
	if st.actionIndex(c.Action) < 0 {
		return NotApplicable
	}
	if !st.resourceMatches(c.Resource) {
		return NotApplicable
	}
	return evalConditions(st.Conditions, c, principal)
}

// actionIndex returns the index of the first Action pattern matching action (lower case), or
// 0 for a NotAction statement that does not exclude it, or -1.
func (st *Statement) actionIndex(action string) int {
	lower := lowerASCII(action)
	for i, p := range st.Actions {
		if globMatch(p, lower) {
			if st.NotAction {
				return -1
			}
			return i
		}
	}
	if st.NotAction {
		return 0
	}
	return -1
}

func (st *Statement) resourceMatches(resource string) bool {
	for _, p := range st.Resources {
		if arnMatch(p, resource) {
			return !st.NotResource
		}
	}
	return st.NotResource
}

func (p *Principal) matches(c *Caller) bool {
	if p.All {
		return true
	}
	if c == nil {
		return false
	}
	for _, a := range p.AWS {
		if a == c.Account || a == "arn:aws:iam::"+c.Account+":root" || a == c.RoleARN || a == c.SessionARN {
			return true
		}
	}
	return false
}

// delegates reports whether the principal names the caller's account (not the caller): in a
// resource-based policy, that hands the decision to the caller's identity-based policies.
func (p *Principal) delegates(c *Caller) bool {
	if p.All || c == nil {
		return p.All
	}
	for _, a := range p.AWS {
		if a == c.Account || a == "arn:aws:iam::"+c.Account+":root" {
			return true
		}
	}
	return false
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// globMatch matches s against a pattern with * (any run) and ? (one character).
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// arnMatch matches an ARN against a pattern as IAM does: the partition, service, region and
// account are matched each on its own, so a wildcard never spans a colon there; the resource
// part (which may hold colons and slashes) is matched as a whole.
func arnMatch(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	if !strings.HasPrefix(pattern, "arn:") || !strings.HasPrefix(arn, "arn:") {
		return globMatch(pattern, arn)
	}
	for range 5 {
		pi := strings.IndexByte(pattern, ':')
		ai := strings.IndexByte(arn, ':')
		if pi < 0 || ai < 0 {
			return pi < 0 && ai < 0 && globMatch(pattern, arn)
		}
		if !globMatch(pattern[:pi], arn[:ai]) {
			return false
		}
		pattern, arn = pattern[pi+1:], arn[ai+1:]
	}
	return globMatch(pattern, arn)
}

// Grant is one action an Allow statement grants, for reports.
type Grant struct {
	// Action is as the policy writes it (wildcards and all); for a NotAction statement it is
	// "NotAction: " and the excluded actions.
	Action    string
	Resources []string
	Source    string
}

// Unused lists the grants of p's Allow statements for which used reports false. used is
// given a statement and the index of one of its Action patterns (0 for NotAction).
func (p *Policy) Unused(used func(st *Statement, action int) bool) []Grant {
	var out []Grant
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect != Allow {
			continue
		}
		res := st.Resources
		if st.NotResource {
			res = []string{"NotResource: " + strings.Join(st.Resources, ", ")}
		}
		if st.NotAction {
			if !used(st, 0) {
				out = append(out, Grant{Action: "NotAction: " + strings.Join(st.written, ", "), Resources: res, Source: st.Source})
			}
			continue
		}
		for j := range st.Actions {
			if !used(st, j) {
				out = append(out, Grant{Action: st.written[j], Resources: res, Source: st.Source})
			}
		}
	}
	return out
}
