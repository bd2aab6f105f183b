package checks

import "time"

// Thresholds. Each is set against measured noise (README, "Sandbox performance"): a known 200 ms
// delay measured at the mock strays by 3.5 ms at the median and 9–35 ms at the 95th percentile
// (one run alone vs 8 runs sharing 2 cores); the grader runs at most 3 at once.
const (
	// noBackoff: retries closer than this are back to back (no backoff at all): 5 times the
	// worst 95th-percentile noise.
	noBackoff = 50 * time.Millisecond
	// exponentialRatio: the mean growth factor of the upper envelope of the waits per retry
	// (envelope in backoff.go), over all four retries and over the last two, at or above which
	// backoff is exponential (a doubling policy measures 1.9–2.1; a linear one 1.59 overall but
	// 1.29 late). linearRatio: below it, the delay is constant. Simulated over 100,000 suites of
	// 24 samples with 5–15 ms of noise and 3 % of waits stretched by 50–300 ms: full jitter
	// (200 ms base) is exponential in 99.998 %, deterministic doubling in 100 %, linear in
	// 0.03 %, a constant delay with ±50 % jitter never.
	exponentialRatio = 1.5
	linearRatio      = 1.15
	// linearSpread: between those ratios, the envelope is linear (and fails: the brief asks
	// for exponential) when every step is within this share of the mean step. Envelopes
	// measured to 20–35 ms (README, make stability) against steps of 100 ms and more for any
	// linear policy worth the name (a 100 ms base): ±35 % leaves room for that noise, while a
	// capped exponential policy's steps (doubling, then flat at the cap) miss it by far.
	linearSpread = 0.35
	// linearZ: even steps fail as linear only when the steps are above zero and the second is
	// under 1.5 times the first, each by this many standard errors (clearlyLinear); otherwise
	// they warn. envelopeErrorPerIQR and envelopeErrorFloor give an envelope's standard error
	// from its waits (envelopeError). Simulated (TestBackoffGrowthSimulated, noise as above):
	// exponential policies growing by 1.5, the slowest the brief's "exponential" takes, fail in
	// at most 0.5 % of suites where even steps alone failed them in 16–21 %; a linear policy of
	// 1 s × attempt (±10 % jitter, or none) still fails in 100 %, one of 500 ms × attempt with
	// ±15 % in about 96 % (warn otherwise: a stretched wait the machine's noise accounts for,
	// which a grading measures again). Full jitter over a linear window cannot be measured
	// clearly in four retries of 24 waits: it warns (fixtures/pending/README.md).
	linearZ             = 3.0
	envelopeErrorPerIQR = 0.126
	envelopeErrorFloor  = 10 * time.Millisecond
	// noiseFloor: noise over an envelope's waits below this is the journal's own precision
	// (arrival lag under 0.5 ms at p99, 4 ms at worst) plus the probe's period: it never makes a
	// backoff verdict inconclusive. Measured in sandbox/noise: on a quiet machine the waits' noise
	// stays under it; a loaded one puts tens to hundreds of ms over the first retries.
	noiseFloor = 10 * time.Millisecond
	// jitterIQR: the interquartile range of the 24 delays at one retry index above which they
	// are jittered. Pure noise gives an IQR of about twice the median deviation, ~7 ms; a
	// deterministic policy measured 4–10 ms (research/retry-libs.md). 25 ms is 2.5 times the
	// worst of those; jitterIQRShare covers long delays, where noise grows with the wait.
	jitterIQR      = 25 * time.Millisecond
	jitterIQRShare = 0.05
	// retryAfterLate: a retry later than this many times the advertised wait (plus 2 s) is
	// "wildly later". A client that blocks its event loop serialises its waits: three tickets
	// told to wait 2 s each retry after 2, 4 and 6 s, which is late but not a disregard.
	retryAfterLate = 3
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
	// busyCPU and busyShare: a run busy-waits when it burns at least busyCPU of CPU time and at
	// least busyShare of its wall time. Timer-based clients measured 0.2–0.35 s of CPU (Node's
	// start, TLS, the requests) and 7–17 % of the wall time in the backoff and rate-limit
	// scenarios; a busy loop measured 1.8–3.2 s and 33–49 % with 3 runs sharing 2 cores (it
	// would be ~100 % alone). A client that never waits (no retries) stays under busyCPU.
	busyCPU   = time.Second
	busyShare = 0.25
	// loggedShare: the share of failed attempts that must be logged with ticket and status.
	loggedShare = 0.8
	// maxInFlight is the brief's bound: at most 4 requests in flight at once, across both
	// APIs. inFlightHeld: a level counts when it held this long without a break. In slow-target
	// every create is held 400 ms, so a client over the bound keeps its extra requests in flight
	// together for hundreds of milliseconds; the overlaps a correct client shows (a retry on a
	// new connection arriving before the mock has seen the abandoned one close, a new page
	// requested as the last create's answer leaves) last a few milliseconds, under the
	// journal's worst arrival lag of about 4 ms (README, "How precise the journal's times
	// are"). 50 ms sits ten times above the one and eight times below the other.
	maxInFlight  = 4
	inFlightHeld = 50 * time.Millisecond
)
