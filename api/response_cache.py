"""Whole GraphQL responses kept per graph version, in front of the GraphQL app.

Between two loads the graph does not change, so the same POST body always gets the same
answer. The first answer to a body is kept (successful ones only, up to a size) and sent again
for as long as the graph version (`GraphAccess.generation`, re-read at most every
COVGRAPH_API_CACHE_TTL seconds) stays the same. Responses say `x-covgraph-cache: hit` or `miss`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.queries.runner import GraphAccess

CACHE_HEADER = b"x-covgraph-cache"


@dataclass(frozen=True, slots=True)
class _Stored:
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ResponseCache:
    """An ASGI wrapper that answers repeated POST bodies from memory."""

    def __init__(
        self,
        app: ASGIApp,
        access: GraphAccess,
        *,
        max_bytes: int = 64 * 1024 * 1024,
        max_entry_bytes: int = 2 * 1024 * 1024,
    ) -> None:
        self.app = app
        self.access = access
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self._entries: OrderedDict[bytes, _Stored] = OrderedDict()
        self._size = 0
        self._generation: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not self.access.cache_enabled:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        try:
            generation: str | None = await self.access.generation()
        except Exception:  # noqa: BLE001  # the app answers it as a GraphQL error (503 or masked)
            generation = None
        key = hashlib.sha256(body).digest()
        stored = self._get(generation, key) if generation is not None else None
        if stored is not None:
            await send({"type": "http.response.start", "status": 200, "headers": stored.headers})
            await send({"type": "http.response.body", "body": stored.body})
            return
        await self._answer(scope, _replay(body, receive), send, generation, key)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, generation: str | None, key: bytes
    ) -> None:
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (CACHE_HEADER, b"miss")]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if (
            generation is not None
            and status == 200
            and len(body) <= self.max_entry_bytes
            and b'"errors"' not in body
        ):
            cached = [(k, v) for k, v in headers if k != CACHE_HEADER] + [(CACHE_HEADER, b"hit")]
            self._put(generation, key, _Stored(cached, body))

    def _get(self, generation: str, key: bytes) -> _Stored | None:
        if generation != self._generation:
            self._entries.clear()
            self._size = 0
            self._generation = generation
            return None
        stored = self._entries.get(key)
        if stored is not None:
            self._entries.move_to_end(key)
        return stored

    def _put(self, generation: str, key: bytes, stored: _Stored) -> None:
        if generation != self._generation or key in self._entries:
            return
        self._entries[key] = stored
        self._size += len(stored.body)
        while self._size > self.max_bytes and self._entries:
            _, dropped = self._entries.popitem(last=False)
            self._size -= len(dropped.body)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, original: Receive) -> Receive:
    """The body already read, then whatever the connection says next (a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
