package tlsca

import (
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLeafVerifiesOnlyAgainstItsOwnCA also round-trips the bundle a grader hands a container.
func TestLeafVerifiesOnlyAgainstItsOwnCA(t *testing.T) {
	t.Parallel()
	a, err := New("A")
	require.NoError(t, err)
	b, err := New("B")
	require.NoError(t, err)
	bundle, err := a.Encode()
	require.NoError(t, err)
	decoded, err := Decode(bundle)
	require.NoError(t, err)
	require.Equal(t, a.CertPEM, decoded.CertPEM)

	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{decoded.Leaf}})
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	for _, host := range []string{"localhost", "target.itsm.test", "127.0.0.1"} {
		c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: a.Pool, ServerName: host})
		require.NoError(t, err, host)
		_ = c.Close()
	}
	_, err = tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: b.Pool, ServerName: "localhost"})
	require.ErrorContains(t, err, "certificate")
	_, err = Decode([]byte("nothing"))
	require.Error(t, err)
}
