// The Go net/http oracle server (issue 23): standard library only, built offline at test time.
// Usage: server PORT CERT KEY CLIENT_CA_BUNDLE. Verifies client chains with Go's defaults
// (tls.RequireAndVerifyClientCert); a failed handshake is logged by net/http on stderr.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	port, certFile, keyFile, caFile := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	pem, err := os.ReadFile(caFile)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		log.Fatal("no certificates in the client-CA bundle")
	}
	srv := &http.Server{
		Addr: "127.0.0.1:" + port,
		TLSConfig: &tls.Config{
			ClientAuth: tls.RequireAndVerifyClientCert,
			ClientCAs:  pool,
		},
		ErrorLog: log.New(os.Stderr, "", log.LstdFlags),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "ok %s\n", r.TLS.PeerCertificates[0].Subject)
		}),
	}
	log.Fatal(srv.ListenAndServeTLS(certFile, keyFile))
}
