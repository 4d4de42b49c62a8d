package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/infra/portaltest"
)

// benchRun distinguishes this bench's accounts from any earlier run's in the same emulator.
var benchRun = time.Now().UnixNano()

// post sends a JSON body, with the Origin a browser sends from the portal's pages. Each call
// connects from its own loopback address (all of 127.0.0.0/8 is this machine; the gateway
// reports it as CloudFront reports the viewer's), so the per-client rate limits, which a real
// visitor never reaches, do not throttle the bench.
func post(ctx context.Context, url string, i int, body any, want int) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	resp, err := clientFor(i).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, got)
	}
	return nil
}

var (
	clientsMu sync.Mutex
	clients   = map[string]*http.Client{}
)

// clientFor returns the client for simulated visitor i, kept for its connections' sake.
func clientFor(i int) *http.Client {
	ip := fmt.Sprintf("127.77.%d.%d", (i/250)%250, i%250+1)
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if c, ok := clients[ip]; ok {
		return c
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
	clients[ip] = c
	return c
}

const benchPassword = "correct horse battery staple"

func register(ctx context.Context, c *localcloud.Cloud, i int) error {
	return post(ctx, c.URL+"/api/register", i, map[string]string{
		"name": "Bench Person", "email": fmt.Sprintf("bench-%d-%d@example.com", benchRun, i),
		"username": fmt.Sprintf("b%d-%d", benchRun%1_000_000, i), "password": benchPassword, "ageGroup": "14+",
	}, http.StatusAccepted)
}

// putItem is the floor: one PutItem of a profile-sized item.
func putItem(ctx context.Context, c *localcloud.Cloud, i int) error {
	_, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(c.Names["PortalTable"]),
		Item: map[string]types.AttributeValue{
			"PK":   &types.AttributeValueMemberS{Value: fmt.Sprintf("BENCH#%d#%d", benchRun, i)},
			"SK":   &types.AttributeValueMemberS{Value: "PROFILE"},
			"name": &types.AttributeValueMemberS{Value: "Bench Person"},
			"mail": &types.AttributeValueMemberS{Value: fmt.Sprintf("bench-%d@example.com", i)},
		},
	})
	return err
}

// signInPool is how many verified accounts the sign-in bench rotates over: the per-login
// limit allows 10 sign-ins per account in 15 minutes.
const signInPool = 40

func signInLogin(i int) string { return fmt.Sprintf("s%d-%d", benchRun%1_000_000, i%signInPool) }

// signInAccounts registers and verifies the pool, reading each code from the SES emulator
// (the mail worker sends it a moment after the registration is answered).
func signInAccounts(ctx context.Context, c *localcloud.Cloud) error {
	for i := range signInPool {
		email := fmt.Sprintf("signin-%d-%d@example.com", benchRun, i)
		if err := post(ctx, c.URL+"/api/register", 100000+i, map[string]string{
			"name": "Bench Person", "email": email, "username": signInLogin(i), "password": benchPassword, "ageGroup": "14+",
		}, http.StatusAccepted); err != nil {
			return err
		}
		code, err := mailedCode(ctx, c.MailboxURL, email)
		if err != nil {
			return err
		}
		if err := post(ctx, c.URL+"/api/verify", 100000+i, map[string]string{"email": email, "code": code, "password": benchPassword}, http.StatusOK); err != nil {
			return err
		}
	}
	return nil
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

func mailedCode(ctx context.Context, mailbox, to string) (string, error) {
	mb := &portaltest.Mailbox{URL: mailbox, Client: apiClient}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mails, err := mb.All()
		if err != nil {
			return "", err
		}
		for _, m := range mails {
			if code := sixDigits.FindString(m.Body.Text); m.To(to) && code != "" {
				return code, nil
			}
		}
	}
	return "", fmt.Errorf("no code mailed to %s", to)
}

func signIn(ctx context.Context, c *localcloud.Cloud, i int) error {
	return post(ctx, c.URL+"/api/session", i, map[string]string{"login": signInLogin(i), "password": benchPassword}, http.StatusOK)
}

// consentPool is how many accounts the consent round trip rotates over: each may make
// consent.ChangesPerAccount changes an hour.
const consentPool = 10

// consentCookies are the sessions of the accounts whose consents the round trip changes.
var consentCookies []string

// consentAccounts registers, verifies and signs in the accounts of the consent round trip.
func consentAccounts(ctx context.Context, c *localcloud.Cloud) error {
	for i := range consentPool {
		email := fmt.Sprintf("consent-%d-%d@example.com", benchRun, i)
		if err := post(ctx, c.URL+"/api/register", 200000+i, map[string]string{
			"name": "Bench Person", "email": email, "username": fmt.Sprintf("c%d-%d", benchRun%1_000_000, i), "password": benchPassword, "ageGroup": "14+",
		}, http.StatusAccepted); err != nil {
			return err
		}
		code, err := mailedCode(ctx, c.MailboxURL, email)
		if err != nil {
			return err
		}
		if err := post(ctx, c.URL+"/api/verify", 200000+i, map[string]string{"email": email, "code": code, "password": benchPassword}, http.StatusOK); err != nil {
			return err
		}
		resp, err := send(ctx, http.MethodPost, c.URL+"/api/session", 200000+i, map[string]string{"login": email, "password": benchPassword}, "")
		if err != nil {
			return err
		}
		cookie := ""
		for _, ck := range resp.Cookies() {
			if ck.Name == "__Host-session" {
				cookie = ck.Value
			}
		}
		if cookie == "" {
			return fmt.Errorf("sign in for the consent round trip: no session cookie (%d)", resp.StatusCode)
		}
		consentCookies = append(consentCookies, cookie)
	}
	return nil
}

// putConsent changes one consent (marketing, on and off in turn for each account): a real
// ledger write with its receipt job, each time.
func putConsent(ctx context.Context, c *localcloud.Cloud, i int) error {
	n := i % consentPool
	resp, err := send(ctx, http.MethodPut, c.URL+"/api/consent", 200000+n,
		map[string]any{"choices": map[string]bool{"marketing": (i/consentPool)%2 == 0}, "source": "form"}, "__Host-session="+consentCookies[n])
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT /api/consent: %d", resp.StatusCode)
	}
	return nil
}

// send sends a JSON body as a page of the portal does, with an optional Cookie header.
func send(ctx context.Context, method, url string, i int, body any, cookie string) (*http.Response, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := clientFor(i).Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}
