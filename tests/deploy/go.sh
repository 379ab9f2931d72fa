#!/usr/bin/env bash
# Prints the path of a go command new enough for tests/deploy/k8scheck (its go.mod's
# `go` line): the one on PATH or /usr/local/go's when new enough; else that release's
# toolchain from the Go module proxy (the module golang.org/toolchain, which
# `go mod download` checks against the checksum database), fetched with whatever
# older go there is (Debian 12's golang-go is 1.19) into the module cache, as the
# go command itself does when it switches toolchains. deploy/setup.sh --deps runs it.
#   RR_GO_CANDIDATES  the go commands to consider (default: PATH's, /usr/local/go's)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want=$(sed -n 's/^go \([0-9][0-9.]*\)$/\1/p' "$here/k8scheck/go.mod")
[ -n "$want" ] || { echo "go.sh: no go line in $here/k8scheck/go.mod" >&2; exit 1; }
version() { "$1" version 2>/dev/null | sed -n 's/^go version go\([0-9][0-9.]*\).*/\1/p'; }
new_enough() { # $1 >= want
  [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$want" "$1" | sort -V | head -1)" = "$want" ]
}
boot=""
for go in ${RR_GO_CANDIDATES:-$(command -v go || true) /usr/local/go/bin/go}; do
  [ -x "$go" ] || continue
  v=$(version "$go")
  if new_enough "$v"; then echo "$go"; exit 0; fi
  [ -n "$boot" ] || boot=$go
done
[ -n "$boot" ] || { echo "go.sh: no go command (deploy/setup.sh --deps installs Debian's golang-go)" >&2; exit 1; }
arch=$(GOTOOLCHAIN=local "$boot" env GOHOSTARCH)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
dir=$(cd "$work" && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$boot" mod download -json \
  "golang.org/toolchain@v0.0.1-go$want.linux-$arch" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -x "$dir/bin/go" ] || {
  # the module cache keeps no mode bits: make the commands runnable, as go does
  find "$dir/bin" "$dir/pkg/tool" -type f -exec chmod a+x {} +
}
new_enough "$(version "$dir/bin/go")" || { echo "go.sh: $dir/bin/go does not run" >&2; exit 1; }
echo "$dir/bin/go"
