"""An ASGI middleware that refuses request bodies over a size limit with 413, before they are read whole."""

from __future__ import annotations

import json


class _TooLarge(Exception):
    pass


def too_large_message(limit: int) -> str:
    return (f"The upload is larger than the {limit / 2**20:.0f} MB limit. Send a smaller picture "
            f"(a photo resized to about 1000 px is plenty for one digit).")


class BodySizeLimit:
    """Answer 413 for a body over ``max_bytes``: at once from ``Content-Length``, or while it streams in.

    Counting the streamed bytes also covers chunked uploads that announce no length, so a client
    can never make the server buffer more than ``max_bytes`` of one request.
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send) -> None:
        body = json.dumps({"error": too_large_message(self.max_bytes)}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)
