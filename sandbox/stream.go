package sandbox

import (
	"context"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// stream is a container's attached stdout and stderr, drained into capped buffers. The first
// complete stdout line closes ready (the mock's journal start line says it is listening).
type stream struct {
	conn   types.HijackedResponse
	out    *capped
	errOut *capped
	ready  chan struct{}
	done   chan struct{}
	once   sync.Once
}

// attach must be called before the container starts, so no output is missed.
func attach(ctx context.Context, cli *client.Client, id string, outCap, errCap int) (*stream, error) {
	conn, err := cli.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return nil, err
	}
	s := &stream{conn: conn, out: newCapped(outCap), errOut: newCapped(errCap), done: make(chan struct{})}
	fl := newFirstLine(s.out)
	s.ready = fl.ready
	go func() {
		defer close(s.done)
		_, _ = stdcopy.StdCopy(fl, s.errOut, conn.Reader)
	}()
	return s, nil
}

// finish waits up to d for the stream to end, then closes it: a daemonised child holding the
// pipe must not hold the grader.
func (s *stream) finish(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
	}
	s.close()
	<-s.done
}

func (s *stream) close() { s.once.Do(s.conn.Close) }
