package mock

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/itsm-grader/grader/harness/journal"
)

// handshakeTimeout bounds a TLS handshake: a client that connects and says nothing must not
// hold a goroutine forever.
const handshakeTimeout = 10 * time.Second

// trackingListener numbers connections and, on TLS listeners, performs the handshake itself so
// that a failed one (a client refusing the certificate) is journaled with its connection. It
// also holds the run's connection cap (Caps.Connections, shared by the three listeners): past
// it a connection is reset at once and counted, never queued.
type trackingListener struct {
	net.Listener
	name   string
	tls    *tls.Config
	nextID *atomic.Int64
	onTLS  func(journal.TLSError)
	clock  journal.Clock
	// open counts the connections open on all listeners; maxOpen is the cap; onRefuse is told
	// of each connection refused.
	open     *atomic.Int64
	maxOpen  int64
	onRefuse func(listener string)
}

func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.maxOpen {
			l.open.Add(-1)
			if tcp, ok := c.(*net.TCPConn); ok {
				_ = tcp.SetLinger(0) // a reset: no TIME_WAIT pile-up under a flood
			}
			_ = c.Close()
			l.onRefuse(l.name)
			continue
		}
		tc := &trackedConn{Conn: c, id: l.nextID.Add(1), listener: l.name, open: l.open}
		if l.tls != nil {
			tc.Conn = tls.Server(c, l.tls)
			tc.tls = tc.Conn.(*tls.Conn)
			tc.onTLS, tc.clock = l.onTLS, l.clock
		}
		return tc, nil
	}
}

// trackedConn is one client connection. net/http sees it as a plain connection: the TLS
// handshake runs on the first Read or Write.
type trackedConn struct {
	net.Conn
	id       int64
	listener string

	tls       *tls.Conn
	onTLS     func(journal.TLSError)
	clock     journal.Clock
	handshake sync.Once
	hsErr     error

	open     *atomic.Int64
	released sync.Once
}

// releaseSlot gives the connection's place under the cap back, once: on Close, or when a fault
// took the connection over and closed the socket itself.
func (c *trackedConn) releaseSlot() {
	c.released.Do(func() {
		if c.open != nil {
			c.open.Add(-1)
		}
	})
}

// Close closes the connection and frees its place under the cap.
func (c *trackedConn) Close() error {
	c.releaseSlot()
	return c.Conn.Close()
}

func (c *trackedConn) ensureHandshake() error {
	if c.tls == nil {
		return nil
	}
	c.handshake.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
		defer cancel()
		c.hsErr = c.tls.HandshakeContext(ctx)
		if c.hsErr != nil && !errors.Is(c.hsErr, net.ErrClosed) {
			c.onTLS(journal.TLSError{
				Conn:     c.id,
				Listener: c.listener,
				AtUS:     c.clock.Now(),
				Error:    c.hsErr.Error(),
			})
		}
	})
	return c.hsErr
}

func (c *trackedConn) Read(p []byte) (int, error) {
	if err := c.ensureHandshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *trackedConn) Write(p []byte) (int, error) {
	if err := c.ensureHandshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// NetConn exposes the wrapped connection (faults unwrap down to the socket).
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

type connKey struct{}

func connFrom(ctx context.Context) *trackedConn {
	c, _ := ctx.Value(connKey{}).(*trackedConn)
	return c
}
