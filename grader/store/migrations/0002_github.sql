-- 0002: GitHub. A cohort's GitHub settings (its feedback, whether late pushes are graded, the
-- rules its gradings are queued for), the repository rostered for each candidate, every webhook
-- delivery (its id is the key that makes a redelivery a no-op), the pushes to a rostered
-- repository's default branch (late when received after the cohort's deadline), the feedback to
-- post (a queue claimed like the gradings'), and the repositories each App installation holds.
--
-- Times are Unix milliseconds (UTC), the grader's clock: never a commit date, which the pusher
-- sets. Everything about a candidate goes with the candidate (ON DELETE CASCADE, and the
-- triggers below for the deliveries, which name repositories rather than candidates), so Purge
-- leaves nothing of them here.

CREATE TABLE github_cohorts (
    cohort_id     INTEGER PRIMARY KEY REFERENCES cohorts (id) ON DELETE CASCADE,
    feedback      TEXT    NOT NULL DEFAULT 'none' CHECK (feedback IN ('none', 'receipt', 'full')),
    include_late  INTEGER NOT NULL DEFAULT 0 CHECK (include_late IN (0, 1)),
    rules_version TEXT    NOT NULL CHECK (rules_version <> '')
) STRICT;

-- One repository a candidate (a candidate belongs to one cohort). repo_key is owner/repo in
-- lower case, as deliveries are matched (GitHub's names are case-insensitive).
--
-- The freeze: frozen_at is when the repository's head at the deadline was recorded (NULL: not
-- yet), frozen_sha that head ('' when the default branch did not exist at the deadline),
-- frozen_grading_id its grading, freeze_note what a reviewer should know about it. A freeze
-- that failed (GitHub unreachable, the repository gone) says why in freeze_error and is tried
-- again from freeze_after.
CREATE TABLE github_repositories (
    id                INTEGER PRIMARY KEY,
    cohort_id         INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    candidate_id      INTEGER NOT NULL UNIQUE REFERENCES candidates (id) ON DELETE CASCADE,
    host              TEXT    NOT NULL CHECK (host <> ''),
    owner             TEXT    NOT NULL CHECK (owner <> ''),
    repo              TEXT    NOT NULL CHECK (repo <> ''),
    repo_key          TEXT    NOT NULL CHECK (repo_key = lower(owner || '/' || repo)),
    track             TEXT    NOT NULL DEFAULT 'unknown' CHECK (track IN ('ai', 'manual', 'unknown')),
    default_branch    TEXT    NOT NULL DEFAULT '',
    rostered_at       INTEGER NOT NULL,
    frozen_at         INTEGER,
    frozen_sha        TEXT,
    frozen_grading_id INTEGER REFERENCES gradings (id) ON DELETE SET NULL,
    freeze_note       TEXT,
    freeze_error      TEXT,
    freeze_attempts   INTEGER NOT NULL DEFAULT 0,
    freeze_after      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (cohort_id, repo_key),
    CHECK ((frozen_at IS NULL) = (frozen_sha IS NULL))
) STRICT;

CREATE INDEX github_repositories_key ON github_repositories (repo_key);

-- Every delivery the webhook took. The payload is kept (its first 64 KiB) only for a delivery
-- about a rostered repository or an installation; payload_bytes is its whole size.
CREATE TABLE github_deliveries (
    id            INTEGER PRIMARY KEY,
    delivery_id   TEXT    NOT NULL UNIQUE CHECK (delivery_id <> ''),
    event         TEXT    NOT NULL CHECK (event <> ''),
    action        TEXT    NOT NULL DEFAULT '',
    installation  INTEGER NOT NULL DEFAULT 0,
    repo_key      TEXT    NOT NULL DEFAULT '',
    ref           TEXT    NOT NULL DEFAULT '',
    sha           TEXT    NOT NULL DEFAULT '',
    received_at   INTEGER NOT NULL,
    payload       BLOB,
    payload_bytes INTEGER NOT NULL
) STRICT;

CREATE INDEX github_deliveries_repo ON github_deliveries (repo_key);

-- A push to a rostered repository's default branch. sha is what the branch points at after it
-- ('' when the push deleted the branch), before_sha what it pointed at before; pushed_at is
-- GitHub's own time of the push from the payload, for a reviewer (late is decided by
-- received_at, the grader's clock). grading_id is the grading the push queued, if any.
CREATE TABLE github_pushes (
    id            INTEGER PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES github_repositories (id) ON DELETE CASCADE,
    delivery_id   TEXT    NOT NULL,
    ref           TEXT    NOT NULL,
    before_sha    TEXT    NOT NULL DEFAULT '',
    sha           TEXT    NOT NULL DEFAULT '',
    deleted       INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    received_at   INTEGER NOT NULL,
    pushed_at     INTEGER,
    late          INTEGER NOT NULL CHECK (late IN (0, 1)),
    grading_id    INTEGER REFERENCES gradings (id) ON DELETE SET NULL,
    UNIQUE (repository_id, delivery_id)
) STRICT;

CREATE INDEX github_pushes_late ON github_pushes (repository_id, late, received_at);

-- Feedback to post on a commit: a receipt (does it build) or the full report of a grading
-- (claimable once that grading is done). Claimed like the gradings: status, attempts, a lease,
-- a backoff. One receipt and one full report a commit of a repository at most.
CREATE TABLE github_feedback (
    id            INTEGER PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES github_repositories (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL CHECK (kind IN ('receipt', 'full')),
    sha           TEXT    NOT NULL CHECK (sha <> ''),
    installation  INTEGER NOT NULL DEFAULT 0,
    received_at   INTEGER NOT NULL,
    grading_id    INTEGER REFERENCES gradings (id) ON DELETE CASCADE,
    status        TEXT    NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    enqueued_at   INTEGER NOT NULL,
    run_after     INTEGER NOT NULL,
    worker        TEXT,
    lease_until   INTEGER,
    ended_at      INTEGER,
    last_error    TEXT,
    posted        TEXT    CHECK (posted IS NULL OR posted IN ('check_run', 'status', 'nothing')),
    check_run_id  INTEGER,
    UNIQUE (repository_id, sha, kind),
    CHECK (kind <> 'full' OR grading_id IS NOT NULL),
    CHECK (status <> 'running' OR (worker IS NOT NULL AND lease_until IS NOT NULL))
) STRICT;

CREATE INDEX github_feedback_queue ON github_feedback (status, run_after);

-- The repositories each installation of the App holds, as installation and
-- installation_repositories events say.
CREATE TABLE github_installation_repositories (
    installation INTEGER NOT NULL CHECK (installation > 0),
    repo_key     TEXT    NOT NULL CHECK (repo_key <> ''),
    full_name    TEXT    NOT NULL,
    added_at     INTEGER NOT NULL,
    PRIMARY KEY (installation, repo_key)
) STRICT;

CREATE INDEX github_installation_repositories_key ON github_installation_repositories (repo_key);

-- A repository that leaves the store (its candidate or cohort purged) takes its deliveries with
-- it, unless another cohort rosters it too: they carry the candidate's pushes (names, emails,
-- commit messages).
CREATE TRIGGER github_repositories_forget AFTER DELETE ON github_repositories
WHEN NOT EXISTS (SELECT 1 FROM github_repositories WHERE repo_key = OLD.repo_key)
BEGIN
    DELETE FROM github_deliveries WHERE repo_key = OLD.repo_key;
    DELETE FROM github_installation_repositories WHERE repo_key = OLD.repo_key;
END;
