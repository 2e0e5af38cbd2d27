# shellcheck shell=bash
# Supervision for scripts/stack: Prometheus (with the rule files of roles/prometheus),
# node_exporter (textfile collector) and postgres_exporter from the Debian packages, and cAdvisor
# (built from tools/cadvisor, as for the cadvisor role), on 127.0.0.1;
# and, while this service is selected, the Prometheus JMX exporter java agent in the Kafka, Hadoop
# and Hive JVMs (stack_jmx_agent). Not a default service: select it last, e.g.
#   MHFZ_STACK_SERVICES="pg kafka hadoop hive monitoring" scripts/stack start
# Sourced by scripts/stack, which provides note, die, owned_pid, terminate, port_in_use,
# ensure_maven_jars, ensure_cadvisor, spawn_detached, apt_install, $repo, $state, $cache, $services and the port
# variables named in monitoring_ports. See stack/README.md (section Monitoring).

monitoring_ports="PROMETHEUS_PORT NODE_EXPORTER_PORT PG_EXPORTER_PORT CADVISOR_PORT CONSUMER_METRICS_PORT \
JMX_KAFKA_PORT JMX_NAMENODE_PORT JMX_DATANODE_PORT JMX_RESOURCEMANAGER_PORT JMX_NODEMANAGER_PORT \
JMX_HISTORYSERVER_PORT JMX_HIVE_PORT"

monitoring_dir=$state/monitoring
# The agent is the roles' artifact (scripts/artifacts): the same pom, the same cached jar.
monitoring_jmx_src=$repo/ansible/artifacts/jmx-exporter
monitoring_jmx_version=$(sed -n 's:.*<jmx-exporter.version>\(.*\)</jmx-exporter.version>.*:\1:p' "$monitoring_jmx_src/pom.xml")
[[ -n $monitoring_jmx_version ]] || die "no <jmx-exporter.version> in $monitoring_jmx_src/pom.xml"
monitoring_jmx_jar=$cache/jmx-exporter-$monitoring_jmx_version/jars/jmx_prometheus_javaagent-$monitoring_jmx_version.jar
monitoring_rules=$repo/roles/prometheus/files/rules
# The login role postgres_exporter uses: pg_monitor, nothing more.
monitoring_pg_user=mhfz_monitoring
monitoring_pg_password_file=$monitoring_dir/pg-exporter-password
monitoring_textfile_dir=$monitoring_dir/textfile
# Daemons: name, Debian package, binary (cAdvisor: no package; ensure_cadvisor builds it).
monitoring_daemons=(
    "node_exporter prometheus-node-exporter /usr/bin/prometheus-node-exporter"
    "cadvisor - -"
    "postgres_exporter prometheus-postgres-exporter /usr/bin/prometheus-postgres-exporter"
    "prometheus prometheus /usr/bin/prometheus"
)

# The -javaagent option of the stack's JVM NAME (kafka, namenode, datanode, resourcemanager,
# nodemanager, historyserver, hive) into jmx_agent_opts, as the roles add it (platform contract): the agent on
# 127.0.0.1:$JMX_<NAME>_PORT with the roles' default configuration (every MBean, lower-case
# names). A JVM without such a port gets none.
monitoring_jmx_agent() {
    local port_name=JMX_${1^^}_PORT
    jmx_agent_opts=()
    [[ " $monitoring_ports " == *" $port_name "* ]] || return 0
    local port=${!port_name}
    ensure_maven_jars "jmx-exporter-$monitoring_jmx_version" "$monitoring_jmx_src"
    mkdir -p "$monitoring_dir"
    printf '%s\n' '# Written by scripts/stack (stack/monitoring/service.sh) on every start; edits are lost.' \
        'lowercaseOutputName: true' 'rules:' '  - pattern: ".*"' >"$monitoring_dir/jmx-exporter.yml"
    jmx_agent_opts=("-javaagent:$monitoring_jmx_jar=127.0.0.1:$port:$monitoring_dir/jmx-exporter.yml")
}

monitoring_env() {
    printf 'export %s=%q\n' \
        MHFZ_PROMETHEUS_URL "http://127.0.0.1:$PROMETHEUS_PORT" \
        MHFZ_NODE_EXPORTER_TEXTFILE_DIR "$monitoring_textfile_dir" \
        MHFZ_CONSUMER_METRICS_ADDR "127.0.0.1:$CONSUMER_METRICS_PORT"
}

monitoring_status() {
    local entry name pid pids=() down=()
    for entry in "${monitoring_daemons[@]}"; do
        read -r name _ <<<"$entry"
        if pid=$(owned_pid "$monitoring_dir/$name.pid"); then
            pids+=("$name $pid")
        else
            down+=("$name")
        fi
    done
    if ((${#down[@]} == 0)) && port_in_use "$PROMETHEUS_PORT"; then
        local IFS=,
        echo "monitoring: running (pid ${pids[*]}) on 127.0.0.1:$PROMETHEUS_PORT (Prometheus)"
        return 0
    fi
    echo "monitoring: stopped${pids[*]:+ (not running: ${down[*]})}"
    return 1
}

# Scrape jobs named as the prometheus role names them, so dashboards and rules work on both.
monitoring_write_prometheus_config() {
    local selected=" ${services[*]} "
    {
        cat <<EOF
# Written by scripts/stack (stack/monitoring/service.sh) on every start; edits are lost.
global:
  scrape_interval: 5s
  scrape_timeout: 4s
  evaluation_interval: 5s
rule_files:
  - $monitoring_rules/*.yml
scrape_configs:
EOF
        monitoring_job prometheus "$PROMETHEUS_PORT"
        monitoring_job node "$NODE_EXPORTER_PORT"
        monitoring_job cadvisor "$CADVISOR_PORT"
        [[ $selected == *" pg "* ]] && monitoring_job postgresql "$PG_EXPORTER_PORT"
        [[ $selected == *" kafka "* ]] && monitoring_job kafka "$JMX_KAFKA_PORT"
        if [[ $selected == *" hadoop "* ]]; then
            monitoring_job hadoop_namenode "$JMX_NAMENODE_PORT"
            monitoring_job hadoop_datanode "$JMX_DATANODE_PORT"
            monitoring_job yarn_resourcemanager "$JMX_RESOURCEMANAGER_PORT"
            monitoring_job yarn_nodemanager "$JMX_NODEMANAGER_PORT"
            monitoring_job mapreduce_historyserver "$JMX_HISTORYSERVER_PORT"
        fi
        [[ $selected == *" hive "* ]] && monitoring_job hive "$JMX_HIVE_PORT"
        # The consumer is not a stack service: whoever runs it serves on MHFZ_CONSUMER_METRICS_ADDR.
        monitoring_job mhfz_consumer "$CONSUMER_METRICS_PORT"
    } >"$monitoring_dir/prometheus.yml.tmp"
    mv "$monitoring_dir/prometheus.yml.tmp" "$monitoring_dir/prometheus.yml"
}

monitoring_job() {
    printf '  - job_name: %s\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n        labels: {instance: localhost}\n' "$1" "$2"
}

# The exporter's login role, with a password of its own (created once, reset on every start).
monitoring_pg_role() {
    [[ -s $monitoring_pg_password_file ]] || (
        umask 077
        od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$monitoring_pg_password_file"
    )
    local password
    password=$(cat "$monitoring_pg_password_file")
    # The password goes to psql on stdin, never on a command line.
    PGPASSWORD=$(cat "$pg_password_file") psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" \
        -U postgres -d postgres -v user="$monitoring_pg_user" -v password="$password" >/dev/null <<'SQL' ||
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN', :'user')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
GRANT pg_monitor TO :"user";
SQL
        die "could not create the PostgreSQL role $monitoring_pg_user for postgres_exporter"
}

monitoring_wait_http() {
    local name=$1 url=$2 pid=$3 deadline=$((SECONDS + start_timeout))
    until curl -fsS -o /dev/null "$url" 2>/dev/null; do
        if ! alive "$pid" || ((SECONDS >= deadline)); then
            tail -n 20 "$monitoring_dir/$name.log" >&2
            monitoring_stop
            die "$name did not answer $url (log tail above)"
        fi
        sleep 0.3
    done
}

monitoring_start() {
    local entry name package binary missing=()
    for entry in "${monitoring_daemons[@]}"; do
        read -r name package binary <<<"$entry"
        [[ $package == - || -x $binary ]] || missing+=("$package")
    done
    ((${#missing[@]} == 0)) || apt_install "Prometheus and its exporters" "${missing[@]}"
    command -v curl >/dev/null || apt_install "curl" curl
    mkdir -p "$monitoring_dir/data" "$monitoring_textfile_dir"
    monitoring_write_prometheus_config
    /usr/bin/promtool check config "$monitoring_dir/prometheus.yml" >"$monitoring_dir/promtool.log" 2>&1 || {
        cat "$monitoring_dir/promtool.log" >&2
        die "promtool rejects $monitoring_dir/prometheus.yml"
    }
    local pid started=$SECONDS
    if ! pid=$(owned_pid "$monitoring_dir/node_exporter.pid"); then
        spawn_detached "$monitoring_dir/node_exporter.pid" "$monitoring_dir/node_exporter.log" "$monitoring_dir" \
            /usr/bin/prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_EXPORTER_PORT" \
            --collector.textfile.directory="$monitoring_textfile_dir"
        pid=$(owned_pid "$monitoring_dir/node_exporter.pid") || die "node_exporter exited at once"
        monitoring_wait_http node_exporter "http://127.0.0.1:$NODE_EXPORTER_PORT/metrics" "$pid"
    fi
    # Its command line names nothing of the state dir, so its argv[0] does (owned_pid matches it).
    if ! pid=$(owned_pid "$monitoring_dir/cadvisor.pid"); then
        ensure_cadvisor
        spawn_detached "$monitoring_dir/cadvisor.pid" "$monitoring_dir/cadvisor.log" "$monitoring_dir" \
            bash -c 'exec -a "$0" "$@"' "$monitoring_dir/cadvisor" "$cadvisor_binary" \
            --listen "127.0.0.1:$CADVISOR_PORT" --housekeeping-interval 5s
        pid=$(owned_pid "$monitoring_dir/cadvisor.pid") || die "cadvisor exited at once"
        monitoring_wait_http cadvisor "http://127.0.0.1:$CADVISOR_PORT/metrics" "$pid"
    fi
    if ! pid=$(owned_pid "$monitoring_dir/postgres_exporter.pid"); then
        if [[ " ${services[*]} " == *" pg "* ]]; then
            monitoring_pg_role
        fi
        DATA_SOURCE_URI="127.0.0.1:$PG_PORT/postgres?sslmode=disable" DATA_SOURCE_USER=$monitoring_pg_user \
            DATA_SOURCE_PASS_FILE=$monitoring_pg_password_file \
            spawn_detached "$monitoring_dir/postgres_exporter.pid" "$monitoring_dir/postgres_exporter.log" \
            "$monitoring_dir" bash -c 'exec -a "$0" /usr/bin/prometheus-postgres-exporter "$@"' \
            "$monitoring_dir/postgres_exporter" --web.listen-address="127.0.0.1:$PG_EXPORTER_PORT" --log.level=warn
        pid=$(owned_pid "$monitoring_dir/postgres_exporter.pid") || die "postgres_exporter exited at once"
        monitoring_wait_http postgres_exporter "http://127.0.0.1:$PG_EXPORTER_PORT/metrics" "$pid"
    fi
    if pid=$(owned_pid "$monitoring_dir/prometheus.pid"); then
        # A running server reads the configuration again (new ports, services or rules).
        kill -HUP "$pid"
    else
        spawn_detached "$monitoring_dir/prometheus.pid" "$monitoring_dir/prometheus.log" "$monitoring_dir" \
            /usr/bin/prometheus --config.file="$monitoring_dir/prometheus.yml" \
            --storage.tsdb.path="$monitoring_dir/data" --storage.tsdb.retention.time=2d \
            --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --web.enable-lifecycle
        pid=$(owned_pid "$monitoring_dir/prometheus.pid") || die "prometheus exited at once"
        monitoring_wait_http prometheus "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" "$pid"
    fi
    note "monitoring running on 127.0.0.1: Prometheus $PROMETHEUS_PORT, node_exporter $NODE_EXPORTER_PORT, cAdvisor $CADVISOR_PORT, postgres_exporter $PG_EXPORTER_PORT ($((SECONDS - started)) s)"
}

monitoring_stop() {
    local index entry name pid
    for ((index = ${#monitoring_daemons[@]} - 1; index >= 0; index--)); do
        read -r name _ <<<"${monitoring_daemons[index]}"
        if pid=$(owned_pid "$monitoring_dir/$name.pid"); then
            terminate "$name" "$pid" TERM
        fi
        rm -f "$monitoring_dir/$name.pid"
    done
}
