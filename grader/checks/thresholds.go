package checks

import "time"

// Thresholds. Each is set against measured noise (README, "Sandbox performance"): a known 200 ms
// delay measured at the mock strays by 3.5 ms at the median and 9–35 ms at the 95th percentile
// (one run alone vs 8 runs sharing 2 cores); the grader runs at most 3 at once.
const (
	// noBackoff: retries closer than this are back to back (no backoff at all): 5 times the
	// worst 95th-percentile noise.
	noBackoff = 50 * time.Millisecond
	// exponentialRatio: the mean growth factor of successive median delays at or above which
	// backoff is exponential (a doubling policy measures 1.9–2.1; full jitter adds noise over 9
	// samples, so the bar sits well below 2). linearRatio: below it, the delay is constant.
	exponentialRatio = 1.5
	linearRatio      = 1.15
	// jitterIQR: the interquartile range of the 9 delays at one retry index above which they
	// are jittered. Pure noise gives an IQR of about twice the median deviation, ~7 ms; a
	// deterministic policy measured 4–10 ms (research/retry-libs.md). 25 ms is 2.5 times the
	// worst of those; jitterIQRShare covers long delays, where noise grows with the wait.
	jitterIQR      = 25 * time.Millisecond
	jitterIQRShare = 0.05
	// retryAfterSlack: how much earlier than Retry-After (seconds form) a retry may come:
	// client timer granularity plus noise. retryAfterDateSlack: the HTTP-date form has
	// one-second resolution, so a client may round down by up to a second.
	retryAfterSlack     = 100 * time.Millisecond
	retryAfterDateSlack = 1100 * time.Millisecond
	// requestTimeoutMax: the brief allows at most 10 s per attempt; 0.5 s of slack for the
	// client's timer and the mock noticing the closed connection.
	requestTimeoutMax = 10500 * time.Millisecond
	// boundedAttempts and boundedSpan: a client that respects the brief (30 s a request) stays
	// within these under a full outage.
	boundedAttempts = 15
	boundedSpan     = 35 * time.Second
	// busyShare: CPU time per second of wall time above which a mostly-waiting run is busy
	// waiting. Timer-based clients measured 2–7 % in the backoff scenario; a busy loop uses
	// 60–100 % of its one-core quota (less only when 8 runs share 2 cores).
	busyShare = 0.35
	// loggedShare: the share of failed attempts that must be logged with ticket and status.
	loggedShare = 0.8
)
