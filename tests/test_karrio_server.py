"""Contract tests of the peer: what a real Karrio server (2026.1.32, generic carrier) answers.

These pin the REST shapes the Karrio adapter relies on. They need a server (.ci/karrio-server start)
and are skipped without one. Every booking carries a fresh reference, so a server can be reused.
"""
from __future__ import annotations

import base64
import uuid

import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp

from karrio_fixture import karrio  # noqa: F401  (the fixture)

META_KEY = "batchship_reference"


@pytest.fixture
def api(karrio):
    with httpx.Client(base_url=karrio.url, headers={"Authorization": f"Token {karrio.token}"},
                      timeout=30) as client:
        yield client


def address(name: str, city: str, postcode: str, country: str) -> dict:
    return dict(person_name=name, company_name="Example Trading", address_line1="1 Main Street",
                city=city, state_code="", postal_code=postcode, country_code=country,
                phone_number="+86 755 1234 5678", email="ops@example.com")


def shipment(reference: str, *, tracking: str | None = None, label_type: str = "PDF") -> dict:
    parcel = dict(weight=450, weight_unit="G", length=20, width=15, height=5, dimension_unit="CM")
    if tracking:
        parcel["reference_number"] = tracking
    return dict(
        service="standard_service", carrier_ids=["local-generic"], label_type=label_type,
        reference=reference, metadata={META_KEY: reference},
        shipper=address("Shenzhen Warehouse", "Shenzhen", "518000", "CN"),
        recipient=address("Hans Schmidt", "München", "80331", "DE"),
        parcels=[parcel],
    )


def fresh(prefix: str = "ord") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def book(api, body: dict) -> dict:
    answer = api.post("/v1/shipments", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_pdf_label_booked_in_one_call(api, karrio):
    reference, tracking = fresh(), f"LX{uuid.uuid4().int % 10**9:09d}CN"
    booked = book(api, shipment(reference, tracking=tracking))
    assert booked["id"].startswith("shp_")
    assert booked["status"] == "created"
    assert booked["reference"] == reference and booked["metadata"] == {META_KEY: reference}
    # The generic carrier takes the parcel's reference_number as the tracking number.
    assert booked["tracking_number"] == tracking == booked["parcels"][0]["reference_number"]
    assert booked["carrier_id"] == "local-generic" and booked["service"] == "standard_service"
    assert booked["label_type"] == "PDF"
    (document,) = booked["shipping_documents"]
    assert (document["category"], document["format"]) == ("label", "PDF")
    pdf = base64.b64decode(document["base64"])
    assert pdf.startswith(b"%PDF")

    page = pdfium.PdfDocument(pdf)[0]
    assert page.get_size() == (288, 432)  # 4 x 6 inches
    scanned = {r.text for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())
               if r.format == zxingcpp.BarcodeFormat.Code128}
    # The label's barcodes do not hold the tracking number: a GS1 "ship to postcode" (421, ISO
    # numeric country + postcode) and an SSCC-like (00) made of the tracking number's last six
    # characters between fixed digits. A scan of this label cannot be matched to the tracking number.
    assert scanned == {"(421) 27680331", f"(00)00000000000{tracking[-6:]}5"}

    # The label stays fetchable at label_url (with the token); the list and GET no longer carry it.
    assert booked["label_url"] == f"/v1/shipments/{booked['id']}/label.pdf"
    again = api.get(booked["label_url"])
    assert again.status_code == 200 and again.headers["content-type"].startswith("application/pdf")
    assert again.content.startswith(b"%PDF")
    # Without the token the label URL answers 403 with an HTML page, not 401 with JSON errors.
    assert httpx.get(karrio.url + booked["label_url"], timeout=30).status_code == 403
    stored = api.get(f"/v1/shipments/{booked['id']}").json()
    assert stored["tracking_number"] == tracking and stored["shipping_documents"][0]["base64"] is None


def test_zpl_label(api):
    booked = book(api, shipment(fresh(), label_type="ZPL"))
    assert booked["label_type"] == "ZPL" and booked["shipping_documents"][0]["format"] == "ZPL"
    zpl = base64.b64decode(booked["shipping_documents"][0]["base64"]).decode()
    assert zpl.lstrip().startswith("^XA") and zpl.rstrip().endswith("^XZ")
    # Without a reference_number the tracking number is 12 hex digits; the ZPL holds its tail too.
    assert len(booked["tracking_number"]) == 12
    assert f"^FD(00)00000000000{booked['tracking_number'][-6:]}5^FS" in zpl
    assert booked["label_url"].endswith("/label.zpl")


def test_find_an_existing_shipment_by_our_reference(api):
    """After a crash the adapter must find what it booked instead of booking twice."""
    reference = fresh()
    first = book(api, shipment(reference))
    second = book(api, shipment(reference))  # Karrio accepts a second booking with one reference
    assert first["id"] != second["id"]
    book(api, shipment(reference + "0"))
    book(api, shipment(reference.upper()))

    # ?reference= is a case-insensitive substring match: it also finds ORD-… and …0.
    found = api.get("/v1/shipments", params={"reference": reference}).json()
    assert sorted(found) == ["count", "next", "previous", "results"]
    assert found["count"] == 4 and found["next"] is None
    assert sorted(s["reference"] for s in found["results"]) == sorted(
        [reference, reference, reference + "0", reference.upper()])
    exact = [s for s in found["results"] if s["reference"] == reference]
    assert {s["id"] for s in exact} == {first["id"], second["id"]}
    # Newest first; the list carries no label bytes (fetch label_url for those).
    assert found["results"][-1]["id"] == first["id"]
    assert all(s["shipping_documents"][0]["base64"] is None for s in found["results"])

    # ?metadata_value= compares exactly (case too): only what we booked under this reference.
    by_meta = api.get("/v1/shipments",
                      params={"metadata_key": META_KEY, "metadata_value": reference}).json()
    assert {s["id"] for s in by_meta["results"]} == {first["id"], second["id"]}
    # ?keyword= is a substring search too; an unknown parameter such as ?search= is ignored.
    assert api.get("/v1/shipments", params={"keyword": reference}).json()["count"] == 4
    everything = api.get("/v1/shipments", params={"limit": 1}).json()["count"]
    assert api.get("/v1/shipments", params={"search": reference}).json()["count"] == everything

    # Paged by limit/offset (20 by default); next is an absolute URL.
    page = api.get("/v1/shipments", params={"reference": reference, "limit": 1}).json()
    assert page["count"] == 4 and len(page["results"]) == 1
    assert "offset=1" in page["next"] and page["next"].startswith("http")
    assert api.get("/v1/shipments", params={"reference": fresh()}).json() == {
        "count": 0, "next": None, "previous": None, "results": []}


def test_cancel_twice(api):
    reference = fresh()
    booked = book(api, shipment(reference))
    cancelled = api.post(f"/v1/shipments/{booked['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"/v1/shipments/{booked['id']}/cancel")
    assert again.status_code == 202 and again.json()["status"] == "cancelled"
    # A cancelled shipment is still listed under its reference: a lookup must look at status.
    listed = api.get("/v1/shipments", params={"reference": reference}).json()["results"]
    assert [(s["id"], s["status"]) for s in listed] == [(booked["id"], "cancelled")]
    assert api.get("/v1/shipments", params={"reference": reference, "status": "created"}).json()[
        "count"] == 0
    unknown = api.post("/v1/shipments/shp_0000000000/cancel")
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["code"] == "not_found"


def test_errors(api, karrio):
    body = shipment(fresh())
    del body["recipient"]["country_code"]
    invalid = api.post("/v1/shipments", json=body)
    assert invalid.status_code == 400
    assert invalid.json() == {"errors": [{"code": "validation", "level": "error",
                                          "message": "recipient.country_code: This field is required."}]}

    unknown_service = api.post("/v1/shipments", json=shipment(fresh()) | {"service": "no_such"})
    assert unknown_service.status_code == 400
    assert unknown_service.json()["errors"][0]["code"] == "service_unavailable"

    missing = api.get("/v1/shipments/shp_0000000000")
    assert missing.status_code == 404
    assert missing.json()["errors"][0] == {"code": "not_found", "level": "warning",
                                           "message": "Shipment not found"}

    anonymous = httpx.post(f"{karrio.url}/v1/shipments", json=shipment(fresh()), timeout=30)
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["code"] == "not_authenticated"
    wrong = httpx.get(f"{karrio.url}/v1/shipments", headers={"Authorization": "Token key_wrong"},
                      timeout=30)
    assert wrong.status_code == 401 and wrong.json()["errors"][0]["code"] == "invalid_token"
