package images

import (
	"context"
	"fmt"
	"io"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// BaseRuntime is the published image a user with a registry may run candidates on instead of
// the one Runtime builds; it is the default where Runtime cannot build (a non-Linux host, whose
// Node binary would not run in a Linux container).
const BaseRuntime = "node:24-bookworm-slim"

// PullAPI is what Ensure needs from the engine (satisfied by *client.Client).
type PullAPI interface {
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImagePull(ctx context.Context, ref string, options image.PullOptions) (io.ReadCloser, error)
}

// Ensure makes ref available to the engine, pulling it from its registry only when the engine
// does not already have it.
func Ensure(ctx context.Context, api PullAPI, ref string) (Built, error) {
	start := time.Now()
	_, err := api.ImageInspect(ctx, ref)
	if err == nil {
		return Built{Ref: ref, Reused: true, Took: time.Since(start)}, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return Built{}, fmt.Errorf("inspect %s: %w", ref, err)
	}
	rc, err := api.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return Built{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	defer rc.Close()
	if err := readBuildOutput(rc); err != nil {
		return Built{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	return Built{Ref: ref, Took: time.Since(start)}, nil
}
