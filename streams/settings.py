"""Settings from the environment, read once at start-up by the composition root."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from streams.kafka_access import KafkaAccess

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JURISDICTION = REPO_ROOT / "data" / "jurisdiction" / "sample-county.yaml"


@dataclass(frozen=True)
class Settings:
    kafka: KafkaAccess = field(default_factory=KafkaAccess)
    database_url: str = "postgresql://shaobao@127.0.0.1:55432/shaobao"
    topic_prefix: str = ""
    jurisdiction_file: Path = DEFAULT_JURISDICTION
    ticket_partitions: int = 6
    unit_partitions: int = 3
    worker_web_port: int = 6066
    # The worker's ops endpoint (/metrics, /health, /ready); 0.0.0.0 where Prometheus scrapes
    # it from another host or container.
    worker_web_bind: str = "127.0.0.1"
    web_port: int = 8080
    datadir: Path = field(default=REPO_ROOT / ".state" / "worker")
    # Derived files kept between starts (the trained triager, `infra.triager_cache`).
    cache_dir: Path = field(default=REPO_ROOT / ".cache")
    # The control room's shared password (besides control-room tokens); empty: tokens only.
    room_password: str = ""
    # 多人反映 / 重复来电 merged automatically (agents.clusters). Off unless asked for: fixtures
    # and benchmarks send one appeal many times, which would be merged. `make run` turns it on.
    auto_merge: bool = False
    # HTTP intake and Open311 POST, per intake key and per client address (`web.api.intake_keys`);
    # Open311's public reads per address.
    intake_per_key_per_minute: int = 1200
    intake_per_address_per_minute: int = 600
    open311_reads_per_address_per_minute: int = 120
    # Fault injection for the no-loss tests (`streams.faults`): `agent:crash@N,…`; empty: off.
    faults: str = ""
    faults_file: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        defaults = cls()
        return cls(
            kafka=kafka_access(env),
            database_url=database_url(env, defaults.database_url),
            topic_prefix=env.get("SHAOBAO_TOPIC_PREFIX", defaults.topic_prefix),
            jurisdiction_file=Path(env.get("SHAOBAO_JURISDICTION", str(defaults.jurisdiction_file))),
            ticket_partitions=int(env.get("SHAOBAO_TICKET_PARTITIONS", defaults.ticket_partitions)),
            unit_partitions=int(env.get("SHAOBAO_UNIT_PARTITIONS", defaults.unit_partitions)),
            worker_web_port=int(env.get("SHAOBAO_WORKER_WEB_PORT", defaults.worker_web_port)),
            worker_web_bind=env.get("SHAOBAO_WORKER_WEB_BIND", defaults.worker_web_bind),
            web_port=int(env.get("SHAOBAO_WEB_PORT", defaults.web_port)),
            datadir=Path(env.get("SHAOBAO_WORKER_DATADIR", str(defaults.datadir))),
            cache_dir=Path(env.get("SHAOBAO_CACHE_DIR", str(defaults.cache_dir))),
            room_password=env.get("SHAOBAO_ROOM_PASSWORD", defaults.room_password),
            auto_merge=env.get("SHAOBAO_AUTO_MERGE", "").lower() in ("1", "true", "yes", "on"),
            intake_per_key_per_minute=int(
                env.get("SHAOBAO_INTAKE_PER_KEY_PER_MINUTE", defaults.intake_per_key_per_minute)
            ),
            intake_per_address_per_minute=int(
                env.get("SHAOBAO_INTAKE_PER_ADDRESS_PER_MINUTE", defaults.intake_per_address_per_minute)
            ),
            open311_reads_per_address_per_minute=int(
                env.get("SHAOBAO_OPEN311_READS_PER_MINUTE", defaults.open311_reads_per_address_per_minute)
            ),
            faults=env.get("SHAOBAO_FAULTS", ""),
            faults_file=env.get("SHAOBAO_FAULTS_FILE", ""),
        )


def _state_dir(env: dict[str, str]) -> Path:
    return Path(env.get("SHAOBAO_STATE_DIR") or REPO_ROOT / ".state")


def database_url(env: dict[str, str], default: str) -> str:
    """DATABASE_URL; without it, the local PostgreSQL's (with its password) that `make run`
    wrote to the state dir's `services.env`, so a command typed in another terminal connects."""
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    try:
        lines = (_state_dir(env) / "services.env").read_text(encoding="utf-8").splitlines()
    except OSError:
        return default
    found = [line.split("=", 1)[1] for line in lines if line.startswith("DATABASE_URL=")]
    return found[0] if found else default


KAFKA_VARIABLES = ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL", "KAFKA_CLIENT_FILE")


def kafka_access(env: dict[str, str]) -> KafkaAccess:
    """The Kafka settings in `env`; with none at all, the local broker's `cli` principal.

    `make run` keeps each principal's client file under the state dir, so a command typed
    in another terminal (`shaobao dead list`, …) reaches the secured local broker as `cli`.
    """
    if not any(env.get(name) for name in KAFKA_VARIABLES):
        local_cli = _state_dir(env) / "kafka" / "clients" / "cli.properties"
        if local_cli.is_file():
            return KafkaAccess.from_properties(local_cli.read_text(encoding="utf-8"))
    return KafkaAccess.from_env(env)
