package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/require"
)

// friendlyJS reads one source page over HTTP and creates one ticket over HTTPS (trusting the
// CA through NODE_EXTRA_CA_CERTS), by host names that map to the shared loopback.
const friendlyJS = `
const env = process.env;
const page = await fetch(env.ITSM_SOURCE_URL + "/api/now/table/incident?sysparm_limit=2", {headers: {Authorization: "Bearer " + env.ITSM_SOURCE_TOKEN}});
const body = {externalId: "INC0010001", title: "t", description: "", priority: "low", status: "new", openedAt: null, assignee: null};
const created = await fetch(env.ITSM_TARGET_URL + "/v1/tickets", {method: "POST", headers: {Authorization: "Bearer " + env.ITSM_TARGET_TOKEN, "Content-Type": "application/json", "Idempotency-Key": "k1"}, body: JSON.stringify(body)});
console.log(JSON.stringify({page: page.status, created: created.status, env: Object.keys(process.env).sort(), uid: process.getuid()}));
`

func TestAFriendlyClientReachesTheMockOnlyOverLoopback(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	res, err := s.Run(context.Background(), friendlySpec(t, "happy", friendlyJS))
	require.NoError(t, err)
	requireNothingLeft(t, s, res.RunID)
	require.Equal(t, 0, res.ExitCode, "stderr: %s", res.Stderr.Data)
	var got struct {
		Page, Created int
		Env           []string
		UID           int
	}
	require.NoError(t, json.Unmarshal(res.Stdout.Data, &got), string(res.Stdout.Data))
	require.Equal(t, 200, got.Page)
	require.Equal(t, 201, got.Created)
	require.Equal(t, 65534, got.UID)
	require.ElementsMatch(t, []string{"HOME", "HOSTNAME", "ITSM_SOURCE_TOKEN", "ITSM_SOURCE_URL", "ITSM_TARGET_TOKEN", "ITSM_TARGET_URL", "NODE_EXTRA_CA_CERTS", "PATH"}, got.Env,
		"the candidate's environment is the whitelist plus what the image and Docker set")

	l := readJournal(t, res)
	require.Len(t, l.Requests, 2)
	require.Equal(t, "source.itsm.test:8080", l.Requests[0].Host)
	require.Equal(t, "https", l.Requests[1].Listener)
	require.Len(t, l.Tickets, 1)
	require.NotNil(t, l.End, "the mock was stopped cleanly")
	require.Equal(t, 0, res.MockExit)
	require.True(t, res.CPUKnown)
	require.Greater(t, res.CPU, time.Duration(0))
	require.Greater(t, res.Wall, time.Duration(0))
	require.False(t, res.TimedOut)
	require.Empty(t, res.TmpFiles)
}

func TestSpecErrorsComeBeforeAnyContainer(t *testing.T) {
	t.Parallel()
	s := &Sandbox{} // never reached: validation fails first
	cases := []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"a variable outside the whitelist", func(sp *Spec) { sp.Env["PATH"] = "/bin" }, `"PATH" is not one a candidate may get`},
		{"the grader's own variable", func(sp *Spec) { sp.Env["DOCKER_HOST"] = "x" }, "DOCKER_HOST"},
		{"no command", func(sp *Spec) { sp.Command = nil }, "no candidate command"},
		{"a relative bundle", func(sp *Spec) { sp.Bundle = "bundle" }, "absolute directory"},
		{"a file name with a path", func(sp *Spec) { sp.CandidateFiles["../x"] = nil }, "plain name"},
		{"a bad host name", func(sp *Spec) { sp.Hosts = []string{"evil host"} }, "host name"},
		{"a tiny memory limit", func(sp *Spec) { sp.Limits.MemoryBytes = 1 << 20 }, "32 MiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sp := friendlySpec(t, "happy", "")
			tc.edit(&sp)
			_, err := s.Run(context.Background(), sp)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestCancellationStopsARunPromptly: a candidate that would sleep a minute is stopped when the
// context ends, and everything is removed.
func TestCancellationStopsARunPromptly(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	ctx, cancel := context.WithTimeoutCause(context.Background(), 4*time.Second, errors.New("test deadline"))
	defer cancel()
	start := time.Now()
	res, err := s.Run(ctx, friendlySpec(t, "happy", `await new Promise(r => setTimeout(r, 60000));`))
	require.ErrorContains(t, err, "test deadline")
	require.Less(t, time.Since(start), 20*time.Second)
	if res != nil { // nil when the deadline passed while the run waited for a slot
		requireNothingLeft(t, s, res.RunID)
	}
}

// TestPruneRemovesWhatADeadGraderLeft makes a container labelled as made by a grader process of
// this host that no longer exists, one of a live process (this one) and one of another host;
// prune removes only the first.
func TestPruneRemovesWhatADeadGraderLeft(t *testing.T) {
	s := sandboxForTest(t)
	ctx := context.Background()
	host := strings.SplitN(owner, ":", 2)[0]
	owners := []string{host + ":999999999:1", owner, "another-host:1:1"}
	var ids []string
	for i, o := range owners {
		labels := s.labels("prunetest000"+string(rune('0'+i)), "mock")
		labels[LabelOwner] = o
		resp, err := s.cli.ContainerCreate(ctx, &container.Config{Image: s.mockImage, Labels: labels}, nil, nil, nil, "")
		require.NoError(t, err)
		ids = append(ids, resp.ID)
	}
	t.Cleanup(func() {
		for _, id := range ids {
			_ = s.cli.ContainerRemove(context.Background(), id, container.RemoveOptions{Force: true})
		}
	})
	rep, err := s.Prune(ctx, false)
	require.NoError(t, err)
	require.GreaterOrEqual(t, rep.Containers, 1)
	_, err = s.cli.ContainerInspect(ctx, ids[0])
	require.Error(t, err, "the dead grader's container is gone")
	for _, id := range ids[1:] {
		_, err = s.cli.ContainerInspect(ctx, id)
		require.NoError(t, err, "a live or remote grader's container stays")
	}
}

// TestBundleLinksOutOfTheTreeAreNotCopied: a bundle holding a link (here to a host file) is
// refused before any container is made (a bundle, like a submission, holds regular files and
// folders only), so no host byte can reach a container through it.
func TestBundleLinksOutOfTheTreeAreNotCopied(t *testing.T) {
	t.Parallel()
	s := sandboxForTest(t)
	secret := filepath.Join(t.TempDir(), "host-secret")
	require.NoError(t, os.WriteFile(secret, []byte("host secret"), 0o644))
	sp := friendlySpec(t, "happy", `console.log("ran");`)
	require.NoError(t, os.Symlink(secret, filepath.Join(sp.Bundle, "leak")))
	res, err := s.Run(context.Background(), sp)
	require.ErrorContains(t, err, "stage bundle: leak is a symbolic link: a submission holds regular files and folders only")
	require.NotNil(t, res)
	require.Empty(t, res.Stdout.Data, "no container ran")
	require.Empty(t, res.BundleLog.Skipped)
	requireNothingLeft(t, s, res.RunID)
}

// TestAnExistingRuntimeImageCanBeNamed: Options.RuntimeImage takes an image the engine has (here
// the one the shared sandbox built) without building or pulling.
func TestAnExistingRuntimeImageCanBeNamed(t *testing.T) {
	t.Parallel()
	base := sandboxForTest(t)
	s, err := New(context.Background(), Options{RuntimeImage: base.runtimeImage, GraderBinary: graderBinary})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.Equal(t, base.runtimeImage, s.runtimeImage)
	res, err := s.Run(context.Background(), friendlySpec(t, "happy", friendlyJS))
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, string(res.Stderr.Data))
}

// TestRunsBeyondTheLimitWait: with MaxRuns 1, a second run starts only when the first is done.
func TestRunsBeyondTheLimitWait(t *testing.T) {
	t.Parallel()
	base := sandboxForTest(t)
	s, err := New(context.Background(), Options{RuntimeImage: base.runtimeImage, GraderBinary: graderBinary, MaxRuns: 1})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	results := make(chan *Result, 2)
	for range 2 {
		go func() {
			res, err := s.Run(context.Background(), friendlySpec(t, "happy", `await new Promise(r => setTimeout(r, 500));`))
			if err != nil {
				t.Error(err)
			}
			results <- res
		}()
	}
	a, b := <-results, <-results
	require.NotNil(t, a)
	require.NotNil(t, b)
	first, second := a, b
	if b.Timeline.Start.Before(a.Timeline.Start) {
		first, second = b, a
	}
	require.False(t, second.Timeline.Start.Before(first.Timeline.Done), "the second run began after the first had finished")
}
