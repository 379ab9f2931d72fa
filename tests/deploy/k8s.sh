#!/usr/bin/env bash
# deploy/k8s, validated offline (no cluster runs here, and kubeconform's schemas are
# on the internet): tests/deploy/k8scheck decodes every manifest strictly against
# the Kubernetes API types (k8s.io/api, client-go's scheme) and the Prometheus
# Operator's, renders kustomization.yaml as kubectl does, and cross-checks the set
# (main.go, cross.go say what), including each replyrate command line against
# `replyrate run --help` of the binary given here. Then its own tests break the
# manifests in one place each and expect the problem that names it.
#   tests/deploy/k8s.sh REPLYRATE_BINARY
# Go and the modules come from the Go proxy (tests/deploy/go.sh).
set -uo pipefail
bin=$(realpath "$1")
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
if ! go=$("$src/tests/deploy/go.sh" 2>"$tmp/go.log"); then
  [ -n "${CI:-}" ] && fail "no go command: $(cat "$tmp/go.log") (deploy/setup.sh --deps)"
  echo "k8s: $(cat "$tmp/go.log"): manifests not checked"; exit 77
fi
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"
cd "$src/tests/deploy/k8scheck" || fail "no tests/deploy/k8scheck"
unformatted=$("$(dirname "$go")/gofmt" -l .)
[ -z "$unformatted" ] || fail "gofmt -l: $unformatted"
"$go" vet . >"$tmp/vet.log" 2>&1 || fail "go vet: $(head -20 "$tmp/vet.log")"
"$go" build -o "$tmp/k8scheck" . >"$tmp/build.log" 2>&1 || fail "go build: $(tail -20 "$tmp/build.log")"
"$tmp/k8scheck" -binary "$bin" -dockerfile "$src/deploy/docker/Dockerfile" \
  -config-source "$src/deploy/replyrate.conf" "$src/deploy/k8s" || fail "deploy/k8s"
RR_BINARY=$bin "$go" test -count=1 . >"$tmp/test.log" 2>&1 || { cat "$tmp/test.log"; fail "go test (tests/deploy/k8scheck)"; }
echo "k8s: $(tail -1 "$tmp/test.log")"
