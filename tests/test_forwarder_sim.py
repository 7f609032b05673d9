"""The forwarder simulator over real HTTP on 127.0.0.1: numbers, idempotent creates, labels,
validation, credentials, misbehaviour controls, lookup and cancel, and the CLI subcommand."""
from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp

from batchship.forwarder_sim import running_simulator
from batchship.s10 import s10_check_digit

CREATE = "/api/WayBill/CreateOrder"
S10 = re.compile(r"^[A-Z]{2}(\d{8})(\d)CN$")
REPO = Path(__file__).resolve().parents[1]


def order(ref: str, **changes) -> list[dict]:
    receiver = {"FirstName": "Emily", "LastName": "Carter", "Company": "", "CountryCode": "US",
                "Street": "742 Evergreen Terrace", "Street2": "", "City": "Springfield", "State": "IL",
                "Zip": "62704", "Phone": "+1 217 555 0134", "Email": "buyer@example.com"}
    receiver.update(changes.pop("receiver", {}))
    data = {"CustomerOrderNumber": ref, "ShippingMethodCode": "S1002", "PackageCount": 1, "Weight": 0.42,
            "Receiver": receiver,
            "Parcels": [{"EName": "Mug", "CName": "杯子", "Quantity": 2, "UnitPrice": 5.0, "UnitWeight": 0.2,
                         "CurrencyCode": "USD", "HSCode": "691200", "SKU": "MUG", "Origin": "CN"}]}
    data.update(changes)
    return [data]


@pytest.fixture(scope="module")
def running():
    with running_simulator(port=0) as sim:
        yield sim


@pytest.fixture
def sim(running):
    running.reset()
    yield running
    running.reset()


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.url, headers={"Authorization": sim.auth_header}, timeout=10) as c:
        yield c


def item(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["Code"] == "0000"
    return body["Item"][0]


def test_listens_on_loopback_only(sim):
    assert sim.url.startswith("http://127.0.0.1:")
    assert sim.port > 0


def test_creates_give_valid_distinct_s10_numbers(client, sim):
    items = [item(client.post(CREATE, json=order(f"shop-a/{n}"))) for n in range(20)]
    trackings = [i["TrackingNumber"] for i in items]
    assert len(set(trackings)) == 20
    for number in trackings:
        m = S10.match(number)
        assert m, number
        assert int(m.group(2)) == s10_check_digit(m.group(1))
    waybills = [i["WayBillNumber"] for i in items]
    assert len(set(waybills)) == 20
    assert all(re.fullmatch(r"YT26\d{11}", w) for w in waybills)
    first = items[0]
    assert first["Success"] == 1 and first["Remark"] == "" and first["CustomerOrderNumber"] == "shop-a/0"
    assert first["LabelUrl"] == f"{sim.url}/labels/{first['WayBillNumber']}.pdf"
    assert len(sim.shipments()) == 20


def test_same_reference_twice_is_one_shipment(client, sim):
    first = item(client.post(CREATE, json=order("shop-a/1001")))
    again = item(client.post(CREATE, json=order("shop-a/1001", Weight=1.5)))
    assert again["Remark"] == "existing order"
    assert (again["WayBillNumber"], again["TrackingNumber"]) == (first["WayBillNumber"], first["TrackingNumber"])
    assert sim.shipments() == [{"ref": "shop-a/1001", "waybill": first["WayBillNumber"],
                                "tracking": first["TrackingNumber"], "status": "created"}]


def test_concurrent_creates_with_repeated_references_make_one_shipment_each(sim):
    refs = [f"race/{n}" for n in range(50)]

    async def main() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=sim.url, headers={"Authorization": sim.auth_header},
                                     limits=limits, timeout=20) as c:
            return await asyncio.wait_for(
                asyncio.gather(*(c.post(CREATE, json=order(ref)) for ref in refs + refs)), timeout=60)

    responses = asyncio.run(main())
    assert [r.status_code for r in responses] == [200] * 100
    by_ref: dict[str, set] = {}
    for r in responses:
        i = r.json()["Item"][0]
        by_ref.setdefault(i["CustomerOrderNumber"], set()).add((i["WayBillNumber"], i["TrackingNumber"]))
    assert sorted(by_ref) == sorted(refs)
    assert all(len(numbers) == 1 for numbers in by_ref.values())
    assert sorted(r.json()["Item"][0]["Remark"] for r in responses).count("existing order") == 50
    shipments = sim.shipments()
    assert len(shipments) == 50
    assert len({s["tracking"] for s in shipments}) == 50


def decode_pdf(data: bytes) -> list[str]:
    page = pdfium.PdfDocument(data)[0]
    width, height = page.get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (100, 150)
    image = page.render(scale=203 / 72).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.Code128]


def test_label_pdf_barcode_decodes_to_its_tracking_number(client):
    shipments = [item(client.post(CREATE, json=order(f"label/{n}", receiver={"LastName": f"Carter {n}"})))
                 for n in range(3)]
    for shipment in shipments:
        response = client.get(shipment["LabelUrl"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert decode_pdf(response.content) == [shipment["TrackingNumber"]]
        text = pdfium.PdfDocument(response.content)[0].get_textpage().get_text_range()
        assert shipment["TrackingNumber"] in text and "Emily Carter" in text and "US" in text


def test_label_rendering_is_cheap():
    from batchship.forwarder_sim.labels import label_pdf
    start = time.perf_counter()
    for n in range(200):
        label_pdf("RR123456785CN", f"YT26{n:011d}", "Emily Carter", "US", "Springfield", "S1002")
    assert (time.perf_counter() - start) / 200 < 0.001


def test_label_zpl_is_well_formed(client):
    shipment = item(client.post(CREATE, json=order("zpl/1")))
    response = client.get(shipment["LabelUrl"].replace(".pdf", ".zpl"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    zpl = response.text.strip()
    assert zpl.startswith("^XA") and zpl.endswith("^XZ")
    assert zpl.count("^XA") == 1 and zpl.count("^XZ") == 1
    assert re.search(r"\^BC[^\^]*\^FD" + shipment["TrackingNumber"] + r"\^FS", zpl), zpl
    # Every field opened with ^FD is closed with ^FS.
    assert zpl.count("^FD") == zpl.count("^FS")


def test_unknown_label_is_404(client):
    assert client.get("/labels/YT2600000000000.pdf").status_code == 404
    assert client.get("/labels/YT2600000000000.zpl").status_code == 404


def rejected(response: httpx.Response, code: str, ref: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Code"] == code
    assert body["Item"] == [{"CustomerOrderNumber": ref, "Success": 0, "Remark": body["Message"]}]


@pytest.mark.parametrize("zip_code", ["6270", "62704-12", "ABCDE", "", "627041"])
def test_bad_postcode_is_e1001_and_creates_nothing(client, sim, zip_code):
    response = client.post(CREATE, json=order("bad/zip", receiver={"Zip": zip_code}))
    rejected(response, "E1001", "bad/zip")
    assert sim.shipments() == []
    assert client.get("/api/WayBill/GetOrder", params={"OrderNumber": "bad/zip"}).status_code == 404


def test_zip_plus_four_and_other_countries_are_accepted(client):
    item(client.post(CREATE, json=order("zip/1", receiver={"Zip": "62704-1234"})))
    item(client.post(CREATE, json=order("zip/2", receiver={"CountryCode": "DE", "Zip": "10115"})))
    item(client.post(CREATE, json=order("zip/3", receiver={"CountryCode": "HK", "Zip": ""})))
    rejected(client.post(CREATE, json=order("zip/4", receiver={"CountryCode": "DE", "Zip": " "})), "E1001",
             "zip/4")


@pytest.mark.parametrize("changes, code", [
    ({"ShippingMethodCode": "X9999"}, "E1003"),
    ({"ShippingMethodCode": ""}, "E1003"),
    ({"receiver": {"Street": ""}}, "E1002"),
    ({"receiver": {"City": "  "}}, "E1002"),
    ({"receiver": {"CountryCode": "USA"}}, "E1004"),
    ({"receiver": {"CountryCode": "1A"}}, "E1004"),
    ({"Weight": 0}, "E1005"),
    ({"Weight": 30.5}, "E1005"),
    ({"Weight": "heavy"}, "E1005"),
    ({"Parcels": []}, "E1006"),
    ({"Parcels": [{"EName": "Mug", "Quantity": 0}]}, "E1006"),
])
def test_validation_errors(client, sim, changes, code):
    rejected(client.post(CREATE, json=order("bad/1", **changes)), code, "bad/1")
    assert sim.shipments() == []


def test_known_shipping_methods(client):
    for n, method in enumerate(["S1002", "S1003", "S1999"]):
        item(client.post(CREATE, json=order(f"method/{n}", ShippingMethodCode=method)))


def test_malformed_body_is_400(client, sim):
    for body in (b"not json", b"{}", b"[]", b"[1]"):
        response = client.post(CREATE, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and response.json()["Code"] == "E1000"
    assert sim.shipments() == []


@pytest.mark.parametrize("auth", [None, "Basic " + base64.b64encode(b"C0001&wrong").decode(),
                                  "Basic " + base64.b64encode(b"C0002&sim-secret").decode(),
                                  "Basic !!!", "Bearer sim-secret"])
def test_bad_credentials_are_401(sim, auth):
    headers = {"Authorization": auth} if auth else {}
    for method, path, kwargs in (("POST", CREATE, {"json": order("auth/1")}),
                                 ("GET", "/api/WayBill/GetOrder?OrderNumber=auth/1", {}),
                                 ("POST", "/api/WayBill/Delete", {"json": {"OrderNumber": "auth/1"}})):
        response = httpx.request(method, sim.url + path, headers=headers, timeout=10, **kwargs)
        assert response.status_code == 401
        assert response.json() == {"Code": "E401", "Message": "authentication failed"}
    assert sim.shipments() == []


def test_other_credentials_when_started_with_them():
    with running_simulator(customer_code="K77", api_secret="s3cret") as other:
        good = "Basic " + base64.b64encode(b"K77&s3cret").decode()
        assert other.auth_header == good
        default = "Basic " + base64.b64encode(b"C0001&sim-secret").decode()
        assert httpx.post(other.url + CREATE, json=order("k/1"), headers={"Authorization": default},
                          timeout=10).status_code == 401
        assert item(httpx.post(other.url + CREATE, json=order("k/1"), headers={"Authorization": good},
                               timeout=10))


# -- misbehaviour ------------------------------------------------------------------------------------

def test_delay_makes_a_short_timeout_client_time_out(client, sim):
    sim.behave(delay_seconds=1.0)
    start = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post(CREATE, json=order("slow/1"), timeout=0.2)
    assert time.monotonic() - start < 0.9
    # A patient client gets its answer, and other endpoints are not delayed.
    start = time.monotonic()
    assert client.get("/__sim/shipments").status_code == 200
    assert time.monotonic() - start < 0.5
    again = item(client.post(CREATE, json=order("slow/1"), timeout=10))
    assert again["Remark"] == "existing order"       # the timed-out request was still served
    assert len(sim.shipments()) == 1


def test_fail_5xx_answers_500_n_times_then_normal(client, sim):
    sim.behave(fail_5xx=2)
    for _ in range(2):
        response = client.post(CREATE, json=order("flaky/1"))
        assert response.status_code == 500
        assert sim.shipments() == []
    assert item(client.post(CREATE, json=order("flaky/1")))["Remark"] == ""
    assert len(sim.shipments()) == 1
    statuses = [r["status"] for r in sim.log() if r["path"] == CREATE]
    assert statuses == [500, 500, 200]


def test_fail_5xx_after_create_creates_but_answers_500(client, sim):
    sim.behave(fail_5xx_after_create=1)
    assert client.post(CREATE, json=order("lost/1")).status_code == 500
    [shipment] = sim.shipments()
    assert shipment["ref"] == "lost/1"
    again = item(client.post(CREATE, json=order("lost/1")))
    assert again["Remark"] == "existing order"
    assert (again["WayBillNumber"], again["TrackingNumber"]) == (shipment["waybill"], shipment["tracking"])
    assert len(sim.shipments()) == 1


def test_drop_closes_the_connection_without_answer(client, sim):
    sim.behave(drop=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(CREATE, json=order("drop/1"))
    assert sim.shipments() == []
    assert item(client.post(CREATE, json=order("drop/1")))["Remark"] == ""
    log = [r for r in sim.log() if r["path"] == CREATE]
    assert [(r["ref"], r["status"]) for r in log] == [("drop/1", None), ("drop/1", 200)]


def test_label_404(client, sim):
    shipment = item(client.post(CREATE, json=order("nolabel/1")))
    assert client.get(shipment["LabelUrl"]).status_code == 200
    sim.behave(label_404=True)
    assert client.get(shipment["LabelUrl"]).status_code == 404
    assert client.get(shipment["LabelUrl"].replace(".pdf", ".zpl")).status_code == 404
    sim.behave()
    assert client.get(shipment["LabelUrl"]).status_code == 200


def test_reject_refs(client, sim):
    sim.behave(reject_refs=["shop-a/9"])
    rejected(client.post(CREATE, json=order("shop-a/9")), "E1001", "shop-a/9")
    item(client.post(CREATE, json=order("shop-a/10")))
    assert [s["ref"] for s in sim.shipments()] == ["shop-a/10"]


def test_behaviour_is_replaced_not_merged_and_checked(client, sim):
    assert sim.behave(fail_5xx=3, label_404=True)["fail_5xx"] == 3
    behaviour = sim.behave(drop=1)
    assert behaviour == {"delay_seconds": 0.0, "fail_5xx": 0, "fail_5xx_after_create": 0, "drop": 1,
                         "label_404": False, "reject_refs": []}
    for bad in ({"fail_5xx": -1}, {"drop": "x"}, {"nonsense": 1}, {"reject_refs": "a"}):
        assert httpx.post(sim.url + "/__sim/behaviour", json=bad, timeout=10).status_code == 400


def test_log_and_reset(client, sim):
    item(client.post(CREATE, json=order("log/1")))
    client.get("/api/WayBill/GetOrder", params={"OrderNumber": "log/1"})
    client.get("/nowhere")
    assert sim.log() == [
        {"method": "POST", "path": CREATE, "ref": "log/1", "status": 200},
        {"method": "GET", "path": "/api/WayBill/GetOrder", "ref": "log/1", "status": 200},
        {"method": "GET", "path": "/nowhere", "ref": None, "status": 404},
    ]
    sim.behave(fail_5xx=5)
    sim.reset()
    assert sim.log() == [] and sim.shipments() == []
    assert item(client.post(CREATE, json=order("log/1")))["Remark"] == ""


# -- lookup and cancel -------------------------------------------------------------------------------

def test_lookup_and_cancel(client, sim):
    created = item(client.post(CREATE, json=order("shop-b/7")))
    response = client.get("/api/WayBill/GetOrder", params={"OrderNumber": "shop-b/7"})
    assert response.status_code == 200
    assert response.json()["Code"] == "0000"
    assert response.json()["Item"] == created
    missing = client.get("/api/WayBill/GetOrder", params={"OrderNumber": "shop-b/8"})
    assert missing.status_code == 404 and missing.json() == {"Code": "E404", "Message": "order not found"}

    deleted = client.post("/api/WayBill/Delete", json={"OrderNumber": "shop-b/7"})
    assert deleted.status_code == 200 and deleted.json() == {"Code": "0000", "Message": "deleted"}
    again = client.post("/api/WayBill/Delete", json={"OrderNumber": "shop-b/7"})
    assert again.status_code == 200 and again.json() == {"Code": "0000", "Message": "already deleted"}
    unknown = client.post("/api/WayBill/Delete", json={"OrderNumber": "shop-b/8"})
    assert unknown.status_code == 404 and unknown.json()["Code"] == "E404"
    assert sim.shipments()[0]["status"] == "cancelled"
    # A cancelled reference still names its one shipment.
    recreated = item(client.post(CREATE, json=order("shop-b/7")))
    assert recreated["TrackingNumber"] == created["TrackingNumber"]
    assert len(sim.shipments()) == 1


def test_keep_alive_and_pipelined_requests(sim):
    import socket
    request = (f"GET /api/WayBill/GetOrder?OrderNumber=x HTTP/1.1\r\nHost: a\r\n"
               f"Authorization: {sim.auth_header}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as s:
        s.sendall(request * 3)
        data = b""
        deadline = time.monotonic() + 5
        while data.count(b"HTTP/1.1 404") < 3 and time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.count(b"HTTP/1.1 404") == 3


def test_chunked_request_body(client, sim):
    import json

    def chunks():
        body = json.dumps(order("chunked/1")).encode()
        yield body[:10]
        yield body[10:]

    assert item(client.post(CREATE, content=chunks()))["CustomerOrderNumber"] == "chunked/1"


def test_runs_in_a_child_process():
    with running_simulator(process=True, serial_start=1234) as sim:
        assert sim.pid and sim.state is None
        response = httpx.post(sim.url + CREATE, json=order("child/1"), headers={"Authorization": sim.auth_header},
                              timeout=10)
        digits = "00001234"
        assert item(response)["TrackingNumber"] == f"RR{digits}{s10_check_digit(digits)}CN"
        pid = sim.pid
    with pytest.raises(ProcessLookupError):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.05)


# -- the CLI subcommand ------------------------------------------------------------------------------

def test_cli_starts_prints_url_serves_and_stops_on_sigint():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen([sys.executable, "-m", "batchship.cli", "forwarder-sim", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(60)
        assert lines, "no line on stdout within 60 s"
        m = re.fullmatch(r"forwarder simulator listening on (http://127\.0\.0\.1:(\d+))\n", lines[0])
        assert m, lines
        url = m.group(1)
        auth = "Basic " + base64.b64encode(b"C0001&sim-secret").decode()
        assert item(httpx.post(url + CREATE, json=order("cli/1"), headers={"Authorization": auth}, timeout=10))
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/__sim/log", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
