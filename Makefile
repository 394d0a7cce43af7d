# tlsecho: certificates, container images and the Docker Compose stack (docs/compose.md).
# The seed's workflow:  source .env && make all && docker compose up
# Kubernetes targets live in deploy/k8s/k8s.mk, included at the end. `make help` lists everything.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

NODE ?= node
NPM ?= npm
DOCKER ?= docker
COMPOSE ?= docker compose
DOCKERFILE := deploy/docker/Dockerfile
CLI := dist/src/cli.js

# Images: local names by default, $(REGISTRY)/tlsecho-<part>:$(TAG) when REGISTRY is set.
REGISTRY ?=
TAG ?= latest
VERSION := $(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' package.json 2>/dev/null)
IMAGE_PREFIX := $(if $(REGISTRY),$(patsubst %/,%,$(REGISTRY))/)
SERVER_IMAGE ?= $(IMAGE_PREFIX)tlsecho-server:$(TAG)
CLIENT_IMAGE ?= $(IMAGE_PREFIX)tlsecho-client:$(TAG)
# compose.yaml reads these, so `make up TAG=…` runs the images this Makefile built.
export TLSECHO_SERVER_IMAGE := $(SERVER_IMAGE)
export TLSECHO_CLIENT_IMAGE := $(CLIENT_IMAGE)

# Where `make export` writes the bare repository archive.
EXPORT_DIR ?= artifacts
EXPORT_NAME ?= tlsecho
PRIVATE_KEY_RE := -----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----

# The seed's variables come from `source .env`; fail before doing anything when one is missing.
MX_VARS := MX_domain MX_certspath MX_certfile MX_keyfile MX_cafile
ifneq ($(filter all certs lab-certs lab-check up clean-certs,$(MAKECMDGOALS)),)
  $(foreach v,$(MX_VARS),$(if $(strip $($(v))),,$(error $(v) is not set: run 'source .env' first (docs/compose.md))))
endif
ifneq ($(filter push,$(MAKECMDGOALS)),)
  $(if $(REGISTRY),,$(error REGISTRY is not set: make push REGISTRY=registry.example.com/team TAG=$(VERSION)))
endif

.PHONY: all build certs lab-certs lab-check images push up down logs export clean clean-certs help

all: certs images ## certificates and both images (then: docker compose up)

build: $(CLI) ## compile the TypeScript sources into dist/

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund

$(CLI): $(shell find src -name '*.ts' 2>/dev/null) tsconfig.json node_modules/.package-lock.json
	$(NPM) run build --silent
	@touch $@

# The Compose client pins the root it fetches from /root_ca to this fingerprint (env_file).
CA_PIN_FILE = $(MX_certspath)/ca-fingerprint.env

certs: $(MX_keyfile) $(MX_certfile) $(MX_cafile) | $(CLI) ## root CA + server certificate in $MX_certspath (only when missing), the root's fingerprint for Compose
	@fp=$$($(NODE) $(CLI) ca fingerprint --out $(MX_certspath) --format hex); \
	printf '# written by make certs: the SHA-256 of %s, pinned by the Compose client\nTLSECHO_CA_FINGERPRINT=%s\n' \
	  '$(MX_cafile)' "$$fp" > $(CA_PIN_FILE).tmp; \
	mv $(CA_PIN_FILE).tmp $(CA_PIN_FILE); \
	echo "recorded the root CA's fingerprint $$fp in $(CA_PIN_FILE) (compose.yaml's client pins it)"

# One run of `tlsecho ca` (it reads MX_domain and MX_certspath) writes all three files; it reuses an
# existing root, so a missing leaf is re-issued under the same root.
$(MX_keyfile): | $(CLI)
	$(NODE) $(CLI) ca
	@test -f $@ || { echo "make: $@ was not written: tlsecho ca writes $(MX_certspath)/server1.$(MX_domain)/key.pem; fix MX_keyfile in .env" >&2; exit 1; }

$(MX_certfile) $(MX_cafile): | $(MX_keyfile)
	@test -f $@ || { echo "make: $@ is missing but $(MX_keyfile) exists: fix the path in .env, or remove $(dir $(MX_keyfile)) to re-issue" >&2; exit 1; }

# The failure lab (docs/lab.md) for compose.yaml's profile lab: `tlsecho ca lab` under the same
# root, into $MX_certspath/lab; re-runs reuse the names. Under a pathlen:0 root (the default
# `tlsecho ca`) it skips incomplete-chain and says why; MX_certspath made with
# `tlsecho ca --intermediate` gets all nine names.
lab-certs: certs ## the failure lab's certificates in $MX_certspath/lab (for docker compose --profile lab)
	$(NODE) $(CLI) ca lab --out $(MX_certspath) --domain $(MX_domain)

lab-check: lab-certs images ## the lab profile: lab server + a one-shot lab check, whose exit code this is
	$(COMPOSE) --profile lab run --rm lab-check

images: ## build the images tlsecho-server and tlsecho-client (REGISTRY, TAG)
	$(DOCKER) build -f $(DOCKERFILE) --target server --build-arg VERSION=$(VERSION) -t $(SERVER_IMAGE) .
	$(DOCKER) build -f $(DOCKERFILE) --target client --build-arg VERSION=$(VERSION) -t $(CLIENT_IMAGE) .

push: images ## push both images: make push REGISTRY=ghcr.io/you TAG=0.1.0
	$(DOCKER) push $(SERVER_IMAGE)
	$(DOCKER) push $(CLIENT_IMAGE)

up: certs images ## start the stack in the background (then: make logs)
	$(COMPOSE) up -d
	@echo "stack started: 'make logs' follows it, 'make down' stops it"

down: ## stop and remove the stack's containers (the lab's too), network and the volumes with the keys' copies
	$(COMPOSE) --profile lab down --volumes --remove-orphans

logs: ## follow the logs of the server and the client
	$(COMPOSE) logs -f

export: ## the git history as a bare repository: artifacts/tlsecho.git.tar.gz
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	bare="$$tmp/$(EXPORT_NAME).git"; \
	git clone --bare --no-local --quiet . "$$bare"; \
	hits=$$(git -C "$$bare" rev-list --all | xargs -r git -C "$$bare" grep -l -E -e '$(PRIVATE_KEY_RE)' || true); \
	if [ -n "$$hits" ]; then \
	  echo "make export: a private key is in the git history, nothing written (commit:path):" >&2; \
	  echo "$$hits" | head -20 >&2; exit 1; \
	fi; \
	[ -z "$$(git status --porcelain)" ] || echo "make export: note: uncommitted changes are not exported"; \
	mkdir -p $(EXPORT_DIR); \
	tar -C "$$tmp" -czf "$(EXPORT_DIR)/$(EXPORT_NAME).git.tar.gz.part" "$(EXPORT_NAME).git"; \
	mv "$(EXPORT_DIR)/$(EXPORT_NAME).git.tar.gz.part" "$(EXPORT_DIR)/$(EXPORT_NAME).git.tar.gz"; \
	echo "wrote $(EXPORT_DIR)/$(EXPORT_NAME).git.tar.gz ($$(git -C "$$bare" rev-list --all | wc -l) commits, no private key in the history)"

clean: ## stop the stack, remove the images, dist/ and artifacts/ (keeps the certificates)
	-$(COMPOSE) --profile lab down --volumes --remove-orphans
	-$(DOCKER) image rm $(SERVER_IMAGE) $(CLIENT_IMAGE)
	rm -rf dist artifacts

clean-certs: ## remove $MX_certspath, root CA included (browsers that trusted it must re-import)
	rm -rf -- $(MX_certspath)

help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_.-]+:.*## / { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

-include deploy/k8s/k8s.mk
