package samtemplate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/privacyportal/portal/infra/samtemplate"
)

const (
	templatePath = "../../template.yaml"
	// testRegion is template.yaml's default HomeRegion, so the HomeRegionOnly rule holds.
	testRegion  = "eu-west-1"
	testAccount = "123456789012"
	testStack   = "portal-test"
)

// testNamer names resources the way CloudFormation does: a physical name unlike the logical ID.
// That lets a test tell "names a resource of this stack" apart from "happens to mention a
// logical ID", and makes every ARN carry the stack's own name.
type testNamer struct{ stack, region, account string }

func newNamer(region string) testNamer {
	return testNamer{stack: testStack, region: region, account: testAccount}
}

// name is the physical name of a resource.
func (n testNamer) name(logicalID string) string {
	return strings.ToLower(n.stack + "-" + logicalID + "-x7k2q9")
}

func (n testNamer) Ref(logicalID, resourceType string) string {
	if resourceType == "AWS::SQS::Queue" {
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", n.region, n.account, n.name(logicalID))
	}
	return n.name(logicalID)
}

func (n testNamer) Attr(logicalID, resourceType, attr string) string {
	return samtemplate.GenericAttr(n.name(logicalID), resourceType, attr, n.region, n.account)
}

// arn is the Arn attribute of a resource of the loaded stack.
func (n testNamer) arn(st *samtemplate.Stack, logicalID string) string {
	return n.Attr(logicalID, resourceType(st, logicalID), "Arn")
}

// ref is the Ref value of a resource of the loaded stack.
func (n testNamer) ref(st *samtemplate.Stack, logicalID string) string {
	return n.Ref(logicalID, resourceType(st, logicalID))
}

// mustLoad resolves the real template.yaml for a stack in testRegion.
func mustLoad(tb testing.TB, params map[string]string) (*samtemplate.Stack, testNamer) {
	tb.Helper()
	return mustLoadIn(tb, testRegion, params)
}

func mustLoadIn(tb testing.TB, region string, params map[string]string) (*samtemplate.Stack, testNamer) {
	tb.Helper()
	n := newNamer(region)
	st, err := samtemplate.Load(templatePath, samtemplate.Options{
		Region: region, AccountID: testAccount, StackName: testStack, Params: params, Namer: n,
	})
	if err != nil {
		tb.Fatalf("load %s: %v", templatePath, err)
	}
	return st, n
}

// mustParse resolves an inline template, for tests of the checkers and of the loader.
func mustParse(tb testing.TB, yaml string, params map[string]string) (*samtemplate.Stack, testNamer) {
	tb.Helper()
	n := newNamer(testRegion)
	st, err := samtemplate.Parse([]byte(yaml), samtemplate.Options{
		Region: testRegion, AccountID: testAccount, StackName: testStack, Params: params, Namer: n,
	})
	if err != nil {
		tb.Fatalf("parse template: %v\n%s", err, yaml)
	}
	return st, n
}

// mustResources returns the logical IDs of a type and fails if there are none: a check that
// loops over nothing proves nothing.
func mustResources(tb testing.TB, st *samtemplate.Stack, resourceType string) []string {
	tb.Helper()
	ids := st.Resources(resourceType)
	if len(ids) == 0 {
		tb.Fatalf("template has no %s", resourceType)
	}
	return ids
}

func resourceType(st *samtemplate.Stack, logicalID string) string {
	r, _ := dig(st.Raw, "Resources", logicalID).(map[string]any)
	t, _ := r["Type"].(string)
	return t
}

// dig walks generic JSON: string steps index maps, int steps index lists. It returns nil when
// the path does not exist.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// list reads a CloudFormation "one or many" value (Action, Resource...) as a list.
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// num reads a number that CloudFormation may hold as a JSON number or a string.
func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		var f float64
		if _, err := fmt.Sscan(x, &f); err == nil {
			return f
		}
	}
	return -1
}

// truthy reads a boolean that CloudFormation may hold as a JSON bool or the string "true".
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}
