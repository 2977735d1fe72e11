#!/bin/sh
# A compose broker, configured like infra/local/kafka.py: a KRaft node that is broker and
# controller, SASL/SCRAM-SHA-512 for clients (and for itself, as `admin`), SASL/PLAIN on the
# controller listener, the StandardAuthorizer denying whatever no ACL allows. The passwords come
# from the environment (docker-compose.yml requires them); `admin`'s SCRAM credential is
# written at format time.
#
# Which node: KAFKA_NODE_ID, KAFKA_ADVERTISED_HOST (its service name) and KAFKA_EXTERNAL_PORT
# (the host's port), defaulting to node 1, `kafka`, 9094. Which quorum: kafka-topology.sh, from
# the profiles Compose runs with (one node, or three with `cluster`).
# KAFKA_START_DRY_RUN=1 prints the broker's configuration and exits, touching nothing;
# SHAOBAO_COMPOSE_ROOT stands for the container's / (tests run the script on a fake Kafka).
set -eu
: "${KAFKA_ADMIN_PASSWORD:?}" "${KAFKA_CONTROLLER_PASSWORD:?}"
. "$(dirname "$0")/kafka-topology.sh"
NODE_ID=${KAFKA_NODE_ID:-1}
HOST=${KAFKA_ADVERTISED_HOST:-kafka}
EXTERNAL_PORT=${KAFKA_EXTERNAL_PORT:-9094}
ROOT=${SHAOBAO_COMPOSE_ROOT:-}
CONFIG=$ROOT/tmp/server.properties
DATA=$ROOT/var/lib/kafka/data

# `--profile cluster` starts kafka-2 and kafka-3 but reaches no container's environment, so
# `kafka` would stay a quorum of one: a node outside the quorum stops here, saying why.
case ",$KAFKA_QUORUM_VOTERS," in
  *",$NODE_ID@$HOST:9093,"*) ;;
  *)
    echo "kafka-start: node $NODE_ID ($HOST) is not a voter of $KAFKA_QUORUM_VOTERS;" \
      "start the three brokers with COMPOSE_PROFILES=cluster, not --profile cluster" >&2
    exit 64
    ;;
esac

server_properties() {
  cat <<PROPERTIES
process.roles=broker,controller
node.id=${NODE_ID}
controller.quorum.voters=${KAFKA_QUORUM_VOTERS}
listeners=CLIENT://:9092,CONTROLLER://:9093,EXTERNAL://:${EXTERNAL_PORT}
advertised.listeners=CLIENT://${HOST}:9092,EXTERNAL://127.0.0.1:${EXTERNAL_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT,EXTERNAL:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="${KAFKA_CONTROLLER_PASSWORD}" user_controller="${KAFKA_CONTROLLER_PASSWORD}";
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
listener.name.external.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:controller
allow.everyone.if.no.acl.found=false
log.dirs=${DATA}
num.partitions=6
offsets.topic.replication.factor=${KAFKA_QUORUM_REPLICATION}
transaction.state.log.replication.factor=${KAFKA_QUORUM_REPLICATION}
transaction.state.log.min.isr=${KAFKA_QUORUM_MIN_ISR}
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPERTIES
  # A single node keeps Kafka's defaults for these (1 and 1), as it always has.
  if [ "$KAFKA_QUORUM_REPLICATION" -gt 1 ]; then
    echo "default.replication.factor=${KAFKA_QUORUM_REPLICATION}"
    echo "min.insync.replicas=${KAFKA_QUORUM_MIN_ISR}"
  fi
}

if [ "${KAFKA_START_DRY_RUN:-}" = 1 ]; then
  server_properties
  exit 0
fi
umask 077
server_properties > "$CONFIG"
# The healthcheck's client configuration (kafka-health.sh).
cat > "$ROOT/tmp/admin.properties" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
PROPERTIES

# A volume serves the quorum it was formatted for. Switching modes on kept volumes would leave
# single-replica internal topics in a "cluster" (or partitions on brokers that are gone), so
# the node stops instead. Volumes from before this file was written are single-node ones.
QUORUM_FILE="$DATA/shaobao-quorum"
if [ -f "$DATA/meta.properties" ]; then
  formatted_for=$(cat "$QUORUM_FILE" 2>/dev/null || echo 1@kafka:9093)
  if [ "$formatted_for" != "$KAFKA_QUORUM_VOTERS" ]; then
    echo "kafka-start: $DATA was formatted for the quorum $formatted_for, not $KAFKA_QUORUM_VOTERS;" \
      "switching between one and three brokers takes fresh volumes (docker compose down -v deletes them)" >&2
    exit 65
  fi
else
  "$ROOT/opt/kafka/bin/kafka-storage.sh" format -t "${CLUSTER_ID}" -c "$CONFIG" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=${KAFKA_ADMIN_PASSWORD}]"
  echo "$KAFKA_QUORUM_VOTERS" > "$QUORUM_FILE"
fi
exec "$ROOT/opt/kafka/bin/kafka-server-start.sh" "$CONFIG"
