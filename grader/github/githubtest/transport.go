package githubtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"
)

// ErrNotLoopback is wrapped by the error of a connection Transport refused.
var ErrNotLoopback = errors.New("refused: tests reach loopback addresses only")

// Guard counts the connections a loopback-only transport refused.
type Guard struct{ refused atomic.Int64 }

// Refused is how many connections were refused.
func (g *Guard) Refused() int64 { return g.refused.Load() }

// Transport carries requests to loopback IP addresses only: any other host, names included
// (no name is even looked up), is refused before a connection is tried, and no proxy from the
// environment is used. Every refusal is counted on guard (which may be nil).
func Transport(guard *Guard) *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := loopbackOnly(addr); err != nil {
				if guard != nil {
					guard.refused.Add(1)
				}
				return nil, err
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
}

func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotLoopback, addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %s is not a loopback address", ErrNotLoopback, addr)
	}
	return nil
}
