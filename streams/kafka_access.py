"""Where the Kafka brokers are and how a client proves who it is.

Every Kafka client in the project (the Faust worker, the web app's producers, the
simulators, the importers, the CLI) is built from one `KafkaAccess`, read from the
environment once by the composition root:

| variable | meaning |
|---|---|
| `KAFKA_BOOTSTRAP_SERVERS` | `host:port[,host:port…]` |
| `KAFKA_SECURITY_PROTOCOL` | `PLAINTEXT` (default), `SASL_PLAINTEXT`, `SASL_SSL` or `SSL` |
| `KAFKA_SASL_MECHANISM` | `SCRAM-SHA-512` (default with SASL), `SCRAM-SHA-256` or `PLAIN` |
| `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD` | the principal's name and password |
| `KAFKA_SSL_CAFILE`, `…_CERTFILE`, `…_KEYFILE` | TLS trust and (for mTLS) the client's pair |
| `KAFKA_CLIENT_FILE` | a librdkafka properties file (`kcat -F`'s format) instead of the variables above |

The same access renders as such a properties file (`librdkafka_properties`), so a
principal's file works with kcat and with every client here.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT

Protocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"]
Mechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
PROTOCOLS: tuple[Protocol, ...] = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL")
MECHANISMS: tuple[Mechanism, ...] = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
# What every producer of the project asks of the broker (RELIABILITY.md): a send is acknowledged
# once every in-sync replica has it, and a retried send is written once (the broker drops the
# copy by producer id and sequence number).
PRODUCER_GUARANTEES: dict[str, Any] = {"acks": "all", "enable_idempotence": True}


class KafkaAccessError(ValueError):
    """The Kafka security settings are incomplete or contradictory."""


@dataclass(frozen=True)
class KafkaAccess:
    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    security_protocol: Protocol = "PLAINTEXT"
    sasl_mechanism: Mechanism = "SCRAM-SHA-512"
    username: str = ""
    password: str = field(default="", repr=False)
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""

    def __post_init__(self) -> None:
        if self.security_protocol not in PROTOCOLS:
            raise KafkaAccessError(f"KAFKA_SECURITY_PROTOCOL must be one of {', '.join(PROTOCOLS)}")
        if self.sasl_mechanism not in MECHANISMS:
            raise KafkaAccessError(f"KAFKA_SASL_MECHANISM must be one of {', '.join(MECHANISMS)}")
        if self.uses_sasl and not (self.username and self.password):
            raise KafkaAccessError(
                f"{self.security_protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def principal(self) -> str:
        """Who the broker will see: the SASL user, or "ANONYMOUS" on a plaintext connection."""
        return self.username if self.uses_sasl else "ANONYMOUS"

    def as_principal(self, username: str, password: str) -> KafkaAccess:
        """The same brokers, as another SASL user."""
        protocol: Protocol = self.security_protocol if self.uses_sasl else "SASL_PLAINTEXT"
        return replace(self, security_protocol=protocol, username=username, password=password)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> KafkaAccess:
        client_file = env.get("KAFKA_CLIENT_FILE", "")
        if client_file:
            return cls.from_properties(Path(client_file).read_text(encoding="utf-8"))
        protocol = env.get("KAFKA_SECURITY_PROTOCOL", "") or "PLAINTEXT"
        mechanism = env.get("KAFKA_SASL_MECHANISM", "") or "SCRAM-SHA-512"
        return cls(
            bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "") or DEFAULT_BOOTSTRAP,
            security_protocol=cast(Protocol, protocol.upper()),
            sasl_mechanism=cast(Mechanism, mechanism.upper()),
            username=env.get("KAFKA_SASL_USERNAME", ""),
            password=env.get("KAFKA_SASL_PASSWORD", ""),
            ssl_cafile=env.get("KAFKA_SSL_CAFILE", ""),
            ssl_certfile=env.get("KAFKA_SSL_CERTFILE", ""),
            ssl_keyfile=env.get("KAFKA_SSL_KEYFILE", ""),
        )

    def as_env(self) -> dict[str, str]:
        """The variables `from_env` reads back; the empty ones are left out."""
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "KAFKA_SECURITY_PROTOCOL": self.security_protocol,
        }
        if self.uses_sasl:
            env |= {
                "KAFKA_SASL_MECHANISM": self.sasl_mechanism,
                "KAFKA_SASL_USERNAME": self.username,
                "KAFKA_SASL_PASSWORD": self.password,
            }
        tls = {
            "KAFKA_SSL_CAFILE": self.ssl_cafile,
            "KAFKA_SSL_CERTFILE": self.ssl_certfile,
            "KAFKA_SSL_KEYFILE": self.ssl_keyfile,
        }
        return env | {name: value for name, value in tls.items() if value}

    @classmethod
    def from_properties(cls, text: str) -> KafkaAccess:
        """Read a librdkafka properties file (`key=value` lines, `#` comments)."""
        props: dict[str, str] = {}
        for line in text.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#") and "=" in stripped:
                key, _, value = stripped.partition("=")
                props[key.strip()] = value.strip()
        return cls.from_env(
            {
                "KAFKA_BOOTSTRAP_SERVERS": props.get("bootstrap.servers", "")
                or props.get("metadata.broker.list", ""),
                "KAFKA_SECURITY_PROTOCOL": props.get("security.protocol", ""),
                "KAFKA_SASL_MECHANISM": props.get("sasl.mechanisms", "") or props.get("sasl.mechanism", ""),
                "KAFKA_SASL_USERNAME": props.get("sasl.username", ""),
                "KAFKA_SASL_PASSWORD": props.get("sasl.password", ""),
                "KAFKA_SSL_CAFILE": props.get("ssl.ca.location", ""),
                "KAFKA_SSL_CERTFILE": props.get("ssl.certificate.location", ""),
                "KAFKA_SSL_KEYFILE": props.get("ssl.key.location", ""),
            }
        )

    def librdkafka_properties(self) -> str:
        """This access as a librdkafka configuration file: `kcat -F FILE`."""
        lines = [f"bootstrap.servers={self.bootstrap_servers}", f"security.protocol={self.security_protocol}"]
        if self.uses_sasl:
            lines += [
                f"sasl.mechanisms={self.sasl_mechanism}",
                f"sasl.username={self.username}",
                f"sasl.password={self.password}",
            ]
        if self.ssl_cafile:
            lines.append(f"ssl.ca.location={self.ssl_cafile}")
        if self.ssl_certfile:
            lines += [f"ssl.certificate.location={self.ssl_certfile}", f"ssl.key.location={self.ssl_keyfile}"]
        return "".join(line + "\n" for line in lines)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client: where to connect and how to authenticate."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.uses_sasl:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        return options

    def producer_options(self, **tuning: Any) -> dict[str, Any]:
        """Keyword arguments for any aiokafka producer: `client_options` with the project's
        delivery guarantees (`PRODUCER_GUARANTEES`), plus `tuning` (batching, client id), which
        may not weaken them."""
        weakened = sorted(set(tuning) & set(PRODUCER_GUARANTEES))
        if weakened:
            raise ValueError(f"a producer may not override {weakened}")
        return {**self.client_options(), **PRODUCER_GUARANTEES, **tuning}

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ssl_cafile or None)
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile or None)
        return context

    def faust_credentials(self) -> CredentialsT | None:
        """Faust's form of the same settings (`broker_credentials`); None on plaintext."""
        import faust  # the worker's import; web and CLI processes do without it

        if self.uses_sasl:
            context = self.ssl_context() if self.uses_tls else None
            return faust.SASLCredentials(
                username=self.username,
                password=self.password,
                ssl_context=context,
                mechanism=self.sasl_mechanism,
            )
        if self.uses_tls:
            return faust.SSLCredentials(self.ssl_context())
        return None

    @property
    def faust_broker(self) -> str:
        return ";".join(f"kafka://{server.strip()}" for server in self.bootstrap_servers.split(","))
