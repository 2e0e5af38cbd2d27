# Apache Kafka for scripts/stack (sourced by it; see stack/README.md): one node in KRaft combined
# mode (broker and controller in one JVM), from Maven Central jars (stack/kafka/pom.xml).

kafka_ports="KAFKA_PORT KAFKA_CONTROLLER_PORT"
kafka_src=$repo/stack/kafka
kafka_dir=$state/kafka
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$kafka_src/pom.xml")
[[ -n $kafka_version ]] || die "no <kafka.version> in $kafka_src/pom.xml"
jars=$cache/kafka-$kafka_version/jars
# Tools find stack/kafka/tools-conf/log4j2.properties on the classpath and log only warnings.
tools_classpath="$kafka_src/tools-conf:$jars/*"

kafka_env() {
    printf 'export %s=%q\n' \
        MHFZ_KAFKA_BOOTSTRAP "127.0.0.1:$KAFKA_PORT" \
        MHFZ_KAFKA_CLASSPATH "$tools_classpath"
}

kafka_status() {
    local pid
    if pid=$(owned_pid "$kafka_dir/kafka.pid") && port_in_use "$KAFKA_PORT"; then
        echo "kafka: running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    else
        echo "kafka: stopped"
        return 1
    fi
}

write_server_properties() {
    mkdir -p "$kafka_dir/data" "$kafka_dir/logs" "$kafka_dir/tmp"
    cat >"$kafka_dir/server.properties" <<EOF
# Written by scripts/stack on every start; edits are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$kafka_dir/data

# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
num.partitions=1
# Topics are created explicitly, never by a producer or consumer naming them.
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0

# Two cores shared with everything else.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
EOF
}

format_kafka_storage() {
    local cluster_id_file=$kafka_dir/cluster-id
    if [[ ! -s $cluster_id_file ]]; then
        "$java" -cp "$tools_classpath" kafka.tools.StorageTool random-uuid >"$cluster_id_file.tmp" ||
            die "kafka.tools.StorageTool random-uuid failed"
        mv "$cluster_id_file.tmp" "$cluster_id_file"
    fi
    [[ -f $kafka_dir/data/meta.properties ]] && return
    local log=$kafka_dir/logs/format.log
    "$java" -cp "$tools_classpath" kafka.tools.StorageTool format \
        --cluster-id "$(cat "$cluster_id_file")" --config "$kafka_dir/server.properties" >"$log" 2>&1 || {
        cat "$log" >&2
        die "formatting Kafka storage in $kafka_dir/data failed"
    }
}

kafka_log_tail() {
    local file
    for file in "$kafka_dir/logs/server.log" "$kafka_dir/kafka.out"; do
        [[ -s $file ]] || continue
        echo "--- last lines of $file" >&2
        tail -n 30 "$file" >&2
    done
}

kafka_start() {
    local pid
    if pid=$(owned_pid "$kafka_dir/kafka.pid"); then
        note "kafka already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
        return
    fi
    need_java 17
    ensure_maven_jars "kafka-$kafka_version" "$kafka_src"
    local port
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        ! port_in_use "$port" || die "port $port on 127.0.0.1 is taken by another process; stop it, or remove $ports_file to pick new ports"
    done
    write_server_properties
    format_kafka_storage
    stack_jmx_agent kafka
    spawn_detached "$kafka_dir/kafka.pid" "$kafka_dir/kafka.out" "$kafka_dir" \
        "$java" "${jmx_agent_opts[@]}" -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:-UsePerfData \
        -Djava.awt.headless=true -Djava.io.tmpdir="$kafka_dir/tmp" \
        -Dkafka.logs.dir="$kafka_dir/logs" -Dlog4j2.configurationFile="$kafka_src/log4j2-broker.properties" \
        -cp "$jars/*" kafka.Kafka "$kafka_dir/server.properties"
    pid=$(owned_pid "$kafka_dir/kafka.pid") || { kafka_log_tail; die "kafka exited at once"; }
    # Ready means a metadata answer listing a live broker, so topics can be created at once.
    if ! "$java" -Xmx128m -XX:-UsePerfData -Dmhfz.log.level=ERROR -cp "$tools_classpath" "$kafka_src/Ready.java" \
        "127.0.0.1:$KAFKA_PORT" "$pid" "$start_timeout"; then
        kafka_log_tail
        kafka_stop
        die "kafka did not become ready on 127.0.0.1:$KAFKA_PORT within ${start_timeout}s (log tail above)"
    fi
    note "kafka $kafka_version running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
}

kafka_stop() {
    local pid
    if pid=$(owned_pid "$kafka_dir/kafka.pid"); then
        # SIGTERM: the broker shuts down in order and flushes its logs.
        terminate kafka "$pid" TERM
        note "kafka stopped"
    fi
    rm -f "$kafka_dir/kafka.pid"
}
