package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/itsm-grader/grader/fixtures/exercise"
	"github.com/itsm-grader/grader/fixtures/scenarios"
	"github.com/itsm-grader/grader/harness/mock"
	"github.com/itsm-grader/grader/harness/tlsca"
)

type mockFlags struct {
	scenario     string
	list         bool
	seed         int64
	tls          bool
	host         string
	httpPort     int
	httpsPort    int
	untrusted    int
	journal      string
	dir          string
	admin        string
	sourceToken  string
	targetToken  string
	seedExplicit bool
	sandbox      bool
	tlsDir       string
}

func parseMockFlags(args []string, stderr io.Writer) (*mockFlags, error) {
	f := &mockFlags{}
	fs := flag.NewFlagSet("grader mock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.scenario, "scenario", "happy", "fault plan to run (see --list)")
	fs.BoolVar(&f.list, "list", false, "list the scenarios and exit")
	fs.Int64Var(&f.seed, "seed", 0, "seed for probabilistic faults (default: the scenario's)")
	fs.BoolVar(&f.tls, "tls", false, "hand out https URLs (and NODE_EXTRA_CA_CERTS) instead of http")
	fs.StringVar(&f.host, "host", "127.0.0.1", "address to listen on (loopback only)")
	fs.IntVar(&f.httpPort, "http-port", 0, "port of the plain HTTP listener (0: any free port)")
	fs.IntVar(&f.httpsPort, "https-port", 0, "port of the HTTPS listener (0: any free port)")
	fs.IntVar(&f.untrusted, "untrusted-port", 0, "port of the HTTPS listener with an untrusted certificate (0: any free port)")
	fs.StringVar(&f.dir, "dir", "", "directory for the CA certificate and the journal (default: a new temporary directory)")
	fs.StringVar(&f.journal, "journal", "", "journal file, JSON Lines (default: DIR/journal.jsonl)")
	fs.StringVar(&f.admin, "admin", "", "address for /metrics and /journal (e.g. 127.0.0.1:0; default: none)")
	fs.StringVar(&f.sourceToken, "source-token", "", "source API token (default: random)")
	fs.StringVar(&f.targetToken, "target-token", "", "target API token (default: random)")
	fs.BoolVar(&f.sandbox, "sandbox", false, "run inside the grader's sandbox: the journal streams to stdout (its first line says the mock is ready), nothing else is printed or written, no admin endpoint")
	fs.StringVar(&f.tlsDir, "tls-dir", "", "load the HTTPS listeners' authorities from DIR/trusted.pem and DIR/untrusted.pem instead of making new ones")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	fs.Visit(func(fl *flag.Flag) { f.seedExplicit = f.seedExplicit || fl.Name == "seed" })
	if ip := net.ParseIP(f.host); f.host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--host %q: the mock listens on loopback only", f.host)
	}
	if f.sandbox && (f.admin != "" || f.journal != "" || f.dir != "") {
		return nil, errors.New("--sandbox writes the journal to stdout and opens no admin endpoint: drop --admin, --journal and --dir")
	}
	return f, nil
}

func runMock(ctx context.Context, env Env, log *slog.Logger, args []string) int {
	f, err := parseMockFlags(args, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "grader mock: %v\n", err)
		return ExitUsage
	}
	if f.list {
		for _, name := range scenarios.Names() {
			p, err := scenarios.Load(name)
			if err != nil {
				fmt.Fprintf(env.Stderr, "grader mock: %v\n", err)
				return ExitFailure
			}
			fmt.Fprintf(env.Stdout, "%-22s %s\n", name, strings.Join(strings.Fields(p.Description), " "))
		}
		return ExitOK
	}
	if err := serveMock(ctx, env, log, f); err != nil {
		fmt.Fprintf(env.Stderr, "grader mock: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

func serveMock(ctx context.Context, env Env, log *slog.Logger, f *mockFlags) error {
	cfg, err := mockConfig(f, log)
	if err != nil {
		return err
	}
	if f.sandbox {
		cfg.JournalSink = env.Stdout
		srv, err := mock.Start(ctx, cfg)
		if err != nil {
			return err
		}
		<-ctx.Done()
		return srv.Close()
	}
	dir := f.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "itsm-mock-"); err != nil {
			return fmt.Errorf("make run directory: %w", err)
		}
	}
	journalPath := f.journal
	if journalPath == "" {
		journalPath = filepath.Join(dir, "journal.jsonl")
	}
	jf, err := os.Create(journalPath)
	if err != nil {
		return fmt.Errorf("create journal: %w", err)
	}
	defer jf.Close()
	cfg.JournalSink = jf
	srv, err := mock.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			log.Error("close mock", "err", err)
		}
	}()
	listener := mock.HTTP
	if f.tls {
		listener = mock.HTTPS
	}
	caPath := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPath, srv.CACertPEM(), 0o644); err != nil {
		return fmt.Errorf("write CA certificate: %w", err)
	}
	if f.admin != "" {
		stop, url, err := serveAdmin(f.admin, srv, log)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(env.Stdout, "# admin: %s/metrics and %s/journal\n", url, url)
	}
	printExports(env.Stdout, cfg.Plan.Name, srv.Seed(), srv.ClientEnv(listener), caPath, journalPath)
	<-ctx.Done()
	fmt.Fprintln(env.Stderr, "# stopping the mock")
	return nil
}

// mockConfig assembles the mock's configuration from the flags and the embedded exercise.
func mockConfig(f *mockFlags, log *slog.Logger) (mock.Config, error) {
	p, err := scenarios.Load(f.scenario)
	if err != nil {
		return mock.Config{}, err
	}
	rows, err := exercise.IncidentRows()
	if err != nil {
		return mock.Config{}, fmt.Errorf("load incidents: %w", err)
	}
	cfg := mock.Config{
		Plan: p, Rows: rows, OpenAPI: exercise.OpenAPI(), TicketSchema: exercise.TargetSchema(),
		SourceToken: f.sourceToken, TargetToken: f.targetToken,
		Host: f.host, HTTPPort: f.httpPort, HTTPSPort: f.httpsPort, UntrustedPort: f.untrusted,
		Logger: log,
	}
	if f.seedExplicit {
		cfg.Seed = &f.seed
	}
	if f.tlsDir != "" {
		if cfg.Trusted, err = loadAuthority(filepath.Join(f.tlsDir, "trusted.pem")); err != nil {
			return mock.Config{}, err
		}
		if cfg.Untrusted, err = loadAuthority(filepath.Join(f.tlsDir, "untrusted.pem")); err != nil {
			return mock.Config{}, err
		}
	}
	return cfg, nil
}

func loadAuthority(path string) (*tlsca.Authority, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read TLS bundle: %w", err)
	}
	a, err := tlsca.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

func printExports(w io.Writer, scenario string, seed int64, ce mock.ClientEnv, caPath, journalPath string) {
	fmt.Fprintf(w, "# ITSM mock: scenario %s, seed %d. Paste these lines into your shell:\n", scenario, seed)
	fmt.Fprintf(w, "export ITSM_SOURCE_URL=%s\n", shellQuote(ce.SourceURL))
	fmt.Fprintf(w, "export ITSM_SOURCE_TOKEN=%s\n", shellQuote(ce.SourceToken))
	fmt.Fprintf(w, "export ITSM_TARGET_URL=%s\n", shellQuote(ce.TargetURL))
	fmt.Fprintf(w, "export ITSM_TARGET_TOKEN=%s\n", shellQuote(ce.TargetToken))
	if ce.NeedsCA {
		fmt.Fprintf(w, "export NODE_EXTRA_CA_CERTS=%s\n", shellQuote(caPath))
	} else {
		fmt.Fprintf(w, "# for https, run with --tls (CA certificate: %s)\n", caPath)
	}
	fmt.Fprintf(w, "# journal: %s\n# Ctrl-C stops the mock.\n", journalPath)
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	safe := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	})
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// serveAdmin serves /metrics and /journal on a separate loopback listener.
func serveAdmin(addr string, srv *mock.Server, log *slog.Logger) (stop func(), url string, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, "", fmt.Errorf("--admin %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, "", fmt.Errorf("--admin %q: loopback only", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen admin: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", srv.Metrics())
	mux.HandleFunc("GET /journal", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jsonl")
		if _, err := srv.Journal().WriteTo(w); err != nil {
			log.Warn("write journal", "err", err)
		}
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(l) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	}, "http://" + l.Addr().String(), nil
}
