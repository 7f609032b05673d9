"""Requests per second the forwarder simulator answers: creates, then label PDF fetches.

    python benchmarks/forwarder_sim_throughput.py [--orders 10000] [--clients 32] [--processes 2] [--pool]

The simulator runs in its own process (as in the booking benchmark). The load is --clients
concurrent keep-alive connections, spread over --processes client processes; each connection
is its own httpx.AsyncClient (pass --pool for one shared AsyncClient pool per process instead).
Each order is one CreateOrder, then one GET of its label PDF.

httpx costs far more CPU per request than the simulator does, so on a small machine the figure
measures the clients: the simulator alone answers ~15,000 small requests/s on one core. One
shared pool with many connections is much slower still: httpcore's pool looks at every
connection for every request.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's batchship, not another one

from batchship.forwarder_sim import running_simulator  # noqa: E402


def order(n: int) -> list[dict]:
    return [{"CustomerOrderNumber": f"bench/{n}", "ShippingMethodCode": "S1002", "PackageCount": 1,
             "Weight": 0.42,
             "Receiver": {"FirstName": "Emily", "LastName": f"Carter {n}", "Company": "", "CountryCode": "US",
                          "Street": "742 Evergreen Terrace", "Street2": "", "City": "Springfield", "State": "IL",
                          "Zip": "62704", "Phone": "+1 217 555 0134", "Email": "buyer@example.com"},
             "Parcels": [{"EName": "Mug", "CName": "杯子", "Quantity": 2, "UnitPrice": 5.0, "UnitWeight": 0.2,
                          "CurrencyCode": "USD", "HSCode": "691200", "SKU": "MUG", "Origin": "CN"}]}]


async def _load(url: str, auth: str, numbers: list[int], connections: int, pool: bool, start_at: float,
                results) -> None:
    def client(n: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=url, headers={"Authorization": auth}, timeout=30,
                                 limits=httpx.Limits(max_connections=n, max_keepalive_connections=n))

    clients = [client(connections)] * connections if pool else [client(1) for _ in range(connections)]
    labels: dict[int, str] = {}

    async def run_phase(call) -> float:
        todo = iter(numbers)

        async def worker(c: httpx.AsyncClient) -> None:
            for n in todo:
                await call(c, n)

        await asyncio.gather(*(worker(c) for c in clients))
        return time.time()

    async def create(c: httpx.AsyncClient, n: int) -> None:
        response = await c.post("/api/WayBill/CreateOrder", json=order(n))
        response.raise_for_status()
        labels[n] = response.json()["Item"][0]["LabelUrl"]

    async def label(c: httpx.AsyncClient, n: int) -> None:
        response = await c.get(labels[n])
        response.raise_for_status()
        if not response.content.startswith(b"%PDF-"):
            raise RuntimeError(f"label of order {n} is not a PDF")

    # Open the connections before the clock starts, then start together with the other processes.
    await asyncio.gather(*(c.get("/__sim/shipments") for c in set(clients)) if pool else
                         (c.get("/__sim/shipments") for c in clients))
    await asyncio.sleep(max(0.0, start_at - time.time()))
    results.put(("create", await run_phase(create)))
    results.put(("label", await run_phase(label)))
    for c in set(clients):
        await c.aclose()


def _process(url, auth, numbers, connections, pool, start_at, results) -> None:
    asyncio.run(_load(url, auth, numbers, connections, pool, start_at, results))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux), or nan where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive connections in all")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--pool", action="store_true", help="one shared AsyncClient per process")
    args = parser.parse_args()
    procs = max(1, min(args.processes, args.clients))
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    with running_simulator(process=True) as sim:
        start_at = time.time() + 3.0
        cpu_before = cpu_seconds(sim.pid)
        workers = [context.Process(target=_process, args=(sim.url, sim.auth_header, list(range(p, args.orders, procs)),
                                                           args.clients // procs + (p < args.clients % procs),
                                                           args.pool, start_at, results))
                   for p in range(procs)]
        for w in workers:
            w.start()
        ends: dict[str, list[float]] = {"create": [], "label": []}
        for _ in range(2 * procs):
            phase, at = results.get(timeout=600)
            ends[phase].append(at)
        for w in workers:
            w.join(60)
        if any(w.exitcode for w in workers):
            print("a client process failed", file=sys.stderr)
            return 1
        server_cpu = cpu_seconds(sim.pid) - cpu_before
        created = len(sim.shipments())
    create_s, label_s = max(ends["create"]) - start_at, max(ends["label"]) - max(ends["create"])
    mode = "one pool per process" if args.pool else "one AsyncClient per connection"
    print(f"{args.orders} orders, {args.clients} connections over {procs} client processes ({mode}), "
          f"{created} shipments created")
    print(f"create     {args.orders / create_s:>8.0f} requests/s")
    print(f"label GET  {args.orders / label_s:>8.0f} requests/s")
    print(f"both       {2 * args.orders / (create_s + label_s):>8.0f} requests/s "
          f"({args.orders / (create_s + label_s):.0f} orders/s)")
    per_request = server_cpu / (2 * args.orders)
    print(f"simulator CPU {per_request * 1e6:.0f} us per request (about {1 / per_request:.0f} requests/s "
          f"per core it could answer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
