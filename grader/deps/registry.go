package deps

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// DefaultRegistry is npm's public registry, asked where npm is not installed to say otherwise.
const DefaultRegistry = "https://registry.npmjs.org/"

// ConfiguredRegistry is the configured registry, else the one the host's npm uses (read from the
// host's npm configuration, never the submission's), else npm's public one.
func ConfiguredRegistry(ctx context.Context, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	v := npmConfig(ctx, "registry")
	if v == "" {
		return DefaultRegistry, nil
	}
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		return "", fmt.Errorf("npm's configured registry %q is not an http(s) URL: pass --registry", v)
	}
	return v, nil
}

// RegistryClient reaches the registry as the host's npm would: through the environment's proxy,
// trusting npm's configured CA file as well as the system's.
func RegistryClient(ctx context.Context) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	if file := npmConfig(ctx, "cafile"); file != "" {
		if pem, err := os.ReadFile(file); err == nil {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if pool.AppendCertsFromPEM(pem) {
				tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
		}
	}
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}

// npmConfig is one value of the host npm's configuration, "" where npm is missing or says
// nothing.
func npmConfig(ctx context.Context, key string) string {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return ""
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, npm, "config", "get", key)
	cmd.Dir = "/" // never a folder whose .npmrc a candidate could have shaped
	out, err := cmd.Output()
	v := strings.TrimSpace(string(out))
	if err != nil || v == "null" || v == "undefined" {
		return ""
	}
	return v
}
