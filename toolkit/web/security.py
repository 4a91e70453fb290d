"""The portal's guards: CSRF tokens, the request-size cap, security headers, login throttling."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FIELD = "csrf"


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token (made on first use); every form carries it."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def csrf_ok(session: dict[str, Any], sent: str | None) -> bool:
    expected = session.get(CSRF_FIELD)
    return bool(expected and sent and hmac.compare_digest(str(expected), str(sent)))


class TooLarge(Exception):
    """The request body passed the portal's cap."""


class BodyLimit:
    """Refuses a request body over ``max_bytes`` (declared or streamed) before it is parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int, too_large: ASGIApp) -> None:
        self.app, self.max_bytes, self.too_large = app, max_bytes, too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self.too_large(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise TooLarge()
            return message

        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except TooLarge:
            if not started:
                await self.too_large(scope, receive, send)


class SecurityHeaders:
    """Headers on every response: no framing, no referrer (a township link must not leak in a
    Referer), scripts and styles only from the portal itself, nothing cached."""

    HEADERS = {
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                   "script-src 'self'; form-action 'self'; frame-ancestors 'none'",
        "cache-control": "no-store",
    }

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in self.HEADERS.items():
                    headers.setdefault(key, value)
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


class LoginThrottle:
    """At most ``attempts`` wrong passwords per address in ``window`` seconds."""

    def __init__(self, attempts: int, window: float = 600.0) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures[address]
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        return failures

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address)) >= self.attempts

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(time.monotonic())


class LoopbackHosts:
    """On a loopback server, only requests naming this machine (``Host: 127.0.0.1:…``): a page of
    another site whose name resolves to 127.0.0.1 (DNS rebinding) gets ``refused``."""

    NAMES = ("127.0.0.1", "localhost", "::1")

    def __init__(self, app: ASGIApp, refused: ASGIApp) -> None:
        self.app, self.refused = app, refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").strip().lower()
            name = host[1:host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
            if name not in self.NAMES:
                await self.refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
