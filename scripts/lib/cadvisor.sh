# shellcheck shell=bash
# cAdvisor, built from its library on the Go module proxy (tools/cadvisor: Debian bookworm does
# not package it); sourced by scripts/stack and scripts/artifacts, which provide note, die, $repo
# and $cache. Run directly, `scripts/lib/cadvisor.sh lint` checks the Go source (make lint).

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    cache=${MHFZ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mhfz-pipeline}
    die() { echo "cadvisor: $*" >&2; exit 1; }
fi
cadvisor_src=$repo/tools/cadvisor
# The version of the cAdvisor library tools/cadvisor/go.mod requires.
cadvisor_version=$(sed -n 's|^[[:space:]]*github.com/google/cadvisor v\([^ ]*\)$|\1|p' "$cadvisor_src/go.mod")

# cadvisor_go ARGS...: the go command in tools/cadvisor, with the local toolchain and only the
# modules go.sum pins (their checksums are checked on download), cached under $cache/go.
cadvisor_go() {
    command -v go >/dev/null || die "go not found: it builds cAdvisor (tools/cadvisor) from the Go module proxy"
    (cd "$cadvisor_src" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
        GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" go "$@")
}

# ensure_cadvisor: the static binary at $cadvisor_binary, built once per source.
ensure_cadvisor() {
    [[ -n $cadvisor_version ]] || die "no github.com/google/cadvisor requirement in $cadvisor_src/go.mod"
    local inputs home
    inputs=$(cd "$cadvisor_src" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-12)
    home=$cache/cadvisor-$cadvisor_version-$inputs
    cadvisor_binary=$home/cadvisor
    [[ -x $cadvisor_binary ]] && return
    note "building cAdvisor $cadvisor_version (tools/cadvisor) into $home"
    local tmp=$home.tmp.$$
    rm -rf "$tmp"
    mkdir -p "$tmp"
    if ! cadvisor_go build -trimpath -ldflags='-s -w -buildid=' -o "$tmp/cadvisor" . >&2; then
        rm -rf "$tmp"
        die "go build of tools/cadvisor failed (output above)"
    fi
    rm -rf "$home"
    mv "$tmp" "$home"
}

# cadvisor_lint: gofmt-clean and go vet-clean.
cadvisor_lint() {
    local unformatted
    unformatted=$(gofmt -l "$cadvisor_src")
    [[ -z $unformatted ]] || { gofmt -d "$cadvisor_src" >&2; die "not gofmt-formatted: $unformatted"; }
    cadvisor_go vet .
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    [[ ${1:-} == lint && $# == 1 ]] || die "usage: scripts/lib/cadvisor.sh lint"
    cadvisor_lint
fi
