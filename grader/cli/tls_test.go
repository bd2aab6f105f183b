package cli

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// caTransport trusts only the CA in the PEM file, as Node does with NODE_EXTRA_CA_CERTS.
func caTransport(t *testing.T, caFile string) *http.Transport {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
}
