"""Query API on a seeded index: ordering, pagination, filters, and input validation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from . import helpers
from .helpers import call_api, call_api_as, created, index_records, keys, query_api, removed


@dataclass(frozen=True)
class Upload:
    customer_id: str
    path: str
    size: int
    content_type: str
    classification: str | None
    uploaded_at: str

    @property
    def key(self) -> str:
        return f"customers/{self.customer_id}/{self.path}"

    @property
    def body(self) -> bytes:
        return bytes(self.size)


LIVE = [
    Upload("acme", "reports/q1.pdf", 100, "application/pdf", "confidential", "2024-03-01T00:00:00.000Z"),
    Upload("acme", "notes/readme.txt", 20, "text/plain; charset=utf-8", "public", "2024-03-01T12:00:00.000Z"),
    Upload("acme", "images/logo.png", 300, "image/png", None, "2024-03-02T08:30:00.000Z"),
    Upload("acme", "data/export.csv", 50, "text/csv", "internal", "2024-03-02T23:59:59.999Z"),
    Upload("acme", "reports/q2.pdf", 120, "application/pdf", "confidential", "2024-03-03T10:00:00.000Z"),
    Upload("acme", "notes/todo.txt", 10, "TEXT/PLAIN", "public", "2024-03-04T09:00:00.000Z"),
    Upload("acme", "reports/draft.docx", 80, "application/msword", "Confidential", "2024-03-03T16:00:00.000Z"),
    Upload("globex", "a.txt", 5, "text/plain", "public", "2024-03-02T09:00:00.000Z"),
    Upload("globex", "b.txt", 6, "text/plain", None, "2024-03-02T10:00:00.000Z"),
    Upload("globex", "c.bin", 7, "application/octet-stream", None, "2024-03-03T00:00:00.000Z"),
] + [
    Upload("umbrella", f"batch/file-{n:02d}.json", 10 + n, "application/json", None, f"2024-03-02T{n:02d}:15:00.000Z")
    for n in range(12)
]


def _seq(value: int) -> str:
    return f"{value:X}"


@pytest.fixture(scope="module", autouse=True)
def seeded_index() -> Iterator[None]:
    """Index the uploads above through the indexer, plus a deleted and an overwritten object."""
    with mock_aws():
        helpers.reset_handler_caches()
        helpers.create_table()
        helpers.create_bucket()
        helpers.create_pagination_secret()
        for upload in LIVE:
            helpers.upload(upload.key, upload.body, upload.content_type, upload.classification)
        records = [created(u.key, u.body, _seq(100), u.uploaded_at) for u in LIVE]
        records += [
            created("customers/acme/old/deleted.bin", bytes(33), _seq(100), "2024-03-02T10:00:00.000Z"),
            removed("customers/acme/old/deleted.bin", _seq(101), "2024-03-02T11:00:00.000Z"),
            # An earlier version of draft.docx, on another day; the seeded version is newer.
            created("customers/acme/reports/draft.docx", bytes(40), _seq(50), "2024-03-01T15:00:00.000Z"),
        ]
        index_records(*records)
        yield
    helpers.reset_handler_caches()


def view(upload: Upload) -> dict[str, Any]:
    return {
        "customer_id": upload.customer_id,
        "key": upload.key,
        "size": upload.size,
        "etag": helpers.etag_of(upload.body),
        "content_type": upload.content_type,
        "classification": upload.classification,
        "uploaded_at": upload.uploaded_at,
    }


def newest_first(uploads: list[Upload]) -> list[dict[str, Any]]:
    return [view(u) for u in sorted(uploads, key=lambda u: (u.uploaded_at, u.customer_id, u.path), reverse=True)]


def of(customer_id: str) -> list[Upload]:
    return [u for u in LIVE if u.customer_id == customer_id]


def ok(route: str, **query: str) -> dict[str, Any]:
    status, body = call_api(route, **query)
    assert status == 200, body
    return body


def all_pages(path: str, limit: int, **query: str) -> tuple[list[dict[str, Any]], int]:
    """Follow next_token to the end; returns every item and the number of pages."""
    items: list[dict[str, Any]] = []
    pages = 0
    token: str | None = None
    while True:
        params = dict(query, limit=str(limit))
        if token is not None:
            params["next_token"] = token
        body = ok(path, **params)
        pages += 1
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        token = body["next_token"]
        if token is None:
            return items, pages
        assert pages < 100, "pagination does not end"


# --- Query 1: a customer's objects, newest first ----------------------------------------------


def test_objects_are_listed_newest_first_without_deleted_or_superseded_versions() -> None:
    body = ok("/customers/acme/objects")
    assert body["items"] == newest_first(of("acme"))
    assert body["next_token"] is None


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_object_pages_return_every_object_once_in_order(limit: int) -> None:
    items, pages = all_pages("/customers/acme/objects", limit)
    assert items == newest_first(of("acme"))
    assert pages == -(-len(of("acme")) // limit)  # no empty trailing page


def test_next_token_is_opaque() -> None:
    token = ok("/customers/acme/objects", limit="2")["next_token"]
    assert isinstance(token, str)
    assert "OBJECT#" not in token and "acme" not in token


def test_unknown_customer_has_no_objects() -> None:
    assert ok("/customers/nobody/objects") == {"items": [], "next_token": None}


# --- Query 2: totals ----------------------------------------------------------------------------


@pytest.mark.parametrize("customer_id", ["acme", "globex", "umbrella"])
def test_totals_sum_the_live_objects(customer_id: str) -> None:
    uploads = of(customer_id)
    assert ok(f"/customers/{customer_id}/totals") == {
        "customer_id": customer_id,
        "total_bytes": sum(u.size for u in uploads),
        "object_count": len(uploads),
    }


def test_totals_of_an_unknown_customer_are_zero() -> None:
    assert ok("/customers/initech/totals") == {"customer_id": "initech", "total_bytes": 0, "object_count": 0}


# --- Query 3: by attribute ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["text/plain", "TEXT/Plain", "text/plain; charset=latin-1"])
def test_content_type_matches_the_media_type_case_insensitively(value: str) -> None:
    body = ok("/customers/acme/objects/by-attribute", name="content_type", value=value)
    expected = [u for u in of("acme") if u.content_type.lower().startswith("text/plain")]
    assert body["items"] == newest_first(expected)
    assert len(expected) == 2


def test_content_type_other_value() -> None:
    body = ok("/customers/acme/objects/by-attribute", name="content_type", value="application/pdf")
    assert body["items"] == newest_first([u for u in of("acme") if u.content_type == "application/pdf"])


def test_classification_is_matched_exactly() -> None:
    confidential = ok("/customers/acme/objects/by-attribute", name="classification", value="confidential")
    assert confidential["items"] == newest_first([u for u in of("acme") if u.classification == "confidential"])
    capitalised = ok("/customers/acme/objects/by-attribute", name="classification", value="Confidential")
    assert [item["key"] for item in capitalised["items"]] == ["customers/acme/reports/draft.docx"]


def test_attribute_queries_are_scoped_to_the_customer() -> None:
    body = ok("/customers/globex/objects/by-attribute", name="classification", value="public")
    assert [item["key"] for item in body["items"]] == ["customers/globex/a.txt"]


def test_attribute_pages() -> None:
    items, _ = all_pages("/customers/umbrella/objects/by-attribute", 5, name="content_type", value="application/json")
    assert items == newest_first(of("umbrella"))


# --- Query 4a: a customer's uploads between two days ------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-03-02", "2024-03-02"),
        ("2024-03-01", "2024-03-02"),
        ("2024-03-01", "2024-03-04"),
        ("2024-03-05", "2024-04-01"),
    ],
)
def test_date_range_includes_both_whole_days(start: str, end: str) -> None:
    body = ok("/customers/acme/objects/by-date", start=start, end=end)
    expected = [u for u in of("acme") if start <= u.uploaded_at[:10] <= end]
    assert body["items"] == newest_first(expected)


def test_date_range_boundaries_at_midnight_and_last_millisecond() -> None:
    body = ok("/customers/acme/objects/by-date", start="2024-03-02", end="2024-03-02")
    assert [item["uploaded_at"] for item in body["items"]] == ["2024-03-02T23:59:59.999Z", "2024-03-02T08:30:00.000Z"]
    first_day = ok("/customers/acme/objects/by-date", start="2024-03-01", end="2024-03-01")
    assert first_day["items"][-1]["uploaded_at"] == "2024-03-01T00:00:00.000Z"


def test_date_range_pages() -> None:
    items, pages = all_pages("/customers/acme/objects/by-date", 2, start="2024-03-01", end="2024-03-03")
    assert items == newest_first([u for u in of("acme") if u.uploaded_at[:10] <= "2024-03-03"])
    assert pages == 3


# --- Query 4b: every customer's uploads on one day ------------------------------------------------------


def test_uploads_of_all_customers_on_one_day_newest_first() -> None:
    body = ok("/uploads/by-day", date="2024-03-02")
    expected = newest_first([u for u in LIVE if u.uploaded_at.startswith("2024-03-02")])
    assert body["items"] == expected
    assert {item["customer_id"] for item in expected} == {"acme", "globex", "umbrella"}
    assert body["next_token"] is None


def test_day_objects_spread_over_every_shard() -> None:
    shards = {keys.day_shard(u.customer_id, u.path) for u in LIVE if u.uploaded_at.startswith("2024-03-02")}
    assert shards == set(range(keys.DAY_SHARD_COUNT))  # the merge below is really exercised


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 16, 17])
def test_day_pages_merge_the_shards_in_order(limit: int) -> None:
    items, pages = all_pages("/uploads/by-day", limit, date="2024-03-02")
    expected = newest_first([u for u in LIVE if u.uploaded_at.startswith("2024-03-02")])
    assert items == expected
    assert pages == max(1, -(-len(expected) // limit))


def test_a_day_without_uploads_is_empty() -> None:
    assert ok("/uploads/by-day", date="2023-12-31") == {"items": [], "next_token": None}


# --- Input validation ----------------------------------------------------------------------------------------

BAD_REQUESTS = [
    ("/customers/bad!id/objects", {}, "customer_id must be"),
    (f"/customers/{'c' * 65}/objects", {}, "customer_id must be"),
    ("/customers/caf\u00e9/totals", {}, "customer_id must be"),
    ("/customers/Acme/objects", {}, "customer_id must be 1 to 64 characters from a-z, 0-9, '_' and '-' (lower case"),
    ("/customers/ACME/totals", {}, "(lower case only)"),
    ("/customers/acme/objects", {"limit": "0"}, "limit must be an integer from 1 to 100"),
    ("/customers/acme/objects", {"limit": "101"}, "limit must be"),
    ("/customers/acme/objects", {"limit": "ten"}, "limit must be"),
    ("/customers/acme/objects", {"limit": "-1"}, "limit must be"),
    ("/customers/acme/objects", {"limit": "1.5"}, "limit must be"),
    ("/customers/acme/objects", {"limit": ""}, "limit must be"),
    ("/customers/acme/objects", {"next_token": "garbage"}, "next_token is not a valid token"),
    ("/customers/acme/objects", {"next_token": "e30.AAAA"}, "next_token is invalid or has been modified"),
    ("/customers/acme/objects/by-attribute", {"value": "x"}, "name must be one of: classification, content_type"),
    ("/customers/acme/objects/by-attribute", {"name": "size", "value": "1"}, "name must be one of"),
    ("/customers/acme/objects/by-attribute", {"name": "content_type"}, "value is required"),
    ("/customers/acme/objects/by-attribute", {"name": "content_type", "value": "  "}, "value is required"),
    ("/customers/acme/objects/by-attribute", {"name": "content_type", "value": "; x"}, "not a valid attribute value"),
    ("/customers/acme/objects/by-attribute", {"name": "classification", "value": "x" * 257}, "at most 256"),
    ("/customers/acme/objects/by-date", {"end": "2024-03-02"}, "start is required"),
    ("/customers/acme/objects/by-date", {"start": "2024-03-02"}, "end is required"),
    (
        "/customers/acme/objects/by-date",
        {"start": "2024-3-2", "end": "2024-03-02"},
        "start must be a date in YYYY-MM-DD",
    ),
    ("/customers/acme/objects/by-date", {"start": "2024-02-30", "end": "2024-03-02"}, "not a valid calendar date"),
    ("/customers/acme/objects/by-date", {"start": "2024-03-01", "end": "2024-13-01"}, "end is not a valid calendar"),
    ("/customers/acme/objects/by-date", {"start": "2024-03-03", "end": "2024-03-02"}, "start must not be after end"),
    ("/customers/acme/objects/by-date", {"start": "yesterday", "end": "today"}, "start must be a date"),
    ("/uploads/by-day", {}, "date is required"),
    ("/uploads/by-day", {"date": "02/03/2024"}, "date must be a date in YYYY-MM-DD"),
    ("/uploads/by-day", {"date": "2024-03-02", "limit": "1000"}, "limit must be"),
]


@pytest.mark.parametrize(("path", "query", "message"), BAD_REQUESTS, ids=[f"{p}?{q}" for p, q, _ in BAD_REQUESTS])
def test_bad_input_is_a_400_with_a_clear_message(path: str, query: dict[str, str], message: str) -> None:
    status, body = call_api(path, **query)
    assert status == 400
    assert set(body) == {"message"}
    assert message in body["message"]


def _first_token(path: str, **query: str) -> str:
    token = ok(path, limit="1", **query)["next_token"]
    assert isinstance(token, str)
    return token


def test_a_token_only_resumes_the_query_it_came_from() -> None:
    objects = _first_token("/customers/acme/objects")
    by_date = _first_token("/customers/acme/objects/by-date", start="2024-03-01", end="2024-03-04")
    by_type = _first_token("/customers/acme/objects/by-attribute", name="content_type", value="text/plain")
    by_day = _first_token("/uploads/by-day", date="2024-03-02")
    misuse = [
        ("/customers/acme/objects/by-date", {"start": "2024-03-01", "end": "2024-03-04", "next_token": objects}),
        ("/customers/globex/objects", {"next_token": objects}),
        ("/customers/acme/objects", {"next_token": by_date}),
        ("/customers/acme/objects/by-date", {"start": "2024-03-01", "end": "2024-03-03", "next_token": by_date}),
        ("/customers/acme/objects/by-attribute", {"name": "content_type", "value": "text/csv", "next_token": by_type}),
        (
            "/customers/acme/objects/by-attribute",
            {"name": "classification", "value": "text/plain", "next_token": by_type},
        ),
        ("/uploads/by-day", {"date": "2024-03-03", "next_token": by_day}),
        ("/uploads/by-day", {"date": "2024-03-02", "next_token": objects}),
        ("/customers/acme/objects", {"next_token": by_day}),
    ]
    for path, query in misuse:
        status, body = call_api(path, **query)
        assert status == 400, (path, query)
        assert "different query" in body["message"]
    # The page size may change between pages.
    assert ok("/customers/acme/objects", limit="3", next_token=objects)["items"][0] == newest_first(of("acme"))[1]


def test_a_modified_token_is_rejected() -> None:
    token = _first_token("/customers/acme/objects")
    payload, signature = token.split(".")
    for position in (0, len(payload) // 2, len(payload) - 1):
        changed = "A" if payload[position] != "A" else "B"
        tampered = f"{payload[:position]}{changed}{payload[position + 1 :]}.{signature}"
        status, body = call_api("/customers/acme/objects", next_token=tampered)
        assert status == 400
        assert body["message"] in {"next_token is invalid or has been modified", "next_token is not a valid token"}


def test_a_token_signed_with_another_key_is_rejected() -> None:
    """Also what a rotated key does to the tokens in circulation."""
    helpers.set_pagination_key("a-different-deployment-secret-0123456789")
    try:
        foreign = _first_token("/customers/acme/objects")
    finally:
        helpers.set_pagination_key(helpers.PAGINATION_KEY)
    status, body = call_api("/customers/acme/objects", next_token=foreign)
    assert (status, body) == (400, {"message": "next_token is invalid or has been modified"})


def test_unknown_routes_are_404() -> None:
    status, body = call_api("/customers/acme/everything")
    assert status == 404
    assert body == {"message": "No route for GET /customers/acme/everything"}
    assert call_api("/customers/acme")[0] == 404


@pytest.mark.parametrize(
    ("secret_id", "value", "error"),
    [
        (None, None, "PAGINATION_KEY_SECRET_ID environment variable is not set"),
        ("object-index-test/no-such-secret", None, "cannot read the pagination key secret .*ResourceNotFound"),
        (None, "too-short", "the pagination key secret must hold at least 32 characters"),
    ],
    ids=["no-secret-configured", "unknown-secret", "short-key"],
)
def test_a_missing_or_weak_pagination_key_fails_fast(
    monkeypatch: pytest.MonkeyPatch, secret_id: str | None, value: str | None, error: str
) -> None:
    if secret_id is not None:
        monkeypatch.setenv("PAGINATION_KEY_SECRET_ID", secret_id)
    elif value is None:
        monkeypatch.delenv("PAGINATION_KEY_SECRET_ID")
    if value is not None:
        helpers.set_pagination_key(value)
    query_api.get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=error):
            call_api("/customers/acme/totals")
    finally:
        if value is not None:
            helpers.set_pagination_key(helpers.PAGINATION_KEY)
        query_api.get_settings.cache_clear()


def test_pages_cut_short_by_dynamodb_still_come_out_complete_and_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB may stop a page early (1 MB) and return LastEvaluatedKey with fewer items."""
    client = query_api._dynamodb()
    original = client.query

    def short_pages(**params: Any) -> Any:
        response = original(**params)
        items = response["Items"]
        if len(items) > 2:
            index = keys.GSI_DEFINITIONS[params["IndexName"]]
            names = {keys.PARTITION_KEY, keys.SORT_KEY, index["partition_key"], index["sort_key"]}
            response = dict(response, Items=items[:2], Count=2, LastEvaluatedKey={n: items[1][n] for n in names})
        return response

    monkeypatch.setattr(client, "query", short_pages)
    for limit in (1, 3, 5, 16):
        items, _ = all_pages("/uploads/by-day", limit, date="2024-03-02")
        assert items == newest_first([u for u in LIVE if u.uploaded_at.startswith("2024-03-02")]), limit
        items, _ = all_pages("/customers/acme/objects", limit)
        assert items == newest_first(of("acme")), limit


def test_an_unexpected_error_is_a_500_without_details(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_params: Any) -> Any:
        raise ConnectionError("endpoint unreachable")

    monkeypatch.setattr(query_api._dynamodb(), "get_item", broken)
    assert call_api("/customers/acme/totals") == (500, {"message": "Internal server error"})


def test_a_shard_page_that_comes_back_empty_with_a_last_evaluated_key_is_read_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DynamoDB may answer with no items and a LastEvaluatedKey; the partition still has items
    after that key, which a page must not lose. Here every partition answers its first query
    with one item, its second with nothing but a LastEvaluatedKey, and then normally."""
    client = query_api._dynamodb()
    original = client.query
    calls: dict[str, int] = {}

    def one_then_empty(**params: Any) -> Any:
        partition = params["ExpressionAttributeValues"][":pk"]["S"]
        calls[partition] = calls.get(partition, 0) + 1
        response = original(**params)
        items = response["Items"]
        index = keys.GSI_DEFINITIONS[params["IndexName"]]
        names = {keys.PARTITION_KEY, keys.SORT_KEY, index["partition_key"], index["sort_key"]}
        if calls[partition] == 1 and len(items) > 1:
            return dict(response, Items=items[:1], Count=1, LastEvaluatedKey={n: items[0][n] for n in names})
        if calls[partition] == 2 and "ExclusiveStartKey" in params:
            return {"Items": [], "Count": 0, "ScannedCount": 0, "LastEvaluatedKey": params["ExclusiveStartKey"]}
        return response

    monkeypatch.setattr(client, "query", one_then_empty)
    expected = newest_first([u for u in LIVE if u.uploaded_at.startswith("2024-03-02")])
    for limit in (1, 4, 17):
        calls.clear()
        items, _ = all_pages("/uploads/by-day", limit, date="2024-03-02")
        assert items == expected, limit
    assert max(calls.values()) >= 2  # the empty pages really happened
    calls.clear()
    items, _ = all_pages("/customers/acme/objects", 3)
    assert items == newest_first(of("acme"))


# --- Looking up one object ------------------------------------------------------------------------------


def test_one_object_is_looked_up_by_its_path() -> None:
    upload = next(u for u in LIVE if u.path == "notes/readme.txt")
    assert ok("/customers/acme/object", path="notes/readme.txt") == view(upload)


@pytest.mark.parametrize(
    ("path", "why"),
    [("old/deleted.bin", "deleted: a tombstone"), ("never/uploaded.txt", "no item"), ("reports/q1.pdf ", "exact")],
)
def test_a_missing_or_deleted_object_is_404(path: str, why: str) -> None:
    status, body = call_api("/customers/acme/object", path=path)
    assert (status, body) == (404, {"message": "the index holds no object with this path"}), why


def test_the_lookup_is_scoped_to_the_customer_in_the_path() -> None:
    status, _ = call_api("/customers/globex/object", path="notes/readme.txt")
    assert status == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [({}, "path is required"), ({"path": ""}, "path is required"), ({"path": "x" * 1024}, "longer than 1024 bytes")],
)
def test_a_bad_lookup_path_is_400(query: dict[str, str], message: str) -> None:
    status, body = call_api("/customers/acme/object", **query)
    assert status == 400
    assert message in body["message"]


# --- Who may read what -------------------------------------------------------------------------------------

CUSTOMER_ROUTES = [
    ("/customers/{c}/objects", {}),
    ("/customers/{c}/object", {"path": "a.txt"}),
    ("/customers/{c}/totals", {}),
    ("/customers/{c}/objects/by-attribute", {"name": "classification", "value": "public"}),
    ("/customers/{c}/objects/by-date", {"start": "2024-03-01", "end": "2024-03-04"}),
]


@pytest.mark.parametrize(("route", "query"), CUSTOMER_ROUTES, ids=[r for r, _ in CUSTOMER_ROUTES])
def test_a_customer_role_reads_its_own_customer_only(route: str, query: dict[str, str]) -> None:
    globex = helpers.customer_caller("globex")
    own_status, _ = call_api_as(globex, route.format(c="globex"), **query)
    assert own_status in {200, 404}  # 404: globex has no a.txt
    for other in ("acme", "globe", "globexx"):
        status, body = call_api_as(globex, route.format(c=other), **query)
        assert (status, body) == (403, {"message": "the caller's role may not read this customer's objects"}), other


@pytest.mark.parametrize(("route", "query"), CUSTOMER_ROUTES, ids=[r for r, _ in CUSTOMER_ROUTES])
def test_the_operator_reads_every_customer(route: str, query: dict[str, str]) -> None:
    for customer in ("acme", "globex"):
        status, _ = call_api(route.format(c=customer), **query)
        assert status in {200, 404}


def test_only_the_operator_reads_every_customers_uploads_of_a_day(caplog: pytest.LogCaptureFixture) -> None:
    assert call_api("/uploads/by-day", date="2024-03-02")[0] == 200
    status, body = call_api_as(helpers.customer_caller("acme"), "/uploads/by-day", date="2024-03-02")
    assert (status, body) == (403, {"message": "only the operator role may read every customer's uploads"})
    (refusal,) = [r for r in caplog.records if r.getMessage() == "Refused caller"]
    assert getattr(refusal, "caller", None) == helpers.customer_caller("acme")


REFUSED_CALLERS = {
    "another role": helpers.role_session("reporting"),
    "the customer prefix alone": helpers.role_session(helpers.CUSTOMER_ROLE_PREFIX.rstrip("-")),
    "operator role of another account": helpers.role_session(helpers.OPERATOR_ROLE, account="210987654321"),
    "customer role of another account": helpers.role_session(
        f"{helpers.CUSTOMER_ROLE_PREFIX}acme", account="210987654321"
    ),
    "an IAM user named like the operator": f"arn:aws:iam::{helpers.ACCOUNT_ID}:user/{helpers.OPERATOR_ROLE}",
    "the account root": f"arn:aws:iam::{helpers.ACCOUNT_ID}:root",
    "no verified identity": None,
    "an empty identity": "",
    "operator name with a suffix": helpers.role_session(f"{helpers.OPERATOR_ROLE}-old"),
    "a path trick": f"arn:aws:sts::{helpers.ACCOUNT_ID}:assumed-role/{helpers.OPERATOR_ROLE}/x/../y",
}


@pytest.mark.parametrize("caller", list(REFUSED_CALLERS.values()), ids=list(REFUSED_CALLERS))
@pytest.mark.parametrize(
    ("path", "query"),
    [("/customers/acme/objects", {}), ("/customers/acme/totals", {}), ("/uploads/by-day", {"date": "2024-03-02"})],
)
def test_callers_that_are_neither_operator_nor_the_customer_are_refused(
    caller: str | None, path: str, query: dict[str, str]
) -> None:
    status, body = call_api_as(caller, path, **query)
    assert status == 403, body
    assert "items" not in body and "total_bytes" not in body


def test_partition_other_than_aws_works() -> None:
    china = helpers.role_session(f"{helpers.CUSTOMER_ROLE_PREFIX}acme", partition="aws-cn")
    assert call_api_as(china, "/customers/acme/totals")[0] == 200


def test_a_customers_token_does_not_open_another_customer() -> None:
    token = _first_token("/customers/acme/objects")
    status, _ = call_api_as(helpers.customer_caller("globex"), "/customers/acme/objects", next_token=token)
    assert status == 403


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("OPERATOR_ROLE_NAME", None, "OPERATOR_ROLE_NAME environment variable is not set"),
        ("CUSTOMER_ROLE_PREFIX", "  ", "CUSTOMER_ROLE_PREFIX environment variable is not set"),
        ("OPERATOR_ROLE_NAME", "ops/admin", "OPERATOR_ROLE_NAME is not a valid IAM role name"),
        ("CUSTOMER_ROLE_PREFIX", "c" * 65, "CUSTOMER_ROLE_PREFIX is not a valid IAM role name"),
        ("OPERATOR_ROLE_NAME", "object-index-customer-ops", "must not start with CUSTOMER_ROLE_PREFIX"),
    ],
)
def test_missing_or_unsafe_caller_roles_fail_fast(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str | None, error: str
) -> None:
    """An operator role named like a customer role would let that customer read everything."""
    if value is None:
        monkeypatch.delenv(name)
    else:
        monkeypatch.setenv(name, value)
    query_api.get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=error):
            call_api("/customers/acme/totals")
    finally:
        monkeypatch.undo()
        query_api.get_settings.cache_clear()
