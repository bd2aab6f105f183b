package images

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/require"
)

// fakePull answers inspections from a set of present refs and pulls with a canned stream; it
// never reaches a registry.
type fakePull struct {
	present map[string]bool
	stream  string
	pulled  []string
}

func (f *fakePull) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	if f.present[ref] {
		return image.InspectResponse{ID: "sha256:x"}, nil
	}
	return image.InspectResponse{}, cerrdefs.ErrNotFound
}

func (f *fakePull) ImagePull(_ context.Context, ref string, _ image.PullOptions) (io.ReadCloser, error) {
	f.pulled = append(f.pulled, ref)
	if f.stream == "" {
		return nil, errors.New("registry unreachable")
	}
	return io.NopCloser(strings.NewReader(f.stream)), nil
}

func TestEnsure(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		present bool
		stream  string
		err     string
		pulled  bool
	}{
		{name: "present: used as is, nothing pulled", present: true},
		{name: "absent: pulled", stream: `{"status":"Pulling"}` + "\n" + `{"status":"Downloaded"}`, pulled: true},
		{name: "absent and the pull fails in its stream", stream: `{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}`, err: "manifest unknown", pulled: true},
		{name: "absent and the registry cannot be reached", err: "registry unreachable", pulled: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakePull{present: map[string]bool{BaseRuntime: tc.present}, stream: tc.stream}
			b, err := Ensure(context.Background(), f, BaseRuntime)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
			} else {
				require.NoError(t, err)
				require.Equal(t, BaseRuntime, b.Ref)
				require.Equal(t, tc.present, b.Reused)
			}
			require.Equal(t, tc.pulled, len(f.pulled) == 1)
		})
	}
}
