# PostgreSQL for scripts/stack (sourced by it; see stack/README.md): the newest server of the
# Debian packages (/usr/lib/postgresql/*/bin), its own cluster, scram-sha-256 everywhere.

pg_ports="PG_PORT"
pg_dir=$state/pg
pg_data=$pg_dir/data
pg_password_file=$state/pg-admin-password

pg_env() {
    printf 'export %s=%q\n' \
        MHFZ_PG_HOST 127.0.0.1 \
        MHFZ_PG_PORT "$PG_PORT" \
        MHFZ_PG_ADMIN_USER postgres \
        MHFZ_PG_ADMIN_PASSWORD_FILE "$pg_password_file"
}

pg_status() {
    local pid
    if pid=$(owned_pid "$pg_data/postmaster.pid") && port_in_use "$PG_PORT"; then
        echo "postgresql: running (pid $pid) on 127.0.0.1:$PG_PORT"
    else
        echo "postgresql: stopped"
        return 1
    fi
}

# initdb and the server refuse to run as root: as root they run as the Debian package's
# `postgres` user (from /, a directory it may enter), otherwise as the invoking user.
as_pg() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

find_pg_bin() {
    local dir
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
    if [[ -z $dir || ! -x $dir/initdb ]]; then
        apt_install "PostgreSQL (initdb, pg_ctl)" postgresql
        dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin | sort -V | tail -n 1)
    fi
    [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/pg_isready ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    pg_bin=$dir
}

# As root the state dir may sit under a home the postgres user cannot enter (/root is 0700):
# grant that user search permission, and only that, on each such ancestor through an ACL.
grant_pg_search_path() {
    ((EUID == 0)) || return 0
    local dir= part
    local -a parts
    IFS=/ read -r -a parts <<<"${state#/}"
    for part in "${parts[@]}"; do
        dir+=/$part
        runuser -u postgres -- test -x "$dir" && continue
        command -v setfacl >/dev/null || apt_install "setfacl" acl
        note "granting user postgres search (x) permission on $dir by ACL, to reach $pg_dir"
        setfacl -m u:postgres:x "$dir"
    done
}

generate_password() {
    (
        umask 077
        od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$pg_password_file.tmp"
    )
    mv "$pg_password_file.tmp" "$pg_password_file"
}

init_pg() {
    [[ -f $pg_data/PG_VERSION ]] && {
        [[ -s $pg_password_file ]] || die "$pg_data exists but the admin password file $pg_password_file is gone; remove $pg_dir to start afresh"
        return
    }
    [[ -s $pg_password_file ]] || generate_password
    chmod 600 "$pg_password_file"
    rm -rf "$pg_dir"
    mkdir -p "$pg_dir/socket"
    ((EUID == 0)) && chown -R postgres:postgres "$pg_dir"
    chmod 700 "$pg_dir"
    grant_pg_search_path
    # initdb reads the password from a file: a copy only the server user can read, inside its own
    # 0700 directory, removed right after. It never appears on a command line.
    local pwcopy=$pg_dir/initdb-password
    as_pg sh -c 'umask 077 && cat >"$1"' _ "$pwcopy" <"$pg_password_file"
    local ok=1
    as_pg "$pg_bin/initdb" --pgdata="$pg_data" --username=postgres --auth=scram-sha-256 \
        --encoding=UTF8 --no-locale --pwfile="$pwcopy" >"$state/initdb.log" 2>&1 || ok=0
    rm -f "$pwcopy"
    if ((!ok)); then
        cat "$state/initdb.log" >&2
        die "initdb failed for $pg_data"
    fi
    echo "include_if_exists = 'stack.conf'" | as_pg tee -a "$pg_data/postgresql.conf" >/dev/null
}

pg_start() {
    find_pg_bin
    init_pg
    local pid
    if pid=$(owned_pid "$pg_data/postmaster.pid"); then
        note "postgresql already running (pid $pid) on 127.0.0.1:$PG_PORT"
        return
    fi
    ! port_in_use "$PG_PORT" || die "port $PG_PORT on 127.0.0.1 is taken by another process; stop it, or remove $ports_file to pick new ports"
    as_pg tee "$pg_data/stack.conf" >/dev/null <<EOF
# Written by scripts/stack on every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$pg_dir/socket'
EOF
    if ! as_pg "$pg_bin/pg_ctl" --pgdata="$pg_data" --log="$pg_dir/postgres.log" --wait \
        --timeout="$start_timeout" start >/dev/null 9>&-; then
        tail -n 30 "$pg_dir/postgres.log" >&2 || true
        die "postgresql did not start (log tail above)"
    fi
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t "$start_timeout" ||
        die "postgresql does not answer on 127.0.0.1:$PG_PORT"
    pid=$(owned_pid "$pg_data/postmaster.pid") || die "postgresql answers but its pid file is missing"
    note "postgresql running (pid $pid) on 127.0.0.1:$PG_PORT"
}

pg_stop() {
    local pid
    pid=$(owned_pid "$pg_data/postmaster.pid") || return 0
    find_pg_bin
    # Fast shutdown (SIGINT to the postmaster): roll back open transactions, checkpoint, exit.
    as_pg "$pg_bin/pg_ctl" --pgdata="$pg_data" --mode=fast --wait --timeout="$stop_timeout" stop >/dev/null 2>&1 || true
    alive "$pid" && terminate postgresql "$pid" TERM
    note "postgresql stopped"
}
