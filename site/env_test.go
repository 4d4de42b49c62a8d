package site

import (
	"slices"
	"strings"
	"testing"
)

func TestBuildEnv(t *testing.T) {
	inherited := []string{
		"PATH=/usr/bin",
		"HUGO_PARAMS_OPERATOR_NAME=Inherited Co.", // managed: dropped
		"HUGOxPARAMSxRETENTIONxCODEMINUTESx=1",    // not a managed key (trailing x): kept
		"HUGOxPARAMSxRETENTIONxBACKUPDAYS=3",      // managed, other separator: dropped
		"HUGO_PARAMS_OPERATOR_REGION=us-east-1",   // managed: dropped
		"HUGO_ENVIRONMENT=staging",                // not a param: kept
		"GOWORK=/somewhere/go.work",               // replaced by GOWORK=off
	}
	tests := []struct {
		name    string
		p       Params
		want    []string
		wantErr string
	}{
		{
			name: "zero params keep defaults",
			want: []string{"PATH=/usr/bin", "HUGOxPARAMSxRETENTIONxCODEMINUTESx=1", "HUGO_ENVIRONMENT=staging", "GOWORK=off"},
		},
		{
			name: "every field",
			p: Params{OperatorName: "Acme", OperatorContact: "p@acme.test", OfficerContact: "o@acme.test", HomeRegion: "eu-central-1",
				CodeMinutes: 10, SessionHours: 8, ExportDays: 3, PendingDays: 5, BackupDays: 30},
			want: []string{"PATH=/usr/bin", "HUGOxPARAMSxRETENTIONxCODEMINUTESx=1", "HUGO_ENVIRONMENT=staging", "GOWORK=off",
				"HUGO_PARAMS_OPERATOR_NAME=Acme", "HUGO_PARAMS_OPERATOR_CONTACT=p@acme.test", "HUGO_PARAMS_OPERATOR_OFFICER=o@acme.test",
				"HUGO_PARAMS_OPERATOR_REGION=eu-central-1", "HUGO_PARAMS_RETENTION_CODEMINUTES=10", "HUGO_PARAMS_RETENTION_SESSIONHOURS=8",
				"HUGO_PARAMS_RETENTION_EXPORTDAYS=3", "HUGO_PARAMS_RETENTION_PENDINGDAYS=5", "HUGO_PARAMS_RETENTION_BACKUPDAYS=30"},
		},
		{name: "negative number", p: Params{BackupDays: -1}, wantErr: "HUGO_PARAMS_RETENTION_BACKUPDAYS must not be negative"},
		{name: "multi-line name", p: Params{OperatorName: "A\nB"}, wantErr: "HUGO_PARAMS_OPERATOR_NAME must be a single line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := buildEnv(inherited, tc.p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("buildEnv error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("buildEnv =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestHugoConfigKey(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"HUGO_PARAMS_OPERATOR_NAME", "params.operator.name", true},
		{"HUGO_PARAMS_RETENTION_CODEMINUTES", "params.retention.codeminutes", true},
		{"HUGOxPARAMSxOPERATORxNAME", "params.operator.name", true},
		{"HUGO_", "", false},
		{"HUGO", "", false},
		{"GOPATH", "", false},
	}
	for _, tc := range tests {
		got, ok := hugoConfigKey(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("hugoConfigKey(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
