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
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/itsm-grader/grader/grader/checks"
	"github.com/itsm-grader/grader/grader/cohort"
	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/feedback"
	"github.com/itsm-grader/grader/grader/github"
	"github.com/itsm-grader/grader/grader/grading"
	"github.com/itsm-grader/grader/grader/intake"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/prepare"
	"github.com/itsm-grader/grader/grader/report"
	"github.com/itsm-grader/grader/grader/store"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/grader/webhook"
	"github.com/itsm-grader/grader/sandbox"
)

// The webhook service's defaults and limits.
const (
	// defaultWebhookListen is loopback: GitHub reaches the service through a TLS proxy.
	defaultWebhookListen = "127.0.0.1:8787"
	// webhookSecretEnv holds the App's webhook secret when --secret-file is not given.
	webhookSecretEnv = "GRADER_WEBHOOK_SECRET"
	// maxSecretFile caps what is read of --secret-file.
	maxSecretFile = 4 << 10
	// shutdownGrace is how long a stop waits for deliveries being recorded.
	shutdownGrace = 10 * time.Second
)

// webhookFlags are grader webhook's flags.
type webhookFlags struct {
	gradeFlags
	listen, db, secretFile         string
	cohort, roster, deadline, mode string
	includeLate                    bool
	workers                        int
	lease                          time.Duration
	// given holds the flags given on the command line: a cohort's settings change only where
	// a flag says so.
	given map[string]bool
}

const webhookUsage = `usage: grader webhook --db FILE [--listen ADDR] [--secret-file F] [--github-api URL]
                      [--cohort NAME --roster FILE --deadline TIME --feedback MODE --include-late] [flags]

Serves GitHub's webhook deliveries (POST, any path) and grades what they queue: a push to a
rostered repository's default branch is recorded (late after the cohort's deadline) and, before
the deadline, gets the feedback the cohort chose; at the deadline each repository's head, as
GitHub's server reports it, is frozen and graded. The secret is $GRADER_WEBHOOK_SECRET or the
file's content: without one the service does not start. Credentials for GitHub as for grade:
GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY_FILE. The cohort flags set up (or
change) a cohort before serving: the roster is grader batch's CSV, each source a GitHub
repository without a ref. SIGINT or SIGTERM stops it gracefully.`

func parseWebhookFlags(args []string, stderr io.Writer) (*webhookFlags, error) {
	f := &webhookFlags{given: map[string]bool{}}
	fs := flag.NewFlagSet("grader webhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, webhookUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.listen, "listen", defaultWebhookListen, "address to serve deliveries on (loopback by default: put a TLS proxy in front)")
	fs.StringVar(&f.db, "db", "", "the store (SQLite file; created if missing) (required)")
	fs.StringVar(&f.secretFile, "secret-file", "", "file holding the App's webhook secret (default: $"+webhookSecretEnv+")")
	fs.StringVar(&f.cohort, "cohort", "", "a cohort to set up before serving (default with --roster: the roster's file name without .csv)")
	fs.StringVar(&f.roster, "roster", "", "roster of the cohort's GitHub repositories (CSV: candidate,source,ref,track)")
	fs.StringVar(&f.deadline, "deadline", "", "the cohort's deadline, RFC 3339 with its zone (e.g. 2026-12-01T17:00:00Z)")
	fs.StringVar(&f.mode, "feedback", "", "the cohort's feedback: none (default), receipt or full")
	fs.BoolVar(&f.includeLate, "include-late", false, "grade the cohort's pushes received after the deadline too (never with feedback)")
	fs.IntVar(&f.workers, "workers", 2, "gradings under way at once")
	fs.DurationVar(&f.lease, "lease", 45*time.Second, "how long a grading stays claimed without a heartbeat")
	f.engineFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case f.db == "":
		return nil, errors.New("--db FILE is required")
	case f.cohort == "" && f.roster == "" && (f.given["deadline"] || f.given["feedback"] || f.given["include-late"]):
		return nil, errors.New("--deadline, --feedback and --include-late set a cohort's settings: give --cohort (or --roster)")
	}
	return f, nil
}

// webhookDeps are what the service makes itself unless given: tests give a loopback-only
// transport and an engine without Docker.
type webhookDeps struct {
	// transport carries every request to GitHub (nil: the default transport).
	transport http.RoundTripper
	// engine opens what builds and grades (nil: the sandbox).
	engine func(ctx context.Context, env Env, log *slog.Logger, f *webhookFlags, remote intake.Remote) (webhookEngine, error)
	// poll is how often idle workers look for work no bell rang for (0: their default).
	poll time.Duration
}

// webhookEngine builds commits for receipts and grades queued gradings: the sandbox, or a
// stand-in in tests.
type webhookEngine interface {
	Build(ctx context.Context, source string) (report.Build, error)
	Capture(ctx context.Context, source, ref string) (*evidence.Evidence, error)
	Close() error
}

func runWebhook(ctx context.Context, env Env, log *slog.Logger, args []string) int {
	return runWebhookWith(ctx, env, log, args, webhookDeps{})
}

func runWebhookWith(ctx context.Context, env Env, log *slog.Logger, args []string, deps webhookDeps) int {
	f, err := parseWebhookFlags(args, env.Stderr)
	if code, done := usageError(env, "webhook", err); done {
		return code
	}
	if deps.engine == nil {
		deps.engine = openSandboxEngine
	}
	if err := serveWebhook(ctx, env, log, f, deps); err != nil {
		fmt.Fprintf(env.Stderr, "grader webhook: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

// serveWebhook refuses to start without a secret, sets up the cohort the flags name, serves the
// handler and runs the workers (receipts and full reports, the queue's gradings, the deadlines)
// until ctx ends.
func serveWebhook(ctx context.Context, env Env, log *slog.Logger, f *webhookFlags, deps webhookDeps) error {
	secret, err := webhookSecret(env, log, f.secretFile)
	if err != nil {
		return err
	}
	bell := cohort.NewBell()
	rec := &ringingRecorder{bell: bell}
	handler, err := webhook.New(secret, rec, webhook.Options{Log: log})
	if err != nil {
		return err
	}
	client, err := webhookGitHub(env, log, f.githubAPI, deps.transport)
	if err != nil {
		return err
	}
	remote := github.NewIntake(client)
	plan, err := planWebhookCohort(f, remote, client.WebHost())
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	rec.st = st
	if err := plan.apply(ctx, env.Stdout, st); err != nil {
		return err
	}
	if err := adoptRules(ctx, st, log); err != nil {
		return err
	}
	ln, err := listenWebhook(f.listen, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "grader webhook: listening on http://%s (GitHub as %s)\n", ln.Addr(), client.Identity())
	s := &webhookService{env: env, log: log, f: f, deps: deps, st: st, client: client, remote: remote, bell: bell,
		srv: newWebhookServer(handler, log)}
	err = s.run(ctx, ln)
	fmt.Fprintln(env.Stderr, "grader webhook: stopped")
	return err
}

// webhookSecret is the App's webhook secret: --secret-file's content (a final line break
// dropped), or $GRADER_WEBHOOK_SECRET; both, or neither, is an error.
func webhookSecret(env Env, log *slog.Logger, file string) ([]byte, error) {
	fromEnv := env.Getenv(webhookSecretEnv)
	switch {
	case file != "" && fromEnv != "":
		return nil, fmt.Errorf("both --secret-file and $%s are set: give one", webhookSecretEnv)
	case fromEnv != "":
		return []byte(fromEnv), nil
	case file == "":
		return nil, fmt.Errorf("no webhook secret: set $%s or give --secret-file (the secret set in the GitHub App; `openssl rand -hex 32` makes one): without it anyone could post deliveries", webhookSecretEnv)
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn("the webhook secret file can be read by others than its owner (chmod 600 it)", "file", file, "mode", st.Mode().Perm().String())
	}
	raw, err := io.ReadAll(io.LimitReader(fh, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	if len(raw) > maxSecretFile {
		return nil, fmt.Errorf("webhook secret: %s is over %d bytes: is it the secret?", file, maxSecretFile)
	}
	return []byte(strings.TrimRight(string(raw), "\r\n")), nil
}

// webhookGitHub is the GitHub client of the environment's credentials.
func webhookGitHub(env Env, log *slog.Logger, apiURL string, transport http.RoundTripper) (*github.Client, error) {
	cfg, err := github.ConfigFromEnv(env.Getenv)
	if err != nil {
		return nil, err
	}
	cfg.APIURL, cfg.Log, cfg.Transport = apiURL, log, transport
	return github.NewClient(cfg)
}

// ringingRecorder records deliveries in the store and rings the workers' bell for a new one.
type ringingRecorder struct {
	st   *store.Store
	bell *cohort.Bell
}

func (r *ringingRecorder) Record(ctx context.Context, d webhook.Delivery) (bool, error) {
	fresh, err := r.st.Record(ctx, d)
	if fresh {
		r.bell.Ring()
	}
	return fresh, err
}

// listenWebhook listens on addr, warning when it is not loopback only.
func listenWebhook(addr string, log *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	if ip, err := netip.ParseAddr(host); err != nil || !ip.Unmap().IsLoopback() {
		log.Warn("listening beyond loopback: serve it behind TLS (deliveries are signed, not encrypted)", "addr", ln.Addr().String())
	}
	return ln, nil
}

// newWebhookServer bounds every phase of a request: GitHub sends a delivery in one go and waits
// 10 s for the answer, which the handler gives as soon as the delivery is recorded.
func newWebhookServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second, // the 5 MiB body cap at 1 MB/s
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// webhookService is the running service: the server and its workers.
type webhookService struct {
	env    Env
	log    *slog.Logger
	f      *webhookFlags
	deps   webhookDeps
	st     *store.Store
	client *github.Client
	remote intake.Remote
	bell   *cohort.Bell
	srv    *http.Server
}

// run serves ln and runs the workers until ctx ends (a clean stop: nil) or one of them fails.
// The server is shut down gracefully: deliveries being recorded are finished.
func (s *webhookService) run(ctx context.Context, ln net.Listener) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := s.srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shut down: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		d := &cohort.Deadlines{Store: s.st, GitHub: s.client, Queued: s.bell.Ring, Logger: s.log.With("worker", "deadlines")}
		return stoppedCleanly(gctx, d.Watch(gctx))
	})
	g.Go(func() error { return stoppedCleanly(gctx, s.work(gctx)) })
	return g.Wait()
}

// work opens the engine and runs the feedback and grading workers on it.
func (s *webhookService) work(ctx context.Context) error {
	eng, err := s.deps.engine(ctx, s.env, s.log, s.f, s.remote)
	if err != nil {
		return err
	}
	defer eng.Close()
	fw := &cohort.FeedbackWorker{Store: s.st, GitHub: s.client, Build: eng.Build, Bell: s.bell, Poll: s.deps.poll,
		Poster: feedback.NewPoster(feedback.Options{Log: s.log}), Logger: s.log.With("worker", "feedback")}
	qw := &cohort.QueueWorker{Store: s.st, Bell: s.bell, Graded: s.bell, Poll: s.deps.poll, Options: cohort.Options{
		Workers: s.f.workers, Lease: s.f.lease, Capture: eng.Capture, Remote: s.remote, Logger: s.log.With("worker", "grading"),
		Write: func(rep *report.Report, dir string) error { return writeReports(rep, dir) },
	}}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return fw.Run(gctx) })
	g.Go(func() error { return qw.Run(gctx) })
	return g.Wait()
}

// stoppedCleanly is nil for a worker that stopped because ctx ended without a failure.
func stoppedCleanly(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) && errors.Is(context.Cause(ctx), context.Canceled) {
		return nil
	}
	return err
}

// cohortPlan is the cohort the flags set up, checked before anything is recorded.
type cohortPlan struct {
	name     string
	mode     string // "" when --feedback was not given
	late     *bool  // nil when --include-late was not given
	deadline time.Time
	repos    map[string]store.GitHubRepository
	order    []string
}

// planWebhookCohort reads and checks the cohort the flags name (nil when none): its feedback,
// deadline and roster.
func planWebhookCohort(f *webhookFlags, remote intake.Remote, webHost string) (*cohortPlan, error) {
	p := &cohortPlan{name: f.cohort}
	if p.name == "" && f.roster != "" {
		p.name = strings.TrimSuffix(filepath.Base(f.roster), filepath.Ext(f.roster))
	}
	if p.name == "" {
		return nil, nil
	}
	if f.given["feedback"] {
		mode, err := feedback.ParseMode(f.mode)
		if err != nil {
			return nil, fmt.Errorf("--feedback: %w", err)
		}
		p.mode = string(mode)
	}
	if f.given["include-late"] {
		p.late = &f.includeLate
	}
	if f.deadline != "" {
		var err error
		if p.deadline, err = time.Parse(time.RFC3339, f.deadline); err != nil {
			return nil, fmt.Errorf("--deadline %q: give RFC 3339 with the zone, e.g. 2026-12-01T17:00:00Z: %w", f.deadline, err)
		}
	}
	if f.roster != "" {
		var err error
		if p.repos, p.order, err = rosterRepositories(f.roster, remote, webHost); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// apply records the cohort, its settings (changed only where a flag was given; the rules are
// this grader's), its deadline and its repositories, and says what the cohort holds.
func (p *cohortPlan) apply(ctx context.Context, w io.Writer, st *store.Store) error {
	if p == nil {
		return nil
	}
	settings := store.GitHubSettings{Feedback: store.FeedbackNone}
	cohorts, err := st.GitHubCohorts(ctx)
	if err != nil {
		return err
	}
	for _, c := range cohorts {
		if c.Name == p.name {
			settings = c.GitHubSettings
		}
	}
	if p.mode != "" {
		settings.Feedback = p.mode
	}
	if p.late != nil {
		settings.IncludeLate = *p.late
	}
	settings.RulesVersion = judge.RulesVersion
	if err := st.ConfigureGitHub(ctx, p.name, settings); err != nil {
		return err
	}
	if err := st.CreateCohort(ctx, p.name, p.deadline); err != nil {
		return err
	}
	for _, candidate := range p.order {
		if err := st.RosterRepository(ctx, p.name, candidate, p.repos[candidate]); err != nil {
			return err
		}
	}
	return describeWebhookCohort(ctx, w, st, p.name)
}

// rosterRepositories reads a roster whose every source is a GitHub repository without a ref (the
// deadline takes the default branch), checking every line before anything is recorded.
func rosterRepositories(path string, remote intake.Remote, webHost string) (map[string]store.GitHubRepository, []string, error) {
	entries, err := readRoster(path, remote)
	if err != nil {
		return nil, nil, err
	}
	repos := map[string]store.GitHubRepository{}
	var order []string
	var problems []error
	for _, e := range entries {
		src, err := github.ParseSource(e.Source, webHost)
		switch {
		case err != nil:
			problems = append(problems, fmt.Errorf("roster line %d: %w: the webhook takes GitHub repositories only", e.Line, err))
			continue
		case src.Ref != "" || e.Ref != "":
			problems = append(problems, fmt.Errorf("roster line %d: %s names a ref: the deadline takes each repository's default branch, leave the ref out", e.Line, e.Source))
			continue
		}
		repos[e.Candidate] = store.GitHubRepository{Host: src.Host, Owner: src.Owner, Repo: src.Repo, Track: e.Track}
		order = append(order, e.Candidate)
	}
	if len(problems) > 0 {
		return nil, nil, errors.Join(problems...)
	}
	return repos, order, nil
}

// describeWebhookCohort prints the cohort's settings and repositories.
func describeWebhookCohort(ctx context.Context, w io.Writer, st *store.Store, name string) error {
	cohorts, err := st.GitHubCohorts(ctx)
	if err != nil {
		return err
	}
	repos, err := st.GitHubRepositories(ctx, name)
	if err != nil {
		return err
	}
	for _, c := range cohorts {
		if c.Name != name {
			continue
		}
		deadline := "none"
		if !c.Deadline.IsZero() {
			deadline = c.Deadline.Format(time.RFC3339)
		}
		frozen := 0
		for _, r := range repos {
			if !r.FrozenAt.IsZero() {
				frozen++
			}
		}
		fmt.Fprintf(w, "cohort %s: %d repositories (%d frozen), deadline %s, feedback %s, late pushes %s\n",
			name, len(repos), frozen, deadline, c.Feedback, map[bool]string{true: "graded", false: "recorded, not graded"}[c.IncludeLate])
	}
	return nil
}

// sandboxEngine builds and grades in the Docker sandbox.
type sandboxEngine struct {
	sb        *sandbox.Sandbox
	toolchain string
	registry  string
	scenarios []suite.Scenario
	remote    intake.Remote
	log       *slog.Logger
}

func openSandboxEngine(ctx context.Context, env Env, log *slog.Logger, f *webhookFlags, remote intake.Remote) (webhookEngine, error) {
	scenarios, err := f.suite()
	if err != nil {
		return nil, err
	}
	sb, toolchain, err := openSandbox(ctx, env, log, &f.gradeFlags)
	if err != nil {
		return nil, err
	}
	return &sandboxEngine{sb: sb, toolchain: toolchain, registry: f.registry, scenarios: scenarios, remote: remote, log: log}, nil
}

// Build fetches source and runs the grading's build step alone (install the locked
// dependencies, check the contract, bundle) in the sandbox: all a receipt says. It takes
// seconds where a grading takes half a minute of the machine, and adds no runs whose timing
// would disturb the gradings beside it.
func (e *sandboxEngine) Build(ctx context.Context, source string) (report.Build, error) {
	work, err := os.MkdirTemp("", "itsm-receipt-")
	if err != nil {
		return report.Build{}, fmt.Errorf("work folder: %w", err)
	}
	defer os.RemoveAll(work)
	sub, err := intake.Fetch(ctx, source, "", intake.Options{Workdir: work, Remote: e.remote})
	if errors.Is(err, intake.ErrRefused) {
		return report.Build{Stage: "intake", Summary: checks.Clean("the submission was refused: " + err.Error())}, nil
	}
	if err != nil {
		return report.Build{}, fmt.Errorf("fetch %s: %w", source, err)
	}
	b, failure, err := prepare.Prepare(ctx, e.sb, sub.Dir, prepare.Options{Workdir: work, Registry: e.registry, Logger: e.log})
	if err != nil {
		return report.Build{}, fmt.Errorf("build %s: %w", source, err)
	}
	return receiptBuild(b, failure), nil
}

// receiptBuild is a build's outcome as a report shows it (judge's wording: the messages
// cleaned of tokens and control characters).
func receiptBuild(b *prepare.Bundle, f *prepare.Failure) report.Build {
	if f == nil {
		return report.Build{OK: true, Dependencies: b.Dependencies, TookMS: b.Took.Milliseconds()}
	}
	out := report.Build{Stage: f.Stage, Summary: checks.Clean(f.Summary)}
	for _, m := range f.Messages {
		for _, line := range strings.Split(strings.TrimRight(m.String(), "\n"), "\n") {
			out.Messages = append(out.Messages, checks.Clean(line))
		}
	}
	return out
}

// Capture grades source as grader batch does.
func (e *sandboxEngine) Capture(ctx context.Context, source, ref string) (*evidence.Evidence, error) {
	return grading.Capture(ctx, grading.Options{Source: source, Ref: ref, Sandbox: e.sb, Toolchain: e.toolchain,
		Scenarios: e.scenarios, Registry: e.registry, Logger: e.log, Remote: e.remote})
}

func (e *sandboxEngine) Close() error { return e.sb.Close() }

// adoptRules makes every GitHub cohort queue its next gradings for this grader's rules and
// grade by them what an older grader queued and left (store.AdoptRules).
func adoptRules(ctx context.Context, st *store.Store, log *slog.Logger) error {
	if _, err := st.SetGitHubRulesVersion(ctx, judge.RulesVersion); err != nil {
		return err
	}
	cohorts, err := st.GitHubCohorts(ctx)
	if err != nil {
		return err
	}
	for _, c := range cohorts {
		moved, dropped, err := st.AdoptRules(ctx, c.Name, judge.RulesVersion)
		if err != nil {
			return err
		}
		if moved+dropped > 0 {
			log.Info("gradings queued for other rules adopted", "cohort", c.Name, "rules", judge.RulesVersion, "moved", moved, "dropped", dropped)
		}
	}
	return nil
}
