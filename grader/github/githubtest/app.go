package githubtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// App is a GitHub App: its id and the private key GitHub would have issued (PEM, PKCS #1).
type App struct {
	ID  int64
	Key *rsa.PrivateKey
	PEM []byte
}

// NewApp makes an App with a fresh 2048-bit key, as GitHub issues them.
func NewApp(t testing.TB, id int64) *App {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate the App's key: %v", err)
	}
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	return &App{ID: id, Key: key, PEM: pem.EncodeToMemory(block)}
}

// verifyJWT checks an App JWT as GitHub does: RS256 signed by the App's key, issued by the
// App's id, not expired, and living at most 10 minutes.
func (a *App) verifyJWT(token string, now time.Time) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	var head struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &head); err != nil || head.Alg != "RS256" {
		return fmt.Errorf("JWT header: algorithm %q, want RS256", head.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("JWT signature: %w", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&a.Key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("JWT signature: %w", err)
	}
	var claims struct {
		Iss string `json:"iss"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return fmt.Errorf("JWT claims: %w", err)
	}
	switch {
	case claims.Iss != strconv.FormatInt(a.ID, 10):
		return fmt.Errorf("JWT issuer %q is not App %d", claims.Iss, a.ID)
	case now.Unix() >= claims.Exp:
		return errors.New("JWT expired")
	case claims.Exp-claims.Iat > 600:
		return errors.New("JWT lives longer than 10 minutes")
	}
	return nil
}

func decodeSegment(segment string, into any) error {
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}
