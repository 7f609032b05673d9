"""A YunExpress-style forwarder on 127.0.0.1 for tests and benchmarks (the wire contract is the one
the carrier template templates/carriers/yunexpress.toml maps).

    with running_simulator(port=0) as sim:
        httpx.post(sim.url + "/api/WayBill/CreateOrder", json=[order],
                   headers={"Authorization": sim.auth_header})

Modules: httpserver (HTTP/1.1 on asyncio streams), api (the routes), validation (the forwarder's
order checks), state (shipments, log, misbehaviour), labels (PDF and ZPL), runner (thread, child
process, foreground with signals).
"""
from .api import DEFAULT_API_SECRET, DEFAULT_CUSTOMER_CODE
from .runner import Simulator, running_simulator, serve

__all__ = ["DEFAULT_API_SECRET", "DEFAULT_CUSTOMER_CODE", "Simulator", "running_simulator", "serve"]
