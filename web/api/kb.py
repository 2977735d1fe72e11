"""The knowledge base (知识库) over HTTP.

The desk: `GET /api/kb/search?q=…&limit=5` behind the control room's login, the best entries for
an appeal's words with their sources and why they matched. Units (their tokens): their own entries
at `/api/units/me/kb`, written (PUT, a version each change), retired (DELETE) and their versions
listed; another unit's entry is never shown, changed or retired (403 `not_your_entry`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agents.ports import StoreUnavailable
from domain.access import Principal
from domain.jurisdiction import Jurisdiction
from domain.kb import reference_problems
from schemas.http_api import (
    UNIT_KB_ENTRY_PATH,
    UNIT_KB_PATH,
    UNIT_KB_VERSIONS_PATH,
    KbEntries,
    KbEntryVersion,
    KbEntryVersions,
    KbEntryWritten,
    KbStoredEntry,
)
from schemas.kb import ENTRY_ID, KbEntry
from web.api.access import ApiProblem, Handler, guarded, invalid
from web.api.units import UNIT
from web.desk.render import kb_json
from web.inputs import read_json
from web.ports import KbEntryNotFound, KbKeeper, KbRecord, KbSearcher, NotYourEntry, TokenVerifier

KB_SEARCH_PATH = "/api/kb/search"
MAX_QUERY_CHARS = 2000
MAX_LIMIT = 20
RoomGuard = Callable[
    [Callable[[Request, Principal], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]
]


def kb_search_route(searcher: KbSearcher, jurisdiction: Jurisdiction, required: RoomGuard) -> Route:
    """`GET /api/kb/search` for a logged-in control-room session (`ControlRoomSessions.required`)."""

    async def search(request: Request, _principal: Principal) -> Response:
        query = request.query_params.get("q", "").strip()
        if not query:
            return JSONResponse({"error": "请输入要查找的内容（q）"}, status_code=400)
        if len(query) > MAX_QUERY_CHARS:
            return JSONResponse({"error": f"查找内容过长（最多 {MAX_QUERY_CHARS} 字）"}, status_code=400)
        raw = request.query_params.get("limit", "5")
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 3) or not 1 <= int(raw) <= MAX_LIMIT:
            return JSONResponse({"error": f"limit 须为 1 到 {MAX_LIMIT} 的整数"}, status_code=400)
        try:
            matches = await searcher.search(query, int(raw))
        except StoreUnavailable:
            return JSONResponse(
                {"error": "数据库暂不可用，请稍后重试"}, status_code=503, headers={"Retry-After": "5"}
            )
        shown = [kb_json(match, jurisdiction) for match in matches]
        return JSONResponse({"query": query, "matches": shown})

    return Route(KB_SEARCH_PATH, required(search), methods=["GET"])


@dataclass(frozen=True)
class KbApi:
    tokens: TokenVerifier
    kb: KbKeeper
    jurisdiction: Jurisdiction

    def unit_of(self, principal: Principal) -> str:
        if principal.subject not in self.jurisdiction.unit_codes:
            raise ApiProblem(403, "unknown_unit", f"{principal.subject} is not a unit of this jurisdiction")
        return principal.subject


def kb_unit_routes(api: KbApi) -> list[Route]:
    """The units' knowledge-base paths, each behind a unit's token."""
    return [
        Route(UNIT_KB_PATH, guarded(api.tokens, UNIT, _mine(api)), methods=["GET"]),
        Route(UNIT_KB_ENTRY_PATH, guarded(api.tokens, UNIT, _put(api)), methods=["PUT"]),
        Route(UNIT_KB_ENTRY_PATH, guarded(api.tokens, UNIT, _retire(api)), methods=["DELETE"]),
        Route(UNIT_KB_VERSIONS_PATH, guarded(api.tokens, UNIT, _versions(api)), methods=["GET"]),
    ]


def _stored(record: KbRecord) -> KbStoredEntry:
    return KbStoredEntry(
        entry=record.entry,
        version=record.version,
        updated_by=record.updated_by,
        updated_at=record.updated_at,
        retired_at=record.retired_at,
    )


def _not_yours(entry_id: str) -> ApiProblem:
    return ApiProblem(403, "not_your_entry", f"entry {entry_id} belongs to another unit")


def _entry_id(request: Request) -> str:
    entry_id = str(request.path_params["entry_id"])
    if ENTRY_ID.fullmatch(entry_id) is None:
        raise ApiProblem(404, "not_found", "no such entry: an entry id is 1–80 of a–z, 0–9, '.', '_', '-'")
    return entry_id


def _mine(api: KbApi) -> Handler:
    async def handler(request: Request, principal: Principal) -> Response:
        unit = api.unit_of(principal)
        records = await api.kb.list(unit)
        body = KbEntries(unit=unit, entries=tuple(_stored(record) for record in records))
        return JSONResponse(body.model_dump(mode="json"))

    return handler


def _put(api: KbApi) -> Handler:
    async def handler(request: Request, principal: Principal) -> Response:
        unit = api.unit_of(principal)
        entry_id = _entry_id(request)
        data = await read_json(request)
        try:
            entry = KbEntry.model_validate(data)
        except ValidationError as exc:
            raise invalid("invalid_entry", "the entry was not accepted", exc) from None
        if entry.entry_id != entry_id:
            message = f"the body's entry_id {entry.entry_id} is not the path's {entry_id}"
            raise ApiProblem(422, "entry_mismatch", message)
        if entry.unit != unit:
            raise ApiProblem(422, "unit_mismatch", f"the entry's unit must be this token's unit, {unit}")
        if problems := reference_problems(entry.unit, entry.categories, api.jurisdiction):
            raise ApiProblem(422, "unknown_category", "；".join(problems))
        try:
            outcome, record = await api.kb.upsert(entry, unit, owner=unit)
        except NotYourEntry:
            raise _not_yours(entry_id) from None
        body = KbEntryWritten(outcome=outcome, stored=_stored(record))
        return JSONResponse(body.model_dump(mode="json"), status_code=201 if outcome == "created" else 200)

    return handler


def _retire(api: KbApi) -> Handler:
    async def handler(request: Request, principal: Principal) -> Response:
        unit = api.unit_of(principal)
        entry_id = _entry_id(request)
        try:
            record = await api.kb.retire(entry_id, unit, owner=unit)
        except KbEntryNotFound:
            raise ApiProblem(404, "not_found", f"no entry {entry_id}") from None
        except NotYourEntry:
            raise _not_yours(entry_id) from None
        return JSONResponse(_stored(record).model_dump(mode="json"))

    return handler


def _versions(api: KbApi) -> Handler:
    async def handler(request: Request, principal: Principal) -> Response:
        unit = api.unit_of(principal)
        entry_id = _entry_id(request)
        record = await api.kb.get(entry_id)
        if record is None:
            raise ApiProblem(404, "not_found", f"no entry {entry_id}")
        if record.entry.unit != unit:
            raise _not_yours(entry_id)
        versions = tuple(
            KbEntryVersion(
                version=v.version,
                change=v.change,
                changed_by=v.changed_by,
                changed_at=v.changed_at,
                entry=v.entry,
            )
            for v in await api.kb.versions(entry_id)
        )
        return JSONResponse(KbEntryVersions(entry_id=entry_id, versions=versions).model_dump(mode="json"))

    return handler
