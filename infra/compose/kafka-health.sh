#!/bin/sh
# The brokers' healthcheck: healthy once every broker of the quorum answers the Kafka protocol
# as admin, not merely an open port. Whatever waits for `kafka` (the principals, then the
# processes) thus finds the whole cluster, and the topics it creates get all three replicas.
# SHAOBAO_COMPOSE_ROOT stands for the container's / (tests run the script on a fake Kafka).
set -eu
ROOT=${SHAOBAO_COMPOSE_ROOT:-}
. "$(dirname "$0")/kafka-topology.sh"
# One "host:port (id: N rack: …) -> (" line per broker that answered.
answered=$("$ROOT/opt/kafka/bin/kafka-broker-api-versions.sh" --bootstrap-server \
  "${KAFKA_ADVERTISED_HOST:-kafka}:9092" --command-config "$ROOT/tmp/admin.properties" 2>/dev/null \
  | grep -c ' -> (' || true)
[ "$answered" -ge "$KAFKA_QUORUM_SIZE" ]
