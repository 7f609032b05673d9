"""Talking to one forwarder: bounded concurrency, timeouts, retries with backoff on timeouts,
dropped connections and 5xx only; 4xx and business errors are final answers."""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import ssl
import time
from dataclasses import dataclass

import httpx

from .mapping import Call, Mapping
from .render import answer_field, render

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_SECONDS = (0.2, 0.5, 1.0, 2.0, 4.0)


@dataclass
class Answer:
    """What a call came to: ``ok`` with the decoded body, a final refusal, or no usable answer."""
    kind: str                 # ok | refused | unanswered | not_found
    body: object = None
    reason: str = ""


@dataclass
class Booked:
    tracking_number: str
    shipment_id: str
    label: bytes | None
    label_problem: str = ""


class Forwarder:
    """One mapping with one channel's settings and credentials. Each call is given the client
    (one keep-alive connection) of the worker thread making it: httpx's synchronous client costs a
    third of the CPU per request of its asyncio one, and a pool shared by many connections looks
    at every connection for every request."""

    def __init__(self, mapping: Mapping, base_url: str, credentials: dict[str, str], *, timeout_seconds: float,
                 retries: int):
        self.mapping = mapping
        self.base_url = base_url or mapping.base_url
        self.credentials = credentials
        self.retries = retries
        self.timeout = httpx.Timeout(timeout_seconds)

    @staticmethod
    def connection() -> httpx.Client:
        return httpx.Client(limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                            follow_redirects=True, verify=_tls_context())

    # ---- one order --------------------------------------------------------------------------
    def book(self, client: httpx.Client, ctx: dict, lines: list[dict], resume: bool
                   ) -> Booked | Answer:
        """Book one parcel. Whenever an earlier request for this reference may have reached the
        forwarder without its answer reaching us (``resume``: a run killed mid-booking; or a timeout,
        dropped connection or 5xx just now), the forwarder is asked about the reference first and
        an existing shipment is taken over: never a second shipment for one parcel, even with
        gateways that accept duplicate references."""
        unknown, last = resume, ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])
            if unknown and self.mapping.lookup:
                found = self.call(client, self.mapping.lookup, ctx, lines, retries=0)
                if found.kind == "ok" and self._field(self.mapping.lookup, found.body, "tracking_number"):
                    return self._booked(client, self.mapping.lookup, found.body)
                if found.kind == "unanswered":
                    last = found.reason
                    continue
            created = self.call(client, self.mapping.create, ctx, lines, retries=0)
            if created.kind == "unanswered":
                unknown, last = True, created.reason
                continue
            if created.kind != "ok":
                return created
            if not self._field(self.mapping.create, created.body, "tracking_number"):
                return Answer("refused", reason="the forwarder answered without a tracking number")
            return self._booked(client, self.mapping.create, created.body)
        return Answer("unanswered", reason=f"{self.mapping.name} did not answer after {self.retries + 1} tries "
                                           f"({last})")

    def cancel(self, client: httpx.Client, ctx: dict) -> Answer:
        if not self.mapping.cancel:
            return Answer("refused", reason=f"the {self.mapping.name} mapping has no cancel call")
        return self.call(client, self.mapping.cancel, ctx, [])

    def _booked(self, client: httpx.Client, call: Call, body) -> Booked:
        tracking = str(self._field(call, body, "tracking_number")).strip().upper()
        shipment = str(self._field(call, body, "shipment_id") or "")
        label, problem = self._label(client, call, body)
        return Booked(tracking, shipment, label, problem)

    def _label(self, client: httpx.Client, call: Call, body) -> tuple[bytes | None, str]:
        source = self.mapping.label_source
        if source == "none":
            return None, ""
        try:
            if source == "base64":
                data = base64.b64decode(str(self._field(call, body, "label_base64") or ""), validate=True)
            else:
                url = str(self._field(call, body, "label_url") or "")
                if self.mapping.label_url:
                    url = str(render(self.mapping.label_url, {
                        "base_url": self.base_url, "reference": str(self._field(call, body, "reference") or ""),
                        "shipment_id": str(self._field(call, body, "shipment_id") or ""),
                        "tracking_number": str(self._field(call, body, "tracking_number") or "")}, []))
                if not url:
                    return None, "the forwarder gave no label URL"
                data = self._fetch(client, url)
        except (ValueError, httpx.HTTPError, LabelFetchError) as exc:
            return None, f"the forwarder's label could not be fetched: {exc}"
        magic = b"%PDF" if self.mapping.label_format == "pdf" else b"^XA"
        if not data or magic not in data[:1024]:
            return None, f"the forwarder's label is not a {self.mapping.label_format.upper()} file"
        return data, ""

    def _fetch(self, client: httpx.Client, url: str) -> bytes:
        headers = self._auth_headers({}, "") if self.mapping.label_url_authenticated else {}
        failure = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])
            try:
                response = client.get(url, headers=headers, timeout=self.timeout)
            except httpx.TransportError as exc:
                failure = exc.__class__.__name__
                continue
            if response.status_code == 200:
                return response.content
            failure = f"HTTP {response.status_code}"
            if response.status_code not in RETRY_STATUSES:
                break
        raise LabelFetchError(failure)

    # ---- one call -----------------------------------------------------------------------------
    def call(self, client: httpx.Client, call: Call, ctx: dict, lines: list[dict],
                   retries: int | None = None) -> Answer:
        retries = self.retries if retries is None else retries
        body = None if call.body is None else render(call.body, ctx, lines)
        if body is not None and call.body_list:
            body = [body]
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        last = ""
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])
            try:
                response = self._send(client, call, ctx, lines, text)
            except httpx.TimeoutException:
                last = f"no answer within {self.timeout.read:g} s"
                continue
            except httpx.TransportError as exc:
                last = f"connection failed ({exc.__class__.__name__})"
                continue
            if response.status_code in RETRY_STATUSES:
                last = f"HTTP {response.status_code}"
                continue
            return self._judge(call, response)
        return Answer("unanswered", reason=f"{self.mapping.name} did not answer after {retries + 1} tries ({last})")

    def _send(self, client: httpx.Client, call: Call, ctx: dict, lines: list[dict], text: str
                    ) -> httpx.Response:
        path = render(call.path, ctx, lines)
        query = {k: str(v) for k, v in render(call.query, ctx, lines).items()}
        headers = self._auth_headers(query, text)
        if text:
            headers["Content-Type"] = "application/json"
        return client.request(call.method, self.base_url + path, params=query or None,
                                          content=text.encode("utf-8") if text else None, headers=headers,
                                          timeout=self.timeout)

    def _auth_headers(self, query: dict, body_text: str) -> dict[str, str]:
        """Headers (and, for signed requests, query parameters added to ``query``) proving who we are."""
        auth = self.mapping.auth
        ctx = {f"credentials.{k}": v for k, v in self.credentials.items()}
        headers = {k: str(render(v, ctx, [])) for k, v in auth.headers.items()}
        if auth.scheme == "basic":
            token = base64.b64encode(str(render(auth.username, ctx, [])).encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        elif auth.scheme == "header":
            headers[auth.header] = str(render(auth.value, ctx, []))
        elif auth.scheme == "hmac":
            ctx = {**ctx, "timestamp": str(int(time.time() * 1000)), "body": body_text}
            message = str(render(auth.message, ctx, [])).encode("utf-8")
            secret = str(render(auth.secret, ctx, [])).encode("utf-8")
            ctx["signature"] = signature(auth.algorithm, secret, message)
            query.update({k: str(render(v, ctx, [])) for k, v in auth.query.items()})
            headers.update({k: str(render(v, ctx, [])) for k, v in auth.headers.items()})
        return headers

    def _judge(self, call: Call, response: httpx.Response) -> Answer:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 404 and call is self.mapping.lookup:
            return Answer("not_found", body)
        accepted = response.status_code in self.mapping.ok_status and body is not None and all(
            str(answer_field(body, path)) in [str(v) for v in (values if isinstance(values, list) else [values])]
            for path, values in call.ok.items())
        if accepted:
            return Answer("ok", body)
        return Answer("refused", body, self._reason(call, response, body))

    def _reason(self, call: Call, response: httpx.Response, body) -> str:
        code = self._field(call, body, "error_code") if body is not None else None
        message = self._field(call, body, "error_message") if body is not None else None
        if isinstance(message, list):
            message = "; ".join(str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in message)
        plain = self.mapping.errors.get(str(code)) if code is not None else None
        said = str(message or "").strip() or response.text[:200].strip() or f"HTTP {response.status_code}"
        if plain:
            return f"{plain} ({code}: {said})"
        return f"{said} (HTTP {response.status_code}{f', {code}' if code else ''})"

    def _field(self, call: Call, body, name: str):
        path = call.paths.get(name)
        return answer_field(body, path) if path else None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the system's certificates takes about 60 ms: once per run, not once per connection.
    return ssl.create_default_context()


def signature(algorithm: str, secret: bytes, message: bytes) -> str:
    """Hex signature of a request: "hmac-sha256" (or hmac-sha1, hmac-md5) keyed with the secret, or a
    plain digest ("md5", "sha256") of a message that itself contains the secret, as some forwarders use."""
    if algorithm.startswith("hmac-"):
        return hmac.new(secret, message, getattr(hashlib, algorithm[5:])).hexdigest()
    return hashlib.new(algorithm, message).hexdigest()


class LabelFetchError(Exception):
    pass
