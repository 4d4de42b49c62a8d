// Command localkms serves local-kms (github.com/nsmithuk/local-kms), a KMS emulator, on the
// address given as its only argument. local-kms's own command listens on every interface
// (":"+PORT, with no way to name a host), so the local cloud runs its request handler from
// here instead, on a loopback address. Configuration is local-kms's own: KMS_ACCOUNT_ID,
// KMS_REGION and KMS_DATA_PATH (its key database, a directory).
//
// Usage: localkms 127.0.0.1:<port>
package main

import (
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"

	kms "github.com/nsmithuk/local-kms/src"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: localkms <host:port>")
	}
	config.AWSAccountId = env("KMS_ACCOUNT_ID", "111122223333")
	config.AWSRegion = env("KMS_REGION", "eu-west-2")
	path, err := filepath.Abs(env("KMS_DATA_PATH", filepath.Join(os.TempDir(), "local-kms")))
	if err != nil {
		log.Fatal(err)
	}
	config.DatabasePath = path
	db := data.NewDatabase(path)
	defer db.Close()
	l, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("local-kms listening on %s", l.Addr())
	err = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kms.HandleRequest(w, r, db)
	}))
	log.Fatal(err)
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
