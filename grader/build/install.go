package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type packageJSON struct {
	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
}

type lockfile struct {
	LockfileVersion int `json:"lockfileVersion"`
	Packages        map[string]struct {
		Version  string `json:"version"`
		Resolved string `json:"resolved"`
		Dev      bool   `json:"dev"`
		Link     bool   `json:"link"`
	} `json:"packages"`
}

// install runs npm ci when the submission declares dependencies. Its own .npmrc is deleted and
// every registry it names ignored: npm sees only our configuration, with the registry forced
// for every resolved URL and install scripts off.
func install(ctx context.Context, src string, opts Options) ([]string, *Failure, error) {
	var pkg packageJSON
	raw, err := os.ReadFile(filepath.Join(src, "package.json"))
	if err != nil {
		return nil, &Failure{Stage: "layout", Summary: "package.json is missing: the submission must be an npm package"}, nil
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return nil, &Failure{Stage: "layout", Summary: "package.json is not valid JSON: " + err.Error()}, nil
	}
	if len(pkg.Dependencies)+len(pkg.OptionalDependencies) == 0 {
		return nil, nil, nil // development tools only (typescript, @types/*): nothing to install
	}
	lock, f := readLock(src)
	if f != nil {
		return nil, f, nil
	}
	deps, f := checkResolved(lock)
	if f != nil {
		return nil, f, nil
	}
	_ = os.RemoveAll(filepath.Join(src, "node_modules"))
	_ = os.Remove(filepath.Join(src, ".npmrc"))
	f, err = npmCI(ctx, src, opts)
	return deps, f, err
}

func readLock(src string) (*lockfile, *Failure) {
	for _, name := range []string{"npm-shrinkwrap.json", "package-lock.json"} {
		raw, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			continue
		}
		var l lockfile
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, &Failure{Stage: "install", Summary: name + " is not valid JSON: " + err.Error()}
		}
		if l.LockfileVersion < 2 {
			return nil, &Failure{Stage: "install", Summary: fmt.Sprintf("%s has lockfileVersion %d; npm 7 or later writes 2 or 3", name, l.LockfileVersion)}
		}
		return &l, nil
	}
	return nil, &Failure{Stage: "install", Summary: "dependencies are declared but there is no package-lock.json: the brief asks for them to be locked"}
}

// checkResolved refuses dependencies that would be fetched from anywhere but a registry
// tarball (git, file, arbitrary URLs), and lists the runtime packages.
func checkResolved(l *lockfile) ([]string, *Failure) {
	var deps []string
	for path, p := range l.Packages {
		if path == "" || p.Link {
			if p.Link {
				return nil, &Failure{Stage: "install", Summary: fmt.Sprintf("%s is a link to a local folder: only registry packages can be installed", path)}
			}
			continue
		}
		u, err := url.Parse(p.Resolved)
		if p.Resolved != "" && (err != nil || u.Scheme != "https" || !strings.Contains(u.Path, "/-/")) {
			return nil, &Failure{Stage: "install", Summary: fmt.Sprintf("%s resolves to %q, not a registry tarball", path, p.Resolved)}
		}
		if !p.Dev {
			deps = append(deps, strings.TrimPrefix(path, "node_modules/")+"@"+p.Version)
		}
	}
	sort.Strings(deps)
	return deps, nil
}

func npmCI(ctx context.Context, src string, opts Options) (*Failure, error) {
	npm := opts.NPM
	if npm == "" {
		npm = "npm"
	}
	if _, err := exec.LookPath(npm); err != nil {
		return nil, fmt.Errorf("npm is needed to install dependencies: %w", err)
	}
	registry, err := registryURL(ctx, npm, opts.Registry)
	if err != nil {
		return nil, err
	}
	network := hostNetworkConfig(ctx, npm)
	home := filepath.Join(opts.Workdir, "npm-home")
	cache := opts.Cache
	if cache == "" {
		cache = filepath.Join(opts.Workdir, "npm-cache")
	}
	npmrc := filepath.Join(opts.Workdir, "npmrc")
	conf := fmt.Sprintf("registry=%s\nreplace-registry-host=always\nignore-scripts=true\naudit=false\nfund=false\nupdate-notifier=false\n%s", registry, network)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("npm home: %w", err)
	}
	if err := os.WriteFile(npmrc, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("write npmrc: %w", err)
	}
	globalrc := filepath.Join(opts.Workdir, "npmrc-global") // empty: the host's global npmrc is not read
	if err := os.WriteFile(globalrc, nil, 0o600); err != nil {
		return nil, fmt.Errorf("write npmrc: %w", err)
	}
	timeout := opts.InstallTimeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund",
		"--userconfig", npmrc, "--globalconfig", globalrc, "--registry", registry, "--cache", cache, "--omit=dev")
	cmd.Dir = src
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "npm_config_userconfig=" + npmrc}
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if errors.Is(cctx.Err(), context.DeadlineExceeded) {
		return &Failure{Stage: "install", Summary: fmt.Sprintf("npm ci did not finish within %v", timeout)}, nil
	}
	if err != nil {
		return &Failure{Stage: "install", Summary: "npm ci --ignore-scripts failed", Messages: []Message{{Text: tail(out.String(), 4000)}}}, nil
	}
	return nil, nil
}

// registryURL is the configured registry, or the one the host's npm uses.
func registryURL(ctx context.Context, npm, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, npm, "config", "get", "registry").Output()
	if err != nil {
		return "", fmt.Errorf("ask npm for its registry: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// passEnv are the host's variables that say how to reach the network (proxies, CAs); npm
// keeps them, nothing else of the host's environment.
var passEnv = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"}

// networkKeys are the host npm's settings for reaching its registry (a CA bundle, a proxy),
// carried into the build's own configuration; nothing of the submission's .npmrc is.
var networkKeys = []string{"cafile", "proxy", "https-proxy", "noproxy", "strict-ssl"}

func hostNetworkConfig(ctx context.Context, npm string) string {
	var b strings.Builder
	for _, k := range networkKeys {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, err := exec.CommandContext(cctx, npm, "config", "get", k).Output()
		cancel()
		v := strings.TrimSpace(string(out))
		if err != nil || v == "" || v == "null" || v == "undefined" {
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	return b.String()
}
