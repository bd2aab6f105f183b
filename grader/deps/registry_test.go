package deps

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeRegistry is an npm registry on loopback serving tarballs built by the test below a path
// prefix, counting every request. A fault may take over a request.
type fakeRegistry struct {
	server *httptest.Server
	prefix string // "/" or "/npm/"

	mu       sync.Mutex
	tarballs map[string][]byte // path below the prefix → bytes
	hits     map[string]int    // request path → count
	accepts  []string          // Accept header of every request
	fault    func(w http.ResponseWriter, r *http.Request, hit int) bool
}

// newRegistry starts a registry below prefix; it is closed when the test ends.
func newRegistry(t *testing.T, prefix string) *fakeRegistry {
	t.Helper()
	reg := &fakeRegistry{prefix: prefix, tarballs: map[string][]byte{}, hits: map[string]int{}}
	reg.server = httptest.NewServer(http.HandlerFunc(reg.serve))
	t.Cleanup(reg.server.Close)
	return reg
}

// URL is the registry's base URL, prefix included.
func (reg *fakeRegistry) URL() string {
	return reg.server.URL + reg.prefix
}

func (reg *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	reg.mu.Lock()
	reg.hits[r.URL.Path]++
	hit := reg.hits[r.URL.Path]
	reg.accepts = append(reg.accepts, r.Header.Get("Accept"))
	fault := reg.fault
	body, ok := reg.tarballs[strings.TrimPrefix(r.URL.Path, reg.prefix)]
	reg.mu.Unlock()
	if fault != nil && fault(w, r, hit) {
		return
	}
	if !ok || !strings.HasPrefix(r.URL.Path, reg.prefix) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(body)
}

// add publishes a tarball of name@version (pad filler bytes) and returns its Package, as Plan
// would plan it at node_modules/<name>.
func (reg *fakeRegistry) add(t *testing.T, name, version string, pad int) Package {
	t.Helper()
	pkg, body := tarballPackage(t, name, version, pad)
	reg.mu.Lock()
	defer reg.mu.Unlock()
	reg.tarballs[pkg.Tarball] = body
	return pkg
}

// setFault installs a fault.
func (reg *fakeRegistry) setFault(fault func(w http.ResponseWriter, r *http.Request, hit int) bool) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	reg.fault = fault
}

// requests is the number of requests served so far.
func (reg *fakeRegistry) requests() int {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	n := 0
	for _, c := range reg.hits {
		n += c
	}
	return n
}

// tarballPackage builds a tarball and the Package that installs it at node_modules/<name>.
func tarballPackage(t *testing.T, name, version string, pad int) (Package, []byte) {
	t.Helper()
	body := makeTarball(t, name, version, pad)
	return Package{
		Path: "node_modules/" + name, Name: name, Version: version,
		Integrity: sri(body), Tarball: name + "/-/" + baseName(name) + "-" + version + ".tgz",
	}, body
}

// forbiddenListener is a loopback listener that fails the test if anything ever connects to
// it: the address a hostile submission names. It is closed when the test ends.
func forbiddenListener(t *testing.T) *httptest.Server {
	t.Helper()
	var contacted atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the candidate-chosen listener got a request: %s %s", r.Method, r.URL)
		http.Error(w, "forbidden", http.StatusTeapot)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			contacted.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		if n := contacted.Load(); n > 0 {
			t.Errorf("the candidate-chosen listener %s got %d connections", srv.URL, n)
		}
	})
	return srv
}

// streamChunked hijacks the connection and sends a 200 whose header claims a small
// Content-Length while the body, chunked, runs to total bytes; it returns the bytes it
// managed to send before the client hung up.
func streamChunked(w http.ResponseWriter, claimedLength, total int) int {
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return 0
	}
	defer conn.Close()
	out := bufio.NewWriterSize(conn, 64<<10)
	_ = rw.Flush()
	fmt.Fprintf(out, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", claimedLength)
	chunk := randomBytes(32 << 10)
	sent := 0
	for sent < total {
		fmt.Fprintf(out, "%x\r\n", len(chunk))
		_, _ = out.Write(chunk)
		_, _ = out.WriteString("\r\n")
		if out.Flush() != nil {
			return sent
		}
		sent += len(chunk)
	}
	_, _ = out.WriteString("0\r\n\r\n")
	_ = out.Flush()
	return sent
}
