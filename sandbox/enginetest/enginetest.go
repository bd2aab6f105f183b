// Package enginetest gives tests a Docker client, or stops them clearly: a test that needs the
// engine skips on a laptop without one and fails, never skips, under CI=true.
package enginetest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// Client returns a client that negotiated its API version with a live engine.
func Client(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = cli.Ping(ctx)
	}
	if err != nil {
		msg := "no Docker engine answers (run sandbox/engine/ensure-docker, or make test): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}
