package images

import (
	"context"
	"fmt"
	"strconv"
)

// runtimeDockerfile makes the candidate runtime: Node.js and its libraries, nobody, an empty /tmp.
var runtimeDockerfile = `# itsm-grader runtime image, recipe ` + strconv.Itoa(recipeVersion) + `
FROM scratch
COPY rootfs/ /
ENV HOME=/tmp
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/node"]
`

// Runtime builds the candidate runtime image: FROM scratch, the Node.js binary at
// /usr/local/bin/node plus every shared library it needs copied from the host (see
// Dependencies), /etc/passwd and /etc/group with user and group 65534 (nobody/nogroup), an empty
// /tmp (mode 1777), HOME=/tmp, USER 65534:65534, ENTRYPOINT ["/usr/local/bin/node"], no shell,
// nothing else.
func Runtime(ctx context.Context, api API, nodeBinary string) (Built, error) {
	bc, err := runtimeContext(nodeBinary)
	if err != nil {
		return Built{}, fmt.Errorf("build runtime image: %w", err)
	}
	built, err := buildImage(ctx, api, "runtime", bc)
	if err != nil {
		return Built{}, fmt.Errorf("build runtime image: %w", err)
	}
	return built, nil
}

func runtimeContext(nodeBinary string) (buildContext, error) {
	deps, err := Dependencies(nodeBinary)
	if err != nil {
		return buildContext{}, err
	}
	rootfs := etcFiles()
	rootfs["/usr/local/bin/node"] = file{mode: 0o755, source: nodeBinary}
	for _, dep := range deps {
		rootfs[dep] = file{mode: 0o755, source: dep}
	}
	return buildContext{
		dockerfile: runtimeDockerfile,
		rootfs:     rootfs,
		dirs:       map[string]int64{"/tmp": 0o1777},
	}, nil
}
