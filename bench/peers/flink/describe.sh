#!/usr/bin/env bash
# One line for the peers report: what the timed Flink run is.
here="$(cd "$(dirname "$0")" && pwd)"
flink=$(sed -n 's:.*<flink.version>\(.*\)</flink.version>.*:\1:p' "$here/pom.xml")
java=$(java -version 2>&1 | head -1 | sed 's/.*"\(.*\)".*/\1/')
echo "Apache Flink $flink (DataStream API, local MiniCluster, Java $java), ${FLINK_PEER_ARGS:---parallelism 1 --state hashmap --watermarks event}; the timed run includes JVM and MiniCluster start-up"
