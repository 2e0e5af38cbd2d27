# shellcheck shell=bash
# cAdvisor, built from its library on the Go module proxy (tools/cadvisor: Debian bookworm does
# not package it); sourced by scripts/stack and scripts/artifacts, which provide note, die, $repo
# and $cache.

cadvisor_src=$repo/tools/cadvisor
# The version of the cAdvisor library tools/cadvisor/go.mod requires.
cadvisor_version=$(sed -n 's|^[[:space:]]*github.com/google/cadvisor v\([^ ]*\)$|\1|p' "$cadvisor_src/go.mod")

# ensure_cadvisor: the static binary at $cadvisor_binary, built once per source (go.sum pins the
# checksum of every module, which the go command checks on download; -mod=readonly: nothing
# outside it is fetched).
ensure_cadvisor() {
    [[ -n $cadvisor_version ]] || die "no github.com/google/cadvisor requirement in $cadvisor_src/go.mod"
    local inputs home
    inputs=$(cd "$cadvisor_src" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-12)
    home=$cache/cadvisor-$cadvisor_version-$inputs
    cadvisor_binary=$home/cadvisor
    [[ -x $cadvisor_binary ]] && return
    command -v go >/dev/null || die "go not found: it builds cAdvisor (tools/cadvisor) from the Go module proxy"
    note "building cAdvisor $cadvisor_version (tools/cadvisor) into $home"
    local tmp=$home.tmp.$$
    rm -rf "$tmp"
    mkdir -p "$tmp"
    if ! (cd "$cadvisor_src" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
        GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" \
        go build -trimpath -ldflags='-s -w -buildid=' -o "$tmp/cadvisor" .) >&2; then
        rm -rf "$tmp"
        die "go build of tools/cadvisor failed (output above)"
    fi
    rm -rf "$home"
    mv "$tmp" "$home"
}
