package e2e

import (
	"os"
	"testing"

	"github.com/privacyportal/portal/infra/portaltest"
)

func TestMain(m *testing.M) { os.Exit(portaltest.Main(m)) }
