"""`shaobao units credentials` and `shaobao kafka provision`: the deployment's Kafka principals.

    shaobao kafka provision                 every principal of the deployment, with its ACLs
                                            and client file (`make run` does this itself;
                                            compose runs it once before the other services)

    shaobao units credentials issue UNIT    create it (or keep its password), grant its ACLs
    shaobao units credentials rotate UNIT   a new password; the old one stops working at once
    shaobao units credentials revoke UNIT   remove the user and every ACL it had

The unit's client file (`<state>/kafka/clients/unit-<code>.properties`, mode 0600) is what
its system uses: `kcat -F FILE -C -t units.<code>.orders`. It is printed as a path, never
on the terminal. The change is made as the `admin` principal: the local broker's
`admin.properties`, or the KAFKA_* variables when they name another cluster's admin.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from aiokafka.errors import KafkaError

from infra.kafka.admin import KafkaAdminError
from infra.kafka.principals import PrincipalStore, issue_unit, provision, revoke_unit
from infra.local.services import default_state_dir
from infra.reference import load_jurisdiction
from streams.kafka_access import KafkaAccess
from streams.names import TopicNames
from streams.principals import ADMIN, unit_principal
from streams.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shaobao units credentials", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("issue", "rotate", "revoke"))
    parser.add_argument("unit", help="a unit code of the jurisdiction, e.g. zjj")
    return parser


def admin_access(settings: Settings, store: PrincipalStore) -> KafkaAccess:
    """The local admin's client file when `make run` wrote one and no variable says otherwise."""
    local_admin = store.client_file(ADMIN)
    if (
        settings.kafka.username != ADMIN
        and local_admin.is_file()
        and not os.environ.get("KAFKA_SASL_USERNAME")
    ):
        return KafkaAccess.from_properties(local_admin.read_text(encoding="utf-8"))
    return settings.kafka


def _secured_admin(settings: Settings, err: TextIO) -> tuple[KafkaAccess, PrincipalStore] | None:
    """The admin access and the principals' store; None (said on `err`) on a cluster without SASL."""
    store = PrincipalStore(default_state_dir() / "kafka")
    admin = admin_access(settings, store)
    if not admin.uses_sasl:
        print(
            f"error: Kafka at {admin.bootstrap_servers} ({admin.security_protocol}) takes no SASL users",
            file=err,
        )
        return None
    return admin, store


def provision_main(
    argv: Sequence[str], settings: Settings, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    parser = argparse.ArgumentParser(prog="shaobao kafka", description="the deployment's Kafka principals")
    parser.add_argument("action", choices=("provision",))
    parser.parse_args(list(argv))
    secured = _secured_admin(settings, err)
    if secured is None:
        return 2
    admin, store = secured
    units = load_jurisdiction(settings.jurisdiction_file).unit_codes
    try:
        done = asyncio.run(provision(admin, TopicNames(settings.topic_prefix), units, store))
    except (KafkaAdminError, KafkaError, OSError) as error:
        print(f"error: provisioning as {admin.principal} at {admin.bootstrap_servers}: {error}", file=err)
        return 1
    counts = f"{len(done.principals)} principals, {done.acls_created} new ACL bindings"
    print(f"{counts}; client files in {done.clients_dir}", file=out)
    return 0


def main(argv: Sequence[str], settings: Settings, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = _parser().parse_args(list(argv))
    units = load_jurisdiction(settings.jurisdiction_file).unit_codes
    if args.unit not in units:
        print(f"error: {args.unit!r} is not a unit of this jurisdiction ({', '.join(units)})", file=err)
        return 2
    secured = _secured_admin(settings, err)
    if secured is None:
        return 2
    admin, store = secured
    names = TopicNames(settings.topic_prefix)
    principal = unit_principal(args.unit)
    try:
        if args.action == "revoke":
            removed = asyncio.run(revoke_unit(admin, names, args.unit, store))
            print(f"{principal}: user removed, {removed} ACLs removed; its client file is deleted", file=out)
        else:
            path = asyncio.run(issue_unit(admin, names, args.unit, store, rotate=args.action == "rotate"))
            done = "new password" if args.action == "rotate" else "issued"
            print(f"{principal}: {done}; client file {path} (kcat -F {path})", file=out)
    except (KafkaAdminError, KafkaError, OSError) as error:
        print(f"error: {principal}: {error}", file=err)
        return 1
    return 0
