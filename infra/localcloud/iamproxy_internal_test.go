package localcloud

import (
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// An S3 upload whose body is not the one its signature covers must not complete at the
// emulator: the proxy streams uploads, so it can only fail the body's last read.
func TestTamperedUploadNeverCompletes(t *testing.T) {
	var completed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err == nil {
			completed.Store(true)
		}
	}))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	for _, tc := range []struct {
		name, body string
		chunked    bool
		ok         bool
	}{
		{"the signed body", "original", false, true},
		{"another body", "tampered", false, false},
		{"the signed body, chunked", "original", true, true},
		{"another body, chunked", "tampered", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			completed.Store(false)
			length := int64(len(tc.body))
			if tc.chunked {
				length = -1
			}
			body := &hashCheck{r: strings.NewReader(tc.body), h: sha256.New(), want: sha256Hex([]byte("original")), left: length}
			req, _ := http.NewRequest(http.MethodPut, srv.URL, body)
			req.ContentLength = length
			resp, err := tr.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			var mismatch *hashMismatch
			if tc.ok != (err == nil) || (!tc.ok && !errors.As(err, &mismatch)) {
				t.Fatalf("err = %v", err)
			}
			if completed.Load() != tc.ok {
				t.Errorf("the emulator got the whole body: %v, want %v", completed.Load(), tc.ok)
			}
		})
	}
}
