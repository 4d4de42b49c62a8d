package iam

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Reject is a request the proxy answers itself, with the service's own error, instead of
// forwarding it: a body it cannot read, an operation it does not model.
type Reject struct {
	Status  int
	Code    string
	Message string
}

func (r *Reject) Error() string { return r.Code + ": " + r.Message }

func unknownOperation(service, op string) *Reject {
	return &Reject{Status: 400, Code: "UnknownOperationException",
		Message: fmt.Sprintf("the local cloud does not model the IAM authorization of %s %s", service, op)}
}

func serialization(msg string) *Reject {
	return &Reject{Status: 400, Code: "SerializationException", Message: msg}
}

type ddbRequest struct {
	TableName              string
	IndexName              string
	ResourceArn            string
	ReturnValues           string
	ReturnConsumedCapacity string
	Select                 string
	RequestItems           map[string]json.RawMessage
	TransactItems          []struct {
		Get, Put, Update, Delete, ConditionCheck *struct{ TableName string }
	}
	Statement          string
	Statements         []struct{ Statement string }
	TransactStatements []struct{ Statement string }
}

// ddbTableOps are the operations authorized as dynamodb:<operation> on the table named by
// TableName (or the index, for reads with IndexName).
var ddbTableOps = map[string]bool{
	"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true, "Scan": true,
	"DescribeTable": true, "DescribeTimeToLive": true, "DescribeContinuousBackups": true,
	"DescribeKinesisStreamingDestination": true, "DescribeContributorInsights": true,
	"DescribeTableReplicaAutoScaling": true, "UpdateTimeToLive": true, "UpdateTable": true,
	"DeleteTable": true, "CreateTable": true, "UpdateContinuousBackups": true, "CreateBackup": true,
	"UpdateContributorInsights": true,
}

// ddbAccountOps are authorized on "*": they name no table.
var ddbAccountOps = map[string]bool{
	"ListTables": true, "DescribeLimits": true, "DescribeEndpoints": true, "ListBackups": true,
	"ListGlobalTables": true, "ListExports": true, "ListImports": true, "ListContributorInsights": true,
}

// DynamoDBChecks maps a DynamoDB request (AWS JSON 1.0, X-Amz-Target DynamoDB_20120810.<Op>)
// to the checks IAM makes. Transactions are authorized item by item with the item's own
// action (PutItem, UpdateItem, DeleteItem, ConditionCheckItem, GetItem), as DynamoDB's
// documentation on IAM with transactions says; Query and Scan on an index need the index ARN.
func DynamoDBChecks(target string, body []byte, region, account string) (op string, checks []Check, err error) {
	op, ok := strings.CutPrefix(target, "DynamoDB_20120810.")
	if !ok {
		return target, nil, unknownOperation("DynamoDB", target)
	}
	var req ddbRequest
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return op, nil, serialization("the request body is not valid JSON")
		}
	}
	table := func(name string) string {
		if strings.HasPrefix(name, "arn:") {
			return name
		}
		return "arn:aws:dynamodb:" + region + ":" + account + ":table/" + name
	}
	keys := map[string][]string{}
	if req.ReturnValues != "" {
		keys["dynamodb:returnvalues"] = []string{req.ReturnValues}
	}
	if req.ReturnConsumedCapacity != "" {
		keys["dynamodb:returnconsumedcapacity"] = []string{req.ReturnConsumedCapacity}
	}
	if req.Select != "" {
		keys["dynamodb:select"] = []string{req.Select}
	}
	switch {
	case ddbTableOps[op]:
		if req.TableName == "" {
			return op, nil, &Reject{400, "ValidationException", "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"}
		}
		res := table(req.TableName)
		if req.IndexName != "" && (op == "Query" || op == "Scan") {
			res += "/index/" + req.IndexName
		}
		return op, []Check{{Action: "dynamodb:" + op, Resource: res, Keys: keys}}, nil
	case ddbAccountOps[op]:
		return op, []Check{{Action: "dynamodb:" + op, Resource: "*", Keys: keys}}, nil
	case op == "ListTagsOfResource" || op == "TagResource" || op == "UntagResource":
		return op, []Check{{Action: "dynamodb:" + op, Resource: req.ResourceArn, Keys: keys}}, nil
	case op == "BatchGetItem" || op == "BatchWriteItem":
		for name := range req.RequestItems {
			checks = append(checks, Check{Action: "dynamodb:" + op, Resource: table(name), Keys: keys})
		}
		sortChecks(checks)
		return op, checks, nil
	case op == "TransactWriteItems" || op == "TransactGetItems":
		enclosing := map[string][]string{"dynamodb:enclosingoperation": {op}}
		for k, v := range keys {
			enclosing[k] = v
		}
		for i, it := range req.TransactItems {
			var action, name string
			switch {
			case it.Get != nil && op == "TransactGetItems":
				action, name = "dynamodb:GetItem", it.Get.TableName
			case it.Put != nil:
				action, name = "dynamodb:PutItem", it.Put.TableName
			case it.Update != nil:
				action, name = "dynamodb:UpdateItem", it.Update.TableName
			case it.Delete != nil:
				action, name = "dynamodb:DeleteItem", it.Delete.TableName
			case it.ConditionCheck != nil:
				action, name = "dynamodb:ConditionCheckItem", it.ConditionCheck.TableName
			default:
				return op, nil, &Reject{400, "ValidationException", fmt.Sprintf("transact item %d names no action", i+1)}
			}
			checks = append(checks, Check{Action: action, Resource: table(name), Keys: enclosing})
		}
		return op, checks, nil
	case op == "ExecuteStatement" || op == "BatchExecuteStatement" || op == "ExecuteTransaction":
		stmts := []string{req.Statement}
		if op == "BatchExecuteStatement" {
			stmts = stmts[:0]
			for _, s := range req.Statements {
				stmts = append(stmts, s.Statement)
			}
		} else if op == "ExecuteTransaction" {
			stmts = stmts[:0]
			for _, s := range req.TransactStatements {
				stmts = append(stmts, s.Statement)
			}
		}
		for _, s := range stmts {
			action, name, index, ok := partiQL(s)
			if !ok {
				return op, nil, &Reject{400, "ValidationException", "the local cloud cannot read the table a PartiQL statement names"}
			}
			res := table(name)
			if index != "" {
				res += "/index/" + index
			}
			checks = append(checks, Check{Action: action, Resource: res, Keys: keys})
		}
		return op, checks, nil
	}
	return op, nil, unknownOperation("DynamoDB", op)
}

// partiQL reads the IAM action and the table (and index) a PartiQL statement names.
func partiQL(stmt string) (action, table, index string, ok bool) {
	toks := partiQLTokens(stmt)
	if len(toks) < 2 {
		return "", "", "", false
	}
	next := func(after string) int {
		for i, t := range toks {
			if strings.EqualFold(t, after) {
				return i + 1
			}
		}
		return -1
	}
	var at int
	switch strings.ToUpper(toks[0]) {
	case "SELECT":
		action, at = "dynamodb:PartiQLSelect", next("FROM")
	case "INSERT":
		action, at = "dynamodb:PartiQLInsert", next("INTO")
	case "UPDATE":
		action, at = "dynamodb:PartiQLUpdate", 1
	case "DELETE":
		action, at = "dynamodb:PartiQLDelete", next("FROM")
	default:
		return "", "", "", false
	}
	if at <= 0 || at >= len(toks) {
		return "", "", "", false
	}
	table = toks[at]
	if at+2 < len(toks) && toks[at+1] == "." {
		index = toks[at+2]
	}
	return action, table, index, true
}

// partiQLTokens splits a statement into words, "quoted names" (unquoted) and the dot.
func partiQLTokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return out
			}
			out = append(out, s[i+1:i+1+j])
			i += j + 2
		case c == '.':
			out = append(out, ".")
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n.\"", rune(s[j])) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}
