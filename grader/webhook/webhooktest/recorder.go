// Package webhooktest is an in-memory webhook.Recorder for tests: deliveries kept once per
// delivery id and queued for a consumer that takes them one by one, as a store's queue would.
package webhooktest

import (
	"context"
	"fmt"
	"sync"

	"github.com/itsm-grader/grader/grader/webhook"
)

// Recorder is a webhook.Recorder in memory. Its queue is unbounded, so Record never waits for
// the consumer.
type Recorder struct {
	mu       sync.Mutex
	seen     map[string]bool
	recorded []webhook.Delivery
	queue    []webhook.Delivery
	// ready holds a token while the queue is not empty.
	ready chan struct{}
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{seen: map[string]bool{}, ready: make(chan struct{}, 1)}
}

// Record keeps a delivery whose id it has not seen, and queues it.
func (r *Recorder) Record(ctx context.Context, d webhook.Delivery) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("record delivery %s: %w", d.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[d.ID] {
		return false, nil
	}
	r.seen[d.ID] = true
	r.recorded = append(r.recorded, d)
	r.queue = append(r.queue, d)
	select {
	case r.ready <- struct{}{}:
	default:
	}
	return true, nil
}

// Recorded returns the deliveries recorded, in order.
func (r *Recorder) Recorded() []webhook.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhook.Delivery(nil), r.recorded...)
}

// Next takes the oldest queued delivery, waiting for one or for ctx.
func (r *Recorder) Next(ctx context.Context) (webhook.Delivery, error) {
	for {
		r.mu.Lock()
		if len(r.queue) > 0 {
			d := r.queue[0]
			r.queue = r.queue[1:]
			if len(r.queue) > 0 {
				select {
				case r.ready <- struct{}{}:
				default:
				}
			}
			r.mu.Unlock()
			return d, nil
		}
		r.mu.Unlock()
		select {
		case <-r.ready:
		case <-ctx.Done():
			return webhook.Delivery{}, fmt.Errorf("wait for a delivery: %w", context.Cause(ctx))
		}
	}
}
