// Package image builds the grader's two Docker images FROM scratch through the Engine API: the
// runtime that runs candidates' code with Node.js, and the mock ITSM. Each image is tagged with a
// hash of everything that goes into it, so an unchanged image is found and reused, never rebuilt.
package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	imagetypes "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// API is what building needs from the engine (satisfied by *client.Client).
type API interface {
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (imagetypes.InspectResponse, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error)
}

// Built is an image ready to run.
type Built struct {
	Ref    string // e.g. "itsm-grader-runtime:3f2a9c1b7d0e"
	Reused bool   // an image with these exact inputs existed already
	Took   time.Duration
}

// Labels on every image the grader builds.
const (
	// labelGrader is not the sandbox's own "itsm-grader" label: containers inherit their
	// image's labels, and the sandbox prunes containers by that label.
	labelGrader = "itsm-grader.image"
	labelKind   = "itsm-grader.kind"
	labelInputs = "itsm-grader.inputs"
)

// buildTimeout bounds one build: copying ~130 MB into a layer takes seconds, not minutes.
const buildTimeout = 5 * time.Minute

var errBuildTimeout = errors.New("image build took longer than " + buildTimeout.String())

// target is the image a build context makes: its kind, content hash and tag.
type target struct {
	kind, sum, ref string
}

func (t target) options() build.ImageBuildOptions {
	return build.ImageBuildOptions{
		Tags:        []string{t.ref},
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{labelGrader: "1", labelKind: t.kind, labelInputs: t.sum},
		Dockerfile:  "Dockerfile",
	}
}

// buildImage tags the context's image by its content hash, and builds it unless an image with
// that tag and the same inputs exists.
func buildImage(ctx context.Context, api API, kind string, bc buildContext) (Built, error) {
	start := time.Now()
	sum, err := bc.hash()
	if err != nil {
		return Built{}, fmt.Errorf("hash build context: %w", err)
	}
	t := target{kind: kind, sum: sum, ref: "itsm-grader-" + kind + ":" + sum[:12]}
	reused, err := exists(ctx, api, t)
	if err != nil {
		return Built{}, err
	}
	if !reused {
		if err := send(ctx, api, bc, t); err != nil {
			return Built{}, err
		}
	}
	return Built{Ref: t.ref, Reused: reused, Took: time.Since(start)}, nil
}

// exists reports whether the target's tag names an image built from the same inputs. A tag that
// matches on its 12 characters but holds other inputs is rebuilt (and so moved).
func exists(ctx context.Context, api API, t target) (bool, error) {
	info, err := api.ImageInspect(ctx, t.ref)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect %s: %w", t.ref, err)
	}
	return info.Config != nil && info.Config.Labels[labelInputs] == t.sum, nil
}

// send writes the context into memory, checks it still hashes to the tag (a host file may have
// changed since it was hashed), and has the engine build it.
func send(ctx context.Context, api API, bc buildContext, t target) error {
	var buf bytes.Buffer
	h := sha256.New()
	if err := bc.writeTo(io.MultiWriter(&buf, h)); err != nil {
		return fmt.Errorf("write build context: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != t.sum {
		return fmt.Errorf("write build context: inputs changed while building %s (hash now %s); try again", t.ref, got[:12])
	}
	ctx, cancel := context.WithTimeoutCause(ctx, buildTimeout, errBuildTimeout)
	defer cancel()
	resp, err := api.ImageBuild(ctx, &buf, t.options())
	if err != nil {
		return fmt.Errorf("start build of %s: %w", t.ref, withCause(ctx, err))
	}
	defer resp.Body.Close()
	if err := readBuildOutput(resp.Body); err != nil {
		return fmt.Errorf("build %s: %w", t.ref, withCause(ctx, err))
	}
	return nil
}

// withCause adds why ctx ended to err, when it has.
func withCause(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
		return fmt.Errorf("%w (%w)", err, cause)
	}
	return err
}

// buildMessage is one object of the engine's JSON build output.
type buildMessage struct {
	Stream      string `json:"stream"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// readBuildOutput reads the build's message stream to its end and returns the first error the
// engine reported in it, naming the step that failed.
func readBuildOutput(r io.Reader) error {
	dec := json.NewDecoder(r)
	var step string
	var failed error
	for {
		var m buildMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return failed
		} else if err != nil {
			return errors.Join(failed, fmt.Errorf("read build output: %w", err))
		}
		if s := strings.TrimSpace(m.Stream); strings.HasPrefix(s, "Step ") {
			step = s
		}
		if msg := m.failure(); msg != "" && failed == nil {
			failed = stepError(msg, step)
		}
	}
}

func (m buildMessage) failure() string {
	if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
		return m.ErrorDetail.Message
	}
	return m.Error
}

func stepError(msg, step string) error {
	if step == "" {
		return fmt.Errorf("engine: %s", msg)
	}
	return fmt.Errorf("engine: %s (at %s)", msg, step)
}
