package iam

import (
	"encoding/json"
	"net/url"
	"strings"
)

// sqsActions maps SQS operations to their IAM actions. The batch operations have no actions
// of their own: IAM authorizes them as the single-message action (SAM's SQS policy templates
// list *Batch actions, which match nothing).
var sqsActions = map[string]string{
	"SendMessage": "sqs:SendMessage", "SendMessageBatch": "sqs:SendMessage",
	"ReceiveMessage": "sqs:ReceiveMessage",
	"DeleteMessage":  "sqs:DeleteMessage", "DeleteMessageBatch": "sqs:DeleteMessage",
	"ChangeMessageVisibility": "sqs:ChangeMessageVisibility", "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
	"GetQueueAttributes": "sqs:GetQueueAttributes", "SetQueueAttributes": "sqs:SetQueueAttributes",
	"GetQueueUrl": "sqs:GetQueueUrl", "PurgeQueue": "sqs:PurgeQueue", "DeleteQueue": "sqs:DeleteQueue",
	"CreateQueue": "sqs:CreateQueue", "ListQueueTags": "sqs:ListQueueTags", "TagQueue": "sqs:TagQueue",
	"UntagQueue": "sqs:UntagQueue", "AddPermission": "sqs:AddPermission", "RemovePermission": "sqs:RemovePermission",
	"ListDeadLetterSourceQueues": "sqs:ListDeadLetterSourceQueues", "StartMessageMoveTask": "sqs:StartMessageMoveTask",
	"CancelMessageMoveTask": "sqs:CancelMessageMoveTask", "ListMessageMoveTasks": "sqs:ListMessageMoveTasks",
	"ListQueues": "sqs:ListQueues",
}

type sqsRequest struct {
	QueueUrl               string
	QueueName              string
	QueueOwnerAWSAccountId string
	SourceArn              string
}

// SQSChecks maps an SQS request to the checks IAM makes: the AWS JSON 1.0 protocol the Go
// SDK speaks (X-Amz-Target AmazonSQS.<Op>), or the older query protocol (a form with
// Action=<Op>) when target is empty. The resource is the queue's ARN, read from the QueueUrl
// (…/<account>/<name>) or the QueueName.
func SQSChecks(target string, form url.Values, body []byte, region, account string) (op string, checks []Check, err error) {
	var req sqsRequest
	if target != "" {
		var ok bool
		if op, ok = strings.CutPrefix(target, "AmazonSQS."); !ok {
			return target, nil, unknownOperation("SQS", target)
		}
		if len(body) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				return op, nil, serialization("the request body is not valid JSON")
			}
		}
	} else {
		op = form.Get("Action")
		req = sqsRequest{QueueUrl: form.Get("QueueUrl"), QueueName: form.Get("QueueName"),
			QueueOwnerAWSAccountId: form.Get("QueueOwnerAWSAccountId"), SourceArn: form.Get("SourceArn")}
	}
	action, ok := sqsActions[op]
	if !ok {
		return op, nil, unknownOperation("SQS", op)
	}
	var res string
	switch {
	case op == "ListQueues":
		res = "*"
	case op == "StartMessageMoveTask" || op == "ListMessageMoveTasks":
		res = req.SourceArn
	case op == "CancelMessageMoveTask":
		// The task handle is opaque; the task's source queue is what IAM checks, and the local
		// cloud cannot read it.
		return op, nil, unknownOperation("SQS", op)
	case req.QueueUrl != "":
		res = QueueARN(req.QueueUrl, region, account)
	case req.QueueName != "":
		owner := req.QueueOwnerAWSAccountId
		if owner == "" {
			owner = account
		}
		res = "arn:aws:sqs:" + region + ":" + owner + ":" + req.QueueName
	}
	if res == "" {
		return op, nil, &Reject{400, "MissingParameter", "The request must contain the parameter QueueUrl."}
	}
	return op, []Check{{Action: action, Resource: res}}, nil
}

// QueueARN builds a queue's ARN from its URL, whose path is /<account>/<name>.
func QueueARN(queueURL, region, account string) string {
	path := queueURL
	if u, err := url.Parse(queueURL); err == nil && u.Path != "" {
		path = u.Path
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	name := parts[len(parts)-1]
	if len(parts) >= 2 && parts[len(parts)-2] != "" {
		account = parts[len(parts)-2]
	}
	return "arn:aws:sqs:" + region + ":" + account + ":" + name
}

// SQSKMSChecks are the KMS checks a call to a queue encrypted with a customer managed key
// needs besides its own, made by SQS with the caller's credentials: a producer needs
// kms:GenerateDataKey and kms:Decrypt on the key, a consumer kms:Decrypt (SQS's key
// management documentation). SQS's encryption context is not modelled: a condition on it is
// unknown, so it fails closed.
func SQSKMSChecks(op, keyARN, region, account string) []Check {
	keys := map[string][]string{"kms:viaservice": {"sqs." + region + ".amazonaws.com"}, "kms:calleraccount": {account}}
	unknown := []string{"kms:encryptioncontext:", "kms:encryptioncontextkeys"}
	switch op {
	case "SendMessage", "SendMessageBatch":
		return []Check{
			{Action: "kms:GenerateDataKey", Resource: keyARN, Keys: keys, Unknown: unknown},
			{Action: "kms:Decrypt", Resource: keyARN, Keys: keys, Unknown: unknown},
		}
	case "ReceiveMessage":
		return []Check{{Action: "kms:Decrypt", Resource: keyARN, Keys: keys, Unknown: unknown}}
	}
	return nil
}
