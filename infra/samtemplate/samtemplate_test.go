package samtemplate_test

// Tests of the loader itself, on small inline templates.

import (
	"slices"
	"strings"
	"testing"

	"github.com/privacyportal/portal/infra/samtemplate"
)

const globalsTemplate = `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Timeout: 10
    MemorySize: 128
    Layers: [arn:aws:lambda:eu-west-1:123456789012:layer:global:1]
    Environment:
      Variables:
        SHARED: from-globals
        OVERRIDDEN: from-globals
Resources:
  Custom:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 30
      Layers: [arn:aws:lambda:eu-west-1:123456789012:layer:local:1]
      Environment:
        Variables:
          OVERRIDDEN: from-function
          OWN: from-function
  Plain:
    Type: AWS::Serverless::Function
    Properties:
      Description: takes everything from Globals
`

func TestParseMergesGlobalsIntoFunctions(t *testing.T) {
	st, _ := mustParse(t, globalsTemplate, nil)
	fns := map[string]samtemplate.Function{}
	for _, f := range st.Functions {
		fns[f.LogicalID] = f
	}
	custom, plain := fns["Custom"], fns["Plain"]
	if custom.Properties == nil || plain.Properties == nil {
		t.Fatalf("Functions = %v, want Custom and Plain", st.Functions)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"maps merge key by key: global key kept", custom.Env["SHARED"], "from-globals"},
		{"maps merge key by key: function key wins", custom.Env["OVERRIDDEN"], "from-function"},
		{"maps merge key by key: function-only key kept", custom.Env["OWN"], "from-function"},
		{"lists concatenate, globals first", strings.Join(custom.Properties.Layers, ","),
			"arn:aws:lambda:eu-west-1:123456789012:layer:global:1,arn:aws:lambda:eu-west-1:123456789012:layer:local:1"},
		{"scalars: the function's value wins", *custom.Properties.Timeout, 30},
		{"scalars: the global value fills a gap", *custom.Properties.MemorySize, 128},
		{"a function without overrides gets every global", *plain.Properties.Timeout, 10},
		{"a function without overrides gets the global map", plain.Env["OVERRIDDEN"], "from-globals"},
		{"a function without overrides gets the global list", len(plain.Properties.Layers), 1},
		{"Globals reach the typed view", *plain.Properties.Runtime, "provided.al2023"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	// Merging must not write the function's values into Globals (the next function would see them).
	if got := dig(st.Raw, "Globals", "Function", "Environment", "Variables", "OWN"); got != nil {
		t.Errorf("Globals were modified by the merge: OWN = %v", got)
	}
}

const subTemplate = `
Parameters:
  Stage: {Type: String, Default: prod}
  Days: {Type: Number, Default: 7}
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Queue: {Type: AWS::SQS::Queue}
Outputs:
  ResourceAttribute: {Value: !Sub "${Bucket.Arn}/*"}
  PseudoParameters: {Value: !Sub "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:x"}
  Parameter: {Value: !Sub "/${Stage}/api"}
  NumberParameter: {Value: !Sub "${Days} days"}
  ResourceRef: {Value: !Sub "queue=${Queue}"}
  WithVariables: {Value: !Sub ["${Prefix}-${AWS::StackName}-${Arn}", {Prefix: !Ref Stage, Arn: !GetAtt Queue.Arn}]}
  Nested: {Value: !Sub ["${Domain}", {Domain: !Sub "${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}"}]}
`

func TestParseResolvesSub(t *testing.T) {
	st, n := mustParse(t, subTemplate, map[string]string{"Stage": "beta"})
	bucket, queue := n.name("Bucket"), n.name("Queue")
	tests := []struct {
		output string
		want   string
	}{
		{"ResourceAttribute", "arn:aws:s3:::" + bucket + "/*"},
		{"PseudoParameters", "arn:aws:logs:" + testRegion + ":" + testAccount + ":x"},
		{"Parameter", "/beta/api"},
		{"NumberParameter", "7 days"},
		{"ResourceRef", "queue=https://sqs." + testRegion + ".amazonaws.com/" + testAccount + "/" + queue},
		{"WithVariables", "beta-" + testStack + "-arn:aws:sqs:" + testRegion + ":" + testAccount + ":" + queue},
		{"Nested", bucket + ".s3." + testRegion + ".amazonaws.com"},
	}
	for _, tc := range tests {
		t.Run(tc.output, func(t *testing.T) {
			if got := dig(st.Raw, "Outputs", tc.output, "Value"); got != tc.want {
				t.Errorf("got %v, want %q", got, tc.want)
			}
		})
	}
}

func TestParseFailsOnUnknownReference(t *testing.T) {
	tests := []struct {
		name     string
		template string
		params   map[string]string
		want     string
	}{
		{"Ref to nothing", `
Resources:
  Bucket: {Type: AWS::S3::Bucket, Properties: {BucketName: !Ref Nope}}`, nil, `"Nope"`},
		{"GetAtt of nothing", `
Resources:
  Bucket: {Type: AWS::S3::Bucket, Properties: {BucketName: !GetAtt Nope.Arn}}`, nil, "Nope"},
		{"Sub of nothing", `
Resources:
  Bucket: {Type: AWS::S3::Bucket, Properties: {BucketName: !Sub "x-${Nope}"}}`, nil, "${Nope}"},
		{"Sub of a missing resource attribute", `
Resources:
  Bucket: {Type: AWS::S3::Bucket, Properties: {BucketName: !Sub "x-${Nope.Arn}"}}`, nil, "${Nope.Arn}"},
		{"override of no parameter", `
Resources:
  Bucket: {Type: AWS::S3::Bucket}`, map[string]string{"Nope": "x"}, `"Nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := samtemplate.Parse([]byte(tc.template), samtemplate.Options{Params: tc.params, Namer: newNamer(testRegion)})
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
}

func TestParseEvaluatesConditionsAndKeepsEvents(t *testing.T) {
	const template = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Domain: {Type: String, Default: ""}
Conditions:
  HasDomain: !Not [!Equals [!Ref Domain, ""]]
Resources:
  Api: {Type: AWS::Serverless::Api, Properties: {StageName: prod}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Environment:
        Variables:
          SITE_URL: !If [HasDomain, !Sub "https://${Domain}", ""]
      Events:
        Post: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /api/b, Method: POST}}
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /api/a, Method: GET}}
`
	tests := []struct {
		domain string
		want   string
	}{
		{"", ""},
		{"privacy.example.com", "https://privacy.example.com"},
	}
	for _, tc := range tests {
		t.Run("Domain="+tc.domain, func(t *testing.T) {
			st, n := mustParse(t, template, map[string]string{"Domain": tc.domain})
			f := st.Functions[0]
			if got := f.Env["SITE_URL"]; got != tc.want {
				t.Errorf("SITE_URL = %q, want %q", got, tc.want)
			}
			var names []string
			for _, e := range f.Events {
				names = append(names, e.Name)
				if e.String("RestApiId") != n.name("Api") {
					t.Errorf("event %s: RestApiId = %q, want %q", e.Name, e.String("RestApiId"), n.name("Api"))
				}
			}
			if !slices.Equal(names, []string{"Get", "Post"}) {
				t.Errorf("events = %v, want [Get Post] (sorted by name)", names)
			}
		})
	}
}

func TestParseDefaultsNameResourcesByLogicalID(t *testing.T) {
	st, err := samtemplate.Parse([]byte(subTemplate), samtemplate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dig(st.Raw, "Outputs", "ResourceRef", "Value"), "queue=Queue"; got != want {
		t.Errorf("ResourceRef = %v, want %q", got, want)
	}
	if got, want := dig(st.Raw, "Outputs", "PseudoParameters", "Value"), "arn:aws:logs:us-east-1:000000000000:x"; got != want {
		t.Errorf("PseudoParameters = %v, want %q (the default region and account)", got, want)
	}
}
