// Package iam decides, as AWS would, whether a function of the local cloud may make an AWS
// call: it verifies the call's SigV4 signature, works out the IAM actions and resources the
// call needs (per service and protocol: DynamoDB, S3, SQS, SES v1, KMS, SSM), evaluates them
// against the function's policies from template.yaml (inline documents and SAM policy
// templates), and writes the AccessDenied error AWS answers when it refuses, in the service's
// own protocol so the SDK in the function surfaces the same error it would in AWS.
//
// It has no emulator of its own and does no I/O: package localcloud runs the proxy that uses
// it in front of the emulators.
package iam
