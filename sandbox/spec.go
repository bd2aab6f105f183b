package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// CandidateEnv are the only variables a candidate may be given: the exercise's four settings
// and Node's CA variable. Nothing of the grader's environment reaches a candidate.
var CandidateEnv = []string{"ITSM_SOURCE_URL", "ITSM_SOURCE_TOKEN", "ITSM_TARGET_URL", "ITSM_TARGET_TOKEN", "NODE_EXTRA_CA_CERTS"}

// Paths inside the containers.
const (
	// BundleDir is where the candidate's bundle is mounted, read-only.
	BundleDir = "/app"
	// FilesDir is where Spec.MockFiles and Spec.CandidateFiles are mounted, read-only.
	FilesDir = "/run/itsm"
	// TmpDir is the candidate's only writable directory.
	TmpDir = "/tmp"
	// mockTmpView is where the mock container sees the candidate's /tmp (read-only), so the
	// files left there can be read after the candidate has exited.
	mockTmpView = "/run/candidate-tmp"
)

// Spec is one run: a mock and a candidate sharing one loopback.
type Spec struct {
	// MockArgs follow "grader mock" in the mock container (e.g. --sandbox --scenario happy).
	MockArgs []string
	// MockFiles are written to FilesDir in the mock container (e.g. TLS bundles).
	MockFiles map[string][]byte
	// Bundle is the host directory mounted read-only at BundleDir in the candidate container.
	Bundle string
	// Command is what the runtime image's node runs (e.g. ["/app/main.mjs"]).
	Command []string
	// Env is the candidate's environment: names from CandidateEnv only.
	Env map[string]string
	// CandidateFiles are written to FilesDir in the candidate container (e.g. the CA).
	CandidateFiles map[string][]byte
	// Hosts are names that resolve to 127.0.0.1 in both containers (e.g. target.itsm.test).
	Hosts []string
	// Limits bound the candidate; zero fields take DefaultLimits.
	Limits Limits
	// Quiet is how long after the candidate starts this run measures time closely (a backoff
	// scenario's first retries): under Options.StartGate no other run starts containers during
	// it. Zero asks for nothing; without a start gate it has no effect.
	Quiet time.Duration
}

// maxQuiet bounds Spec.Quiet: while one run is quiet, every other run waits to start.
const maxQuiet = 10 * time.Second

var (
	hostName = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)
	fileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

func (s *Spec) validate() error {
	var errs []error
	if len(s.MockArgs) == 0 {
		errs = append(errs, errors.New("no mock arguments"))
	}
	if len(s.Command) == 0 {
		errs = append(errs, errors.New("no candidate command"))
	}
	if s.Bundle == "" {
		errs = append(errs, errors.New("no bundle directory"))
	} else if st, err := os.Stat(s.Bundle); err != nil || !st.IsDir() || !filepath.IsAbs(s.Bundle) {
		errs = append(errs, fmt.Errorf("bundle %q must be an existing absolute directory", s.Bundle))
	}
	allowed := map[string]bool{}
	for _, k := range CandidateEnv {
		allowed[k] = true
	}
	for k := range s.Env {
		if !allowed[k] {
			errs = append(errs, fmt.Errorf("environment variable %q is not one a candidate may get (%s)", k, strings.Join(CandidateEnv, ", ")))
		}
	}
	for _, h := range s.Hosts {
		if !hostName.MatchString(h) {
			errs = append(errs, fmt.Errorf("host name %q", h))
		}
	}
	for _, files := range []map[string][]byte{s.MockFiles, s.CandidateFiles} {
		for name := range files {
			if !fileName.MatchString(name) {
				errs = append(errs, fmt.Errorf("file name %q: a plain name, no directories", name))
			}
		}
	}
	if err := s.Limits.validate(); err != nil {
		errs = append(errs, err)
	}
	if s.Quiet < 0 || s.Quiet > maxQuiet {
		errs = append(errs, fmt.Errorf("quiet window %v: between 0 and %v", s.Quiet, maxQuiet))
	}
	return errors.Join(errs...)
}

// envList renders Env sorted, as Docker wants it.
func (s *Spec) envList() []string {
	out := make([]string, 0, len(s.Env))
	for k, v := range s.Env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// extraHosts maps every host name to loopback.
func (s *Spec) extraHosts() []string {
	out := make([]string, 0, len(s.Hosts))
	for _, h := range s.Hosts {
		out = append(out, h+":127.0.0.1")
	}
	return out
}
