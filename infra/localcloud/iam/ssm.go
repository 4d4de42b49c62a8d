package iam

import (
	"encoding/json"
	"strings"
)

type ssmRequest struct {
	Name      string
	Names     []string
	Path      string
	Recursive *bool
}

// SSMChecks maps the SSM parameter operations (AWS JSON 1.1, X-Amz-Target
// AmazonSSM.<Op>) to the checks IAM makes, on
// arn:aws:ssm:<region>:<acct>:parameter/<name without its leading slash>.
func SSMChecks(target string, body []byte, region, account string) (op string, checks []Check, err error) {
	op, ok := strings.CutPrefix(target, "AmazonSSM.")
	if !ok {
		return target, nil, unknownOperation("SSM", target)
	}
	var req ssmRequest
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return op, nil, serialization("the request body is not valid JSON")
		}
	}
	param := func(name string) string {
		if strings.HasPrefix(name, "arn:") {
			return name
		}
		// A selector (name:version or name:label) names the same parameter.
		if i := strings.LastIndexByte(name, ':'); i > 0 {
			name = name[:i]
		}
		return "arn:aws:ssm:" + region + ":" + account + ":parameter/" + strings.TrimPrefix(name, "/")
	}
	switch op {
	case "GetParameter", "PutParameter", "DeleteParameter", "GetParameterHistory", "LabelParameterVersion":
		checks = []Check{{Action: "ssm:" + op, Resource: param(req.Name)}}
	case "GetParameters", "DeleteParameters":
		for _, n := range req.Names {
			checks = append(checks, Check{Action: "ssm:" + op, Resource: param(n)})
		}
	case "GetParametersByPath":
		keys := map[string][]string{}
		if req.Recursive != nil && *req.Recursive {
			keys["ssm:recursive"] = []string{"Recursive"}
		}
		checks = []Check{{Action: "ssm:GetParametersByPath", Resource: param(req.Path), Keys: keys}}
	case "DescribeParameters":
		checks = []Check{{Action: "ssm:DescribeParameters", Resource: "*"}}
	default:
		return op, nil, unknownOperation("SSM", op)
	}
	return op, checks, nil
}
