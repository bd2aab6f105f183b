package runner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/fixtures/submissions"
	"github.com/itsm-grader/grader/grader/checks"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/prepare"
	"github.com/itsm-grader/grader/grader/runner"
	"github.com/itsm-grader/grader/grader/suite"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/sandbox"
	"github.com/itsm-grader/grader/sandbox/sandboxtest"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// Hostile clients against the mock, in real containers: whatever a client does to the mock, the
// grading still reads what the mock recorded and says what happened, and Run returns no error.

// bundleOf writes js as a bundle's entry point (run by Node 24 in the sandbox).
func bundleOf(t *testing.T, js string) *prepare.Bundle {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, prepare.Entry), []byte(js), 0o644))
	return &prepare.Bundle{Dir: dir, Marker: "@@test-marker"}
}

// runOnce runs one scenario once under a budget.
func runOnce(t *testing.T, sb runner.Sandbox, b *prepare.Bundle, scenario string, budget time.Duration) checks.Observation {
	t.Helper()
	runs, err := runner.Run(context.Background(), sb, b, []suite.Scenario{{Name: scenario, Trials: 1, Budget: budget}}, runner.Options{Concurrency: 1})
	require.NoError(t, err, "a client's doing is never a grader error")
	require.Len(t, runs, 1)
	obs, err := checks.Observe(runs)
	require.NoError(t, err)
	o := obs[0]
	t.Logf("mock: peak memory %.1f MiB, throttled %d periods, exit %d, oom %v, died %v; candidate: exit %d, timed out %v, wall %v",
		float64(o.Mock.PeakMemory)/(1<<20), o.Mock.ThrottledPeriods, o.Mock.Exit, o.Mock.OOMKilled, o.Mock.Died,
		o.Process.ExitCode, o.Process.TimedOut, o.Process.Wall)
	if o.Journal != nil && o.Journal.End != nil {
		t.Logf("journal: %d requests, %d tickets; end line %+v", len(o.Journal.Requests), len(o.Journal.Tickets), *o.Journal.End)
	}
	return o
}

// judge runs one measured check by id.
func judge(t *testing.T, id string, obs ...checks.Observation) finding.Judgement {
	t.Helper()
	for _, c := range checks.All() {
		if c.ID == id {
			j := c.Judge(checks.Observations(obs))
			t.Logf("%s: %s: %s", id, j.Verdict, j.Summary)
			return j
		}
	}
	t.Fatalf("no check %s", id)
	return finding.Judgement{}
}

// journalFloodJS sends tiny requests on 32 kept-alive connections as fast as it can, until it
// is killed: to the mock's plain HTTP listener (beside the HTTPS one it was given), which
// answers faster.
const journalFloodJS = `
const url = process.env.ITSM_SOURCE_URL.replace("https:", "http:").replace(":8443", ":8080") + "/x";
const one = async () => { for (;;) { try { const r = await fetch(url); await r.arrayBuffer(); } catch {} } };
await Promise.all(Array.from({length: 32}, one));
`

func TestAJournalFloodIsJudgedNotDiscarded(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	o := runOnce(t, sb, bundleOf(t, journalFloodJS), "happy", 45*time.Second)
	require.True(t, o.Process.TimedOut, "the flood runs until it is killed")
	require.False(t, o.Mock.OOMKilled)
	require.Empty(t, o.JournalErr)
	require.NotNil(t, o.Journal, "the observation parses")
	require.NotNil(t, o.Journal.End, "the mock's stream ends with its end line")
	require.True(t, o.Journal.End.Flooded(), "a cap was reached")
	require.Equal(t, finding.Fail, judge(t, "run.flood", o).Verdict)
	contract := judge(t, "build.contract", o)
	require.Equal(t, finding.Fail, contract.Verdict, "judged from the run, never n/a for flooding")
	require.Contains(t, contract.Summary, "stopped at its")
	require.NotEqual(t, finding.NA, judge(t, "mapping.completeness", o).Verdict)
}

// uploadJS sends total POSTs of 1 MiB valid tickets, parallel at a time, each on its own
// connection and without an Idempotency-Key (each one the mock reads creates a ticket). One
// buffer is shared by all the requests, so the client itself stays small.
func uploadJS(total, parallel int) string {
	return fmt.Sprintf(`
import https from "node:https";
const target = new URL(process.env.ITSM_TARGET_URL + "/v1/tickets");
const head = '{"externalId":"INC0010001","title":"t","description":"","priority":"low","status":"new","openedAt":null,"assignee":"';
const body = Buffer.from(head + "x".repeat((1 << 20) - head.length - 2) + '"}');
const agent = new https.Agent({keepAlive: false, maxSockets: Infinity});
const counts = {};
const one = () => new Promise(resolve => {
  const req = https.request(target, {method: "POST", agent, timeout: 40000, headers: {
    Authorization: "Bearer " + process.env.ITSM_TARGET_TOKEN, "Content-Type": "application/json", "Content-Length": body.length}},
    res => { res.resume(); res.on("end", () => resolve(res.statusCode)); res.on("error", e => resolve(e.code)); });
  req.on("error", e => resolve(e.code ?? "error"));
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.end(body);
});
let sent = 0;
const worker = async () => { while (sent < %d) { sent++; const r = await one(); counts[r] = (counts[r] ?? 0) + 1; } };
await Promise.all(Array.from({length: %d}, worker));
console.log(JSON.stringify(counts));
`, total, parallel)
}

// TestUploadFloodsLeaveTheMockStanding: a thousand concurrent 1 MiB uploads, and 1 MiB tickets
// sent until the journal is full, each leave a mock that survives (its memory far from its
// limit), reached caps, a journal that parses, and a failing run.flood.
func TestUploadFloodsLeaveTheMockStanding(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	cases := []struct {
		name            string
		total, parallel int
		capped          func(e *journal.End) bool
	}{
		{"a thousand concurrent uploads", 1000, 1000, func(e *journal.End) bool { return e.RefusedBodies > 0 && e.RefusedConnections > 0 }},
		{"tickets until the journal is full", 80, 4, func(e *journal.End) bool { return e.ByteCapped && e.DroppedTickets > 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := runOnce(t, sb, bundleOf(t, uploadJS(tc.total, tc.parallel)), "happy", 60*time.Second)
			t.Logf("client: %s", strings.TrimSpace(o.Stdout.Data))
			require.False(t, o.Mock.OOMKilled, "the mock survives")
			require.False(t, o.Mock.Died)
			require.Zero(t, o.Mock.Exit)
			require.NotNil(t, o.Journal)
			require.NotNil(t, o.Journal.End)
			require.True(t, tc.capped(o.Journal.End), "the caps engaged: %+v", *o.Journal.End)
			require.LessOrEqual(t, o.Journal.End.BodyBytes, int64(256<<20), "never more read than the run's body budget")
			require.True(t, o.Mock.StatsKnown)
			require.Less(t, o.Mock.PeakMemory, int64(300<<20), "far inside the mock's 512 MiB")
			require.Equal(t, finding.Fail, judge(t, "run.flood", o).Verdict)
		})
	}
}

// patientJS asks for the first page every 200 ms for 6 s, whatever happens to the mock.
const patientJS = `
const url = process.env.ITSM_SOURCE_URL + "/api/now/table/incident?sysparm_limit=1";
const headers = {Authorization: "Bearer " + process.env.ITSM_SOURCE_TOKEN};
const seen = {};
for (let i = 0; i < 30; i++) {
  try { const r = await fetch(url, {headers}); await r.arrayBuffer(); seen[r.status] = (seen[r.status] ?? 0) + 1; }
  catch (e) { const k = e.cause?.code ?? "error"; seen[k] = (seen[k] ?? 0) + 1; }
  await new Promise(r => setTimeout(r, 200));
}
console.log(JSON.stringify(seen));
`

// mockKiller runs specs on a real sandbox and kills each run's mock container (SIGKILL, from
// outside, as an OOM killer or a crash would end it) once its candidate has run for a second.
type mockKiller struct {
	sb     *sandbox.Sandbox
	cli    *client.Client
	killed *atomic.Int32 // mocks killed
}

func (k mockKiller) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	done := make(chan struct{})
	killed := make(chan bool, 1)
	go func() { killed <- k.killMock(ctx, spec.Env["ITSM_SOURCE_TOKEN"], done) }()
	res, err := k.sb.Run(ctx, spec)
	close(done)
	if <-killed {
		k.killed.Add(1)
	}
	return res, err
}

// killMock finds the run's candidate container by the token in its environment, waits until it
// has run for a second, and kills the mock container of the same run.
func (k mockKiller) killMock(ctx context.Context, token string, done <-chan struct{}) bool {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return false
		case <-tick.C:
		}
		run, started := k.runningCandidate(ctx, token)
		if run == "" || time.Since(started) < time.Second {
			continue
		}
		mocks, err := k.cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
			filters.Arg("label", sandbox.LabelRun+"="+run), filters.Arg("label", sandbox.LabelRole+"=mock"))})
		if err != nil || len(mocks) != 1 {
			continue
		}
		return k.cli.ContainerKill(ctx, mocks[0].ID, "KILL") == nil
	}
}

// runningCandidate returns the run id and start time of the running candidate given token.
func (k mockKiller) runningCandidate(ctx context.Context, token string) (string, time.Time) {
	cs, err := k.cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelRole+"=candidate"))})
	if err != nil {
		return "", time.Time{}
	}
	for _, c := range cs {
		info, err := k.cli.ContainerInspect(ctx, c.ID)
		if err != nil || info.State == nil || !info.State.Running || info.Config == nil {
			continue
		}
		for _, e := range info.Config.Env {
			if e == "ITSM_SOURCE_TOKEN="+token {
				started, _ := time.Parse(time.RFC3339Nano, info.State.StartedAt)
				return c.Labels[sandbox.LabelRun], started
			}
		}
	}
	return "", time.Time{}
}

func TestAMockKilledMidRunIsAFindingNotAnError(t *testing.T) {
	t.Parallel()
	k := mockKiller{sb: sandboxtest.New(t), cli: testenv.Client(t), killed: &atomic.Int32{}}
	o := runOnce(t, k, bundleOf(t, patientJS), "happy", 30*time.Second)
	require.Equal(t, int32(1), k.killed.Load(), "the mock was killed mid-run")
	t.Logf("client: %s", strings.TrimSpace(o.Stdout.Data))
	require.True(t, o.Mock.Died)
	require.False(t, o.Mock.OOMKilled)
	require.Equal(t, 137, o.Mock.Exit)
	require.Empty(t, o.JournalErr)
	require.NotNil(t, o.Journal, "what the mock journaled before it died is read")
	require.NotEmpty(t, o.Journal.Requests)
	require.Nil(t, o.Journal.End, "it died before its end line")
	j := judge(t, "run.flood", o)
	require.NotEqual(t, finding.Pass, j.Verdict)
	require.Equal(t, finding.NA, j.Verdict, "not the client's doing")
	require.Contains(t, j.Summary, "grader defect")
}

// TestTheMocksLimitsHoldTheIdealClient measures the mock container under the ideal client in
// its longest scenario (outage: it waits out its retry budget) and its busiest (happy): the CPU
// quota must never throttle it, or timing verdicts would bend. It runs alone (not parallel) so
// the figures are the mock's own.
func TestTheMocksLimitsHoldTheIdealClient(t *testing.T) {
	if testing.Short() {
		t.Skip("grades the ideal submission's two scenarios in Docker")
	}
	sb := sandboxtest.New(t)
	work := t.TempDir()
	b, failure, err := prepare.Prepare(context.Background(), sb, filepath.Join(submissions.Dir(), "ideal"), prepare.Options{Workdir: work})
	require.NoError(t, err)
	require.Nil(t, failure)
	for _, sc := range []suite.Scenario{{Name: "outage", Trials: 1, Budget: 90 * time.Second}, {Name: "happy", Trials: 1, Budget: 60 * time.Second}} {
		o := runOnce(t, sb, b, sc.Name, sc.Budget)
		require.True(t, o.Mock.StatsKnown)
		require.Positive(t, o.Mock.PeakMemory)
		require.Zero(t, o.Mock.ThrottledPeriods, "%s: the mock's CPU quota held it back", sc.Name)
		require.Equal(t, finding.Pass, judge(t, "run.flood", o).Verdict)
	}
}
