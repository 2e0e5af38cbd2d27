#!/usr/bin/env python3
"""Waits until a stage of the Hadoop stack really answers, through the daemons' own HTTP APIs.

  ready.py hdfs NAMENODE_HTTP_PORT TIMEOUT PID...
      the NameNode is active, out of safe mode, and one DataNode is live with free space;
  ready.py yarn RM_WEB_PORT HISTORY_WEB_PORT TIMEOUT PID...
      the ResourceManager is started with one healthy NodeManager, and the JobHistoryServer answers.

Exits 0 when ready; 1 with the reason on stderr when a PID dies or TIMEOUT seconds pass.
"""
import json
import os
import sys
import time
import urllib.request


def get_json(port, path):
    url = f"http://127.0.0.1:{port}{path}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def jmx(port, query):
    beans = get_json(port, f"/jmx?qry={query}")["beans"]
    return beans[0] if beans else {}


def hdfs_waiting(port):
    """What HDFS still lacks, or None when ready."""
    info = jmx(port, "Hadoop:service=NameNode,name=NameNodeStatus")
    if info.get("State") != "active":
        return f"NameNode state {info.get('State')!r}"
    system = jmx(port, "Hadoop:service=NameNode,name=FSNamesystemState")
    if system.get("NumLiveDataNodes", 0) < 1:
        return "no live DataNode"
    if system.get("CapacityRemaining", 0) <= 0:
        return "the DataNode reports no free space"
    safe_mode = jmx(port, "Hadoop:service=NameNode,name=NameNodeInfo").get("Safemode")
    if safe_mode:
        return f"NameNode in safe mode: {safe_mode}"
    return None


def yarn_waiting(rm_port, history_port):
    cluster = get_json(rm_port, "/ws/v1/cluster/info")["clusterInfo"]
    if cluster.get("state") != "STARTED":
        return f"ResourceManager state {cluster.get('state')!r}"
    metrics = get_json(rm_port, "/ws/v1/cluster/metrics")["clusterMetrics"]
    if metrics.get("activeNodes", 0) < 1:
        return "no healthy NodeManager registered"
    if metrics.get("totalMB", 0) <= 0:
        return "the NodeManager offers no memory"
    get_json(history_port, "/ws/v1/history/info")
    return None


def main(argv):
    if len(argv) >= 4 and argv[1] == "hdfs":
        check, rest = (lambda: hdfs_waiting(argv[2])), argv[3:]
    elif len(argv) >= 5 and argv[1] == "yarn":
        check, rest = (lambda: yarn_waiting(argv[2], argv[3])), argv[4:]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    deadline = time.monotonic() + float(rest[0])
    pids = [int(pid) for pid in rest[1:]]
    waiting = "no answer yet"
    while True:
        for pid in pids:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                print(f"process {pid} ended while {waiting}", file=sys.stderr)
                return 1
        try:
            waiting = check()
        except (OSError, ValueError, KeyError, IndexError) as error:
            waiting = f"no answer yet ({error})"
        if waiting is None:
            return 0
        if time.monotonic() > deadline:
            print(f"timed out: {waiting}", file=sys.stderr)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
