"""Forwarders added as mapping files: signed requests, base64 and ZPL labels, a mapping the
project does not ship, and the shipped 4PX-style signature, against real HTTP servers on 127.0.0.1."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pypdfium2 as pdfium
import pytest
import zxingcpp

from batchship.forwarder_sim.labels import label_pdf
from batchship.forwarder_sim.runner import running_simulator
from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
ACME_MAPPING = '''
base_url = ""
credentials = ["key", "secret"]

[auth]
scheme = "hmac"
algorithm = "hmac-sha256"
secret = "{credentials.secret}"
message = "{credentials.key}{timestamp}{body}"
query = { key = "{credentials.key}", ts = "{timestamp}", sig = "{signature}" }

[create]
method = "POST"
path = "/v2/parcels"
ok = { status = "ok" }
body = { ref = "{reference}", service = "{product_code}", to = { name = "{order.recipient_name}", country = "{order.country}", zip = "{order.postcode}" }, grams = "{parcel.weight_g}", items = { each = "lines", item = { sku = "{line.sku}", qty = "{line.quantity}", value = "{line.unit_value}" } } }

[create.answer]
tracking_number = "parcel.tracking"
shipment_id = "parcel.id"
label_base64 = "parcel.label"
error_code = "error.code"
error_message = "error.text"

[label]
source = "base64"
format = "pdf"

[errors]
BAD_ZIP = "Acme refuses the postcode"
'''


class AcmeApi(BaseHTTPRequestHandler):
    """A forwarder batchship ships no mapping for: signed query, one parcel per request."""
    secret = b"acme-secret"
    received: list[dict] = []
    serial = [0]
    lock = threading.Lock()

    def do_POST(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        expected = hmac.new(self.secret, (query.get("key", "") + query.get("ts", "")).encode() + body,
                            hashlib.sha256).hexdigest()
        if url.path != "/v2/parcels" or query.get("sig") != expected:
            return self._answer(401, {"status": "error", "error": {"code": "SIG", "text": "bad signature"}})
        order = json.loads(body)
        with self.lock:
            self.received.append(order)
            if order["to"]["zip"] == "00000":
                return self._answer(422, {"status": "error", "error": {"code": "BAD_ZIP", "text": "zip 00000"}})
            self.serial[0] += 1
            tracking = s10(70_000_000 + self.serial[0], "LX")
        pdf = label_pdf(tracking, f"P{self.serial[0]}", order["to"]["name"], order["to"]["country"])
        self._answer(201, {"status": "ok", "parcel": {"tracking": tracking, "id": f"P{self.serial[0]}",
                                                       "label": base64.b64encode(pdf).decode()}})

    def _answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def acme():
    AcmeApi.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), AcmeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _config(channel_block: str) -> str:
    return (TEST_CONFIG.replace('[[channels]]\nname = "YW"', channel_block + '\n\n[[channels]]\nname = "YW"', 1)
            .replace('[[logistics]]\nchannel = "YW"', '[[logistics]]\nchannel = "API"'))


def _stocked(ws) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG"), product_row("TEE")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "MUG", 100, "A-1"], ["SZ", "TEE", 100, "A-2"]])


def _acme_workspace(ws, acme: str, monkeypatch, secret: str) -> None:
    """A workspace with its own mapping for the Acme API (the project ships none) and stock."""
    (ws.root / "templates" / "carriers").mkdir(parents=True)
    (ws.root / "templates" / "carriers" / "acme.toml").write_text(ACME_MAPPING, encoding="utf-8")
    monkeypatch.setenv("ACME_KEY", "k-123")
    monkeypatch.setenv("ACME_SECRET", secret)
    (ws.root / "batchship.toml").write_text(_config(f'''[[channels]]
name = "API"
source = "api"
forwarder = "acme"
product_code = "EXPRESS"
credentials = {{ key = "ACME_KEY", secret = "ACME_SECRET" }}
base_url = "{acme}"'''), encoding="utf-8")
    _stocked(ws)


def _decoded(pdf_path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        return [r.text for i in range(len(pdf)) for r in zxingcpp.read_barcodes(pdf[i].render(scale=2).to_pil())]
    finally:
        pdf.close()


def test_a_forwarder_the_project_does_not_ship_is_added_with_a_mapping_file(ws, acme, monkeypatch):
    _acme_workspace(ws, acme, monkeypatch, secret="acme-secret")
    ws.drop("orders.csv", ORDER_HEADER, [order_row("A1", "MUG", 2, "2026-11-01 08:00"),
                                         order_row("A1", "TEE", 1, "2026-11-01 08:00"),
                                         order_row("A2", "MUG", 1, "2026-11-01 09:00", postcode="00000"),
                                         order_row("A3", "TEE", 3, "2026-11-01 10:00")])
    assert ws.run() == 0
    with ws.db() as db:
        state = {r[0]: r[1:] for r in db.execute("SELECT order_id, stage, tracking_number, failure_reason FROM orders")}
    assert state["A1"][0] == state["A3"][0] == "print"
    assert state["A2"][0] == "waybill" and state["A2"][2] == "waybill failed: Acme refuses the postcode (BAD_ZIP: zip 00000)"
    sent = {o["ref"]: o for o in AcmeApi.received}
    assert sent["shop-a/A1"]["service"] == "EXPRESS" and sent["shop-a/A1"]["grams"] == 200 * 3
    assert [(i["sku"], i["qty"]) for i in sent["shop-a/A1"]["items"]] == [("MUG", 2), ("TEE", 1)]
    assert _decoded(ws.last_outbox() / "labels-API.pdf") == [state["A1"][1], state["A3"][1]]


def test_a_wrong_secret_is_refused_by_the_signature_check_and_named_on_the_order(ws, acme, monkeypatch):
    _acme_workspace(ws, acme, monkeypatch, secret="not-the-secret")
    ws.drop("orders.csv", ORDER_HEADER, [order_row("A1", "MUG", 1, "2026-11-01 08:00")])
    assert ws.run() == 0
    with ws.db() as db:
        assert db.execute("SELECT stage, failure_reason FROM orders").fetchone() == (
            "waybill", "waybill failed: bad signature (HTTP 401, SIG)")
    assert AcmeApi.received == []


def test_the_shipped_4px_mapping_signs_as_4px_documents(ws, monkeypatch):
    """The md5 signature over the sorted parameters, the body and the secret."""
    seen = {}

    class FourPx(AcmeApi):
        def do_POST(self):
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            text = (f"app_key{q['app_key']}format{q['format']}method{q['method']}timestamp{q['timestamp']}"
                    f"v{q['v']}").encode() + body + b"px-secret"
            seen["ok"] = q["sign"] == hashlib.md5(text).hexdigest()
            seen["body"] = json.loads(body)
            self._answer(200, {"result": "1", "data": {"logistics_channel_no": s10(12345678, "UB"),
                                                       "4px_tracking_no": "4PX0001", "label_url": ""}})

    server = ThreadingHTTPServer(("127.0.0.1", 0), FourPx)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PX_KEY", "app-1")
        monkeypatch.setenv("PX_SECRET", "px-secret")
        (ws.root / "batchship.toml").write_text(_config(f'''[[channels]]
name = "API"
source = "api"
forwarder = "4px"
product_code = "PX-ECONOMY"
credentials = {{ app_key = "PX_KEY", app_secret = "PX_SECRET" }}
base_url = "http://127.0.0.1:{server.server_address[1]}"'''), encoding="utf-8")
        _stocked(ws)
        ws.drop("orders.csv", ORDER_HEADER, [order_row("P1", "MUG", 2, "2026-11-01 08:00")])
        assert ws.run() == 1        # the answer carries no label (label_url ""): a label problem
    finally:
        server.shutdown()
        server.server_close()
    assert seen["ok"], "the signature did not verify"
    assert seen["body"]["ref_no"] == "shop-a/P1"
    assert seen["body"]["parcel_list"][0]["declare_product_info"][0]["declare_product_code_qty"] == 2
    with ws.db() as db:
        assert db.execute("SELECT stage, tracking_number FROM orders").fetchone() == ("print", s10(12345678, "UB"))


def test_a_forwarders_zpl_labels_land_in_the_channels_zpl_file(ws, monkeypatch):
    shipped = (Path(__file__).resolve().parents[1] / "templates" / "carriers" / "yunexpress.toml").read_text()
    zpl_mapping = shipped.replace('[label]\nsource = "url"\nformat = "pdf"',
                                  '[label]\nsource = "url"\nformat = "zpl"\nurl = "{base_url}/labels/{shipment_id}.zpl"')
    assert zpl_mapping != shipped
    (ws.root / "templates" / "carriers").mkdir(parents=True)
    (ws.root / "templates" / "carriers" / "yun-zpl.toml").write_text(zpl_mapping, encoding="utf-8")
    monkeypatch.setenv("SIM_CUSTOMER_CODE", "C0001")
    monkeypatch.setenv("SIM_API_SECRET", "sim-secret")
    with running_simulator() as sim:
        (ws.root / "batchship.toml").write_text(_config(f'''[[channels]]
name = "API"
source = "api"
forwarder = "yun-zpl"
product_code = "S1002"
credentials = {{ customer_code = "SIM_CUSTOMER_CODE", api_secret = "SIM_API_SECRET" }}
base_url = "{sim.url}"'''), encoding="utf-8")
        _stocked(ws)
        ws.drop("orders.csv", ORDER_HEADER, [order_row(f"Z{i}", "MUG", 1, f"2026-11-01 0{i}:00") for i in range(1, 4)])
        assert ws.run() == 0
    with ws.db() as db:
        numbers = [r[0] for r in db.execute("SELECT tracking_number FROM orders ORDER BY paid_at")]
    zpl = (ws.last_outbox() / "labels-API.zpl").read_text()
    assert zpl.count("^XA") == zpl.count("^XZ") == 3
    assert [n for n in numbers if n in zpl] == numbers
    assert not (ws.last_outbox() / "labels-API.pdf").exists()
