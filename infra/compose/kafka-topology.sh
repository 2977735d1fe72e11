# Sourced by the scripts beside it: the Kafka quorum of the mode Compose runs, the one place
# that maps the mode to brokers. docker-compose.yml passes the profiles it runs with
# (COMPOSE_PROFILES) into the containers; with `cluster` among them there are three nodes,
# kafka, kafka-2 and kafka-3 (node ids 1, 2, 3), otherwise the one node kafka.
case ",${COMPOSE_PROFILES:-}," in
  *,cluster,*)
    KAFKA_QUORUM_SIZE=3
    KAFKA_QUORUM_VOTERS=1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093
    KAFKA_QUORUM_BOOTSTRAP=kafka:9092,kafka-2:9092,kafka-3:9092
    # Every internal topic on all three; a write waits for two, so one broker may be down.
    KAFKA_QUORUM_REPLICATION=3
    KAFKA_QUORUM_MIN_ISR=2
    ;;
  *)
    KAFKA_QUORUM_SIZE=1
    KAFKA_QUORUM_VOTERS=1@kafka:9093
    KAFKA_QUORUM_BOOTSTRAP=kafka:9092
    KAFKA_QUORUM_REPLICATION=1
    KAFKA_QUORUM_MIN_ISR=1
    ;;
esac
