package checks

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/grader/runner"
	"github.com/itsm-grader/grader/harness/journal"
	"github.com/itsm-grader/grader/harness/plan"
	"github.com/itsm-grader/grader/harness/secrets"
	"github.com/itsm-grader/grader/sandbox"
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

func run(scenario string, reqs []journal.Request, tickets ...string) runner.Observation {
	l := &journal.Log{}
	for i, r := range reqs {
		r.Seq = int64(i + 1)
		r.ArrivalUS, r.EndUS = int64(i)*100_000, int64(i)*100_000+2000
		l.Requests = append(l.Requests, r)
	}
	for _, t := range tickets {
		l.Tickets = append(l.Tickets, journal.Ticket{ExternalID: t})
	}
	return runner.Observation{Scenario: scenario, Trial: 1, Plan: &plan.Plan{Name: scenario}, Journal: l,
		Tokens: secrets.New("src_aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "tgt_bbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
		Run:    &sandbox.Result{Wall: time.Second}}
}

func faulted(f string, status int) func(*journal.Request) {
	return func(r *journal.Request) { r.Fault, r.Status = f, status }
}

// TestChecksOnRecordedTraffic gives each check traffic that must trigger it and traffic that
// must not.
func TestChecksOnRecordedTraffic(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		check Check
		obs   Observations
		want  finding.Verdict
	}{
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

		{"tokens in their own headers pass", secretsTransport, Observations{run("happy", []journal.Request{req("A", 1, "k")})}, finding.Pass},
		{"a token in a URL fails", secretsTransport, Observations{run("happy", []journal.Request{req("A", 1, "k", func(r *journal.Request) {
			r.Leaks = []journal.Leak{{Token: "source", Where: "query", Form: "plain"}}
		})})}, finding.Fail},
		{"a token sent to the untrusted listener fails", secretsTransport, Observations{run("untrusted-tls", []journal.Request{req("A", 1, "k", func(r *journal.Request) { r.Listener = "untrusted" })})}, finding.Fail},

		{"only failed handshakes at the untrusted listener pass", tlsVerification, Observations{func() runner.Observation {
			o := run("untrusted-tls", nil)
			o.Journal.TLSErrors = []journal.TLSError{{Listener: "untrusted", Error: "bad certificate"}}
			return o
		}()}, finding.Pass},
		{"a request at the untrusted listener fails", tlsVerification, Observations{run("untrusted-tls", []journal.Request{req("A", 1, "k", func(r *journal.Request) { r.Listener = "untrusted" })})}, finding.Fail},

		{"a hung attempt abandoned at 5 s passes", requestTimeout, Observations{run("hang", []journal.Request{req("A", 1, "k", func(r *journal.Request) {
			r.Fault, r.Status, r.Outcome, r.EndedBy = plan.KindHang, 0, "none", "client"
		})})}, finding.Pass},
		{"a hung attempt ended by the cap fails", requestTimeout, Observations{run("hang", []journal.Request{req("A", 1, "k", func(r *journal.Request) {
			r.Fault, r.Status, r.Outcome, r.EndedBy = plan.KindHang, 0, "empty", "cap"
		})})}, finding.Fail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := tc.check.Judge(tc.obs)
			require.Equal(t, tc.want, j.Verdict, j.Summary)
		})
	}
}

func TestSecretsInOutputAreFound(t *testing.T) {
	t.Parallel()
	o := run("transient-5xx", nil)
	o.Run.Stderr.Data = []byte("retry 2 failed\nheaders: {\"Authorization\":\"Bearer tgt_bbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}\n")
	j := secretsOutput.Judge(Observations{o})
	require.Equal(t, finding.Fail, j.Verdict)
	require.NotContains(t, j.Evidence[0].Excerpts[0], "bbbbbbbbbbbb", "the evidence quotes the line redacted")
	o.Run.Stderr.Data = []byte("retry 2 failed for INC0010001: 503\n")
	require.Equal(t, finding.Pass, secretsOutput.Judge(Observations{o}).Verdict)
}
