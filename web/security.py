"""Every response's security headers, and the control room's same-origin rule.

Headers: a content security policy (scripts only from this origin; styles may be inline,
for the reports' own markup and charts), no framing by other sites (frame-ancestors and
X-Frame-Options), no content sniffing and no referrer.

Same origin: the control room's state-changing requests ride on its session cookie, so a
page on another site must not be able to send them. The cookie is SameSite=Strict already;
besides, a POST, PUT, PATCH or DELETE under `/api/room/` or `/api/desk/` whose `Origin` names another host,
or whose browser says `Sec-Fetch-Site: cross-site`, is refused with 403. Requests with
neither header (curl, a unit's system, kcat's friends) carry no cookie worth forging and are
not concerned.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
GUARDED_PREFIXES = ("/api/room/", "/api/desk/")  # the room's and the desk's session cookie
CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cross_site(method: str, path: str, headers: Headers) -> bool:
    """A state-changing control-room request sent from another site's page."""
    if method not in CHANGING or not path.startswith(GUARDED_PREFIXES):
        return False
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


class SecurityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(header for header in HEADERS if header[0] not in present),
                ]
            await send(message)

        if cross_site(scope["method"], scope["path"], Headers(scope=scope)):
            body = json.dumps({"error": "跨站请求被拒绝：请在控制室页面内操作"}, ensure_ascii=False).encode()
            await with_headers(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await with_headers({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, with_headers)
