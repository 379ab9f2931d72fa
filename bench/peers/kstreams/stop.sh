#!/usr/bin/env bash
# Stops the broker prepare.sh started (its data stays in .kafka; delete it to drop the topics).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
RR_KAFKA_PORT=${KSTREAMS_PEER_PORT:-19792} RR_KAFKA_STATE=$here/.kafka "$here/../../../deploy/kafka/broker.sh" stop
