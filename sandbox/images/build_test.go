package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	imagetypes "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"
)

// fakeAPI answers ImageInspect and ImageBuild from fields, and records the builds asked for.
type fakeAPI struct {
	labels     map[string]string // labels of the image ImageInspect finds; nil: not found
	inspectErr error
	output     string // the build's message stream
	builds     []build.ImageBuildOptions
	contexts   [][]byte
}

func (f *fakeAPI) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (imagetypes.InspectResponse, error) {
	if f.inspectErr != nil {
		return imagetypes.InspectResponse{}, f.inspectErr
	}
	if f.labels == nil {
		return imagetypes.InspectResponse{}, fmt.Errorf("no such image: %s: %w", ref, cerrdefs.ErrNotFound)
	}
	cfg := &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{Labels: f.labels}}
	return imagetypes.InspectResponse{Config: cfg}, nil
}

func (f *fakeAPI) ImageBuild(_ context.Context, body io.Reader, opts build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return build.ImageBuildResponse{}, err
	}
	f.builds = append(f.builds, opts)
	f.contexts = append(f.contexts, b)
	return build.ImageBuildResponse{Body: io.NopCloser(strings.NewReader(f.output))}, nil
}

// refusingAPI fails the test if the engine is called at all.
type refusingAPI struct{ t *testing.T }

func (r refusingAPI) ImageInspect(context.Context, string, ...client.ImageInspectOption) (imagetypes.InspectResponse, error) {
	r.t.Error("ImageInspect called")
	return imagetypes.InspectResponse{}, errors.New("refused")
}

func (r refusingAPI) ImageBuild(context.Context, io.Reader, build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	r.t.Error("ImageBuild called")
	return build.ImageBuildResponse{}, errors.New("refused")
}

const builtOK = `{"stream":"Step 1/3 : FROM scratch\n"}
{"stream":" ---\u003e \n"}
{"aux":{"ID":"sha256:0123"}}
{"stream":"Successfully built 0123\n"}
`

func TestBuildImage(t *testing.T) {
	t.Parallel()
	bc := smallContext(t, "tool")
	sum, err := bc.hash()
	require.NoError(t, err)
	ref := "itsm-grader-test:" + sum[:12]

	tests := []struct {
		name       string
		api        *fakeAPI
		wantBuilds int
		wantErr    string
	}{
		{"an image that is not there is built", &fakeAPI{output: builtOK}, 1, ""},
		{"an image with the same inputs is reused", &fakeAPI{labels: map[string]string{labelInputs: sum}}, 0, ""},
		{"a tag holding other inputs is rebuilt", &fakeAPI{labels: map[string]string{labelInputs: "other"}, output: builtOK}, 1, ""},
		{"an engine that cannot inspect is an error", &fakeAPI{inspectErr: errors.New("connection refused")}, 0, "inspect " + ref + ": connection refused"},
		{"an error in the build output is an error", &fakeAPI{output: `{"stream":"Step 2/3 : COPY rootfs/ /\n"}
{"errorDetail":{"message":"no space left on device"},"error":"no space left on device"}
`}, 1, `engine: no space left on device (at Step 2/3 : COPY rootfs/ /)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			built, err := buildImage(context.Background(), tt.api, "test", bc)
			require.Len(t, tt.api.builds, tt.wantBuilds)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, ref, built.Ref)
			require.Equal(t, tt.wantBuilds == 0, built.Reused)
			if tt.wantBuilds == 0 {
				return
			}
			require.Equal(t, build.ImageBuildOptions{
				Tags: []string{ref}, Remove: true, ForceRemove: true, Dockerfile: "Dockerfile",
				Labels: map[string]string{labelGrader: "1", "itsm-grader.kind": "test", "itsm-grader.inputs": sum},
			}, tt.api.builds[0])
			require.Equal(t, contextBytes(t, bc), tt.api.contexts[0], "the engine gets the hashed context")
		})
	}
}

func TestReadBuildOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		output  string
		wantErr string
	}{
		{"a successful build", builtOK, ""},
		{"an empty stream", "", ""},
		{"an error without detail", `{"error":"COPY failed"}`, "engine: COPY failed"},
		{"the first of two errors, after reading on", `{"errorDetail":{"message":"first"}}{"error":"second"}`, "engine: first"},
		{"a stream cut in the middle of a message", `{"stream":"Step 1/3`, "read build output: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := readBuildOutput(strings.NewReader(tt.output))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), "second")
		})
	}
}
