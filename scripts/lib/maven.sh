# shellcheck shell=bash
# Jars from Maven Central, cached and checksummed; sourced by scripts/stack and scripts/artifacts,
# which provide note, die and $cache.

# ensure_maven_jars NAME POM_DIR: the dependencies of POM_DIR/pom.xml in $cache/NAME/jars.
# Fetched once (Maven verifies Central's checksums: -C); their SHA-256 sums are recorded and
# checked on every later start, so a damaged or altered cache is never run.
ensure_maven_jars() {
    local home=$cache/$1 pom_dir=$2
    local jars=$home/jars
    if [[ -f $home/SHA256SUMS ]]; then
        (cd "$jars" && sha256sum --quiet --strict -c ../SHA256SUMS) >&2 ||
            die "jars in $jars do not match $home/SHA256SUMS; remove $home to fetch them again"
        local listed present
        listed=$(wc -l <"$home/SHA256SUMS")
        present=$(find "$jars" -maxdepth 1 -name '*.jar' | wc -l)
        ((listed == present)) || die "$jars holds $present jars, SHA256SUMS lists $listed; remove $home to fetch them again"
        return
    fi
    command -v mvn >/dev/null || die "mvn not found: it fetches the $1 jars from Maven Central"
    note "fetching $1 jars into $home"
    local tmp=$home.tmp.$$
    rm -rf "$tmp"
    mkdir -p "$tmp"
    if ! mvn -B -q -C -f "$pom_dir/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$tmp/jars" >"$tmp/mvn.log" 2>&1; then
        cat "$tmp/mvn.log" >&2
        rm -rf "$tmp"
        die "mvn could not fetch the $1 jars (output above)"
    fi
    (cd "$tmp/jars" && sha256sum -- *.jar >../SHA256SUMS)
    rm -f "$tmp/mvn.log"
    rm -rf "$home"
    mv "$tmp" "$home"
}
