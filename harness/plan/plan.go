// Package plan reads fault plans: declarative files that say which requests the mock ITSM
// answers with which fault. A plan addresses requests by endpoint, by ticket (the externalId a
// create carries) or page offset, and by attempt number, so "the first two attempts at every
// ticket get a 503" is one rule. Probabilistic rules are decided by a hash of the seed and the
// request's address, never by arrival order, so a plan gives the same faults on every run with
// the same seed whatever the client's concurrency.
package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Endpoints a rule can address.
const (
	EndpointAny    = "*"
	EndpointSource = "source.list"
	EndpointTarget = "target.create"
)

// DefaultHangCap is how long the mock holds a hung request when the plan does not say: long
// enough that any client timeout the brief allows (10 s) fires first, short enough that a client
// without one is not waited on for Node's 300 s default.
const DefaultHangCap = 15 * time.Second

// Plan is one fault plan.
type Plan struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Seed decides probabilistic rules; a run may override it.
	Seed int64 `yaml:"seed"`
	// Records limits the source table to its first N rows (0: all rows).
	Records int `yaml:"records"`
	// HangCap bounds every hang fault.
	HangCap Duration `yaml:"hang_cap"`
	// TargetListener names the listener the target URL handed to the client points at
	// ("" for the run's default; "untrusted" for the HTTPS listener whose CA the client lacks).
	TargetListener string `yaml:"target_listener"`
	Rules          []Rule `yaml:"rules"`
}

// Rule maps a set of requests to a fault. Empty selectors match everything.
type Rule struct {
	Endpoint    string   `yaml:"endpoint"`
	Tickets     []string `yaml:"tickets"`
	Offsets     []int    `yaml:"offsets"`
	Attempts    Attempts `yaml:"attempts"`
	Probability *float64 `yaml:"probability"`
	Fault       Fault    `yaml:"fault"`
}

// Request is the address of one request, as the mock sees it.
type Request struct {
	Endpoint string
	Ticket   string // target: the externalId in the body
	Offset   int    // source: the page offset
	Attempt  int    // 1 for the first request at this ticket or page
}

// Parse reads and validates a plan from YAML.
func Parse(data []byte) (*Plan, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse plan: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks a plan for mistakes a run would otherwise trip over.
func (p *Plan) Validate() error {
	var errs []error
	if p.Name == "" {
		errs = append(errs, errors.New("plan has no name"))
	}
	if p.Records < 0 {
		errs = append(errs, errors.New("records must not be negative"))
	}
	if p.HangCap.D() < 0 {
		errs = append(errs, errors.New("hang_cap must not be negative"))
	}
	switch p.TargetListener {
	case "", "http", "https", "untrusted":
	default:
		errs = append(errs, fmt.Errorf("target_listener %q: want http, https or untrusted", p.TargetListener))
	}
	for i, r := range p.Rules {
		if err := r.validate(p.hangCap()); err != nil {
			errs = append(errs, fmt.Errorf("rule %d: %w", i+1, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("plan %q: %w", p.Name, err)
	}
	return nil
}

func (p *Plan) hangCap() time.Duration {
	if p.HangCap.D() == 0 {
		return DefaultHangCap
	}
	return p.HangCap.D()
}

// HangLimit is the cap on hangs for this plan.
func (p *Plan) HangLimit() time.Duration { return p.hangCap() }

func (r Rule) validate(hangCap time.Duration) error {
	switch r.Endpoint {
	case "", EndpointAny, EndpointSource, EndpointTarget:
	default:
		return fmt.Errorf("endpoint %q: want %s, %s or %s", r.Endpoint, EndpointSource, EndpointTarget, EndpointAny)
	}
	if len(r.Tickets) > 0 && r.Endpoint != EndpointTarget {
		return errors.New("tickets only address endpoint target.create")
	}
	if len(r.Offsets) > 0 && r.Endpoint != EndpointSource {
		return errors.New("offsets only address endpoint source.list")
	}
	if r.Probability != nil && (*r.Probability < 0 || *r.Probability > 1) {
		return fmt.Errorf("probability %v outside [0, 1]", *r.Probability)
	}
	return r.Fault.validate(r.Endpoint, hangCap)
}

// Decide returns the fault for a request, or nil for a normal answer. The first matching rule
// wins.
func (p *Plan) Decide(seed int64, req Request) *Fault {
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.matches(req) {
			continue
		}
		if r.Probability != nil && draw(seed, i, req) >= *r.Probability {
			continue
		}
		return &r.Fault
	}
	return nil
}

func (r *Rule) matches(req Request) bool {
	if r.Endpoint != "" && r.Endpoint != EndpointAny && r.Endpoint != req.Endpoint {
		return false
	}
	if len(r.Tickets) > 0 && !contains(r.Tickets, req.Ticket) {
		return false
	}
	if len(r.Offsets) > 0 && !contains(r.Offsets, req.Offset) {
		return false
	}
	return r.Attempts.Contains(req.Attempt)
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// draw is a number in [0, 1) fixed by the seed, the rule and the request's address.
func draw(seed int64, rule int, req Request) float64 {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%d|%s|%s|%d|%d", seed, rule, req.Endpoint, req.Ticket, req.Offset, req.Attempt)
	sum := h.Sum(nil)
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / float64(1<<53)
}

// Attempts selects attempt numbers: a YAML list of numbers and ranges ("1-3", "4+"), or the
// word "all". Empty means all.
type Attempts struct {
	ranges [][2]int // inclusive; hi 0 means unbounded
}

// Contains reports whether attempt n is selected.
func (a Attempts) Contains(n int) bool {
	if len(a.ranges) == 0 {
		return true
	}
	for _, r := range a.ranges {
		if n >= r[0] && (r[1] == 0 || n <= r[1]) {
			return true
		}
	}
	return false
}

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (a *Attempts) UnmarshalYAML(n *yaml.Node) error {
	var items []string
	switch n.Kind {
	case yaml.ScalarNode:
		items = []string{n.Value}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: attempts: want numbers or ranges", c.Line)
			}
			items = append(items, c.Value)
		}
	default:
		return fmt.Errorf("line %d: attempts: want a list or \"all\"", n.Line)
	}
	for _, it := range items {
		r, err := parseRange(it)
		if err != nil {
			return fmt.Errorf("line %d: attempts: %w", n.Line, err)
		}
		if r == nil { // "all"
			a.ranges = nil
			return nil
		}
		a.ranges = append(a.ranges, *r)
	}
	return nil
}

func parseRange(s string) (*[2]int, error) {
	s = strings.TrimSpace(s)
	if s == "all" {
		return nil, nil
	}
	num := func(t string) (int, error) {
		v, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil || v < 1 {
			return 0, fmt.Errorf("%q is not an attempt number (1, 2, ...)", t)
		}
		return v, nil
	}
	if lo, ok := strings.CutSuffix(s, "+"); ok {
		v, err := num(lo)
		return &[2]int{v, 0}, err
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		l, err := num(lo)
		if err != nil {
			return nil, err
		}
		h, err := num(hi)
		if err != nil {
			return nil, err
		}
		if h < l {
			return nil, fmt.Errorf("range %q runs backwards", s)
		}
		return &[2]int{l, h}, nil
	}
	v, err := num(s)
	return &[2]int{v, v}, err
}

// Duration is a time.Duration written as "1.5s", "250ms".
type Duration time.Duration

// D is the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}
