#!/usr/bin/env bash
# Builds the reference tools the tests compare against (never shipped) from their Go modules, and
# fetches the reference schemas (Ignition JSON schemas, Cluster API CRDs) from theirs, once per
# version, into a cache outside the repository:
#   $OCNE_TEST_CACHE/bin/<name>-<version>                (default cache: ~/.cache/ocne-test)
#   $OCNE_TEST_CACHE/schemas/<module>@<version>/<path in the module>
# The versions are pinned in test-utils/tools/versions.json, which @ocne/test-tools reads too.
# `test-tools.sh schemas` fetches only the schemas (seconds; the capi type generator needs them).
# Prints nothing when everything is cached. Needs Node, Go and the Go module proxy; Go's checksum
# database verifies every module it downloads.
# A cold build of everything takes long on 2 cores (kube-apiserver alone is the bulk of it): each
# build prints its wall time, and the sizes of the cache and Go caches follow.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="${OCNE_TEST_CACHE:-$HOME/.cache/ocne-test}"
mkdir -p "$cache/bin" "$cache/schemas"

# The pins as lines `tool NAME VERSION` and `schemas MODULE@VERSION PATH...`.
pins=$(node -e '
  const pins = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  for (const [name, version] of Object.entries(pins.tools)) console.log(`tool ${name} ${version}`);
  for (const [id, paths] of Object.entries(pins.schemas)) console.log(`schemas ${id} ${paths.join(" ")}`);
' "$root/test-utils/tools/versions.json")

# version_of NAME: the pinned version of a tool.
version_of() {
  local version
  version=$(awk -v name="$1" '$1 == "tool" && $2 == name { print $3 }' <<<"$pins")
  [ -n "$version" ] || { echo "test-tools: no version of $1 in test-utils/tools/versions.json" >&2; exit 1; }
  echo "$version"
}

# What a build in progress leaves behind, removed however the script ends: a failed build leaves
# no binary (the binary gets its final name only once it is complete).
work='' partial='' built=0 fetched=0
cleanup() {
  if [ -n "$partial" ]; then chmod -R u+w "$partial" 2>/dev/null || true; rm -rf "$partial"; fi
  if [ -n "$work" ]; then chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mod_field MODULE VERSION FIELD: a field (GoMod, Info, Dir…) of `go mod download -json`.
mod_field() {
  go mod download -json "$1@$2" | sed -n "s/^[[:space:]]*\"$3\": \"\(.*\)\",\{0,1\}\$/\1/p"
}

# vcs_commit MODULE VERSION: the commit the proxy says the version was made from, when it says.
vcs_commit() {
  sed -n 's/.*"Hash":"\([0-9a-f]\{40\}\)".*/\1/p' "$(mod_field "$1" "$2" Info)"
}

# go_directives GOMOD: the `godebug` settings of a go.mod, one key=value a line; when it has none,
# `default=go1.N` from its `go` line. A tool built as a dependency of a scratch module would
# otherwise run with the GODEBUG defaults of the Go toolchain here, not those its authors chose.
go_directives() {
  local settings
  settings=$(awk '/^godebug[[:space:]]*\(/ { block = 1; next }
                  block && /^\)/ { block = 0; next }
                  block && NF { print $1; next }
                  /^godebug[[:space:]]/ { print $2 }' "$1")
  if [ -n "$settings" ]; then
    printf '%s\n' "$settings"
  else
    awk '$1 == "go" { split($2, v, "."); print "default=go" v[1] "." v[2]; exit }' "$1"
  fi
}

# fetch_schemas MODULE@VERSION PATH...
# Copies PATHs (globs relative to the module's root; a folder is copied whole) of the module, as
# `go mod download` gets it (verified against Go's checksum database), into
# $cache/schemas/MODULE@VERSION. A list of PATHs other than the one cached fetches them again.
fetch_schemas() {
  local id=$1
  shift
  local out="$cache/schemas/$id" json dir
  [ "$(cat "$out/.paths" 2>/dev/null)" = "$*" ] && return 0
  command -v go >/dev/null 2>&1 || { echo "test-tools: Go is needed to fetch $id" >&2; exit 1; }
  local started=$SECONDS
  if ! json=$(go mod download -json "$id"); then
    echo "test-tools: go mod download $id failed:" >&2
    sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$json" >&2
    exit 1
  fi
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  [ -d "$dir" ] || { echo "test-tools: go mod download $id named no folder" >&2; exit 1; }
  partial="$out.partial.$$"
  mkdir -p "$partial"
  (
    cd "$dir"
    local pattern path found
    for pattern in "$@"; do
      found=0
      for path in $pattern; do
        [ -e "$path" ] || continue
        mkdir -p "$partial/$(dirname "$path")"
        cp -R "$path" "$partial/$path"
        found=1
      done
      [ "$found" = 1 ] || { echo "test-tools: $id has no $pattern" >&2; exit 1; }
    done
  )
  # The module cache is read-only; the copy must stay removable.
  chmod -R u+w "$partial"
  printf '%s' "$*" >"$partial/.paths"
  rm -rf "$out"
  # Another run may have fetched the same meanwhile: then its copy stays and ours goes.
  mv -T "$partial" "$out" 2>/dev/null || [ -d "$out" ]
  cleanup
  partial=''
  fetched=1
  echo "test-tools: fetched reference schemas $id in $((SECONDS - started)) s ($(du -sh "$out" | cut -f1))" >&2
}

# build NAME VERSION PACKAGE MODULE [PREPARE]
# Builds PACKAGE (a main package of MODULE at VERSION) into $cache/bin/NAME-VERSION, in a scratch
# module. PREPARE, a function, runs in the scratch module before `go get` (to add replace lines)
# and may set `ldflags` (extra -X flags).
build() {
  local name=$1 version=$2 pkg=$3 module=$4 prepare=${5:-}
  local out="$cache/bin/$name-$version"
  [ -x "$out" ] && return 0
  command -v go >/dev/null 2>&1 || { echo "test-tools: Go is needed to build $name" >&2; exit 1; }
  echo "test-tools: building $name $version from $pkg (once; cached in $cache)" >&2
  local started=$SECONDS
  work=$(mktemp -d)
  partial="$out.partial.$$"
  ldflags=''
  (
    cd "$work"
    go mod init "ocne-test-tools/$name" >/dev/null 2>&1
    if [ -n "$prepare" ]; then "$prepare" "$version"; fi
    go get "$pkg@$version" >/dev/null 2>&1 || go get "$pkg@$version"
    local setting
    for setting in $(go_directives "$(mod_field "$module" "$version" GoMod)"); do
      go mod edit -godebug="$setting"
    done
    go build -trimpath -ldflags="-s -w $ldflags" -o "$partial" "$pkg"
    [ -x "$partial" ] || { echo "test-tools: $pkg is not a main package" >&2; exit 1; }
  )
  mv "$partial" "$out"
  partial=''
  cleanup
  work=''
  built=1
  echo "test-tools: built $name $version in $((SECONDS - started)) s ($(du -h "$out" | cut -f1))" >&2
}

# k8s.io/kubernetes is not meant to be a dependency: its go.mod requires its staging modules
# (k8s.io/api, k8s.io/client-go, …) at v0.0.0 and replaces them with folders of its own tree. The
# same modules are published as k8s.io/<name> v0.<minor>.<patch>: pin each to that release.
prepare_kubernetes() {
  local version=$1 gomod staging info built_at semver=${1#v}
  gomod=$(mod_field k8s.io/kubernetes "$version" GoMod)
  staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$gomod")
  [ -n "$staging" ] || { echo "test-tools: no staging modules found in $gomod" >&2; exit 1; }
  local module args=()
  for module in $staging; do args+=("-replace=$module=$module@v0.${semver#*.}"); done
  go mod edit "${args[@]}"
  info=$(mod_field k8s.io/kubernetes "$version" Info)
  built_at=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info")
  local major=${semver%%.*} rest=${semver#*.} commit pkg
  commit=$(vcs_commit k8s.io/kubernetes "$version")
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=${rest%%.*}"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=${built_at:-1970-01-01T00:00:00Z}"
    if [ -n "$commit" ]; then ldflags+=" -X $pkg.gitCommit=$commit"; fi
  done
}

# etcd reports its version from a constant; only the commit is left to set, when the proxy knows it.
prepare_etcd() {
  local commit
  commit=$(vcs_commit go.etcd.io/etcd/server/v3 "$1")
  if [ -n "$commit" ]; then ldflags="-X go.etcd.io/etcd/api/v3/version.GitSHA=${commit:0:7}"; fi
}

# helm's release build sets its version, and the Kubernetes version it assumes when no cluster is
# asked (`.Capabilities.KubeVersion` in `helm template`, deprecation lint), from its client-go minor.
prepare_helm() {
  local version=$1 client_go minor commit
  client_go=$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$(mod_field helm.sh/helm/v3 "$version" GoMod)")
  minor=$(echo "$client_go" | cut -d. -f2)
  ldflags="-X helm.sh/helm/v3/internal/version.version=$version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  commit=$(vcs_commit helm.sh/helm/v3 "$version")
  if [ -n "$commit" ]; then ldflags+=" -X helm.sh/helm/v3/internal/version.gitCommit=$commit"; fi
  if [ -n "$minor" ]; then
    local pkg
    for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
      ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
    done
  fi
}

while read -r kind id rest; do
  [ "$kind" = schemas ] || continue
  read -ra paths <<<"$rest"
  fetch_schemas "$id" "${paths[@]}"
done <<<"$pins"
if [ "${1:-}" = schemas ]; then
  if [ "$fetched" = 1 ]; then echo "test-tools: sizes: schemas $(du -sh "$cache/schemas" | cut -f1)" >&2; fi
  exit 0
fi

build ignition-validate "$(version_of ignition-validate)" github.com/coreos/ignition/v2/validate github.com/coreos/ignition/v2
build butane "$(version_of butane)" github.com/coreos/butane/internal github.com/coreos/butane
# etcd at the release k8s.io/kubernetes v1.33.x requires (go.etcd.io/etcd/server/v3 v3.5.21); the
# etcd server's main package is the root of that module.
build etcd "$(version_of etcd)" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3 prepare_etcd
# v1.33.13 rather than an earlier 1.33 patch: the Go module proxy reachable here lacks some staging
# modules at v0.33.5 (endpointslice, externaljwt, kube-controller-manager; others fail checksum
# lookups) and has every one kube-apiserver needs at v0.33.13.
build kube-apiserver "$(version_of kube-apiserver)" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes prepare_kubernetes
# The test node: a kubelet (run against containerd from Debian's packages) and kubectl, from the same
# k8s.io/kubernetes release as the API server (the Go build cache makes these builds share most work).
build kubelet "$(version_of kubelet)" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes prepare_kubernetes
build kubectl "$(version_of kubectl)" k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes prepare_kubernetes
build helm "$(version_of helm)" helm.sh/helm/v3/cmd/helm helm.sh/helm/v3 prepare_helm

if [ "$built" = 1 ] || [ "$fetched" = 1 ]; then
  echo "test-tools: sizes: bin $(du -sh "$cache/bin" | cut -f1), schemas $(du -sh "$cache/schemas" | cut -f1)," \
    "Go module cache $(du -sh "$(go env GOMODCACHE)" 2>/dev/null | cut -f1)," \
    "Go build cache $(du -sh "$(go env GOCACHE)" 2>/dev/null | cut -f1)" >&2
fi
