package checks

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	captured "github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
)

// req is a target create in a recorded journal.
func req(ticket string, attempt int, key string, mutate ...func(*journal.Request)) journal.Request {
	r := journal.Request{Endpoint: "target.create", Method: "POST", Path: "/v1/tickets", Ticket: ticket, Attempt: attempt,
		IdempotencyKey: key, Status: 201, Outcome: "response", EndedBy: "server", Listener: "https", Auth: journal.Auth{Token: "target"}}
	for _, m := range mutate {
		m(&r)
	}
	return r
}

func run(scenario string, reqs []journal.Request, tickets ...string) Observation {
	l := &journal.Log{}
	for i, r := range reqs {
		r.Seq = int64(i + 1)
		r.ArrivalUS, r.EndUS = int64(i)*100_000, int64(i)*100_000+2000
		l.Requests = append(l.Requests, r)
	}
	for _, t := range tickets {
		l.Tickets = append(l.Tickets, journal.Ticket{ExternalID: t})
	}
	return Observation{Plan: &plan.Plan{Name: scenario}, Journal: l,
		Run: &captured.Run{Scenario: scenario, Trial: 1, Process: captured.Process{Wall: time.Second}}}
}

// inFlightRun is slow-target with n creates held together for 400 ms.
func inFlightRun(n int) Observation {
	var reqs []journal.Request
	for i := range n {
		reqs = append(reqs, req(string(rune('A'+i)), 1, "k", faulted(plan.KindSlow, 201)))
	}
	o := run("slow-target", reqs)
	for i := range o.Journal.Requests {
		o.Journal.Requests[i].ArrivalUS, o.Journal.Requests[i].EndUS = int64(i)*1000, 400_000+int64(i)*1000
	}
	return o
}

// logged gives a run its output lines.
func logged(o Observation, lines ...string) Observation {
	o.Stderr.Data = strings.Join(lines, "\n") + "\n"
	return o
}

// page is a source page request in a recorded journal.
func page(offset, attempt int, mutate ...func(*journal.Request)) journal.Request {
	r := journal.Request{Endpoint: "source.list", Method: "GET", Path: "/api/now/table/incident", Offset: &offset, Attempt: attempt,
		Status: 200, Outcome: "response", EndedBy: "server", Listener: "https", Auth: journal.Auth{Token: "source"}}
	for _, m := range mutate {
		m(&r)
	}
	return r
}

// ended gives a run its journal's end line, changed by edits (a clean end line without them).
func ended(o Observation, edits ...func(*journal.End)) Observation {
	e := journal.End{Kind: journal.KindEnd, Requests: len(o.Journal.Requests)}
	for _, edit := range edits {
		edit(&e)
	}
	o.Journal.End = &e
	return o
}

// mockState changes what the sandbox recorded of a run's mock.
func mockState(o Observation, edit func(o *Observation)) Observation {
	edit(&o)
	return o
}

// settledAs sets how the driver recorded syncTickets settling.
func settledAs(kind string, timedOut bool) Observation {
	o := run("happy", []journal.Request{req("A", 1, "k")})
	o.Outcome.Kind, o.Process.TimedOut = kind, timedOut
	return o
}

func faulted(f string, status int) func(*journal.Request) {
	return func(r *journal.Request) { r.Fault, r.Status = f, status }
}

// TestChecksOnRecordedTraffic gives each check traffic that must trigger it and traffic that
// must not.
func TestChecksOnRecordedTraffic(t *testing.T) {
	t.Parallel()
	for _, tc := range trafficCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := tc.check.Judge(tc.obs)
			require.Equal(t, tc.want, j.Verdict, j.Summary)
		})
	}
}

// trafficCase is recorded traffic and the verdict a check must give it.
type trafficCase struct {
	name  string
	check Check
	obs   Observations
	want  finding.Verdict
}

func trafficCases() []trafficCase {
	return []trafficCase{
		{"stable distinct keys pass", idempotencyKey, Observations{run("happy", []journal.Request{req("A", 1, "ka"), req("B", 1, "kb")})}, finding.Pass},
		{"a missing key fails", idempotencyKey, Observations{run("happy", []journal.Request{req("A", 1, "")})}, finding.Fail},
		{"a key that changes between attempts fails", idempotencyKey, Observations{run("happy", []journal.Request{req("A", 1, "k1", faulted("status_503", 503)), req("A", 2, "k2")})}, finding.Fail},
		{"a key shared by two tickets fails", idempotencyKey, Observations{run("happy", []journal.Request{req("A", 1, "k"), req("B", 1, "k")})}, finding.Fail},

		{"one ticket each after lost responses passes", idempotencyDuplicates, Observations{
			run("lost-response-hang", []journal.Request{req("A", 1, "k")}, "A"), run("lost-response-reset", []journal.Request{req("A", 1, "k")}, "A")}, finding.Pass},
		{"a duplicate fails", idempotencyDuplicates, Observations{
			run("lost-response-hang", []journal.Request{req("A", 1, ""), req("A", 2, "")}, "A", "A"), run("lost-response-reset", nil)}, finding.Fail},

		{"a 400 tried once passes", retryPermanent, Observations{run("permanent-4xx", []journal.Request{req("A", 1, "k", faulted("status_400", 400))})}, finding.Pass},
		{"a 422 retried fails", retryPermanent, Observations{run("permanent-4xx", []journal.Request{req("A", 1, "k", faulted("status_422", 422)), req("A", 2, "k", faulted("status_422", 422))})}, finding.Fail},

		{"a retried 503 that succeeds passes", retryTransient, Observations{run("transient-5xx", []journal.Request{req("A", 1, "k", faulted("status_503", 503)), req("A", 2, "k")}, "A")}, finding.Pass},
		{"a 503 never retried fails", retryTransient, Observations{run("transient-5xx", []journal.Request{req("A", 1, "k", faulted("status_503", 503))})}, finding.Fail},

		{"a 409 in flight retried until the stored answer passes", retryTransient, Observations{run("transient-5xx", nil), run("slow-commit", []journal.Request{
			req("A", 1, "k", faulted(plan.KindSlow, 0), func(r *journal.Request) { r.Outcome, r.EndedBy = "none", "client" }),
			req("A", 2, "k", func(r *journal.Request) { r.Status = 409 }), req("A", 3, "k", func(r *journal.Request) { r.Replayed = true })}, "A")}, finding.Pass},
		{"a 409 in flight treated as permanent fails", retryTransient, Observations{run("transient-5xx", nil), run("slow-commit", []journal.Request{
			req("A", 1, "k", faulted(plan.KindSlow, 0), func(r *journal.Request) { r.Outcome, r.EndedBy = "none", "client" }),
			req("A", 2, "k", func(r *journal.Request) { r.Status = 409 })}, "A")}, finding.Fail},
		{"retries cut short by the schema leave the verdict to mapping.accuracy", retryTransient, Observations{run("transient-5xx", []journal.Request{
			req("A", 1, "k", faulted("status_503", 503)),
			req("A", 2, "k", func(r *journal.Request) {
				r.Status, r.Violations = 400, []journal.Violation{{Field: "priority", Message: "not one of"}}
			})})}, finding.Pass},
		{"retries that never create without a cause warn", retryTransient, Observations{run("transient-5xx", []journal.Request{
			req("A", 1, "k", faulted("status_503", 503)), req("A", 2, "k", faulted("status_503", 503))})}, finding.Warn},

		{"four in flight at once pass", concurrencyLimit, Observations{inFlightRun(4)}, finding.Pass},
		{"five in flight at once fail", concurrencyLimit, Observations{inFlightRun(4), inFlightRun(5)}, finding.Fail},
		{"a retry arriving as its abandoned attempt closes passes", concurrencyLimit, Observations{func() Observation {
			o := inFlightRun(4)
			// the fifth overlaps the first by 3 ms: the mock had not yet seen the close
			o.Journal.Requests = append(o.Journal.Requests, req("E", 2, "k", func(r *journal.Request) { r.ArrivalUS, r.EndUS = 397_000, 800_000 }))
			return o
		}()}, finding.Pass},

		{"failures logged with a give-up line pass", loggingErrors, Observations{logged(run("transient-5xx", []journal.Request{req("A", 1, "k", faulted("status_503", 503)), req("A", 2, "k")}, "A"),
			"request_failed ticket=A attempt=1 status=503"),
			logged(run("outage", []journal.Request{req("B", 1, "k", faulted("status_503", 503)), req("B", 2, "k", faulted("status_503", 503))}),
				"request_failed ticket=B attempt=1 status=503", "request_failed ticket=B attempt=2 status=503", "request_given_up ticket=B attempts=2")}, finding.Pass},
		{"a last failure that says it gives up passes", loggingErrors, Observations{logged(run("transient-5xx", []journal.Request{req("A", 1, "k", faulted("status_503", 503)), req("A", 2, "k")}, "A"),
			"request_failed ticket=A attempt=1 status=503"),
			logged(run("permanent-4xx", []journal.Request{req("B", 1, "k", faulted("status_400", 400))}), `{"msg":"request_failed","ticket":"B","status":400,"retry":false}`)}, finding.Pass},
		{"a last attempt logged as the last of its number passes", loggingErrors, Observations{logged(run("transient-5xx", []journal.Request{req("A", 1, "k", faulted("status_503", 503)), req("A", 2, "k")}, "A"),
			"request_failed ticket=A attempt=1 status=503"),
			logged(run("outage", []journal.Request{req("B", 1, "k", faulted("status_503", 503)), req("B", 2, "k", faulted("status_503", 503))}),
				"[B] failed with status 503 (attempt 1/2)", "[B] failed with status 503 (attempt 2/2)")}, finding.Pass},
		{"a ticket given up without saying so warns", loggingErrors, Observations{logged(run("transient-5xx", []journal.Request{req("A", 1, "k", faulted("status_503", 503)), req("A", 2, "k")}, "A"),
			"request_failed ticket=A attempt=1 status=503"),
			logged(run("outage", []journal.Request{req("B", 1, "k", faulted("status_503", 503)), req("B", 2, "k", faulted("status_503", 503))}),
				"attempt_failed ticket=B attempt=1 status=503", "attempt_failed ticket=B attempt=2 status=503")}, finding.Warn},
		{"a source page logged without its offset warns", loggingErrors, Observations{logged(run("transient-5xx", []journal.Request{req("A", 1, "k", faulted("status_503", 503)), req("A", 2, "k")}, "A"),
			"request_failed ticket=A attempt=1 status=503"),
			logged(run("source-faults", []journal.Request{page(10, 1, faulted("status_503", 503)), page(10, 2)}), "source read failed: 503, retrying")}, finding.Warn},
		{"a source page logged with its offset passes", loggingErrors, Observations{logged(run("transient-5xx", []journal.Request{req("A", 1, "k", faulted("status_503", 503)), req("A", 2, "k")}, "A"),
			"request_failed ticket=A attempt=1 status=503"),
			logged(run("source-faults", []journal.Request{page(10, 1, faulted("status_503", 503)), page(10, 2)}), `{"msg":"request_failed","offset":10,"attempt":1,"status":503}`)}, finding.Pass},

		{"tokens in their own headers pass", secretsTransport, Observations{run("happy", []journal.Request{req("A", 1, "k")})}, finding.Pass},
		{"a token in a URL fails", secretsTransport, Observations{run("happy", []journal.Request{req("A", 1, "k", func(r *journal.Request) {
			r.Leaks = []journal.Leak{{Token: "source", Where: "query", Form: "plain"}}
		})})}, finding.Fail},
		{"a token sent to the untrusted listener fails", secretsTransport, Observations{run("untrusted-tls", []journal.Request{req("A", 1, "k", func(r *journal.Request) { r.Listener = "untrusted" })})}, finding.Fail},

		{"only failed handshakes at the untrusted listener pass", tlsVerification, Observations{func() Observation {
			o := run("untrusted-tls", nil)
			o.Journal.TLSErrors = []journal.TLSError{{Listener: "untrusted", Error: "bad certificate"}}
			return o
		}()}, finding.Pass},
		{"a request at the untrusted listener fails", tlsVerification, Observations{run("untrusted-tls", []journal.Request{req("A", 1, "k", func(r *journal.Request) { r.Listener = "untrusted" })})}, finding.Fail},

		{"a hung attempt abandoned at 5 s passes", requestTimeout, Observations{run("hang", []journal.Request{req("A", 1, "k", func(r *journal.Request) {
			r.Fault, r.Status, r.Outcome, r.EndedBy = plan.KindHang, 0, "none", "client"
		})})}, finding.Pass},
		{"a run that settled in time passes the contract", contractCheck, Observations{settledAs("resolved", false)}, finding.Pass},
		{"a run stopped at its budget fails the contract, whatever the driver recorded", contractCheck, Observations{settledAs("resolved", true)}, finding.Fail},
		{"a run stopped before settling fails the contract", contractCheck, Observations{settledAs("none", true)}, finding.Fail},

		{"runs within every cap pass", runFlood, Observations{ended(run("happy", []journal.Request{req("A", 1, "k")})), ended(run("outage", nil), func(e *journal.End) {
			e.BodyBytes, e.Bytes = 30_000, 200_000
		})}, finding.Pass},
		{"connections refused at the cap fail", runFlood, Observations{ended(run("happy", nil)), ended(run("outage", nil), func(e *journal.End) { e.RefusedConnections = 870 })}, finding.Fail},
		{"bodies refused past the budget fail", runFlood, Observations{ended(run("happy", nil), func(e *journal.End) { e.RefusedBodies, e.RefusedBodyBytes = 40, 40<<20 })}, finding.Fail},
		{"requests dropped past the cap fail", runFlood, Observations{ended(run("happy", nil), func(e *journal.End) { e.Dropped = 1 })}, finding.Fail},
		{"a journal stopped by its byte cap fails", runFlood, Observations{ended(run("happy", nil), func(e *journal.End) { e.ByteCapped = true })}, finding.Fail},
		{"a journal cut by the sandbox's read cap fails", runFlood, Observations{mockState(run("happy", nil), func(o *Observation) {
			o.JournalCut, o.JournalOverCap = true, true
		})}, finding.Fail},
		{"a mock killed at its memory limit fails", runFlood, Observations{mockState(run("happy", nil), func(o *Observation) {
			o.Mock.Died, o.Mock.OOMKilled, o.Mock.Exit = true, true, 137
		})}, finding.Fail},
		{"a mock killed from outside is a grader defect, not a pass", runFlood, Observations{ended(run("happy", nil)), mockState(run("outage", nil), func(o *Observation) {
			o.Mock.Died, o.Mock.Exit = true, 137
		})}, finding.NA},
		{"a mock that crashed at its stop is a grader defect", runFlood, Observations{ended(mockState(run("happy", nil), func(o *Observation) { o.Mock.Exit = 2 }))}, finding.NA},
		{"a flood in one run outweighs a crash of ours in another", runFlood, Observations{
			ended(run("happy", nil), func(e *journal.End) { e.RefusedConnections = 3 }),
			mockState(run("outage", nil), func(o *Observation) { o.Mock.Died, o.Mock.Exit = true, 2 })}, finding.Fail},

		{"a hung attempt ended by the cap fails", requestTimeout, Observations{run("hang", []journal.Request{req("A", 1, "k", func(r *journal.Request) {
			r.Fault, r.Status, r.Outcome, r.EndedBy = plan.KindHang, 0, "empty", "cap"
		})})}, finding.Fail},
	}
}

// TestAFloodSaysWhatWasReachedAndACrashOfOursQuotesTheMock: the failing finding gives the
// numbers, and the n/a of a mock that crashed quotes its last log lines as a grader defect.
func TestAFloodSaysWhatWasReachedAndACrashOfOursQuotesTheMock(t *testing.T) {
	t.Parallel()
	j := runFlood.Judge(Observations{ended(run("happy", nil), func(e *journal.End) {
		e.RefusedConnections, e.RefusedBodies, e.RefusedBodyBytes, e.ByteCapped = 870, 12, 12<<20, true
	})})
	require.Equal(t, finding.Fail, j.Verdict)
	require.Contains(t, j.Summary, "the client flooded the mock in 1 of 1 runs")
	require.Contains(t, j.Summary, "870 connections refused")
	require.Contains(t, j.Summary, "12 request bodies refused unread (12582912 bytes declared)")
	require.Contains(t, j.Summary, "the journal's 48 MiB cap stopped its stream")
	require.Equal(t, 870.0, j.Measured["refused_connections"])

	crashed := mockState(run("happy", nil), func(o *Observation) {
		o.Mock.Died, o.Mock.Exit = true, 2
		o.Mock.Log.Data = "goroutine 1 [running]:\npanic: bug of ours\n"
	})
	j = runFlood.Judge(Observations{crashed})
	require.Equal(t, finding.NA, j.Verdict)
	require.Contains(t, j.Summary, "a grader defect, not the candidate's doing")
	require.Contains(t, j.Evidence[0].Excerpts, "panic: bug of ours")
}

// TestSecretsInOutputAreFound: a leak found when the run was captured fails the check, quoting
// the line as captured (redacted); a run without leaks passes.
func TestSecretsInOutputAreFound(t *testing.T) {
	t.Parallel()
	o := run("transient-5xx", nil)
	o.Stderr.Data = "retry 2 failed\nheaders: {\"Authorization\":\"Bearer [REDACTED-target-token]\"}\n"
	o.Leaks = []captured.Leak{{Where: "stderr", Line: 2, Token: "target", Form: "plain"}}
	j := secretsOutput.Judge(Observations{o})
	require.Equal(t, finding.Fail, j.Verdict)
	require.Contains(t, j.Summary, "1 run(s)")
	require.Contains(t, j.Evidence[0].Text, "stderr line 2 (target token, plain)")
	require.Equal(t, []string{`headers: {"Authorization":"Bearer [REDACTED-target-token]"}`}, j.Evidence[0].Excerpts)
	o.Leaks = []captured.Leak{{Where: "stdout", Line: 1, Token: "target", Form: "fragment", Random: 4}}
	o.Stdout.Data = "using token [REDACTED-target-token]…\n"
	j = secretsOutput.Judge(Observations{o})
	require.Equal(t, finding.Warn, j.Verdict, "a fragment of 4 random characters: too short to use, still printed")
	require.Contains(t, j.Summary, "up to 4 of its random characters")
	o.Leaks = nil
	o.Stderr.Data = "retry 2 failed for INC0010001: 503\n"
	require.Equal(t, finding.Pass, secretsOutput.Judge(Observations{o}).Verdict)
}
