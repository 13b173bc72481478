# The two commands of the README: `make run` (a real sandboxed command) and `make test`.
SWIFT ?= swift

.PHONY: deps build release run test bench clean

deps:
	./scripts/install-deps

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product sbx

run: release
	cd "$(CURDIR)" && ./.build/release/sbx run -- /bin/sh -c 'echo "hello from $$(hostname): uid $$(id -u), pid $$$$"; ls /tmp /run; touch /etc/x || echo "(the system is read-only, as it should be)"'

# Unit tests, then the integration tests that run the built binary in real sandboxes (as root
# they also run every escape attempt as an unprivileged user, created if missing). XCTest only:
# there are no Swift Testing suites, whose empty run would close the log with "0 tests".
# Then the cgroup v2 lane (Tests/vm/run): limits enforced in a QEMU guest, root only; then the
# agents lane (Tests/agents/run): Claude Code, Codex and aider, pinned and installed with pip
# into .build/agents, under their profiles against local fakes of their APIs, root only; at
# the end, what was skipped and why (scripts/test).
test: build
	SWIFT=$(SWIFT) ./scripts/test

bench: release
	./bench/startup

clean:
	rm -rf .build
