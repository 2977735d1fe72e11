"""Users and ACLs on a Kafka cluster, through the Admin API, as the `admin` principal.

aiokafka's admin client has no calls for SCRAM credentials and creates one ACL per request,
so this module sends the three requests itself over aiokafka's connection (which negotiates
versions and authenticates): AlterUserScramCredentials (KIP-554, forwarded to the KRaft
controller), CreateAcls and DescribeAcls/DeleteAcls in batches. Salted passwords are
computed here (RFC 5802 Hi() = PBKDF2-HMAC); the password itself never reaches the broker.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    DeleteAclsRequest_v1,
    DescribeAclsRequest_v1,
)
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from streams.kafka_access import KafkaAccess
from streams.principals import Grant

SCRAM_ITERATIONS = 8192  # Kafka accepts 4096..16384
_MECHANISM_CODES = {"SCRAM-SHA-256": 1, "SCRAM-SHA-512": 2}
_HASHES = {"SCRAM-SHA-256": ("sha256", 32), "SCRAM-SHA-512": ("sha512", 64)}
# Kafka's enums (org.apache.kafka.common.resource / acl).
RESOURCE_TYPES = {"topic": 2, "group": 3, "cluster": 4}
PATTERN_TYPES = {"literal": 3, "prefixed": 4}
OPERATIONS = {"all": 2, "read": 3, "write": 4, "create": 5, "delete": 6, "alter": 7, "describe": 8}
_ANY, _ALLOW = 1, 3
CLUSTER_NAME = "kafka-cluster"


class KafkaAdminError(RuntimeError):
    """The broker refused a user or ACL change; the message is the broker's."""


class _AlterScramResponse(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterScramStruct(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = _AlterScramResponse
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterScram(Request[_AlterScramStruct]):  # type: ignore[misc]
    API_KEY = 51

    def __init__(self, deletions: list[tuple[Any, ...]], upsertions: list[tuple[Any, ...]]) -> None:
        self._deletions = deletions
        self._upsertions = upsertions

    def build(self, request_struct_class: type[_AlterScramStruct]) -> _AlterScramStruct:
        return request_struct_class(self._deletions, self._upsertions, {})


_AclStruct: TypeAlias = CreateAclsRequest_v1 | DeleteAclsRequest_v1 | DescribeAclsRequest_v1


class _Prebuilt(Request[_AclStruct]):  # type: ignore[misc]
    """A request whose (version 1) struct is built by the caller; Kafka 2.0+ serves v1 of all three."""

    API_KEY = -1

    def __init__(self, struct: _AclStruct) -> None:
        self._struct = struct

    def prepare(self, versions: dict[int, tuple[int, int]]) -> _AclStruct:
        return self._struct

    def build(self, request_struct_class: type[_AclStruct]) -> _AclStruct:
        return self._struct


def salted_password(password: str, salt: bytes, iterations: int, mechanism: str) -> bytes:
    """SCRAM's SaltedPassword := Hi(password, salt, i), which is PBKDF2 with HMAC."""
    name, size = _HASHES[mechanism]
    return hashlib.pbkdf2_hmac(name, password.encode("utf-8"), salt, iterations, size)


def _acl_row(grant: Grant) -> tuple[int, str, int, str, str, int, int]:
    return (
        RESOURCE_TYPES[grant.resource],
        CLUSTER_NAME if grant.resource == "cluster" else grant.name,
        PATTERN_TYPES[grant.pattern],
        f"User:{grant.principal}",
        "*",
        OPERATIONS[grant.operation],
        _ALLOW,
    )


class KafkaAdmin:
    """One admin connection; use as `async with KafkaAdmin(access) as admin:`."""

    def __init__(self, access: KafkaAccess) -> None:
        self._client = AIOKafkaAdminClient(**access.client_options(), request_timeout_ms=15_000)

    async def __aenter__(self) -> KafkaAdmin:
        await self._client.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.close()

    async def _send(self, request: Request[Any]) -> Any:
        return await self._client._send_request(request)  # noqa: SLF001 - the client's own transport

    async def set_passwords(self, passwords: dict[str, str], mechanism: str = "SCRAM-SHA-512") -> None:
        """Create or change each user's SCRAM credential."""
        upsertions: list[tuple[Any, ...]] = []
        for user, password in sorted(passwords.items()):
            salt = secrets.token_bytes(32)
            salted = salted_password(password, salt, SCRAM_ITERATIONS, mechanism)
            upsertions.append((user, _MECHANISM_CODES[mechanism], SCRAM_ITERATIONS, salt, salted, {}))
        self._check_scram(await self._send(_AlterScram([], upsertions)))

    async def delete_users(self, users: Iterable[str], mechanism: str = "SCRAM-SHA-512") -> None:
        deletions: list[tuple[Any, ...]] = [(user, _MECHANISM_CODES[mechanism], {}) for user in users]
        self._check_scram(await self._send(_AlterScram(deletions, [])), missing_ok=True)

    @staticmethod
    def _check_scram(response: Any, missing_ok: bool = False) -> None:
        resource_not_found = 91
        failed = [
            f"{user}: {message or code}"
            for user, code, message, _tags in response.results
            if code and not (missing_ok and code == resource_not_found)
        ]
        if failed:
            raise KafkaAdminError("the broker refused SCRAM credentials: " + "; ".join(failed))

    async def allowed(self) -> set[tuple[int, str, int, str, str, int, int]]:
        """Every ALLOW binding on the cluster, as the rows CreateAcls takes: one request."""
        struct = DescribeAclsRequest_v1(_ANY, None, _ANY, None, None, _ANY, _ALLOW)
        response = await self._send(_Prebuilt(struct))
        if response.error_code:
            raise KafkaAdminError(f"DescribeAcls: {response.error_message or response.error_code}")
        return {
            (resource_type, name, pattern, acl_principal, host, operation, permission)
            for resource_type, name, pattern, acls in response.resources
            for acl_principal, host, operation, permission in acls
        }

    async def grant(self, grants: Sequence[Grant]) -> int:
        """Create the bindings the cluster does not have yet; return how many were created."""
        missing = sorted({_acl_row(grant) for grant in grants} - await self.allowed())
        if missing:
            response = await self._send(_Prebuilt(CreateAclsRequest_v1(missing)))
            failed = [message or str(code) for code, message in response.creation_responses if code]
            if failed:
                raise KafkaAdminError("the broker refused ACLs: " + "; ".join(sorted(set(failed))))
        return len(missing)

    async def revoke(self, grants: Sequence[Grant]) -> int:
        """Delete exactly these bindings; return how many the broker had."""
        if not grants:
            return 0
        response = await self._send(_Prebuilt(DeleteAclsRequest_v1([_acl_row(grant) for grant in grants])))
        deleted = 0
        for code, message, matching in response.filter_responses:
            if code:
                raise KafkaAdminError(f"DeleteAcls: {message or code}")
            deleted += len(matching)
        return deleted
