#!/usr/bin/env bash
# Stops the peers' broker prepare.sh started (bench/peers/topic.sh stop).
exec "$(cd "$(dirname "$0")" && pwd)/../topic.sh" stop
