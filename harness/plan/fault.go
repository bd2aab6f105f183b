package plan

import (
	"errors"
	"fmt"
	"time"
)

// Fault kinds.
const (
	// KindStatus answers with an HTTP error status (5xx, 429, 400, 401, 422, ...) and a
	// problem+json body; a 429 or 503 may carry Retry-After.
	KindStatus = "status"
	// KindHang holds the request without answering until the client goes away or the plan's
	// hang cap ends it (the connection is then closed with no response).
	KindHang = "hang"
	// KindReset closes the connection with SO_LINGER 0, so the client sees a TCP reset.
	KindReset = "reset"
	// KindEmpty closes the connection without writing a byte.
	KindEmpty = "empty"
	// KindDribble sends the real response with its body spread thinly over Duration.
	KindDribble = "dribble"
	// KindMalformed sends the real status and headers with a body that is not valid JSON (on
	// the target the ticket is created).
	KindMalformed = "malformed"
	// KindCommitHang creates the ticket, then hangs: the response is lost.
	KindCommitHang = "commit_hang"
	// KindCommitReset creates the ticket, then resets the connection: the response is lost.
	KindCommitReset = "commit_reset"
	// KindSlow processes the request after Delay; an idempotency key stays in flight meanwhile,
	// and the work completes even if the client has gone.
	KindSlow = "slow"
)

// Kinds lists every fault kind.
var Kinds = []string{KindStatus, KindHang, KindReset, KindEmpty, KindDribble, KindMalformed, KindCommitHang, KindCommitReset, KindSlow}

// MinRetryAfterDate is the least lead an HTTP-date Retry-After may have: HTTP dates have
// one-second resolution, so a shorter lead could already be in the past when it arrives.
const MinRetryAfterDate = 2 * time.Second

// Fault is what a rule does to a request.
type Fault struct {
	Kind   string `yaml:"kind"`
	Status int    `yaml:"status"`
	// RetryAfterSeconds sends "Retry-After: N" (status faults only).
	RetryAfterSeconds *int `yaml:"retry_after_seconds"`
	// RetryAfterDate sends Retry-After as an HTTP-date this far ahead (status faults only).
	RetryAfterDate Duration `yaml:"retry_after_date"`
	// Delay is the processing delay of a slow fault.
	Delay Duration `yaml:"delay"`
	// Duration is how long a dribble takes to send its body.
	Duration Duration `yaml:"duration"`
}

// Name is the fault's name as the journal and metrics record it, e.g. "status_503" or "hang".
func (f *Fault) Name() string {
	if f == nil {
		return ""
	}
	if f.Kind == KindStatus {
		name := fmt.Sprintf("status_%d", f.Status)
		switch {
		case f.RetryAfterSeconds != nil:
			name += "_retry_after_seconds"
		case f.RetryAfterDate != 0:
			name += "_retry_after_date"
		}
		return name
	}
	return f.Kind
}

// DefaultDribble is a dribble's duration when the plan gives none.
const DefaultDribble = 5 * time.Second

// DribbleDuration is the time a dribble takes.
func (f *Fault) DribbleDuration() time.Duration {
	if f.Duration == 0 {
		return DefaultDribble
	}
	return f.Duration.D()
}

func (f *Fault) validate(endpoint string, hangCap time.Duration) error {
	if f.Kind != KindStatus && (f.Status != 0 || f.RetryAfterSeconds != nil || f.RetryAfterDate != 0) {
		return fmt.Errorf("fault %s: status and retry_after_* belong to status faults", f.Kind)
	}
	if f.Kind != KindSlow && f.Delay != 0 {
		return fmt.Errorf("fault %s: delay belongs to slow faults", f.Kind)
	}
	if f.Kind != KindDribble && f.Duration != 0 {
		return fmt.Errorf("fault %s: duration belongs to dribble faults", f.Kind)
	}
	switch f.Kind {
	case KindStatus:
		return f.validateStatus()
	case KindHang, KindReset, KindEmpty, KindMalformed:
		return nil
	case KindDribble:
		if f.Duration.D() < 0 || f.DribbleDuration() > hangCap {
			return fmt.Errorf("dribble duration %v must lie in (0, hang_cap %v]", f.Duration.D(), hangCap)
		}
		return nil
	case KindCommitHang, KindCommitReset:
		if endpoint != EndpointTarget {
			return fmt.Errorf("fault %s needs endpoint %s", f.Kind, EndpointTarget)
		}
		return nil
	case KindSlow:
		if f.Delay.D() <= 0 || f.Delay.D() > hangCap {
			return fmt.Errorf("slow delay %v must lie in (0, hang_cap %v]", f.Delay.D(), hangCap)
		}
		return nil
	case "":
		return errors.New("fault has no kind")
	default:
		return fmt.Errorf("unknown fault kind %q (known: %v)", f.Kind, Kinds)
	}
}

func (f *Fault) validateStatus() error {
	if f.Status < 400 || f.Status > 599 {
		return fmt.Errorf("status %d: want 400..599", f.Status)
	}
	if f.RetryAfterSeconds != nil && f.RetryAfterDate != 0 {
		return errors.New("give retry_after_seconds or retry_after_date, not both")
	}
	if f.RetryAfterSeconds != nil && *f.RetryAfterSeconds < 0 {
		return errors.New("retry_after_seconds must not be negative")
	}
	if f.RetryAfterDate != 0 && f.RetryAfterDate.D() < MinRetryAfterDate {
		return fmt.Errorf("retry_after_date %v: HTTP dates have one-second resolution, give at least %v", f.RetryAfterDate.D(), MinRetryAfterDate)
	}
	return nil
}
