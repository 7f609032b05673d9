"""The forwarder's API (see the module docstring of batchship.forwarder_sim) over SimState."""
from __future__ import annotations

import asyncio
import base64
import binascii
import json

from .httpserver import DROP, Request, Response
from .labels import label_pdf, label_zpl
from .state import Behaviour, Shipment, SimState
from .validation import order_problem

DEFAULT_CUSTOMER_CODE = "C0001"
DEFAULT_API_SECRET = "sim-secret"

CREATE = "/api/WayBill/CreateOrder"
GET = "/api/WayBill/GetOrder"
DELETE = "/api/WayBill/Delete"


def auth_header_value(customer_code: str, api_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{customer_code}&{api_secret}".encode("utf-8")).decode("ascii")


def _error(status: int, code: str, message: str, **extra) -> Response:
    return Response.json(status, {"Code": code, "Message": message, **extra})


def _json_body(request: Request):
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


class ForwarderApi:
    def __init__(self, state: SimState, base_url: str = "", customer_code: str = DEFAULT_CUSTOMER_CODE,
                 api_secret: str = DEFAULT_API_SECRET):
        self.state = state
        self.base_url = base_url        # set once the port is known
        self._auth = auth_header_value(customer_code, api_secret)
        self._customer_code, self._api_secret = customer_code, api_secret

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("authorization", "")
        if given == self._auth:
            return True
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            code, sep, secret = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition("&")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return bool(sep) and code == self._customer_code and secret == self._api_secret

    async def __call__(self, request: Request):
        path = request.path
        if path.startswith("/__sim/"):
            return self._control(request)
        ref: str | None = None
        try:
            if path.startswith("/labels/"):
                response, ref = self._label(request)
            elif not self._authorised(request):
                response = _error(401, "E401", "authentication failed")
            elif path == CREATE:
                response, ref = await self._create(request)
            elif path == GET:
                response, ref = self._get(request)
            elif path == DELETE:
                response, ref = self._delete(request)
            else:
                response = _error(404, "E404", "not found")
        except Exception:
            self.state.record(request.method, path, ref, 500)
            raise
        self.state.record(request.method, path, ref, None if response is DROP else response.status)
        return response

    # -- orders -------------------------------------------------------------------------------------

    def _item(self, shipment: Shipment, remark: str = "") -> dict:
        return {"CustomerOrderNumber": shipment.ref, "Success": 1, "WayBillNumber": shipment.waybill,
                "TrackingNumber": shipment.tracking, "LabelUrl": f"{self.base_url}/labels/{shipment.waybill}.pdf",
                "Remark": remark}

    async def _create(self, request: Request):
        if request.method != "POST":
            return _error(405, "E405", "use POST"), None
        body = _json_body(request)
        order = body[0] if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict) else None
        ref = order.get("CustomerOrderNumber") if order is not None else None
        ref = ref if isinstance(ref, str) else None
        state = self.state
        if state.behaviour.delay_seconds > 0:
            await asyncio.sleep(state.behaviour.delay_seconds)
        if state.take("drop"):
            return DROP, ref
        if state.take("fail_5xx"):
            return _error(500, "E500", "internal server error (simulated)"), ref
        if order is None:
            return _error(400, "E1000", "request body must be a JSON list with one order object"), None
        if not ref or not ref.strip():
            return _error(400, "E1000", "CustomerOrderNumber is required",
                          Item=[{"CustomerOrderNumber": ref or "", "Success": 0,
                                 "Remark": "CustomerOrderNumber is required"}]), ref
        if ref in state.behaviour.reject_refs:
            problem = ("E1001", "Receiver postcode is invalid (rejected by the simulator)")
        elif ref in state.shipments:
            problem = None
        else:
            problem = order_problem(order)
        if problem is not None:
            code, message = problem
            return _error(400, code, message,
                          Item=[{"CustomerOrderNumber": ref, "Success": 0, "Remark": message}]), ref
        receiver = order.get("Receiver")
        receiver = receiver if isinstance(receiver, dict) else {}
        name = " ".join(str(receiver.get(k) or "").strip() for k in ("FirstName", "LastName")).strip()
        shipment, existed = state.create(ref, str(order.get("ShippingMethodCode") or ""), name,
                                         str(receiver.get("CountryCode") or "").upper(),
                                         str(receiver.get("City") or ""),
                                         sender=order.get("Sender") if isinstance(order.get("Sender"), dict) else None)
        if state.take("fail_5xx_after_create"):
            return _error(500, "E500", "internal server error (simulated, after creating)"), ref
        return Response.json(200, {"Code": "0000", "Message": "success",
                                   "Item": [self._item(shipment, "existing order" if existed else "")]}), ref

    def _get(self, request: Request):
        if request.method != "GET":
            return _error(405, "E405", "use GET"), None
        ref = request.param("OrderNumber")
        shipment = self.state.shipments.get(ref) if ref else None
        if shipment is None:
            return _error(404, "E404", "order not found"), ref
        remark = "cancelled" if shipment.status == "cancelled" else ""
        return Response.json(200, {"Code": "0000", "Message": "success", "Item": self._item(shipment, remark)}), ref

    def _delete(self, request: Request):
        if request.method != "POST":
            return _error(405, "E405", "use POST"), None
        body = _json_body(request)
        ref = body.get("OrderNumber") if isinstance(body, dict) else None
        if not isinstance(ref, str):
            return _error(400, "E1000", 'request body must be {"OrderNumber": "<CustomerOrderNumber>"}'), None
        done = self.state.cancel(ref)
        if done is None:
            return _error(404, "E404", "order not found"), ref
        return Response.json(200, {"Code": "0000", "Message": "deleted" if done else "already deleted"}), ref

    # -- labels -------------------------------------------------------------------------------------

    def _label(self, request: Request):
        name = request.path[len("/labels/"):]
        waybill, dot, kind = name.rpartition(".")
        shipment = self.state.by_waybill.get(waybill) if dot and kind in ("pdf", "zpl") else None
        ref = shipment.ref if shipment else None
        if request.method != "GET":
            return _error(405, "E405", "use GET"), ref
        if shipment is None or self.state.behaviour.label_404:
            return _error(404, "E404", "label not found"), ref
        args = (shipment.tracking, shipment.waybill, shipment.receiver_name, shipment.country, shipment.city,
                shipment.method)
        if kind == "pdf":
            return Response(200, label_pdf(*args), "application/pdf"), ref
        return Response(200, label_zpl(*args).encode("utf-8"), "text/plain; charset=utf-8"), ref

    # -- test controls ------------------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        path, method, state = request.path, request.method, self.state
        if path == "/__sim/behaviour" and method == "POST":
            try:
                behaviour = Behaviour.from_json(_json_body(request) if request.body.strip() else {})
            except ValueError as exc:
                return _error(400, "E400", str(exc))
            with state.lock:
                state.behaviour = behaviour
            return Response.json(200, {"behaviour": behaviour.to_json()})
        if path == "/__sim/behaviour" and method == "GET":
            return Response.json(200, {"behaviour": state.behaviour.to_json()})
        if path == "/__sim/log" and method == "GET":
            with state.lock:
                return Response.json(200, {"requests": list(state.log)})
        if path == "/__sim/shipments" and method == "GET":
            return Response.json(200, {"shipments": state.shipments_json()})
        if path == "/__sim/reset" and method == "POST":
            state.reset()
            return Response.json(200, {"Code": "0000", "Message": "reset"})
        return _error(404, "E404", "no such test control")
