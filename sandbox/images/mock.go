package images

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// mockDockerfile makes the mock ITSM image: the static grader binary and nobody.
var mockDockerfile = `# itsm-grader mock image, recipe ` + strconv.Itoa(recipeVersion) + `
FROM scratch
COPY rootfs/ /
USER 65534:65534
ENTRYPOINT ["/grader", "mock"]
`

// errNotStatic is why Mock refuses a binary that needs a loader or shared libraries.
var errNotStatic = errors.New("not a static binary")

// Mock builds the mock image: FROM scratch, the static grader binary at /grader (refused if it has
// a PT_INTERP or DT_NEEDED, i.e. is not static), /etc/passwd and /etc/group with user and group
// 65534, USER 65534:65534, ENTRYPOINT ["/grader", "mock"].
func Mock(ctx context.Context, api API, graderBinary string) (Built, error) {
	if err := requireStatic(graderBinary); err != nil {
		return Built{}, fmt.Errorf("build mock image: %w", err)
	}
	rootfs := etcFiles()
	rootfs["/grader"] = file{mode: 0o755, source: graderBinary}
	built, err := buildImage(ctx, api, "mock", buildContext{dockerfile: mockDockerfile, rootfs: rootfs})
	if err != nil {
		return Built{}, fmt.Errorf("build mock image: %w", err)
	}
	return built, nil
}

// requireStatic refuses an ELF file that needs a loader or shared libraries: the mock image holds
// neither.
func requireStatic(path string) error {
	o, err := readObject(path)
	if err != nil {
		return err
	}
	var needs []string
	if o.interp != "" {
		needs = append(needs, "the loader "+o.interp)
	}
	if len(o.needed) > 0 {
		needs = append(needs, "the libraries "+strings.Join(o.needed, ", "))
	}
	if len(needs) > 0 {
		return fmt.Errorf("%s is %w: it needs %s (build it with CGO_ENABLED=0)", path, errNotStatic, strings.Join(needs, " and "))
	}
	return nil
}
