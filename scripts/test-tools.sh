#!/usr/bin/env bash
# Builds the reference tools the tests compare against (never shipped) from their Go modules,
# once per version, into a cache outside the repository:
#   $OCNE_TEST_CACHE/bin/<name>-<version>   (default cache: ~/.cache/ocne-test)
# Prints nothing when everything is cached. Needs Go and the Go module proxy.
set -euo pipefail
cache="${OCNE_TEST_CACHE:-$HOME/.cache/ocne-test}"
mkdir -p "$cache/bin"

build() { # name package version
  local name=$1 pkg=$2 version=$3
  local out="$cache/bin/$name-$version"
  [ -x "$out" ] && return 0
  command -v go >/dev/null 2>&1 || { echo "test-tools: Go is needed to build $name" >&2; exit 1; }
  echo "test-tools: building $name $version from $pkg (once; cached in $cache)" >&2
  local work
  work=$(mktemp -d)
  (
    cd "$work"
    go mod init "ocne-test-tools/$name" >/dev/null 2>&1
    go get "$pkg@$version" >/dev/null 2>&1 || go get "$pkg@$version"
    go build -trimpath -o "$out.partial" "$pkg"
  )
  mv "$out.partial" "$out"
  rm -rf "$work"
}

build ignition-validate github.com/coreos/ignition/v2/validate v2.23.0
build butane github.com/coreos/butane/internal v0.25.1
