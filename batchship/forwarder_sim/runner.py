"""Starting and stopping the simulator: in a background thread, in a child process, or in the foreground."""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import httpx

from .api import DEFAULT_API_SECRET, DEFAULT_CUSTOMER_CODE, ForwarderApi, auth_header_value
from .httpserver import HttpServer
from .state import SimState

HOST = "127.0.0.1"
READY_PREFIX = "forwarder simulator listening on "


async def _start(port: int, customer_code: str, api_secret: str, serial_start: int | None):
    state = SimState(serial_start=serial_start)
    api = ForwarderApi(state, customer_code=customer_code, api_secret=api_secret)
    server = HttpServer(api, HOST, port)
    await server.start()
    api.base_url = f"http://{HOST}:{server.port}"
    return server, api


class Simulator:
    """A running simulator. `url` is its base URL; the helpers drive the /__sim/ controls over HTTP."""

    def __init__(self, url: str, customer_code: str, api_secret: str, state: SimState | None = None,
                 pid: int | None = None):
        self.url = url
        self.pid = pid              # the child process's id (process mode), else None
        self.port = int(url.rsplit(":", 1)[1])
        self.customer_code, self.api_secret = customer_code, api_secret
        self.auth_header = auth_header_value(customer_code, api_secret)    # value of the Authorization header
        self.state = state          # the live state when it runs in this process (thread mode), else None

    def _call(self, method: str, path: str, json=None) -> dict:
        response = httpx.request(method, self.url + path, json=json, timeout=10)
        response.raise_for_status()
        return response.json()

    def behave(self, **behaviour) -> dict:
        """Replace the misbehaviour settings, e.g. behave(fail_5xx=2, label_404=True)."""
        return self._call("POST", "/__sim/behaviour", behaviour)["behaviour"]

    def shipments(self) -> list[dict]:
        return self._call("GET", "/__sim/shipments")["shipments"]

    def log(self) -> list[dict]:
        return self._call("GET", "/__sim/log")["requests"]

    def reset(self) -> None:
        self._call("POST", "/__sim/reset")


@contextlib.contextmanager
def running_simulator(port: int = 0, *, customer_code: str = DEFAULT_CUSTOMER_CODE,
                      api_secret: str = DEFAULT_API_SECRET, process: bool = False,
                      serial_start: int | None = None, start_timeout: float = 30.0) -> Iterator[Simulator]:
    """Run a simulator on 127.0.0.1:port (0 = a free port) for the duration of the with-block.

    process=False runs it on an event loop in a daemon thread of this process (fast to start, and
    sim.state is the live state); process=True runs `python -m batchship.forwarder_sim` as a child
    process, so that it does not share this interpreter's GIL (for benchmarks).
    """
    if process:
        with _child(port, customer_code, api_secret, serial_start, start_timeout) as sim:
            yield sim
        return
    loop = asyncio.new_event_loop()
    started: dict = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            started["server"], started["api"] = loop.run_until_complete(
                _start(port, customer_code, api_secret, serial_start))
        except BaseException as exc:     # handed to the caller below
            started["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(started["server"].close())
        _cancel_pending(loop)
        loop.close()

    thread = threading.Thread(target=run, name="forwarder-sim", daemon=True)
    thread.start()
    if not ready.wait(start_timeout):
        raise RuntimeError("forwarder simulator did not start")
    if "error" in started:
        thread.join(5)
        raise started["error"]
    api = started["api"]
    try:
        yield Simulator(api.base_url, customer_code, api_secret, api.state)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _command(port: int, customer_code: str, api_secret: str, serial_start: int | None) -> list[str]:
    cmd = [sys.executable, "-m", "batchship.forwarder_sim", "--port", str(port),
           "--customer-code", customer_code, "--api-secret", api_secret]
    if serial_start is not None:
        cmd += ["--serial-start", str(serial_start)]
    return cmd


@contextlib.contextmanager
def _child(port: int, customer_code: str, api_secret: str, serial_start: int | None,
           start_timeout: float) -> Iterator[Simulator]:
    # The child imports the same batchship as this process, whatever the installed copy is.
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen(_command(port, customer_code, api_secret, serial_start), stdout=subprocess.PIPE,
                            text=True, env=env)
    try:
        line = _first_line(proc, start_timeout)
        if not line.startswith(READY_PREFIX):
            raise RuntimeError(f"forwarder simulator did not start (said {line!r}, exit code {proc.poll()})")
        yield Simulator(line[len(READY_PREFIX):].strip(), customer_code, api_secret, pid=proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def _first_line(proc: subprocess.Popen, timeout: float) -> str:
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""


def serve(port: int = 0, customer_code: str = DEFAULT_CUSTOMER_CODE, api_secret: str = DEFAULT_API_SECRET,
          serial_start: int | None = None) -> int:
    """Serve in the foreground until SIGINT or SIGTERM; prints the listening line first. Returns 0."""
    async def main() -> None:
        server, api = await _start(port, customer_code, api_secret, serial_start)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"{READY_PREFIX}{api.base_url}", flush=True)
        try:
            await stop.wait()
        finally:
            await server.close()

    asyncio.run(main())
    print("forwarder simulator stopped", file=sys.stderr, flush=True)
    return 0


def add_arguments(parser) -> None:
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = pick a free one)")
    parser.add_argument("--customer-code", default=DEFAULT_CUSTOMER_CODE,
                        help="the customer code clients must send (default: %(default)s)")
    parser.add_argument("--api-secret", default=DEFAULT_API_SECRET,
                        help="the API secret clients must sign with (default: the demo's)")
    parser.add_argument("--serial-start", type=int, default=None,
                        help="first S10 serial number (default: a random one)")


def run_from_args(args) -> int:
    return serve(args.port, args.customer_code, args.api_secret, args.serial_start)
