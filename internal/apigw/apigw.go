package apigw

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/privacyportal/portal/internal/privacy"
)

// MaxBodyBytes is the largest request body any portal endpoint accepts. Forms are small; a
// larger body is refused before it is parsed.
const MaxBodyBytes = 64 << 10

// ProblemContentType is the media type of error responses (RFC 9457).
const ProblemContentType = "application/problem+json"

// Request is an incoming API request.
type Request = events.APIGatewayProxyRequest

// Response is an API response.
type Response = events.APIGatewayProxyResponse

// HandlerFunc handles one API request. A returned error becomes a problem document.
type HandlerFunc func(ctx context.Context, req *Request) (Response, error)

// status is the one table from error codes to HTTP statuses.
var status = map[privacy.Code]int{
	privacy.Invalid:      http.StatusBadRequest,
	privacy.Unauthorized: http.StatusUnauthorized,
	privacy.Forbidden:    http.StatusForbidden,
	privacy.NotFound:     http.StatusNotFound,
	privacy.NotAllowed:   http.StatusMethodNotAllowed,
	privacy.Conflict:     http.StatusConflict,
	privacy.TooLarge:     http.StatusRequestEntityTooLarge,
	privacy.Unsupported:  http.StatusUnsupportedMediaType,
	privacy.RateLimited:  http.StatusTooManyRequests,
	privacy.Internal:     http.StatusInternalServerError,
}

// Status returns the HTTP status for an error code.
func Status(c privacy.Code) int {
	if s, ok := status[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Field names the request field at fault, for validation errors.
	Field string `json:"field,omitempty"`
}

// Handle wraps h: it recovers panics, turns errors into problem documents, and sets the
// headers every API response carries.
func Handle(h HandlerFunc) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, _ error) {
		defer func() {
			if v := recover(); v != nil {
				resp = errorResponse(&req, fmt.Errorf("panic: %v", v))
			}
		}()
		r, err := h(ctx, &req)
		if err != nil {
			r = errorResponse(&req, err)
		}
		return withCommonHeaders(r), nil
	}
}

func withCommonHeaders(r Response) Response {
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	if _, ok := r.Headers["Cache-Control"]; !ok {
		r.Headers["Cache-Control"] = "no-store"
	}
	r.Headers["X-Content-Type-Options"] = "nosniff"
	return r
}

func errorResponse(req *Request, err error) Response {
	var e *privacy.Error
	if !errors.As(err, &e) {
		e = &privacy.Error{Code: privacy.Internal, Err: err}
	}
	st := Status(e.Code)
	p := Problem{
		Type:     cmp.Or(e.Type, "about:blank"),
		Title:    http.StatusText(st),
		Status:   st,
		Detail:   e.Message,
		Field:    e.Field,
		Instance: req.RequestContext.RequestID,
	}
	if e.Code == privacy.Internal {
		// The cause may hold anything; it goes to the log under the request ID, never to the
		// user. Causes are built by our code and never carry request data.
		slog.Error("internal error", "requestId", req.RequestContext.RequestID, "resource", req.Resource, "err", err)
		p.Detail = "Something went wrong on our side. Please try again later."
	}
	body, _ := json.Marshal(p)
	r := Response{
		StatusCode: st,
		Headers:    map[string]string{"Content-Type": ProblemContentType},
		Body:       string(body),
	}
	if e.Code == privacy.RateLimited && e.RetryAfterSeconds > 0 {
		r.Headers["Retry-After"] = fmt.Sprint(e.RetryAfterSeconds)
	}
	if e.Code == privacy.NotAllowed && e.Message != "" {
		r.Headers["Allow"] = e.Message
	}
	return r
}

// JSON returns a JSON response.
func JSON(status int, v any) (Response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return Response{}, fmt.Errorf("encode response: %w", err)
	}
	return Response{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json; charset=utf-8"},
		Body:       string(body),
	}, nil
}

// Header returns a request header, matching its name case-insensitively as HTTP does.
func Header(req *Request, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Body returns the raw request body, decoding base64 if API Gateway encoded it, and refuses
// bodies over MaxBodyBytes.
func Body(req *Request) ([]byte, error) {
	if len(req.Body) > base64.StdEncoding.EncodedLen(MaxBodyBytes) {
		return nil, tooLarge()
	}
	b := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if b, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, privacy.FieldError("body", "is not valid base64")
		}
	}
	if len(b) > MaxBodyBytes {
		return nil, tooLarge()
	}
	return b, nil
}

func tooLarge() error {
	return &privacy.Error{Code: privacy.TooLarge, Message: fmt.Sprintf("The request body must be at most %d bytes.", MaxBodyBytes)}
}

// DecodeJSON decodes a JSON object body into v strictly: the content type must be JSON (a
// body without one is refused: a cross-site form can send text/plain, never JSON), the body
// one object, and every field known to v. Errors name the field at fault.
func DecodeJSON(req *Request, v any) error {
	mt, _, err := mime.ParseMediaType(Header(req, "Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &privacy.Error{Code: privacy.Unsupported, Field: "Content-Type", Message: "must be application/json"}
	}
	b, err := Body(req)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return privacy.FieldError("body", "is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return privacy.FieldError("body", "has data after the JSON object")
	}
	return nil
}

func decodeError(err error) error {
	// A type's own UnmarshalJSON may already name the field at fault.
	var pe *privacy.Error
	if errors.As(err, &pe) {
		return pe
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return privacy.FieldError("body", "is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return privacy.FieldError("body", "must be a JSON object")
		}
		return privacy.FieldError(typ.Field, "must be a %s", jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return privacy.FieldError("body", "is not valid JSON (it ends too early)")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name = strings.Trim(name, `"`); name == "" {
			return privacy.FieldError("body", "has a field with no name")
		}
		return privacy.FieldError(name, "is not a field this endpoint accepts")
	}
	return privacy.FieldError("body", "is not valid JSON")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}
