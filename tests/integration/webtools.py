"""The web app in-process on the session's real pipeline: lifespan run, httpx over ASGI, every
response body kept so a test can check what left the hotline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from domain.access import Principal
from infra.postgres.store import AsyncpgTicketStore
from infra.postgres.tokens import AsyncpgTokenStore
from shaobao.web_wiring import web_ports
from streams.settings import Settings
from web.app import create_web_app
from web.ports import KbSearcher


@dataclass
class Web:
    client: httpx.AsyncClient
    bodies: list[str] = field(default_factory=list)

    def assert_never_shown(self, secret: str) -> None:
        assert self.bodies, "no responses recorded"
        assert [body for body in self.bodies if secret in body] == []


@asynccontextmanager
async def running_web(settings: Settings, kb: KbSearcher | None = None) -> AsyncIterator[Web]:
    app = create_web_app(settings, web_ports(settings, kb=kb))
    bodies: list[str] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        bodies.append(response.text)

    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://shaobao.test", event_hooks={"response": [keep]}
        ) as client,
    ):
        yield Web(client=client, bodies=bodies)


async def issued_token(settings: Settings, principal: Principal) -> str:
    """A fresh token of the session's database, as `shaobao tokens issue` makes one."""
    store = AsyncpgTicketStore(settings.database_url)
    try:
        return (await AsyncpgTokenStore(store).issue(principal)).token
    finally:
        await store.close()


async def intake_key(settings: Settings, channel: str, name: str) -> str:
    """`shaobao tokens issue --intake CHANNEL --name NAME`."""
    return await issued_token(settings, Principal(subject=f"{channel}:{name}", role="intake"))
