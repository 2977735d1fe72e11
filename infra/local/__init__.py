"""The real services the project starts itself on a fresh machine: Kafka (KRaft) and PostgreSQL.

`python -m infra.local up|down|status` for a person; `running_services()` for tests and `make run`.
"""

from infra.local.kafka import (
    LocalKafka,
    LocalKafkaCluster,
    LocalKafkaError,
    ensure_kafka_jars,
    partition_leader,
)
from infra.local.postgres import LocalPostgres, LocalPostgresError
from infra.local.services import (
    LocalPorts,
    ServiceEndpoints,
    ServiceUnavailableError,
    brokers_wanted,
    default_state_dir,
    local_kafka_cluster,
    local_postgres,
    running_services,
    services_down,
    services_status,
    services_up,
)

__all__ = [
    "LocalKafka",
    "LocalKafkaCluster",
    "LocalKafkaError",
    "LocalPorts",
    "LocalPostgres",
    "LocalPostgresError",
    "ServiceEndpoints",
    "ServiceUnavailableError",
    "brokers_wanted",
    "default_state_dir",
    "ensure_kafka_jars",
    "local_kafka_cluster",
    "local_postgres",
    "partition_leader",
    "running_services",
    "services_down",
    "services_status",
    "services_up",
]
