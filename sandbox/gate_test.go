package sandbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// entered starts an enter in the background and reports when it got through.
func entered(ctx context.Context, g *startGate) (<-chan func(), <-chan error) {
	ok, failed := make(chan func(), 1), make(chan error, 1)
	go func() {
		leave, err := g.enter(ctx)
		if err != nil {
			failed <- err
			return
		}
		ok <- leave
	}()
	return ok, failed
}

// requireWaiting checks that an enter has not got through (polled for a short while: it is a
// check that something does not happen).
func requireWaiting(t *testing.T, ok <-chan func(), why string) {
	t.Helper()
	select {
	case <-ok:
		t.Fatalf("entered the gate %s", why)
	case <-time.After(50 * time.Millisecond):
	}
}

func requireEntered(t *testing.T, ok <-chan func(), within time.Duration) func() {
	t.Helper()
	select {
	case leave := <-ok:
		return leave
	case <-time.After(within):
		t.Fatalf("did not enter the gate within %v", within)
		return nil
	}
}

func TestOneRunStartsAtATime(t *testing.T) {
	t.Parallel()
	var g startGate
	leave, err := g.enter(context.Background())
	require.NoError(t, err)
	ok, _ := entered(context.Background(), &g)
	requireWaiting(t, ok, "while another run was starting")
	leave()
	leave() // idempotent: it must not let a third run in beside the second
	second := requireEntered(t, ok, 5*time.Second)
	ok3, _ := entered(context.Background(), &g)
	requireWaiting(t, ok3, "while the second run was starting")
	second()
	requireEntered(t, ok3, 5*time.Second)()
}

func TestAQuietWindowHoldsStartsOff(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		early bool // the run ends its window before its time

	}{
		{"until it ends by itself", false},
		{"until the run ends it early", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var g startGate
			const window = 300 * time.Millisecond
			opened := time.Now()
			end := g.hold(window)
			ok, _ := entered(context.Background(), &g)
			requireWaiting(t, ok, "inside a quiet window")
			if tc.early {
				end()
				requireEntered(t, ok, window/2)()
				return
			}
			requireEntered(t, ok, 5*time.Second)()
			require.GreaterOrEqual(t, time.Since(opened), window, "not before the window ended")
			end() // after its time: nothing to undo
		})
	}
}

func TestWaitingForTheGateStopsWithItsContext(t *testing.T) {
	t.Parallel()
	var g startGate
	leave, err := g.enter(context.Background())
	require.NoError(t, err)
	defer leave()
	ctx, cancel := context.WithCancelCause(context.Background())
	ok, failed := entered(ctx, &g)
	requireWaiting(t, ok, "while another run was starting")
	stop := errors.New("grading cancelled")
	cancel(stop)
	select {
	case err := <-failed:
		require.ErrorIs(t, err, stop)
	case <-time.After(5 * time.Second):
		t.Fatal("the wait did not end with its context")
	}
}
