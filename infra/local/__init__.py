"""The real services the project starts itself on a fresh machine: Kafka (KRaft) and PostgreSQL.

`python -m infra.local up|down|status` for a person; `running_services()` for tests and `make run`.
"""

from infra.local.kafka import LocalKafka, LocalKafkaError, ensure_kafka_jars
from infra.local.postgres import LocalPostgres, LocalPostgresError
from infra.local.services import (
    LocalPorts,
    ServiceEndpoints,
    ServiceUnavailableError,
    default_state_dir,
    running_services,
    services_down,
    services_status,
    services_up,
)

__all__ = [
    "LocalKafka",
    "LocalKafkaError",
    "LocalPorts",
    "LocalPostgres",
    "LocalPostgresError",
    "ServiceEndpoints",
    "ServiceUnavailableError",
    "default_state_dir",
    "ensure_kafka_jars",
    "running_services",
    "services_down",
    "services_status",
    "services_up",
]
