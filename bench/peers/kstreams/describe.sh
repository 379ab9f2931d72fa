#!/usr/bin/env bash
# One line for the peers report: what the timed Kafka Streams run is.
here="$(cd "$(dirname "$0")" && pwd)"
ks=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
java=$(java -version 2>&1 | head -1 | sed 's/.*"\(.*\)".*/\1/')
echo "Kafka Streams $ks (Processor API, exactly_once_v2, Java $java), ${KSTREAMS_PEER_ARGS:---stores memory --threads 1}, ${KSTREAMS_PEER_PARTITIONS:-1} partition(s) on a local broker 4.1.1; the input file is loaded into the topic untimed (bench/peers/topic.sh, replyrate load), or with --source topic is the topic every engine reads; the timed run includes JVM start-up, the Streams app from the topic's start to its end offsets at start, and its changelog and transaction traffic"
