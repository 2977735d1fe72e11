"""Open311 GeoReport v2 in the hotline's terms: services, a POSTed request as an appeal, the
`GET requests` filters, and tickets as service requests a citizen may read. `services` is
imported from `domain.open311.services` (a face cannot hold a name that is also one of its
submodules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.open311.query import RequestQuery, parse_request_query
    from domain.open311.service_requests import CLOSED_STATUSES, service_request
    from domain.open311.services import (
        FieldValue,
        Open311Error,
        appeal_from_request,
        check_jurisdiction_id,
        service_definition,
        split_token,
    )

__all__ = [
    "CLOSED_STATUSES",
    "FieldValue",
    "Open311Error",
    "RequestQuery",
    "appeal_from_request",
    "check_jurisdiction_id",
    "parse_request_query",
    "service_definition",
    "service_request",
    "split_token",
]

__getattr__ = public_names(
    __name__,
    {
        "CLOSED_STATUSES": "service_requests",
        "FieldValue": "services",
        "Open311Error": "services",
        "RequestQuery": "query",
        "appeal_from_request": "services",
        "check_jurisdiction_id": "services",
        "parse_request_query": "query",
        "service_definition": "services",
        "service_request": "service_requests",
        "split_token": "services",
    },
)
