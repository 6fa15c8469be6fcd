#!/usr/bin/env bash
# Builds the peers `pnpm bench` compares against that no test needs (never shipped, not part of
# `npm test`): clusterctl, Cluster API's own CLI, for the cluster-move row. Cached like the test
# tools, once per version: $OCNE_TEST_CACHE/bin/clusterctl-<version> (default ~/.cache/ocne-test).
# Needs Go and the Go module proxy; Go's checksum database verifies every module it downloads.
# With it, its inventory CRD (providers.clusterctl.cluster.x-k8s.io, which the benchmark installs in
# both control planes before it records the providers): $OCNE_TEST_CACHE/bench/clusterctl-api-<version>.yaml.
# Prints nothing when both are cached.
set -euo pipefail
cache="${OCNE_TEST_CACHE:-$HOME/.cache/ocne-test}"
mkdir -p "$cache/bin"

# The Cluster API release the SDK's CAPI types come from (test-utils/tools/versions.json's CRDs).
CLUSTERCTL_VERSION=v1.10.8
out="$cache/bin/clusterctl-$CLUSTERCTL_VERSION"
manifest="$cache/bench/clusterctl-api-$CLUSTERCTL_VERSION.yaml"
[ -x "$out" ] && [ -f "$manifest" ] && exit 0
command -v go >/dev/null 2>&1 || { echo "bench-tools: Go is needed to build clusterctl" >&2; exit 1; }

work=$(mktemp -d)
partial="$out.partial.$$"
cleanup() {
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work" "$partial"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -f "$manifest" ]; then
  mkdir -p "$cache/bench"
  dir=$(cd "$work" && go mod download -json "sigs.k8s.io/cluster-api@$CLUSTERCTL_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  cp "$dir/cmd/clusterctl/config/manifest/clusterctl-api.yaml" "$manifest.partial.$$"
  mv "$manifest.partial.$$" "$manifest"
fi
[ -x "$out" ] && exit 0
echo "bench-tools: building clusterctl $CLUSTERCTL_VERSION (once; cached in $cache)" >&2
started=$SECONDS
cd "$work"
go mod init ocne-bench-tools/clusterctl >/dev/null 2>&1
go get "sigs.k8s.io/cluster-api/cmd/clusterctl@$CLUSTERCTL_VERSION" >/dev/null 2>&1 ||
  go get "sigs.k8s.io/cluster-api/cmd/clusterctl@$CLUSTERCTL_VERSION"
# The version clusterctl reports (and compares with the providers' contracts), as its release sets it.
v=${CLUSTERCTL_VERSION#v}
ldflags="-X sigs.k8s.io/cluster-api/version.gitVersion=$CLUSTERCTL_VERSION"
ldflags+=" -X sigs.k8s.io/cluster-api/version.gitMajor=${v%%.*} -X sigs.k8s.io/cluster-api/version.gitMinor=$(cut -d. -f2 <<<"$v")"
go build -trimpath -ldflags="-s -w $ldflags" -o "$partial" sigs.k8s.io/cluster-api/cmd/clusterctl
mv "$partial" "$out"
echo "bench-tools: built clusterctl $CLUSTERCTL_VERSION in $((SECONDS - started)) s ($(du -h "$out" | cut -f1))" >&2
