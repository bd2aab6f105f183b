// Package tlsca makes the certificate authorities a mock run serves TLS with: a CA the client
// is given (through NODE_EXTRA_CA_CERTS) and, beside it, a CA it never sees, whose leaf the
// untrusted listener presents. Keys are ECDSA P-256, made fresh for every run.
package tlsca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Hosts are the names every leaf certificate is valid for.
var Hosts = []string{"localhost", "source.itsm.test", "target.itsm.test", "itsm.test", "127.0.0.1", "::1"}

// Authority is a CA with one leaf certificate issued by it.
type Authority struct {
	// CertPEM is the CA certificate in PEM, what a client must trust.
	CertPEM []byte
	// Leaf is the server certificate with its key, chained to the CA.
	Leaf tls.Certificate
	// Pool holds the CA certificate, for Go clients in tests.
	Pool *x509.CertPool
}

// New makes a CA named name and a leaf for Hosts.
func New(name string) (*Authority, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"ITSM grader mock"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate leaf key: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "itsm.test"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range Hosts {
		if ip := net.ParseIP(h); ip != nil {
			leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
		} else {
			leafTmpl.DNSNames = append(leafTmpl.DNSNames, h)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create leaf certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &Authority{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Leaf:    tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey},
		Pool:    pool,
	}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// Encode writes an authority as one PEM bundle: the CA certificate, the leaf chain and the leaf
// key. It is how a grader hands the material it made to a mock in a container.
func (a *Authority) Encode() ([]byte, error) {
	key, err := x509.MarshalPKCS8PrivateKey(a.Leaf.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("encode leaf key: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CA CERTIFICATE", Bytes: a.caDER()})
	for _, der := range a.Leaf.Certificate {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...), nil
}

func (a *Authority) caDER() []byte {
	b, _ := pem.Decode(a.CertPEM)
	return b.Bytes
}

// Decode reads a bundle written by Encode.
func Decode(bundle []byte) (*Authority, error) {
	var (
		caDER []byte
		chain [][]byte
		key   any
	)
	for rest := bundle; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CA CERTIFICATE":
			caDER = b.Bytes
		case "CERTIFICATE":
			chain = append(chain, b.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("decode leaf key: %w", err)
			}
			key = k
		}
	}
	if caDER == nil || len(chain) == 0 || key == nil {
		return nil, fmt.Errorf("TLS bundle needs a CA certificate, a leaf chain and a key")
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("decode CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &Authority{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Leaf:    tls.Certificate{Certificate: chain, PrivateKey: key},
		Pool:    pool,
	}, nil
}
