package checks

import (
	"fmt"
	"sort"
	"time"

	"github.com/itsm-grader/grader/grader/finding"
	"github.com/itsm-grader/grader/harness/journal"
)

// concurrencyLimit judges the brief's "at most 4 requests in flight at once, across both APIs"
// from the journal's arrival and end times, in every run. The slow-target scenario holds every
// create for 400 ms, so a client that sends more at once keeps them in flight together for that
// long; elsewhere requests are served in a millisecond or two and overlap only in passing.
var concurrencyLimit = Check{
	ID: "concurrency.limit", Title: "Keeps at most 4 requests in flight at once", Severity: finding.Medium,
	Indicator: finding.FollowsSpecs,
	Question:  "How many requests does your client have in flight at once, and where in the code is that bounded?",
	Judge: func(obs Observations) finding.Judgement {
		var worst inFlight
		var over []finding.Evidence
		runs := 0
		for _, o := range obs {
			if o.Journal == nil {
				continue
			}
			runs++
			w := mostInFlight(o.Journal.Requests)
			if w.n > worst.n {
				worst = w
			}
			if w.n > maxInFlight {
				over = append(over, evidence(o, fmt.Sprintf("%d requests in flight together for %s from t=%.3fs", w.n, ms(w.held), float64(w.atUS)/1e6), lines(w.requests, 6)...))
			}
		}
		j := finding.Judgement{}.Measure("max_in_flight", float64(worst.n))
		switch {
		case runs == 0:
			j.Verdict, j.Summary = finding.NA, "no run has a journal"
		case len(over) > 0:
			j.Verdict, j.Summary = finding.Fail, fmt.Sprintf("up to %d requests were in flight at once (the brief allows %d), in %d of %d runs", worst.n, maxInFlight, len(over), runs)
			j = j.With(capEvidence(over, 4)...)
		default:
			j.Verdict, j.Summary = finding.Pass, fmt.Sprintf("at most %d request(s) in flight at once over %d runs (the brief allows %d)", worst.n, runs, maxInFlight)
		}
		return j
	},
}

// inFlight is the most requests in flight together in one run, for at least inFlightHeld.
type inFlight struct {
	n        int
	atUS     int64
	held     time.Duration
	requests []journal.Request
}

// mostInFlight sweeps a run's requests: each is in flight from its arrival to its end. A level
// counts only when it held for inFlightHeld without a break: a retry that arrives a moment before
// the mock has seen the abandoned attempt's connection close is not a client keeping two in
// flight.
func mostInFlight(reqs []journal.Request) inFlight {
	type edge struct {
		at    int64
		delta int
	}
	edges := make([]edge, 0, 2*len(reqs))
	for _, r := range reqs {
		if r.EndUS > r.ArrivalUS {
			edges = append(edges, edge{r.ArrivalUS, +1}, edge{r.EndUS, -1})
		}
	}
	// Ends before arrivals at the same instant: a request that ends as another arrives is not
	// in flight with it.
	sort.Slice(edges, func(a, b int) bool {
		return edges[a].at < edges[b].at || edges[a].at == edges[b].at && edges[a].delta < edges[b].delta
	})
	// held[k] is how long the level has stayed at k or above, without a break; since[k] when
	// that began.
	held := make([]int64, maxTracked+1)
	since := make([]int64, maxTracked+1)
	var best inFlight
	level := 0
	for i, e := range edges {
		level += e.delta
		if i+1 >= len(edges) {
			break
		}
		d := edges[i+1].at - e.at
		for k := 1; k <= maxTracked; k++ {
			if k > level {
				held[k] = 0
				continue
			}
			if held[k] == 0 {
				since[k] = e.at
			}
			held[k] += d
			if k > best.n && time.Duration(held[k])*time.Microsecond >= inFlightHeld {
				best = inFlight{n: k, atUS: since[k], held: time.Duration(held[k]) * time.Microsecond}
			}
		}
	}
	for _, r := range reqs {
		if r.ArrivalUS <= best.atUS+best.held.Microseconds()/2 && r.EndUS > best.atUS+best.held.Microseconds()/2 {
			best.requests = append(best.requests, r)
		}
	}
	return best
}

// maxTracked bounds the levels the sweep tracks: far above the brief's 4, and above the mock's
// 128-connection cap, so a flood is measured at its height.
const maxTracked = 256
