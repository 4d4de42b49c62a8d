package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/privacyportal/portal/infra/samtemplate"
)

// The web ACL deployed to us-east-1 for a portal elsewhere is the template's own, with its
// rules and parameters, and nothing that needs the portal's stack.
func TestExtractStandsAlone(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Extract(data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := samtemplate.Parse(out, samtemplate.Options{Region: "us-east-1"})
	if err != nil {
		t.Fatalf("the extracted template does not resolve on its own: %v\n%s", err, out)
	}
	full, err := samtemplate.Parse(data, samtemplate.Options{Region: "us-east-1", Params: map[string]string{"HomeRegion": "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(st.Properties(resource))
	want, _ := json.Marshal(full.Properties(resource))
	if string(got) != string(want) {
		t.Errorf("the extracted web ACL differs from the template's:\n%s\n%s", got, want)
	}
	if len(st.Resources("AWS::WAFv2::WebACL")) != 1 || len(st.Raw["Resources"].(map[string]any)) != 1 {
		t.Errorf("resources = %v, want the web ACL alone", st.Raw["Resources"])
	}
	if _, ok := st.Raw["Outputs"].(map[string]any)["EdgeWebACLArn"]; !ok {
		t.Error("no EdgeWebACLArn output")
	}
}
