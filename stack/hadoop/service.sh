# shellcheck shell=bash
# Hadoop for scripts/stack: HDFS (NameNode, DataNode, WebHDFS) and YARN (ResourceManager,
# NodeManager, MapReduce JobHistoryServer) on 127.0.0.1, one JVM per daemon, each started by class
# name from the Apache Hadoop jars fetched from Maven Central (stack/hadoop/pom.xml), never
# through Hadoop's shell scripts. Sourced by scripts/stack, which provides note, die, owned_pid,
# terminate, port_in_use, need_java, ensure_maven_jars, spawn_detached, $repo, $state, $cache,
# $java, $start_timeout and the port variables named in hadoop_ports. See stack/README.md
# (section Hadoop); stack/hadoop/conf holds the configuration templates.

hadoop_ports="HDFS_NAMENODE_PORT HDFS_NAMENODE_HTTP_PORT HDFS_DATANODE_PORT HDFS_DATANODE_HTTP_PORT \
HDFS_DATANODE_IPC_PORT YARN_RM_PORT YARN_RM_SCHEDULER_PORT YARN_RM_TRACKER_PORT YARN_RM_ADMIN_PORT \
YARN_RM_WEB_PORT YARN_NM_PORT YARN_NM_LOCALIZER_PORT YARN_NM_WEB_PORT MR_SHUFFLE_PORT MR_HISTORY_PORT \
MR_HISTORY_WEB_PORT MR_HISTORY_ADMIN_PORT"

# Daemons in start order (stopped in reverse): name, main class, heap.
hadoop_daemons=(
    "namenode org.apache.hadoop.hdfs.server.namenode.NameNode 256m"
    "datanode org.apache.hadoop.hdfs.server.datanode.DataNode 192m"
    "resourcemanager org.apache.hadoop.yarn.server.resourcemanager.ResourceManager 384m"
    "nodemanager org.apache.hadoop.yarn.server.nodemanager.NodeManager 256m"
    "historyserver org.apache.hadoop.mapreduce.v2.hs.JobHistoryServer 256m"
)

# What the NodeManager offers YARN: a 512 MB ApplicationMaster and seven 384 MB tasks.
hadoop_nm_memory_mb=3200
hadoop_nm_vcores=8

# Options of every Hadoop JVM, the YARN containers' included (mapred-site.xml): no
# /tmp/hsperfdata_<user> files; a small collector for small heaps on two shared cores; and on
# Java 17, Guice (the YARN and MapReduce web apps) defines classes through java.lang reflection.
hadoop_jvm_opts="-XX:+UseSerialGC -XX:-UsePerfData -Djava.net.preferIPv4Stack=true --add-opens=java.base/java.lang=ALL-UNNAMED"

hadoop_src=$repo/stack/hadoop
hadoop_version=$(sed -n 's:.*<hadoop.version>\(.*\)</hadoop.version>.*:\1:p' "$hadoop_src/pom.xml")
[[ -n $hadoop_version ]] || die "no <hadoop.version> in $hadoop_src/pom.xml"
# Named after the pom's content too: any change to it fetches afresh.
hadoop_jars_name=hadoop-$hadoop_version-$(sha256sum "$hadoop_src/pom.xml" | cut -c1-12)
hadoop_jars=$cache/$hadoop_jars_name/jars
hadoop_dir=$state/hadoop
hadoop_conf=$hadoop_dir/conf
hadoop_classpath="$hadoop_conf:$hadoop_jars/*"
hadoop_streaming_jar=$hadoop_jars/hadoop-streaming-$hadoop_version.jar
# Daemons also load stack/hadoop/web: the HDFS web app directories the Maven jars lack.
hadoop_daemon_classpath="$hadoop_conf:$hadoop_src/web:$hadoop_jars/*"

hadoop_pidfile() { echo "$hadoop_dir/$1.pid"; }

# Writes each template of stack/hadoop/conf into $hadoop_conf with every @NAME@ replaced.
hadoop_write_conf() {
    local -A values=(
        [HADOOP_STATE]=$hadoop_dir
        [HADOOP_CONF_DIR]=$hadoop_conf
        [HADOOP_JARS]=$hadoop_jars
        [HADOOP_USER]=$(id -un)
        [HADOOP_GROUP]=$(id -gn)
        [HADOOP_JVM_OPTS]="$hadoop_jvm_opts"
        [YARN_NM_MEMORY_MB]=$hadoop_nm_memory_mb
        [YARN_NM_VCORES]=$hadoop_nm_vcores
    )
    local name template text
    for name in $hadoop_ports; do
        values[$name]=${!name}
    done
    mkdir -p "$hadoop_conf"
    for template in "$hadoop_src"/conf/*; do
        text=$(<"$template")
        for name in "${!values[@]}"; do
            text=${text//@$name@/${values[$name]}}
        done
        [[ $text != *@[A-Z_]*@* ]] ||
            die "$template: unknown placeholder $(grep -o '@[A-Z_]*@' <<<"$text" | head -n 1)"
        printf '%s\n' "$text" >"$hadoop_conf/${template##*/}.tmp"
        mv "$hadoop_conf/${template##*/}.tmp" "$hadoop_conf/${template##*/}"
    done
}

# The java command line of a daemon (or of the NameNode's one-off format).
hadoop_java() {
    local name=$1 class=$2 heap=$3
    shift 3
    echo "$java" "-Xms$heap" "-Xmx$heap" $hadoop_jvm_opts "-Djava.io.tmpdir=$hadoop_dir/tmp" \
        "-Dhadoop.log.dir=$hadoop_dir/logs" "-Dhadoop.log.file=$name.log" \
        "-Dhadoop.root.logger=INFO,RFA" "-Dhadoop.id.str=$name" -cp "$hadoop_daemon_classpath" "$class" "$@"
}

# The NameNode's metadata is formatted once: only while no VERSION file records a namespace.
hadoop_format_namenode() {
    local name_dir=$hadoop_dir/dfs/name
    [[ -f $name_dir/current/VERSION ]] && return
    rm -rf "$name_dir"
    local log=$hadoop_dir/logs/format.log cmd
    # shellcheck disable=SC2207 # paths hold no spaces (checked in hadoop_start)
    cmd=($(hadoop_java format org.apache.hadoop.hdfs.server.namenode.NameNode 256m -format -nonInteractive -clusterId mhfz))
    "${cmd[@]}" >"$log" 2>&1 </dev/null || {
        tail -n 30 "$log" >&2
        die "formatting the HDFS NameNode in $name_dir failed (log: $log)"
    }
}

hadoop_log_tail() {
    local name file
    for name in "$@"; do
        for file in "$hadoop_dir/logs/$name.log" "$hadoop_dir/logs/$name.out"; do
            [[ -s $file ]] || continue
            echo "--- last lines of $file" >&2
            grep -E 'ERROR|FATAL|Exception|^\s+at |Caused by' "$file" | tail -n 20 >&2
            tail -n 10 "$file" >&2
        done
    done
}

# Starts the daemons among NAME... not already running; their pids (all of them) go to
# hadoop_pids.
hadoop_spawn() {
    local entry name class heap pid cmd
    hadoop_pids=()
    for entry in "${hadoop_daemons[@]}"; do
        read -r name class heap <<<"$entry"
        [[ " $* " == *" $name "* ]] || continue
        if ! pid=$(owned_pid "$(hadoop_pidfile "$name")"); then
            # shellcheck disable=SC2207
            cmd=($(hadoop_java "$name" "$class" "$heap"))
            stack_jmx_agent "$name"
            cmd=("${cmd[0]}" "${jmx_agent_opts[@]}" "${cmd[@]:1}")
            # The NodeManager hands JAVA_HOME on to the containers' launch scripts.
            JAVA_HOME=$hadoop_java_home spawn_detached "$(hadoop_pidfile "$name")" \
                "$hadoop_dir/logs/$name.out" "$hadoop_dir" "${cmd[@]}"
            pid=$(owned_pid "$(hadoop_pidfile "$name")") || {
                hadoop_log_tail "$name"
                die "hadoop $name did not start"
            }
        fi
        hadoop_pids+=("$pid")
    done
}

hadoop_start() {
    local running=0 entry name
    for entry in "${hadoop_daemons[@]}"; do
        read -r name _ <<<"$entry"
        owned_pid "$(hadoop_pidfile "$name")" >/dev/null && ((++running))
    done
    if ((running == ${#hadoop_daemons[@]})); then
        note "hadoop already running on 127.0.0.1: HDFS $HDFS_NAMENODE_PORT, YARN $YARN_RM_PORT"
        return
    fi
    need_java 17
    [[ $state != *[[:space:]]* && $cache != *[[:space:]]* ]] ||
        die "Hadoop needs state and cache paths without spaces ($state, $cache)"
    command -v python3 >/dev/null || die "python3 is needed to check that Hadoop answers"
    ensure_maven_jars "$hadoop_jars_name" "$hadoop_src"
    [[ -f $hadoop_streaming_jar ]] || die "$hadoop_streaming_jar is missing from the fetched jars"
    hadoop_java_home=$(dirname "$(dirname "$(readlink -f "$(command -v "$java")")")")
    if ((running == 0)); then
        local port
        for port in $hadoop_ports; do
            ! port_in_use "${!port}" ||
                die "port ${!port} ($port) on 127.0.0.1 is taken by another process; stop it, or remove $state/ports to pick new ports"
        done
    fi
    mkdir -p "$hadoop_dir/logs" "$hadoop_dir/tmp" "$hadoop_dir/yarn/local" "$hadoop_dir/yarn/logs"
    hadoop_write_conf
    hadoop_format_namenode

    local started=$SECONDS
    hadoop_spawn namenode datanode
    python3 "$hadoop_src/ready.py" hdfs "$HDFS_NAMENODE_HTTP_PORT" "$start_timeout" "${hadoop_pids[@]}" || {
        hadoop_log_tail namenode datanode
        hadoop_stop
        die "HDFS did not become ready on 127.0.0.1:$HDFS_NAMENODE_PORT (log tails above; logs in $hadoop_dir/logs)"
    }
    # YARN and the history server come after HDFS: the history server creates its directories there.
    hadoop_spawn resourcemanager nodemanager historyserver
    python3 "$hadoop_src/ready.py" yarn "$YARN_RM_WEB_PORT" "$MR_HISTORY_WEB_PORT" "$start_timeout" "${hadoop_pids[@]}" || {
        hadoop_log_tail resourcemanager nodemanager historyserver
        hadoop_stop
        die "YARN did not become ready on 127.0.0.1:$YARN_RM_PORT (log tails above; logs in $hadoop_dir/logs)"
    }
    note "hadoop $hadoop_version running on 127.0.0.1: HDFS $HDFS_NAMENODE_PORT, WebHDFS $HDFS_NAMENODE_HTTP_PORT, YARN $YARN_RM_PORT ($((SECONDS - started)) s)"
}

hadoop_stop() {
    local index entry name pid
    for ((index = ${#hadoop_daemons[@]} - 1; index >= 0; index--)); do
        read -r name _ <<<"${hadoop_daemons[index]}"
        if pid=$(owned_pid "$(hadoop_pidfile "$name")"); then
            # SIGTERM: each daemon's shutdown hook stops its services (the NodeManager its containers).
            terminate "hadoop $name" "$pid" TERM
        fi
        rm -f "$(hadoop_pidfile "$name")"
    done
    # Whatever a container left (a task's child process) still works inside the NodeManager's dirs.
    local dir cwd
    for dir in /proc/[0-9]*; do
        cwd=$(readlink "$dir/cwd" 2>/dev/null) || continue
        [[ $cwd == "$hadoop_dir"/yarn/* ]] || continue
        pid=${dir#/proc/}
        note "leftover YARN container process $pid ($(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null | cut -c1-100)): SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    done
}

hadoop_status() {
    local entry name pid pids=() down=()
    for entry in "${hadoop_daemons[@]}"; do
        read -r name _ <<<"$entry"
        if pid=$(owned_pid "$(hadoop_pidfile "$name")"); then
            pids+=("$name $pid")
        else
            down+=("$name")
        fi
    done
    if ((${#down[@]} == 0)) && port_in_use "$HDFS_NAMENODE_PORT" && port_in_use "$YARN_RM_PORT"; then
        local IFS=,
        echo "hadoop: running (pid ${pids[*]}) on 127.0.0.1:$HDFS_NAMENODE_PORT (HDFS), :$YARN_RM_PORT (YARN)"
        return 0
    fi
    if ((${#pids[@]})); then
        echo "hadoop: stopped (not running: ${down[*]})"
    else
        echo "hadoop: stopped"
    fi
    return 1
}

hadoop_env() {
    printf 'export %s=%q\n' \
        MHFZ_HADOOP_VERSION "$hadoop_version" \
        MHFZ_HADOOP_CONF_DIR "$hadoop_conf" \
        MHFZ_HADOOP_CLASSPATH "$hadoop_classpath" \
        MHFZ_HADOOP_STREAMING_JAR "$hadoop_streaming_jar" \
        MHFZ_HDFS_URI "hdfs://127.0.0.1:$HDFS_NAMENODE_PORT" \
        MHFZ_HDFS_USER "$(id -un)" \
        MHFZ_WEBHDFS_URL "http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT" \
        MHFZ_YARN_RM "127.0.0.1:$YARN_RM_PORT" \
        MHFZ_YARN_RM_WEB_URL "http://127.0.0.1:$YARN_RM_WEB_PORT" \
        MHFZ_MR_HISTORY_WEB_URL "http://127.0.0.1:$MR_HISTORY_WEB_PORT"
}
