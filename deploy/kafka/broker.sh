#!/usr/bin/env bash
# broker.sh: a real single-node Apache Kafka broker (KRaft, 127.0.0.1) for
# development and the integration tests. Fetched from Maven Central with
# Maven (pom.xml beside this script); no Docker, no download of a tarball.
#
#   deploy/kafka/broker.sh fetch                 download the broker's jars (cached)
#   deploy/kafka/broker.sh start                 format storage if new, start in the
#                                                background, wait until it serves
#   deploy/kafka/broker.sh stop                  stop it (SIGTERM, then SIGKILL after 30 s)
#   deploy/kafka/broker.sh status                running or not; exit 0 when running
#   deploy/kafka/broker.sh topic NAME PARTITIONS create a topic unless it exists
#   deploy/kafka/broker.sh bootstrap             print HOST:PORT for --brokers
#   deploy/kafka/broker.sh reset                 stop, and delete its data
#
# Every command is idempotent. Settings (environment):
#   RR_KAFKA_PORT   client port (default 19092; the controller uses PORT+1)
#   RR_KAFKA_STATE  data, logs and pid file (default build/kafka in the repository)
#   RR_KAFKA_CACHE  the jars (default ~/.cache/replyrate/kafka-VERSION)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
port=${RR_KAFKA_PORT:-19092}
cport=$((port + 1))
state=${RR_KAFKA_STATE:-$repo/build/kafka}
cache=${RR_KAFKA_CACHE:-$HOME/.cache/replyrate/kafka-$version}
libs=$cache/libs
pidfile=$state/broker.pid

say() { echo "broker.sh: $*" >&2; }
die() { say "$*"; exit 1; }

fetch() {
  [ -f "$libs/.complete" ] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is not installed: deploy/setup.sh --deps installs it"
  command -v java >/dev/null || die "Java is not installed: deploy/setup.sh --deps installs it"
  say "fetching Apache Kafka $version from Maven Central into $libs"
  rm -rf "$libs"
  mkdir -p "$libs"
  (cd "$here" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$libs") || die "mvn could not fetch kafka_2.13:$version (see above)"
  ls "$libs"/kafka_2.13-"$version".jar >/dev/null 2>&1 || die "no kafka_2.13-$version.jar in $libs"
  touch "$libs/.complete"
}

java_run() { # main class, args...
  java -Xms128m -Xmx512m -Dlog4j.configuration="file:$state/log4j.properties" \
    -cp "$libs/*" "$@"
}

write_config() {
  mkdir -p "$state/data" "$state/logs"
  cat >"$state/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$state/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
EOF
  cat >"$state/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$state/logs/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

serving() { # the client port accepts connections
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

start() {
  fetch
  if running; then
    say "already running (pid $(cat "$pidfile")) on 127.0.0.1:$port"
    return 0
  fi
  write_config
  if [ ! -f "$state/data/meta.properties" ]; then
    local id
    id=$(java_run kafka.tools.StorageTool random-uuid)
    java_run kafka.tools.StorageTool format --standalone -t "$id" \
      -c "$state/server.properties" >"$state/logs/format.log" 2>&1 ||
      { cat "$state/logs/format.log" >&2; die "formatting storage failed"; }
  fi
  say "starting Kafka $version on 127.0.0.1:$port (logs: $state/logs)"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Dlog4j.configuration="file:$state/log4j.properties" \
    -cp "$libs/*" kafka.Kafka "$state/server.properties" >"$state/logs/stdout.log" 2>&1 &
  echo $! >"$pidfile"
  local i
  for i in $(seq 1 120); do
    if ! running; then
      tail -n 30 "$state/logs/stdout.log" "$state/logs/server.log" >&2 2>/dev/null || true
      die "the broker exited during start"
    fi
    if serving && grep -q "Kafka Server started" "$state/logs/server.log" 2>/dev/null; then
      say "ready after ${i}x0.5 s"
      return 0
    fi
    sleep 0.5
  done
  die "not ready after 60 s (logs: $state/logs)"
}

stop() {
  running || { rm -f "$pidfile"; return 0; }
  local pid i
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; say "stopped"; return 0; }
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  say "killed after 30 s"
}

topic() { # name partitions
  [ $# -eq 2 ] || die "usage: broker.sh topic NAME PARTITIONS"
  running || die "not running: broker.sh start first"
  java_run org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" \
    --create --if-not-exists --topic "$1" --partitions "$2" --replication-factor 1 >/dev/null
}

cmd=${1:-}
shift || true
case "$cmd" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running (pid $(cat "$pidfile")) on 127.0.0.1:$port"; else echo "not running"; exit 1; fi ;;
  topic) write_config >/dev/null; topic "$@" ;;
  bootstrap) echo "127.0.0.1:$port" ;;
  reset) stop; rm -rf "$state" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
