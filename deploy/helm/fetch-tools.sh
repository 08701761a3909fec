#!/usr/bin/env bash
# What the offline checks of deploy/ need (tests/deploy), in a git-ignored cache:
#   .cache/tools/helm-<version>/helm   helm, built with `go install` from the Go module proxy
#                                      (prebuilt binaries cannot be downloaded here);
#   .cache/tools/keda-<version>/       the KEDA CRDs (ScaledObject, TriggerAuthentication) and
#                                      its Kafka scaler's source, from the Go module
#                                      github.com/kedacore/keda/v2: the chart's ScaledObjects are
#                                      validated against the CRD's schema, their trigger metadata
#                                      against the names the scaler reads.
# Versions: deploy/helm/tools.env. Idempotent: what is cached (marked complete) is reused
# without the network. Needs Go >= 1.26 (helm's go.mod), e.g. /usr/local/go/bin/go.
# Measured on 2 cores with empty Go caches: 2 min 40 s (4 min 17 s with tests running alongside),
# almost all of it helm's build; 17 s with Go's caches warm.
#
# Environment: TRUYVET_CACHE_DIR (default .cache), GO (default: go on the PATH, else
# /usr/local/go/bin/go).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=tools.env
. "$here/tools.env"
tools="${TRUYVET_CACHE_DIR:-$root/.cache}/tools"
helm_dir="$tools/helm-$HELM_VERSION"
keda_dir="$tools/keda-$KEDA_VERSION"

fail() { echo "fetch-tools: $*" >&2; exit 1; }
[[ -x "$helm_dir/helm" && -f "$keda_dir/.complete" ]] && exit 0

go="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[[ -x "$go" ]] || fail "no Go toolchain (go on the PATH or /usr/local/go/bin/go) to build helm $HELM_VERSION; install Go >= 1.26 or set GO=/path/to/go"

if [[ ! -x "$helm_dir/helm" ]]; then
  echo "fetch-tools: building helm $HELM_VERSION with $("$go" version | cut -d' ' -f3) (a few minutes on a cold cache) ..." >&2
  rm -rf "$helm_dir.partial"
  GOBIN="$helm_dir.partial" GOFLAGS=-buildvcs=false "$go" install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  rm -rf "$helm_dir"
  mv "$helm_dir.partial" "$helm_dir"
fi

if [[ ! -f "$keda_dir/.complete" ]]; then
  echo "fetch-tools: fetching the KEDA $KEDA_VERSION CRDs (Go module github.com/kedacore/keda/v2) ..." >&2
  module_dir="$("$go" mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" \
                | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$module_dir/config/crd/bases" ]] || fail "the KEDA module $KEDA_VERSION has no config/crd/bases (in '$module_dir')"
  rm -rf "$keda_dir"
  mkdir -p "$keda_dir"
  cp "$module_dir/config/crd/bases/keda.sh_scaledobjects.yaml" \
     "$module_dir/config/crd/bases/keda.sh_triggerauthentications.yaml" \
     "$module_dir/pkg/scalers/kafka_scaler.go" "$keda_dir/"
  touch "$keda_dir/.complete"
fi
