// Package samtemplate reads template.yaml, the single source of truth for the portal's resources,
// and resolves it the way CloudFormation would for one concrete stack: parameters, pseudo
// parameters, conditions, Ref, Fn::GetAtt and Fn::Sub. The local cloud uses it to create what the
// template declares; the template tests use it to check what a deploy would create.
package samtemplate

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Namer gives the values CloudFormation would give a resource once it exists.
type Namer interface {
	// Ref is the value of {"Ref": logicalID} for a resource of the given type
	// (a table or bucket name, a queue URL, an API ID...).
	Ref(logicalID, resourceType string) string
	// Attr is the value of {"Fn::GetAtt": [logicalID, attr]}.
	Attr(logicalID, resourceType, attr string) string
}

// Options say which stack the template is resolved for.
type Options struct {
	Region    string
	AccountID string
	StackName string
	// Params override parameter defaults, as `sam deploy --parameter-overrides` would.
	Params map[string]string
	// Namer names resources; nil gives every resource its logical ID as name.
	Namer Namer
}

// Stack is template.yaml resolved for one stack.
type Stack struct {
	// Template is goformation's typed view. Its Function resources are NOT merged with
	// Globals (goformation does not do that); use Functions for the merged view.
	Template *cloudformation.Template
	// Raw is the resolved template as generic JSON values, for what goformation types lossily
	// (event sources) or not at all (Rules).
	Raw map[string]any
	// Params are the effective parameter values (defaults plus overrides).
	Params map[string]string
	// Functions are the AWS::Serverless::Function resources merged with Globals.Function,
	// sorted by logical ID.
	Functions []Function
}

// Function is one AWS::Serverless::Function after Globals are merged in.
type Function struct {
	LogicalID  string
	Properties *serverless.Function
	// Env is the function's environment, resolved to strings.
	Env map[string]string
	// Events are the function's event sources, sorted by name.
	Events []Event
}

// Event is one entry of a function's Events.
type Event struct {
	Name       string
	Type       string // Api, SQS, Schedule, ScheduleV2...
	Properties map[string]any
}

// String returns a string property of the event, or "".
func (e Event) String(key string) string {
	s, _ := e.Properties[key].(string)
	return s
}

// Load reads and resolves the template at path.
func Load(path string, opts Options) (*Stack, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, opts)
}

// Parse resolves template data (YAML).
func Parse(data []byte, opts Options) (*Stack, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.StackName == "" {
		opts.StackName = "privacy-portal"
	}
	if opts.Namer == nil {
		opts.Namer = logicalNamer{region: opts.Region, account: opts.AccountID}
	}

	unresolved, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, err
	}
	var plain struct {
		Parameters map[string]struct {
			Type    string
			Default any
		}
		Resources map[string]struct {
			Type string
		}
	}
	if err := json.Unmarshal(unresolved, &plain); err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	params := map[string]string{}
	for name, p := range plain.Parameters {
		if p.Default != nil {
			params[name] = scalarString(p.Default)
		}
	}
	for name, v := range opts.Params {
		if _, ok := plain.Parameters[name]; !ok {
			return nil, fmt.Errorf("parameter override %q: no such parameter", name)
		}
		params[name] = v
	}
	numbers := map[string]bool{}
	for name, p := range plain.Parameters {
		numbers[name] = p.Type == "Number"
	}
	types := map[string]string{}
	for id, r := range plain.Resources {
		types[id] = r.Type
	}
	// SAM gives each function an execution role, <LogicalId>Role, that the template may name
	// (e.g. in a KMS key policy) although it does not declare it.
	for id, r := range plain.Resources {
		if _, declared := types[id+"Role"]; r.Type == "AWS::Serverless::Function" && !declared {
			types[id+"Role"] = "AWS::IAM::Role"
		}
	}

	r := &resolver{opts: opts, params: params, numbers: numbers, types: types}
	overrides := map[string]any{}
	for k, v := range params {
		overrides[k] = v
	}
	process := func(in []byte) ([]byte, error) {
		return intrinsics.ProcessJSON(in, &intrinsics.ProcessorOptions{
			IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
				"Ref":        r.ref,
				"Fn::GetAtt": r.getAtt,
				// goformation's own Fn::Sub calls its built-in Ref, not the override, so both go here.
				"Fn::Sub": r.sub,
			},
			ParameterOverrides: overrides,
			EvaluateConditions: true,
		})
	}
	conditional, err := applyResourceConditions(unresolved, process)
	if err != nil {
		return nil, err
	}
	resolved, err := process(conditional)
	if err != nil {
		return nil, err
	}
	if r.err != nil {
		return nil, r.err
	}

	var raw map[string]any
	if err := json.Unmarshal(resolved, &raw); err != nil {
		return nil, err
	}
	stringifyEnvironments(raw)
	dropNoValue(raw)
	resolved, err = json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	tmpl := &cloudformation.Template{}
	if err := json.Unmarshal(resolved, tmpl); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	st := &Stack{Template: tmpl, Raw: raw, Params: params}
	if err := st.mergeFunctions(); err != nil {
		return nil, err
	}
	return st, nil
}

// Resources returns the logical IDs of resources of the given type, sorted.
func (s *Stack) Resources(resourceType string) []string {
	var ids []string
	for id, r := range s.rawResources() {
		if m, ok := r.(map[string]any); ok && m["Type"] == resourceType {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Properties returns a resource's resolved Properties as generic JSON values.
func (s *Stack) Properties(logicalID string) map[string]any {
	r, _ := s.rawResources()[logicalID].(map[string]any)
	p, _ := r["Properties"].(map[string]any)
	return p
}

func (s *Stack) rawResources() map[string]any {
	m, _ := s.Raw["Resources"].(map[string]any)
	return m
}

func (s *Stack) mergeFunctions() error {
	var global map[string]any
	if g, ok := s.Raw["Globals"].(map[string]any); ok {
		global, _ = g["Function"].(map[string]any)
	}
	for _, id := range s.Resources("AWS::Serverless::Function") {
		merged := mergeGlobals(global, s.Properties(id))
		b, err := json.Marshal(map[string]any{"Type": "AWS::Serverless::Function", "Properties": merged})
		if err != nil {
			return err
		}
		fn := &serverless.Function{}
		if err := json.Unmarshal(b, fn); err != nil {
			return fmt.Errorf("function %s: %w", id, err)
		}
		f := Function{LogicalID: id, Properties: fn, Env: map[string]string{}}
		if env, ok := merged["Environment"].(map[string]any); ok {
			vars, _ := env["Variables"].(map[string]any)
			for k, v := range vars {
				f.Env[k] = scalarString(v)
			}
		}
		events, _ := merged["Events"].(map[string]any)
		for name, e := range events {
			em, _ := e.(map[string]any)
			typ, _ := em["Type"].(string)
			props, _ := em["Properties"].(map[string]any)
			f.Events = append(f.Events, Event{Name: name, Type: typ, Properties: props})
		}
		sort.Slice(f.Events, func(i, j int) bool { return f.Events[i].Name < f.Events[j].Name })
		s.Functions = append(s.Functions, f)
	}
	return nil
}

// mergeGlobals applies SAM's Globals rules: maps merge key by key, lists are joined with the
// global entries first, and any other value set on the resource wins.
func mergeGlobals(global, local map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range global {
		out[k] = v
	}
	for k, v := range local {
		g, ok := out[k]
		if !ok {
			out[k] = v
			continue
		}
		switch lv := v.(type) {
		case map[string]any:
			if gm, ok := g.(map[string]any); ok {
				out[k] = mergeGlobals(gm, lv)
				continue
			}
		case []any:
			if gl, ok := g.([]any); ok {
				out[k] = append(append([]any{}, gl...), lv...)
				continue
			}
		}
		out[k] = v
	}
	return out
}

type resolver struct {
	opts    Options
	params  map[string]string
	numbers map[string]bool // Number parameters resolve to numbers, as CloudFormation's typed properties expect
	types   map[string]string
	err     error
}

func (r *resolver) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *resolver) pseudo(name string) (any, bool) {
	switch name {
	case "AWS::Region":
		return r.opts.Region, true
	case "AWS::AccountId":
		return r.opts.AccountID, true
	case "AWS::StackName":
		return r.opts.StackName, true
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/local", r.opts.Region, r.opts.AccountID, r.opts.StackName), true
	case "AWS::Partition":
		return "aws", true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	case "AWS::NoValue":
		return nil, true
	}
	return nil, false
}

func (r *resolver) refValue(name string) (any, bool) {
	if v, ok := r.pseudo(name); ok {
		return v, true
	}
	if v, ok := r.params[name]; ok {
		if r.numbers[name] {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f, true
			}
		}
		return v, true
	}
	if t, ok := r.types[name]; ok {
		return r.opts.Namer.Ref(name, t), true
	}
	return nil, false
}

func (r *resolver) ref(_ string, input any, _ any) any {
	name, _ := input.(string)
	v, ok := r.refValue(name)
	if !ok {
		r.fail(fmt.Errorf("Ref %q: no such parameter or resource", name))
	}
	return v
}

func (r *resolver) attr(id, attr string) (string, bool) {
	t, ok := r.types[id]
	if !ok {
		return "", false
	}
	return r.opts.Namer.Attr(id, t, attr), true
}

func (r *resolver) getAtt(_ string, input any, _ any) any {
	var id, attr string
	switch v := input.(type) {
	case []any:
		if len(v) == 2 {
			id, _ = v[0].(string)
			attr, _ = v[1].(string)
		}
	case string: // !GetAtt Resource.Attr
		id, attr, _ = strings.Cut(v, ".")
	}
	s, ok := r.attr(id, attr)
	if !ok {
		r.fail(fmt.Errorf("Fn::GetAtt %v: no such resource", input))
	}
	return s
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (r *resolver) sub(_ string, input any, _ any) any {
	var format string
	vars := map[string]any{}
	switch v := input.(type) {
	case string:
		format = v
	case []any:
		if len(v) > 0 {
			format, _ = v[0].(string)
		}
		if len(v) > 1 {
			vars, _ = v[1].(map[string]any)
		}
	}
	out := subVar.ReplaceAllStringFunc(format, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return scalarString(v)
		}
		if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			if s, ok := r.attr(id, attr); ok {
				return s
			}
		} else if v, ok := r.refValue(name); ok {
			return scalarString(v)
		}
		r.fail(fmt.Errorf("Fn::Sub %q: cannot resolve ${%s}", format, name))
		return m
	})
	// ${!Literal} is the escape for a literal ${Literal}.
	return strings.ReplaceAll(out, "${!", "${")
}

// applyResourceConditions does what CloudFormation does with a resource's or an output's
// Condition: leaves out those whose condition is false and keeps the others without it.
// goformation cannot be left to it: it takes any object with a "Condition" key for a
// condition reference and replaces the whole resource with true or false.
func applyResourceConditions(unresolved []byte, process func([]byte) ([]byte, error)) ([]byte, error) {
	var tmpl map[string]any
	if err := json.Unmarshal(unresolved, &tmpl); err != nil {
		return nil, err
	}
	conditions, _ := tmpl["Conditions"].(map[string]any)
	if len(conditions) == 0 {
		return unresolved, nil
	}
	// Each condition's value, read through a probe resource that asks Fn::If of each.
	probe := map[string]any{}
	for name := range conditions {
		probe[name] = map[string]any{"Fn::If": []any{name, true, false}}
	}
	probeTmpl := map[string]any{
		"Parameters": tmpl["Parameters"], "Conditions": conditions,
		"Resources": map[string]any{"ConditionProbe": map[string]any{"Type": "Probe", "Properties": probe}},
	}
	in, err := json.Marshal(probeTmpl)
	if err != nil {
		return nil, err
	}
	out, err := process(in)
	if err != nil {
		return nil, fmt.Errorf("conditions: %w", err)
	}
	var evaluated struct {
		Resources struct {
			ConditionProbe struct{ Properties map[string]bool }
		}
	}
	if err := json.Unmarshal(out, &evaluated); err != nil {
		return nil, fmt.Errorf("conditions: %w", err)
	}
	values := evaluated.Resources.ConditionProbe.Properties
	for _, section := range []string{"Resources", "Outputs"} {
		entries, _ := tmpl[section].(map[string]any)
		for id, e := range entries {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			name, ok := m["Condition"].(string)
			if !ok {
				continue
			}
			v, known := values[name]
			if !known {
				return nil, fmt.Errorf("%s %s: no condition %q", section, id, name)
			}
			if !v {
				delete(entries, id)
				continue
			}
			delete(m, "Condition")
		}
	}
	return json.Marshal(tmpl)
}

// dropNoValue removes properties whose value resolved to AWS::NoValue (nil), as
// CloudFormation does; goformation leaves them in place as null.
func dropNoValue(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if val == nil {
				delete(x, k)
				continue
			}
			dropNoValue(val)
		}
	case []any:
		for _, val := range x {
			dropNoValue(val)
		}
	}
}

// stringifyEnvironments turns every value under an Environment.Variables map into a string, as
// Lambda does: a Number parameter referenced there is a number until then.
func stringifyEnvironments(v any) {
	switch x := v.(type) {
	case map[string]any:
		if env, ok := x["Environment"].(map[string]any); ok {
			if vars, ok := env["Variables"].(map[string]any); ok {
				for k, val := range vars {
					vars[k] = scalarString(val)
				}
			}
		}
		for _, val := range x {
			stringifyEnvironments(val)
		}
	case []any:
		for _, val := range x {
			stringifyEnvironments(val)
		}
	}
}

func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// logicalNamer names every resource after its logical ID, and every ARN after that name.
type logicalNamer struct{ region, account string }

func (logicalNamer) Ref(id, _ string) string { return id }

func (n logicalNamer) Attr(id, typ, attr string) string {
	return GenericAttr(id, typ, attr, n.region, n.account)
}

// GenericAttr returns a plausible Fn::GetAtt value for a resource named name: ARNs in the usual
// shape, domain names under amazonaws.com, and name for anything else.
func GenericAttr(name, typ, attr, region, account string) string {
	switch attr {
	case "Arn":
		switch typ {
		case "AWS::S3::Bucket":
			return "arn:aws:s3:::" + name
		case "AWS::SQS::Queue":
			return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, account, name)
		case "AWS::DynamoDB::Table":
			return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, account, name)
		case "AWS::Logs::LogGroup":
			return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", region, account, name)
		case "AWS::IAM::Role":
			return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, name)
		}
		svc := strings.ToLower(strings.Split(typ, "::")[1])
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", svc, region, account, name)
	case "RegionalDomainName":
		return fmt.Sprintf("%s.s3.%s.amazonaws.com", name, region)
	case "DomainName":
		return name + ".cloudfront.net"
	}
	return name
}
