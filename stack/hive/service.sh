# shellcheck shell=bash
# Apache Hive for scripts/stack: one HiveServer2 (org.apache.hive.service.server.HiveServer2) with
# an embedded metastore on an embedded Derby database, from the Apache Hive 4.0.1 jars on Maven
# Central (stack/hive/pom.xml), on 127.0.0.1. The warehouse lives on the stack's HDFS when the
# hadoop service is selected (else under the state dir). Sourced by scripts/stack, which provides
# note, die, alive, owned_pid, terminate, port_in_use, need_java, ensure_maven_jars,
# spawn_detached, $repo, $state, $cache, $java, $start_timeout, $services and the port variables
# named in hive_ports. See stack/README.md (section Hive).

hive_ports="HIVE_PORT"

hive_src=$repo/stack/hive
hive_version=$(sed -n 's:.*<hive.version>\(.*\)</hive.version>.*:\1:p' "$hive_src/pom.xml")
[[ -n $hive_version ]] || die "no <hive.version> in $hive_src/pom.xml"
# The cache directory is named after the pom's content too: any change to it fetches afresh.
hive_jars_name=hive-$hive_version-$(sha256sum "$hive_src/pom.xml" | cut -c1-12)
hive_jars=$cache/$hive_jars_name/jars
hive_dir=$state/hive
hive_beeline=$hive_dir/bin/beeline

# Java 17 refuses the reflection Hive 4.0.1 (built for Java 8) does on JDK internals: Kryo
# serialising query plans, DataNucleus, Hadoop's local job runner.
hive_add_opens() {
    local package
    for package in java.lang java.lang.reflect java.lang.invoke java.util java.util.concurrent \
        java.util.concurrent.atomic java.util.regex java.io java.nio java.net java.text java.time \
        java.math sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
        printf -- '--add-opens=java.base/%s=ALL-UNNAMED\n' "$package"
    done
    printf -- '--add-opens=java.sql/java.sql=ALL-UNNAMED\n'
}

# The warehouse root: on HDFS when this stack runs it (hadoop starts before hive).
hive_warehouse() {
    if [[ " ${services[*]} " == *" hadoop "* ]]; then
        local MHFZ_HDFS_URI=
        eval "$(hadoop_env | grep '^export MHFZ_HDFS_URI=')"
        [[ -n $MHFZ_HDFS_URI ]] || die "the hadoop service exports no MHFZ_HDFS_URI"
        echo "$MHFZ_HDFS_URI/user/hive/warehouse"
    else
        echo "file://$hive_dir/warehouse"
    fi
}

hive_env() {
    printf 'export %s=%q\n' \
        MHFZ_HIVE_VERSION "$hive_version" \
        MHFZ_HIVE_JDBC_URL "jdbc:hive2://127.0.0.1:$HIVE_PORT/default" \
        MHFZ_BEELINE "$hive_beeline" \
        MHFZ_HIVE_WAREHOUSE "$(hive_warehouse)"
}

hive_status() {
    local pid
    if pid=$(owned_pid "$hive_dir/hiveserver2.pid") && port_in_use "$HIVE_PORT"; then
        echo "hive: running (pid $pid) on 127.0.0.1:$HIVE_PORT"
    else
        echo "hive: stopped"
        return 1
    fi
}

# HiveServer2's own metrics (sessions, operations, queries) as MBeans for the JMX exporter agent,
# while the monitoring service is selected; JMX only (the default reporters also write a JSON file
# to /tmp).
hive_metrics_conf() {
    [[ " ${services[*]} " == *" monitoring "* ]] || return 0
    echo '  <property><name>hive.server2.metrics.enabled</name><value>true</value></property>'
    echo '  <property><name>hive.service.metrics.reporter</name><value>JMX</value></property>'
}

# hive-site.xml for the server, written on every start from the current port and warehouse.
hive_write_conf() {
    local warehouse=$1
    mkdir -p "$hive_dir/conf"
    cat >"$hive_dir/conf/hive-site.xml.tmp" <<XML
<?xml version="1.0"?>
<!-- Written by scripts/stack (stack/hive/service.sh) on every start; edits are lost. -->
<configuration>
  <!-- Embedded metastore (no metastore service) on an embedded Derby database; DataNucleus
       creates the schema on first use. -->
  <property><name>hive.metastore.uris</name><value></value></property>
  <property><name>javax.jdo.option.ConnectionURL</name><value>jdbc:derby:;databaseName=$hive_dir/metastore_db;create=true</value></property>
  <property><name>javax.jdo.option.ConnectionDriverName</name><value>org.apache.derby.jdbc.EmbeddedDriver</value></property>
  <property><name>hive.metastore.schema.verification</name><value>false</value></property>
  <property><name>datanucleus.schema.autoCreateAll</name><value>true</value></property>
  <property><name>hive.metastore.warehouse.dir</name><value>$warehouse</value></property>
  <property><name>hive.metastore.warehouse.external.dir</name><value>$warehouse/external</value></property>
  <property><name>hive.metastore.event.db.notification.api.auth</name><value>false</value></property>
  <property><name>metastore.housekeeping.threads.on</name><value>false</value></property>

  <!-- HiveServer2: binary Thrift on 127.0.0.1 only, no web UI, queries run as this user. -->
  <property><name>hive.server2.thrift.bind.host</name><value>127.0.0.1</value></property>
  <property><name>hive.server2.thrift.port</name><value>$HIVE_PORT</value></property>
  <property><name>hive.server2.webui.port</name><value>0</value></property>
  <property><name>hive.server2.enable.doAs</name><value>false</value></property>
  <property><name>hive.server2.materializedviews.registry.impl</name><value>DUMMY</value></property>
  <property><name>hive.scheduled.queries.executor.enabled</name><value>false</value></property>
$(hive_metrics_conf)

  <!-- No ZooKeeper, no transactions: plain external tables. -->
  <property><name>hive.support.concurrency</name><value>false</value></property>
  <property><name>hive.txn.manager</name><value>org.apache.hadoop.hive.ql.lockmgr.DummyTxnManager</value></property>
  <property><name>hive.stats.autogather</name><value>false</value></property>

  <!-- Queries needing a job run inside this JVM on Hadoop's local job runner (MapReduce
       engine); the default file system stays local, so scratch data stays under the state dir. -->
  <property><name>hive.execution.engine</name><value>mr</value></property>
  <property><name>mapreduce.framework.name</name><value>local</value></property>
  <property><name>hive.exec.submitviachild</name><value>false</value></property>
  <property><name>hive.exec.submit.local.task.via.child</name><value>false</value></property>
  <property><name>hive.exec.scratchdir</name><value>$hive_dir/scratch</value></property>
  <property><name>hive.exec.local.scratchdir</name><value>$hive_dir/local-scratch</value></property>
  <property><name>hive.downloaded.resources.dir</name><value>$hive_dir/resources</value></property>
  <property><name>hive.querylog.location</name><value>$hive_dir/logs/queries</value></property>
  <property><name>hive.server2.logging.operation.log.location</name><value>$hive_dir/logs/operations</value></property>
  <property><name>mapreduce.jobtracker.staging.root.dir</name><value>$hive_dir/mapred-staging</value></property>
  <property><name>mapreduce.cluster.local.dir</name><value>$hive_dir/mapred-local</value></property>
</configuration>
XML
    mv "$hive_dir/conf/hive-site.xml.tmp" "$hive_dir/conf/hive-site.xml"
}

# MHFZ_BEELINE: the beeline client on the fetched jars; its history and temporary files go under
# the state dir, its logging (warnings only) to stderr.
hive_write_beeline() {
    mkdir -p "$hive_dir/bin" "$hive_dir/beeline-home"
    {
        echo '#!/bin/sh'
        echo '# Written by scripts/stack (stack/hive/service.sh): the beeline client of this stack.'
        printf 'exec %q -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData' "$java"
        printf ' %q' "-Duser.home=$hive_dir/beeline-home" "-Djava.io.tmpdir=$hive_dir/tmp" \
            "-Dlog4j.configurationFile=$hive_src/beeline-log4j2.properties" \
            -cp "$hive_jars/*" org.apache.hive.beeline.BeeLine
        echo ' "$@"'
    } >"$hive_beeline.tmp"
    chmod 755 "$hive_beeline.tmp"
    mv "$hive_beeline.tmp" "$hive_beeline"
}

hive_log_tail() {
    local file
    for file in "$hive_dir/logs/hive.log" "$hive_dir/hiveserver2.out"; do
        [[ -s $file ]] || continue
        echo "--- last lines of $file" >&2
        grep -E 'ERROR|FATAL|Caused by' "$file" | tail -n 15 >&2
        tail -n 15 "$file" >&2
    done
}

# Ready means the Thrift port is open and beeline gets an answer through it (the metastore
# included); false when the server died or the start timeout passed.
hive_wait_ready() {
    local pid=$1 deadline=$((SECONDS + start_timeout))
    until port_in_use "$HIVE_PORT"; do
        alive "$pid" && ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
    until "$hive_beeline" -u "jdbc:hive2://127.0.0.1:$HIVE_PORT/default" -n "$(id -un)" \
        --silent=true -e 'SHOW DATABASES;' >"$hive_dir/logs/ready.out" 2>&1; do
        if ! alive "$pid" || ((SECONDS >= deadline)); then
            cat "$hive_dir/logs/ready.out" >&2
            return 1
        fi
        sleep 1
    done
}

hive_start() {
    local pid
    if pid=$(owned_pid "$hive_dir/hiveserver2.pid"); then
        note "hive already running (pid $pid) on 127.0.0.1:$HIVE_PORT"
        return
    fi
    need_java 17
    ensure_maven_jars "$hive_jars_name" "$hive_src"
    ! port_in_use "$HIVE_PORT" ||
        die "port $HIVE_PORT on 127.0.0.1 is taken by another process; stop it, or remove $state/ports to pick new ports"
    local warehouse started=$SECONDS
    warehouse=$(hive_warehouse)
    mkdir -p "$hive_dir/logs" "$hive_dir/tmp"
    hive_write_conf "$warehouse"
    hive_write_beeline
    local -a opens
    mapfile -t opens < <(hive_add_opens)
    stack_jmx_agent hive
    spawn_detached "$hive_dir/hiveserver2.pid" "$hive_dir/hiveserver2.out" "$hive_dir" \
        "$java" "${jmx_agent_opts[@]}" -Xms256m -Xmx768m -XX:+UseSerialGC -XX:-UsePerfData -Djava.net.preferIPv4Stack=true \
        "${opens[@]}" -Djava.io.tmpdir="$hive_dir/tmp" -Duser.home="$hive_dir" \
        -Dhive.log.dir="$hive_dir/logs" -Dhive.log.file=hive.log \
        -Dderby.stream.error.file="$hive_dir/logs/derby.log" \
        -cp "$hive_dir/conf:$hive_jars/*" org.apache.hive.service.server.HiveServer2
    pid=$(owned_pid "$hive_dir/hiveserver2.pid") || {
        hive_log_tail
        die "hive exited at once"
    }
    if ! hive_wait_ready "$pid"; then
        hive_log_tail
        hive_stop
        die "hive did not answer beeline on 127.0.0.1:$HIVE_PORT within ${start_timeout}s (log tails above; logs in $hive_dir/logs)"
    fi
    note "hive $hive_version (HiveServer2) running (pid $pid) on 127.0.0.1:$HIVE_PORT, warehouse $warehouse ($((SECONDS - started)) s)"
}

hive_stop() {
    local pid
    if pid=$(owned_pid "$hive_dir/hiveserver2.pid"); then
        # SIGTERM: HiveServer2's shutdown hook closes its sessions and the Derby database.
        terminate hive "$pid" TERM
        note "hive stopped"
    fi
    rm -f "$hive_dir/hiveserver2.pid"
}
