package samtemplate_test

// P12: every kind of item and object has a retention rule from configuration (docs/retention.md).
// These tests check the template's half: the parameters, their bounds, and that each reaches
// the TTL attribute, the bucket lifecycle or the functions that write the items.

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/infra/samtemplate"
	"github.com/privacyportal/portal/internal/dynamodb"
)

// retentionParams are the retention parameters the template must declare, each bounded.
var retentionParams = []string{
	"ExportRetentionDays", "SessionHours", "VerificationCodeMinutes", "PendingAccountDays",
	"ClosedRequestRetentionDays", "AuditRetentionDays", "TombstoneRetentionDays", "SharingOutboxRetentionDays",
}

// paramBound reads a parameter's MinValue or MaxValue (-1 when it has none), or, for a
// parameter with AllowedValues only, the smallest or largest of them.
func paramBound(tb testing.TB, st *samtemplate.Stack, name, bound string) float64 {
	tb.Helper()
	p := dig(st.Raw, "Parameters", name)
	if p == nil {
		tb.Fatalf("template has no parameter %s", name)
	}
	if v := dig(p, bound); v != nil {
		return num(v)
	}
	var allowed []float64
	for _, v := range list(dig(p, "AllowedValues")) {
		allowed = append(allowed, num(v))
	}
	if len(allowed) == 0 {
		return -1
	}
	if bound == "MinValue" {
		return slices.Min(allowed)
	}
	return slices.Max(allowed)
}

func TestP12_RetentionParametersAreBounded(t *testing.T) {
	st, _ := mustLoad(t, nil)
	for _, name := range retentionParams {
		lo, hi, def := paramBound(t, st, name, "MinValue"), paramBound(t, st, name, "MaxValue"), num(st.Params[name])
		if lo <= 0 || hi < lo || def < lo || def > hi {
			t.Errorf("%s: MinValue %v, MaxValue %v, Default %v: want 0 < MinValue <= Default <= MaxValue", name, lo, hi, def)
		}
	}
}

// A restore from a point-in-time backup brings erased people back; the erasures made since are
// re-applied from their tombstones, which must therefore outlive every backup.
func TestP12_P17_TombstonesOutliveBackups(t *testing.T) {
	st, _ := mustLoad(t, nil)
	if lo, backup := paramBound(t, st, "TombstoneRetentionDays", "MinValue"), paramBound(t, st, "BackupDays", "MaxValue"); lo < backup {
		t.Errorf("TombstoneRetentionDays MinValue = %v, want at least BackupDays's %v", lo, backup)
	}
}

func TestP12_ClosedRequestsOutliveTheirArchivesAndRepeatWindow(t *testing.T) {
	st, _ := mustLoad(t, nil)
	// The archive's download link reads its request: the request must not go first.
	if lo, export := paramBound(t, st, "ClosedRequestRetentionDays", "MinValue"), paramBound(t, st, "ExportRetentionDays", "MaxValue"); lo < export {
		t.Errorf("ClosedRequestRetentionDays MinValue = %v, want at least ExportRetentionDays's MaxValue %v", lo, export)
	}
	// Repeats are counted from the requests still kept.
	if def, window := num(st.Params["ClosedRequestRetentionDays"]), num(st.Params["RepeatWindowDays"]); def < window {
		t.Errorf("ClosedRequestRetentionDays default = %v, want at least RepeatWindowDays's default %v", def, window)
	}
}

// A Store built without configuration (the operator's tool on a stack without the output)
// keeps items as long as a default deploy would.
func TestP12_StoreDefaultsMatchTemplateDefaults(t *testing.T) {
	st, _ := mustLoad(t, nil)
	day := 24 * time.Hour
	for _, c := range []struct {
		param string
		store time.Duration
	}{
		{"ClosedRequestRetentionDays", dynamodb.DefaultRetention.ClosedRequests},
		{"AuditRetentionDays", dynamodb.DefaultRetention.Audit},
	} {
		if got := num(st.Params[c.param]); time.Duration(got)*day != c.store {
			t.Errorf("%s default = %v days, dynamodb.DefaultRetention says %v", c.param, got, c.store)
		}
	}
}

// The adapter writes expiry times to expiresAt: that is the attribute TTL must watch.
func TestP12_TableTTLWatchesExpiresAt(t *testing.T) {
	st, _ := mustLoad(t, nil)
	ttl := dig(st.Properties("PortalTable"), "TimeToLiveSpecification")
	if str(dig(ttl, "AttributeName")) != "expiresAt" || !truthy(dig(ttl, "Enabled")) {
		t.Errorf("PortalTable TimeToLiveSpecification = %v, want expiresAt, enabled", ttl)
	}
}

func TestP12_SharingOutboxExpiresAfterSharingOutboxRetentionDays(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		want   float64
	}{
		{"default", nil, 30},
		{"override", map[string]string{"SharingOutboxRetentionDays": "9"}, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := mustLoad(t, tc.params)
			found := false
			for _, r := range list(dig(st.Properties("SharingOutboxBucket"), "LifecycleConfiguration", "Rules")) {
				if dig(r, "Status") == "Enabled" && dig(r, "Prefix") == nil && dig(r, "Filter") == nil && num(dig(r, "ExpirationInDays")) == tc.want {
					found = true
				}
			}
			if !found {
				t.Errorf("no enabled lifecycle rule expires every disclosure after %v days", tc.want)
			}
		})
	}
}

// Each retention setting reaches every function that writes the items it governs (or that
// reads it at start: the account family's wiring requires both table retentions).
func TestP12_RetentionReachesTheFunctionsThatWriteTheItems(t *testing.T) {
	params := map[string]string{"ClosedRequestRetentionDays": "401", "AuditRetentionDays": "402", "TombstoneRetentionDays": "403"}
	st, _ := mustLoad(t, params)
	accountFamily := []string{"AccountFunction", "ConsentFunction", "MailerFunction", "RegisterFunction", "RequestsFunction"}
	for _, c := range []struct {
		env, param string
		functions  []string
	}{
		// Requests are closed by the export worker, the requests and mail functions (and
		// portalctl, from the stack's output).
		{"CLOSED_REQUEST_RETENTION_DAYS", "ClosedRequestRetentionDays", append([]string{"ExportFunction"}, accountFamily...)},
		// Audit entries are written by the account, register and mail functions.
		{"AUDIT_RETENTION_DAYS", "AuditRetentionDays", accountFamily},
		// Tombstones are written by the erasure worker, whichever functions that is.
		{"TOMBSTONE_RETENTION_DAYS", "TombstoneRetentionDays", []string{"ErasureFunction"}},
	} {
		if got := dig(st.Raw, "Globals", "Function", "Environment", "Variables", c.env); num(got) != num(params[c.param]) {
			// Globals reach every function, the erasure worker's included.
			t.Errorf("Globals %s = %v, want %s's %s", c.env, got, c.param, params[c.param])
		}
		for _, id := range c.functions {
			i := slices.IndexFunc(st.Functions, func(f samtemplate.Function) bool { return f.LogicalID == id })
			if i < 0 {
				if id == "ErasureFunction" {
					continue // not in this template yet; Globals, checked above, will reach it
				}
				t.Errorf("no function %s", id)
				continue
			}
			if got := st.Functions[i].Env[c.env]; got != params[c.param] {
				t.Errorf("%s: %s = %q, want %s's %q", id, c.env, got, c.param, params[c.param])
			}
		}
	}
	if got := dig(st.Raw, "Outputs", "ClosedRequestRetentionDays", "Value"); num(got) != num(params["ClosedRequestRetentionDays"]) {
		t.Errorf("output ClosedRequestRetentionDays = %v, want %s (portalctl reads it)", got, params["ClosedRequestRetentionDays"])
	}
}

// The retention table names every retention parameter (with BackupDays and LogRetentionDays).
func TestP12_RetentionDocNamesEveryRetentionParameter(t *testing.T) {
	b, err := os.ReadFile("../../docs/retention.md")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := mustLoad(t, nil)
	for _, name := range append(retentionParams, "BackupDays", "LogRetentionDays") {
		if _, ok := st.Params[name]; !ok {
			t.Errorf("template has no parameter %s", name)
		}
		if !strings.Contains(string(b), "`"+name+"`") {
			t.Errorf("docs/retention.md does not name %s", name)
		}
	}
}
