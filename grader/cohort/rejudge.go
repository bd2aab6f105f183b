package cohort

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/itsm-grader/grader/grader/evidence"
	"github.com/itsm-grader/grader/grader/judge"
	"github.com/itsm-grader/grader/grader/store"
)

// Rejudged counts what Rejudge did.
type Rejudged struct {
	// Judged were judged again by the current rules; Current were judged by them already.
	Judged, Current int
}

// Rejudge judges each candidate's latest stored evidence of the cohort again with this
// grader's rules (judge.RulesVersion), writes the reports into a folder of their own and
// records the new findings in place of the old. Nothing is run: the evidence is all it reads.
func Rejudge(ctx context.Context, st *store.Store, cohort string, write ReportWriter) (Rejudged, error) {
	var n Rejudged
	stored, err := st.StoredEvidence(ctx, cohort, judge.RulesVersion)
	if err != nil {
		return n, err
	}
	for _, s := range stored {
		if s.RulesVersion == judge.RulesVersion {
			n.Current++
			continue
		}
		if err := rejudgeOne(ctx, st, s, write); err != nil {
			return n, fmt.Errorf("rejudge %s: %w", s.Candidate, err)
		}
		n.Judged++
	}
	return n, nil
}

func rejudgeOne(ctx context.Context, st *store.Store, s store.Stored, write ReportWriter) error {
	fh, err := os.Open(s.EvidencePath)
	if err != nil {
		return fmt.Errorf("read evidence: %w", err)
	}
	ev, err := evidence.Read(fh)
	fh.Close()
	if err != nil {
		return err
	}
	rep, err := judge.Judge(ev, time.Now())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("make %s: %w", s.Dir, err)
	}
	if err := write(rep, s.Dir); err != nil {
		return err
	}
	return st.ReplaceJudgement(ctx, s.GradingID, judge.RulesVersion, store.Result{Report: rep, ReportDir: s.Dir})
}
