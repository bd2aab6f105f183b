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
// that a failed one (a client refusing the certificate) is journaled with its connection.
type trackingListener struct {
	net.Listener
	name   string
	tls    *tls.Config
	nextID *atomic.Int64
	onTLS  func(journal.TLSError)
	clock  journal.Clock
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, id: l.nextID.Add(1), listener: l.name}
	if l.tls != nil {
		tc.Conn = tls.Server(c, l.tls)
		tc.tls = tc.Conn.(*tls.Conn)
		tc.onTLS, tc.clock = l.onTLS, l.clock
	}
	return tc, nil
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
