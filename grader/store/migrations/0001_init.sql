-- 0001: a cohort's candidates, their submissions, the gradings (which are also the queue of
-- `grader batch`), one row per finding, and the similarity pairs.
--
-- Times are Unix milliseconds (UTC). Paths are relative to the store's data folder, so a
-- database moved with its folder keeps working. Every child row goes with its parent
-- (ON DELETE CASCADE): deleting a cohort or a candidate deletes everything recorded about them.

CREATE TABLE cohorts (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    created_at INTEGER NOT NULL,
    deadline   INTEGER
) STRICT;

CREATE TABLE candidates (
    id        INTEGER PRIMARY KEY,
    cohort_id INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    name      TEXT    NOT NULL CHECK (name <> ''),
    UNIQUE (cohort_id, name)
) STRICT;

-- A submission is one content (content_hash: the resolved commit or a hash of the files) from
-- one candidate: the same content handed in twice is one submission.
CREATE TABLE submissions (
    id           INTEGER PRIMARY KEY,
    candidate_id INTEGER NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
    source       TEXT    NOT NULL CHECK (source <> ''),
    ref          TEXT    NOT NULL DEFAULT '',
    commit_sha   TEXT    NOT NULL DEFAULT '',
    content_hash TEXT    NOT NULL CHECK (content_hash <> ''),
    track        TEXT    NOT NULL CHECK (track IN ('ai', 'manual', 'unknown')),
    received_at  INTEGER NOT NULL,
    UNIQUE (candidate_id, content_hash)
) STRICT;

-- A grading is one submission judged by one rules version. UNIQUE (submission_id,
-- rules_version) is the issue's "unique on cohort, candidate, content hash and rules version":
-- a submission is one (candidate, content hash) and a candidate belongs to one cohort.
-- cohort_id repeats the submission's cohort so the queue is claimed per cohort on an index.
--
-- status: queued -> running -> done (a report, or the candidate's own failure, never retried)
--                           -> queued again after an infrastructure failure (run_after backs off)
--                           -> failed (infrastructure, attempts exhausted)
CREATE TABLE gradings (
    id                INTEGER PRIMARY KEY,
    submission_id     INTEGER NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    cohort_id         INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    rules_version     TEXT    NOT NULL CHECK (rules_version <> ''),
    grader_version    TEXT    NOT NULL DEFAULT '',
    suite_version     TEXT    NOT NULL DEFAULT '',
    status            TEXT    NOT NULL DEFAULT 'queued'
                              CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    enqueued_at       INTEGER NOT NULL,
    run_after         INTEGER NOT NULL,
    worker            TEXT,
    lease_until       INTEGER,
    host              TEXT,
    started_at        INTEGER,
    ended_at          INTEGER,
    last_error        TEXT,
    candidate_failure TEXT,
    score             REAL,
    evidence_path     TEXT,
    report_dir        TEXT,
    judged_at         INTEGER,
    -- Last: a report is ~100 KB and spills into overflow pages, which SQLite reads only when a
    -- query asks for this column or one after it.
    report_json       TEXT,
    UNIQUE (submission_id, rules_version),
    CHECK (status <> 'running' OR (worker IS NOT NULL AND lease_until IS NOT NULL))
) STRICT;

CREATE INDEX gradings_queue ON gradings (cohort_id, status, run_after);
CREATE INDEX gradings_lease ON gradings (cohort_id, status, lease_until);

CREATE TABLE findings (
    id             INTEGER PRIMARY KEY,
    grading_id     INTEGER NOT NULL REFERENCES gradings (id) ON DELETE CASCADE,
    finding_id     TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    verdict        TEXT    NOT NULL,
    severity       TEXT    NOT NULL,
    critical       INTEGER NOT NULL CHECK (critical IN (0, 1)),
    indicator_kind TEXT    NOT NULL,
    indicator      TEXT    NOT NULL,
    measured       TEXT    CHECK (measured IS NULL OR json_valid(measured)),
    UNIQUE (grading_id, finding_id)
) STRICT;

-- A pair of submissions of one cohort that look alike: submission_a < submission_b.
CREATE TABLE similarity_pairs (
    id               INTEGER PRIMARY KEY,
    cohort_id        INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    submission_a     INTEGER NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    submission_b     INTEGER NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    score            REAL    NOT NULL,
    longest_fragment INTEGER NOT NULL,
    fragments        TEXT    NOT NULL CHECK (json_valid(fragments)),
    CHECK (submission_a < submission_b),
    UNIQUE (cohort_id, submission_a, submission_b)
) STRICT;

CREATE INDEX similarity_a ON similarity_pairs (submission_a);
CREATE INDEX similarity_b ON similarity_pairs (submission_b);
