// Command hello is the cold-start and binary-size floor: a plain aws-lambda-go function that
// decodes an API Gateway proxy event and returns a fixed response, with no AWS SDK and no
// configuration to read.
package main

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body:       "hello\n",
	}, nil
}

func main() {
	lambda.Start(handle)
}
