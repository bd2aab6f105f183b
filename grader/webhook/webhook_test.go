package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsm-grader/grader/grader/webhook"
	"github.com/itsm-grader/grader/grader/webhook/webhooktest"
)

var secret = []byte("a-webhook-secret-of-32-bytes-0k!")

// serverTime is the handler's clock in these tests.
var serverTime = time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func serve(t *testing.T, rec webhook.Recorder, opts webhook.Options) string {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return serverTime }
	}
	h, err := webhook.New(secret, rec, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// delivery is one request as GitHub would send it, before a case alters it.
type delivery struct {
	method  string
	event   string
	id      string
	body    []byte
	headers http.Header
}

func signed(event, id string, body []byte) delivery {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
	return delivery{method: http.MethodPost, event: event, id: id, body: body, headers: h}
}

func (d delivery) send(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), d.method, url, bytes.NewReader(d.body))
	require.NoError(t, err)
	req.Header = d.headers.Clone()
	if d.event != "" {
		req.Header.Set("X-GitHub-Event", d.event)
	}
	if d.id != "" {
		req.Header.Set("X-GitHub-Delivery", d.id)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	msg, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(msg)
}

func sha1Signature(body []byte) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write(body)
	return "sha1=" + hex.EncodeToString(mac.Sum(nil))
}

const pushID = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

func TestHandlerAcceptsOnlySignedWellFormedDeliveries(t *testing.T) {
	t.Parallel()
	push := fixture(t, "push.json")
	cases := []struct {
		name       string
		delivery   func() delivery
		wantStatus int
		wantMsg    string
		recorded   int
	}{
		{"a signed push is recorded", func() delivery { return signed("push", pushID, push) }, http.StatusAccepted, "recorded", 1},
		{"a signed form-encoded push is recorded", func() delivery {
			body := []byte("payload=" + url.QueryEscape(string(push)))
			d := signed("push", pushID, body)
			d.headers.Set("Content-Type", "application/x-www-form-urlencoded")
			return d
		}, http.StatusAccepted, "recorded", 1},
		{"a forged signature is refused", func() delivery {
			d := signed("push", pushID, push)
			d.headers.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("ab", 32))
			return d
		}, http.StatusUnauthorized, "does not match", 0},
		{"a body changed after signing is refused", func() delivery {
			d := signed("push", pushID, push)
			d.body = bytes.Replace(push, []byte("0d1a26e6"), []byte("0d1a26e7"), 1)
			return d
		}, http.StatusUnauthorized, "does not match", 0},
		{"a signature with another secret is refused", func() delivery {
			d := signed("push", pushID, push)
			d.headers.Set("X-Hub-Signature-256", webhook.Sign([]byte("another-secret-of-enough-bytes!!"), push))
			return d
		}, http.StatusUnauthorized, "does not match", 0},
		{"an unsigned delivery is refused", func() delivery {
			d := signed("push", pushID, push)
			d.headers.Del("X-Hub-Signature-256")
			return d
		}, http.StatusUnauthorized, "unsigned", 0},
		{"a delivery signed only with SHA-1 is refused, even correctly", func() delivery {
			d := signed("push", pushID, push)
			d.headers.Del("X-Hub-Signature-256")
			d.headers.Set("X-Hub-Signature", sha1Signature(push))
			return d
		}, http.StatusUnauthorized, "SHA-1", 0},
		{"a SHA-1 signature in the SHA-256 header is refused", func() delivery {
			d := signed("push", pushID, push)
			d.headers.Set("X-Hub-Signature-256", sha1Signature(push))
			return d
		}, http.StatusUnauthorized, "does not match", 0},
		{"a SHA-256 MAC under another algorithm's name is refused", func() delivery {
			d := signed("push", pushID, push)
			d.headers.Set("X-Hub-Signature-256", strings.Replace(webhook.Sign(secret, push), "sha256=", "sha1=", 1))
			return d
		}, http.StatusUnauthorized, "does not match", 0},
		{"an oversized body is refused", func() delivery {
			body := append(bytes.Repeat([]byte(" "), webhook.DefaultMaxBody), push...)
			return signed("push", pushID, body)
		}, http.StatusRequestEntityTooLarge, "body over", 0},
		{"malformed JSON, signed, is refused", func() delivery {
			return signed("push", pushID, []byte(`{"ref": "refs/heads/main", "after": `))
		}, http.StatusBadRequest, "push payload", 0},
		{"a push whose after is not a SHA is refused", func() delivery {
			return signed("push", pushID, bytes.Replace(push, []byte(`"after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"`), []byte(`"after": "main"`), 1))
		}, http.StatusBadRequest, "not a commit SHA", 0},
		{"an unknown event is acknowledged and ignored", func() delivery {
			return signed("star", pushID, []byte(`{"action":"created"}`))
		}, http.StatusOK, "ignored", 0},
		{"a ping is acknowledged and ignored", func() delivery {
			return signed("ping", pushID, []byte(`{"zen":"Design for failure.","hook_id":1}`))
		}, http.StatusOK, "ignored", 0},
		{"an unknown event must still be signed", func() delivery {
			d := signed("star", pushID, []byte(`{"action":"created"}`))
			d.headers.Del("X-Hub-Signature-256")
			return d
		}, http.StatusUnauthorized, "unsigned", 0},
		{"a delivery without its id is refused", func() delivery { return signed("push", "", push) }, http.StatusBadRequest, "X-GitHub-Delivery", 0},
		{"a delivery id that is not a GUID is refused", func() delivery { return signed("push", "../../etc", push) }, http.StatusBadRequest, "X-GitHub-Delivery", 0},
		{"a content type GitHub does not send is refused", func() delivery {
			d := signed("push", pushID, push)
			d.headers.Set("Content-Type", "text/xml")
			return d
		}, http.StatusUnsupportedMediaType, "application/json", 0},
		{"a GET is refused", func() delivery {
			d := signed("push", pushID, nil)
			d.method = http.MethodGet
			return d
		}, http.StatusMethodNotAllowed, "POST", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := webhooktest.NewRecorder()
			status, msg := tc.delivery().send(t, serve(t, rec, webhook.Options{}))
			require.Equal(t, tc.wantStatus, status, msg)
			require.Contains(t, msg, tc.wantMsg)
			require.Len(t, rec.Recorded(), tc.recorded)
		})
	}
}

func TestHandlerRecordsWhatAPushMoved(t *testing.T) {
	t.Parallel()
	rec := webhooktest.NewRecorder()
	push := fixture(t, "push.json")
	status, msg := signed("push", pushID, push).send(t, serve(t, rec, webhook.Options{}))
	require.Equal(t, http.StatusAccepted, status, msg)
	require.Equal(t, []webhook.Delivery{{
		ID: pushID, Event: "push", Installation: 2311213, Repository: "alice-candidate/itsm-sync",
		Ref: "refs/heads/main", SHA: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", ReceivedAt: serverTime, Payload: push,
	}}, rec.Recorded())
}

func TestHandlerRecordsABranchDeletionWithoutASHA(t *testing.T) {
	t.Parallel()
	rec := webhooktest.NewRecorder()
	push := bytes.Replace(fixture(t, "push.json"), []byte(`"after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"`),
		[]byte(`"after": "0000000000000000000000000000000000000000"`), 1)
	push = bytes.Replace(push, []byte(`"deleted": false`), []byte(`"deleted": true`), 1)
	status, msg := signed("push", pushID, push).send(t, serve(t, rec, webhook.Options{}))
	require.Equal(t, http.StatusAccepted, status, msg)
	got := rec.Recorded()
	require.Len(t, got, 1)
	require.True(t, got[0].Deleted)
	require.Empty(t, got[0].SHA)
}

func TestHandlerKeepsTheAppsRepositoryList(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, event string
		body        func(t *testing.T) []byte
		want        webhook.Delivery
	}{
		{"installation created adds its repositories", "installation", installationCreated, webhook.Delivery{
			Event: "installation", Action: "created", Installation: 2311213,
			Added: []string{"alice-candidate/itsm-sync", "bob-candidate/itsm-sync"},
		}},
		{"installation deleted removes its repositories", "installation", installationDeleted, webhook.Delivery{
			Event: "installation", Action: "deleted", Installation: 2311213,
			Removed: []string{"alice-candidate/itsm-sync", "bob-candidate/itsm-sync"},
		}},
		{"installation_repositories adds and removes", "installation_repositories", repositoriesChanged, webhook.Delivery{
			Event: "installation_repositories", Action: "added", Installation: 2311213,
			Added: []string{"carol-candidate/itsm-sync"}, Removed: []string{"bob-candidate/itsm-sync"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := tc.body(t)
			rec := webhooktest.NewRecorder()
			status, msg := signed(tc.event, pushID, body).send(t, serve(t, rec, webhook.Options{}))
			require.Equal(t, http.StatusAccepted, status, msg)
			got := rec.Recorded()
			require.Len(t, got, 1)
			tc.want.ID, tc.want.ReceivedAt, tc.want.Payload = pushID, serverTime, body
			require.Equal(t, tc.want, got[0])
		})
	}
}

func installationCreated(t *testing.T) []byte { return fixture(t, "installation.json") }

func installationDeleted(t *testing.T) []byte {
	return bytes.Replace(fixture(t, "installation.json"), []byte(`"action": "created"`), []byte(`"action": "deleted"`), 1)
}

func repositoriesChanged(t *testing.T) []byte { return fixture(t, "installation_repositories.json") }

func TestARedeliveryIsRecordedOnce(t *testing.T) {
	t.Parallel()
	rec := webhooktest.NewRecorder()
	srv := serve(t, rec, webhook.Options{})
	push := fixture(t, "push.json")
	status, msg := signed("push", pushID, push).send(t, srv)
	require.Equal(t, http.StatusAccepted, status, msg)
	status, msg = signed("push", pushID, push).send(t, srv)
	require.Equal(t, http.StatusOK, status, msg)
	require.Contains(t, msg, "already recorded")
	status, msg = signed("push", "a1b2c3d4-0000-11e3-81ab-4c9367dc0958", push).send(t, srv)
	require.Equal(t, http.StatusAccepted, status, msg, "another delivery of the same push is its own delivery")
	require.Len(t, rec.Recorded(), 2)
}

// TestTheHandlerAnswersWhileTheConsumerIsBusy: a consumer takes the first delivery and grades
// it for longer than GitHub waits; every later delivery is still answered well inside 10 s.
func TestTheHandlerAnswersWhileTheConsumerIsBusy(t *testing.T) {
	t.Parallel()
	rec := webhooktest.NewRecorder()
	srv := serve(t, rec, webhook.Options{})
	grading := make(chan webhook.Delivery, 1)
	release := make(chan struct{})
	defer close(release)
	go func() {
		d, err := rec.Next(t.Context())
		if err != nil {
			return
		}
		grading <- d
		<-release // a grading that outlasts the test
	}()
	push := fixture(t, "push.json")
	status, _ := signed("push", "00000000-0000-0000-0000-000000000000", push).send(t, srv)
	require.Equal(t, http.StatusAccepted, status)
	select {
	case d := <-grading:
		require.Equal(t, "00000000-0000-0000-0000-000000000000", d.ID)
	case <-time.After(5 * time.Second):
		t.Fatal("the consumer never received the first delivery")
	}
	const deadline = time.Second // GitHub allows 10 s
	for _, id := range []string{"00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002", "00000000-0000-0000-0000-000000000003"} {
		start := time.Now()
		status, msg := signed("push", id, push).send(t, srv)
		require.Equal(t, http.StatusAccepted, status, msg)
		require.Less(t, time.Since(start), deadline)
	}
	require.Len(t, rec.Recorded(), 4)
}

// stuckRecorder blocks until its context ends, like a store whose lock is held.
type stuckRecorder struct{}

func (stuckRecorder) Record(ctx context.Context, _ webhook.Delivery) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

type failingRecorder struct{}

func (failingRecorder) Record(context.Context, webhook.Delivery) (bool, error) {
	return false, errors.New("disk full")
}

func TestARecorderThatFailsOrHangsIsAnErrorGitHubCanRedeliver(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		rec  webhook.Recorder
	}{
		{"a failing recorder", failingRecorder{}},
		{"a recorder that hangs is cut at RecordTimeout", stuckRecorder{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, tc.rec, webhook.Options{RecordTimeout: 200 * time.Millisecond})
			start := time.Now()
			status, msg := signed("push", pushID, fixture(t, "push.json")).send(t, srv)
			require.Equal(t, http.StatusInternalServerError, status, msg)
			require.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

func TestNewRefusesToServeWithoutASecret(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		secret []byte
		rec    webhook.Recorder
		want   string
	}{
		{"no secret", nil, webhooktest.NewRecorder(), "secret is required"},
		{"an empty secret", []byte{}, webhooktest.NewRecorder(), "secret is required"},
		{"a short secret", []byte("hunter2"), webhooktest.NewRecorder(), "at least 16"},
		{"no recorder", secret, nil, "Recorder is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := webhook.New(tc.secret, tc.rec, webhook.Options{})
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, h)
		})
	}
}
