"""The deployment's Kafka principals: passwords, SCRAM users, ACLs and client files.

Passwords are random per install and kept in `<dir>/principals.json` (mode 0600); each
principal's librdkafka client file is written to `<dir>/clients/<principal>.properties`
(mode 0600), usable as `kcat -F FILE` and as `KAFKA_CLIENT_FILE` for any process here.
Provisioning is idempotent: a second run keeps the passwords, re-asserts the users and
creates only the missing ACL bindings.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from infra.kafka.admin import KafkaAdmin
from streams.kafka_access import KafkaAccess
from streams.names import TopicNames
from streams.principals import ADMIN, PROCESS_PRINCIPALS, all_grants, unit_grants, unit_principal


@dataclass(frozen=True)
class Provisioned:
    principals: tuple[str, ...]
    acls_created: int
    clients_dir: Path


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".partial")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    staging.replace(path)


class PrincipalStore:
    """The passwords and client files under one directory (`.state/kafka` for `make run`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.passwords_file = directory / "principals.json"
        self.clients_dir = directory / "clients"

    def passwords(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.passwords_file.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return {}

    def _save(self, passwords: dict[str, str]) -> None:
        _write_private(self.passwords_file, json.dumps(passwords, indent=1, sort_keys=True) + "\n")

    def ensure(self, principals: Iterable[str]) -> dict[str, str]:
        """The passwords of `principals`, creating those that have none yet."""
        passwords = self.passwords()
        missing = [name for name in principals if name not in passwords]
        if missing:
            passwords |= {name: secrets.token_urlsafe(24) for name in missing}
            self._save(passwords)
        return passwords

    def renew(self, principal: str) -> str:
        passwords = self.passwords()
        passwords[principal] = secrets.token_urlsafe(24)
        self._save(passwords)
        return passwords[principal]

    def forget(self, principal: str) -> None:
        passwords = self.passwords()
        passwords.pop(principal, None)
        self._save(passwords)
        self.client_file(principal).unlink(missing_ok=True)

    def client_file(self, principal: str) -> Path:
        return self.clients_dir / f"{principal}.properties"

    def write_client(self, access: KafkaAccess, principal: str, password: str) -> Path:
        path = self.client_file(principal)
        _write_private(path, access.as_principal(principal, password).librdkafka_properties())
        return path


async def provision(
    admin: KafkaAccess, names: TopicNames, units: Iterable[str], store: PrincipalStore
) -> Provisioned:
    """Every process principal and every unit's, with their ACLs and client files."""
    units = sorted(units)
    principals = (*PROCESS_PRINCIPALS, *(unit_principal(unit) for unit in units))
    passwords = store.ensure(principals)
    async with KafkaAdmin(admin) as cluster:
        await cluster.set_passwords({name: passwords[name] for name in principals})
        created = await cluster.grant(all_grants(names, units))
    store.write_client(admin, ADMIN, admin.password)
    for name in principals:
        store.write_client(admin, name, passwords[name])
    return Provisioned(principals, created, store.clients_dir)


async def issue_unit(
    admin: KafkaAccess, names: TopicNames, unit: str, store: PrincipalStore, *, rotate: bool
) -> Path:
    """A unit's credential (a new password when `rotate`), its ACLs, and its client file."""
    principal = unit_principal(unit)
    password = store.renew(principal) if rotate else store.ensure([principal])[principal]
    async with KafkaAdmin(admin) as cluster:
        await cluster.set_passwords({principal: password})
        await cluster.grant(unit_grants(names, unit))
    return store.write_client(admin, principal, password)


async def revoke_unit(admin: KafkaAccess, names: TopicNames, unit: str, store: PrincipalStore) -> int:
    """Remove a unit's SCRAM user and this deployment's ACLs for it; return how many ACLs went."""
    principal = unit_principal(unit)
    async with KafkaAdmin(admin) as cluster:
        await cluster.delete_users([principal])
        removed = await cluster.revoke(unit_grants(names, unit))
    store.forget(principal)
    return removed
