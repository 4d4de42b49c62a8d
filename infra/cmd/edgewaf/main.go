// Command edgewaf writes a CloudFormation template (JSON) holding template.yaml's EdgeWebACL
// alone, with the parameters it uses and its ARN as the output EdgeWebACLArn. CloudFront web
// ACLs can only be made in us-east-1: for a portal whose home region is elsewhere,
// infra/deploy.sh deploys this template there and passes the ARN to the portal's stack. The
// rules are written once, in template.yaml.
//
// Usage: go run ./infra/cmd/edgewaf [-template template.yaml] > edge-waf.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"

	"github.com/awslabs/goformation/v7/intrinsics"
)

func main() {
	path := flag.String("template", "template.yaml", "the portal's SAM template")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("edgewaf: ")
	data, err := os.ReadFile(*path)
	if err != nil {
		log.Fatal(err)
	}
	out, err := Extract(data)
	if err != nil {
		log.Fatal(err)
	}
	os.Stdout.Write(append(out, '\n'))
}

const resource = "EdgeWebACL"

var paramRef = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// Extract returns the standalone template.
func Extract(data []byte) ([]byte, error) {
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, err
	}
	var tmpl struct {
		Parameters map[string]any
		Resources  map[string]map[string]any
	}
	if err := json.Unmarshal(js, &tmpl); err != nil {
		return nil, err
	}
	acl, ok := tmpl.Resources[resource]
	if !ok {
		return nil, fmt.Errorf("the template has no %s", resource)
	}
	delete(acl, "Condition") // the condition says where the portal's stack may make it itself
	params := map[string]any{}
	var walk func(v any) error
	walk = func(v any) error {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				switch k {
				case "Ref":
					name, _ := val.(string)
					if err := use(name, tmpl.Parameters, params); err != nil {
						return err
					}
				case "Fn::Sub":
					s, _ := val.(string)
					for _, m := range paramRef.FindAllStringSubmatch(s, -1) {
						if err := use(m[1], tmpl.Parameters, params); err != nil {
							return err
						}
					}
				case "Fn::GetAtt", "Fn::ImportValue", "Condition", "Fn::If":
					return fmt.Errorf("%s uses %s: it must stand alone", resource, k)
				}
				if err := walk(val); err != nil {
					return err
				}
			}
		case []any:
			for _, val := range x {
				if err := walk(val); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(acl); err != nil {
		return nil, err
	}
	out := map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "Privacy Portal: the CloudFront web ACL, which lives in us-east-1 (made from template.yaml by infra/cmd/edgewaf).",
		"Resources":                map[string]any{resource: acl},
		"Outputs": map[string]any{
			"EdgeWebACLArn": map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{resource, "Arn"}}},
		},
	}
	if len(params) > 0 {
		out["Parameters"] = params
	}
	return json.MarshalIndent(out, "", "  ")
}

// use copies parameter name into params; pseudo parameters need no declaration.
func use(name string, all, params map[string]any) error {
	if len(name) > 5 && name[:5] == "AWS::" {
		return nil
	}
	p, ok := all[name]
	if !ok {
		return fmt.Errorf("%s refers to %s, which is not a parameter", resource, name)
	}
	params[name] = p
	return nil
}
