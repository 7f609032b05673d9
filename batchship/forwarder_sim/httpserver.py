"""A small HTTP/1.1 server on asyncio streams: keep-alive, pipelining, Content-Length and chunked bodies.

Just enough HTTP for the simulator; it is not a general web server. A handler gets a Request and
returns a Response, or DROP to close the connection without answering.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import parse_qs, unquote, urlsplit

MAX_HEAD = 64 * 1024
MAX_BODY = 8 * 1024 * 1024

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
            411: "Length Required", 413: "Payload Too Large", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented"}


@dataclass
class Request:
    method: str
    path: str                   # percent-decoded, without the query
    query: dict[str, list[str]]
    headers: dict[str, str]     # names lower-cased
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data) -> "Response":
        return cls(status, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


DROP = object()   # handler result: close the connection without an answer

Handler = Callable[[Request], Awaitable["Response | object"]]


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _head(data: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = data.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, "malformed request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, "malformed header line")
        name = name.lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return parts[0], parts[1], parts[2], headers


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest(400, "malformed chunk size") from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":   # trailers
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY:
            raise BadRequest(413, "body too large")
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise BadRequest(400, "malformed chunk")


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _chunked(reader)
    length = headers.get("content-length")
    if length is None:
        return b""
    if not length.isdigit():
        raise BadRequest(400, "malformed Content-Length")
    if int(length) > MAX_BODY:
        raise BadRequest(413, "body too large")
    return await reader.readexactly(int(length))


def _serialize(response: Response, keep_alive: bool) -> bytes:
    reason = _REASONS.get(response.status, "Unknown")
    lines = [f"HTTP/1.1 {response.status} {reason}", f"Content-Type: {response.content_type}",
             f"Content-Length: {len(response.body)}", "Connection: " + ("keep-alive" if keep_alive else "close")]
    lines += [f"{k}: {v}" for k, v in response.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


class HttpServer:
    """Serves handler on host:port (0 = a free port) until close()."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0):
        self.handler, self.host, self.requested_port = handler, host, port
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, self.host, self.requested_port,
                                                  limit=MAX_HEAD, backlog=512, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._connections):
            writer.close()
        await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection is to be closed."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False        # the client closed between requests
        except asyncio.LimitOverrunError:
            writer.write(_serialize(Response.json(431, {"Code": "E431", "Message": "header too large"}), False))
            return False
        head = head.lstrip(b"\r\n")
        if not head.strip():
            return True
        try:
            method, target, version, headers = _head(head[:-4])
            body = await _body(reader, headers)
        except BadRequest as exc:
            writer.write(_serialize(Response.json(exc.status, {"Code": f"E{exc.status}", "Message": str(exc)}),
                                    False))
            await writer.drain()
            return False
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)
        url = urlsplit(target)
        request = Request(method, unquote(url.path), parse_qs(url.query, keep_blank_values=True), headers, body)
        try:
            response = await self.handler(request)
        except Exception as exc:   # a bug in a handler: answer it rather than hang up
            logging.getLogger(__name__).exception("handler failed on %s %s", method, target)
            response = Response.json(500, {"Code": "E500", "Message": f"simulator error: {exc}"})
        if response is DROP:
            return False
        writer.write(_serialize(response, keep_alive))
        await writer.drain()
        return keep_alive
