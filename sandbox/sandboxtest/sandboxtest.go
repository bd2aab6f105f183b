// Package sandboxtest gives tests outside the sandbox package a real Sandbox: images built for
// the test process's static grader and Node.js 24, closed when the test ends.
package sandboxtest

import (
	"context"
	"testing"
	"time"

	"github.com/itsm-grader/grader/sandbox"
	"github.com/itsm-grader/grader/sandbox/testenv"
)

// New builds (or reuses) the sandbox's images and returns a Sandbox; it skips the test without a
// Docker engine, or fails it under CI.
func New(t testing.TB) *sandbox.Sandbox {
	t.Helper()
	testenv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sb, err := sandbox.New(ctx, sandbox.Options{NodeBinary: testenv.Node24(t), GraderBinary: testenv.GraderBinary(t)})
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb
}
