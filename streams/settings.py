"""Settings from the environment, read once at start-up by the composition root."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JURISDICTION = REPO_ROOT / "data" / "jurisdiction" / "sample-county.yaml"


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
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
    # Fault injection for the no-loss tests (`streams.faults`): `agent:crash@N,…`; empty: off.
    faults: str = ""
    faults_file: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        defaults = cls()
        return cls(
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", defaults.kafka_bootstrap_servers),
            database_url=env.get("DATABASE_URL", defaults.database_url),
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
            faults=env.get("SHAOBAO_FAULTS", ""),
            faults_file=env.get("SHAOBAO_FAULTS_FILE", ""),
        )
