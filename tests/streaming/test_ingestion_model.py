"""The ingestion API's request model, taken from the synthesized template and applied with a
draft-4 validator as API Gateway applies it: it refuses every event the consumer would park
and every time the delivery stream's conversion cannot read, so an event accepted with 200
is stored the same way in the events table and in the lake (issue: "an API that refuses
what the pipeline cannot store")."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from org_config import streaming_schema as contract
from tests.streaming.consumer_support import consumer, event
from tests.streaming.test_consumer import HOSTILE
from tests.support.synthesis import Synthesis

DATA = "streaming-data-eu-west-1"
PIPELINE = "streaming-pipeline-eu-west-1"


def _validator(synthesis: Synthesis) -> jsonschema.Draft4Validator:
    template = synthesis.stack(PIPELINE).template
    (model,) = (r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Model")
    schema = model["Schema"]
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def _accepts(validator: jsonschema.Draft4Validator, data: Any) -> bool:
    return bool(validator.is_valid({"records": [{"partition_key": "k", "data": data}]}))


def _consumer_accepts(data: Any) -> bool:
    try:
        consumer.parse_event(json.dumps(data).encode())
    except consumer.PoisonRecord:
        return False
    return True


def test_the_model_refuses_every_event_the_consumer_parks(synthesis: Synthesis) -> None:
    validator = _validator(synthesis)
    for name, raw in HOSTILE.items():
        try:
            data = json.loads(raw)
        except ValueError:
            continue  # not JSON at all: API Gateway refuses the body before the model
        assert not _accepts(validator, data), name


@pytest.mark.parametrize(
    "data",
    [
        {**event("x"), "event_id": "x" * 257},
        event("x", amount="12.5"),
        event("x", amount=True),
        event("x", amount=1e126),
        event("x", amount=-1e126),
        event("x", amount=1e-131),
        event("x", source=7),
        event("x", customer_id=["c"]),
        event("x", attributes={"n": 1}),
        {**event("x"), "event_time": "2026-02-30T10:00:00Z"},
        {**event("x"), "event_time": "2026-11-27T24:00:00Z"},
        {**event("x"), "event_time": "2026-11-27T10:00:60Z"},
        {**event("x"), "event_time": "2026-11-27T10:00:00+99:99"},
        {**event("x"), "event_time": "2026-11-27T10:00:00Z\n"},
        {**event("x"), "event_time": "2026-11-27T10:00:00.123456+00:00"},  # Python's isoformat()
        {**event("x"), "event_time": "2026-11-27T23:30:00-05:00"},  # not UTC: another date
        {**event("x"), "event_time": "1999-12-31T23:59:59Z"},  # before the projection
    ],
    ids=lambda data: (
        next(f"{k}={str(v)[:24]}" for k, v in data.items() if k not in ("event_id", "event_type"))
        if data.get("event_id") == "x"
        else "long-event-id"
    ),
)
def test_the_issue_s_accepted_poison_is_refused_by_both(synthesis: Synthesis, data: dict[str, Any]) -> None:
    assert not _accepts(_validator(synthesis), data)
    assert not _consumer_accepts(data)


def _times() -> list[str]:
    """Dates of a leap year and of two common years (every day of every month, 29 to 31
    included), a few hours, minutes and seconds at their edges, fractions and zones."""
    days = [
        f"{y}-{m:02d}-{d:02d}"
        for y in (2000, 2023, 2024, 2100, 1999)
        for m in range(0, 14)
        for d in (0, 1, 28, 29, 30, 31, 32)
    ]
    clocks = ["00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "7:00:00"]
    tails = ["Z", "+00:00", "-00:00", "+01:00", "z", ".123Z", ".12Z", ".1234Z", ".123+00:00", "Z\n", ""]
    return [f"{day}T{clock}{tail}" for day, clock, tail in itertools.product(days, clocks[:3], tails)] + [
        f"2024-06-15T{clock}Z" for clock in clocks
    ]


def test_the_model_and_the_consumer_agree_on_every_time(synthesis: Synthesis) -> None:
    validator = _validator(synthesis)
    times = _times()
    accepted = [t for t in times if _accepts(validator, {**event("x"), "event_time": t})]
    assert accepted and len(accepted) < len(times)
    assert "2024-02-29T23:59:59Z" in accepted and "2023-02-29T00:00:00Z" not in accepted
    assert "2000-02-29T00:00:00Z" in accepted  # 2000 is a leap year (divisible by 400)
    for time in times:
        assert _consumer_accepts({**event("x"), "event_time": time}) == (time in accepted), time


def _joda_regex(pattern: str) -> re.Pattern[str]:
    """The strings a Joda-Time pattern of these letters reads, as a regular expression:
    yyyy, MM, dd, HH, mm, ss, SSS digits, 'literal' text, ZZ "Z" or an offset with a colon."""
    tokens = {"yyyy": r"\d{4}", "MM": r"\d{2}", "dd": r"\d{2}", "HH": r"\d{2}", "mm": r"\d{2}", "ss": r"\d{2}"}
    tokens |= {"SSS": r"\d{3}", "ZZ": r"(?:Z|[+-]\d{2}:\d{2})"}
    out, rest = "", pattern
    while rest:
        if rest.startswith("'"):
            literal, rest = rest[1:].split("'", 1)
            out += re.escape(literal)
            continue
        token = next((t for t in tokens if rest.startswith(t)), None)
        if token is None:
            out, rest = out + re.escape(rest[0]), rest[1:]
        else:
            out, rest = out + tokens[token], rest[len(token) :]
    return re.compile(out)


def test_every_accepted_time_is_one_the_conversion_reads(synthesis: Synthesis) -> None:
    data = synthesis.stack(DATA).template
    (delivery,) = (
        r["Properties"] for r in data["Resources"].values() if r["Type"] == "AWS::KinesisFirehose::DeliveryStream"
    )
    conversion = delivery["ExtendedS3DestinationConfiguration"]["DataFormatConversionConfiguration"]
    formats = conversion["InputFormatConfiguration"]["Deserializer"]["HiveJsonSerDe"]["TimestampFormats"]
    readers = [_joda_regex(f) for f in formats]
    validator = _validator(synthesis)
    accepted = [t for t in _times() if _accepts(validator, {**event("x"), "event_time": t})]
    for time in accepted:
        assert any(reader.fullmatch(time) for reader in readers), time
    # And the reverse holds for the shapes the formats read: a time they cannot read is refused.
    assert not _accepts(validator, {**event("x"), "event_time": "2026-11-27T10:00:00.1234Z"})


def test_the_date_partition_is_the_utc_date_and_inside_the_projection(synthesis: Synthesis) -> None:
    """The API admits UTC times only, so the first ten characters Firehose cuts are the UTC
    date; the years it admits start where the Glue table's projection starts."""
    data = synthesis.stack(DATA).template
    (table,) = (r["Properties"] for r in data["Resources"].values() if r["Type"] == "AWS::Glue::Table")
    start, end = table["TableInput"]["Parameters"]["projection.event_date.range"].split(",")
    assert (start, end) == (f"{contract.EARLIEST_YEAR}-01-01", "NOW")
    validator = _validator(synthesis)
    assert _accepts(validator, {**event("x"), "event_time": f"{contract.EARLIEST_YEAR}-01-01T00:00:00Z"})
    assert not _accepts(validator, {**event("x"), "event_time": f"{contract.EARLIEST_YEAR - 1}-12-31T23:59:59Z"})


def test_the_consumer_keeps_the_contract_s_figures() -> None:
    assert consumer.MAX_STRING_LENGTH == contract.MAX_STRING_LENGTH
    assert (consumer.EARLIEST_YEAR, consumer.LATEST_YEAR) == (contract.EARLIEST_YEAR, contract.LATEST_YEAR)
    assert (consumer.AMOUNT_BELOW, consumer.AMOUNT_SMALLEST) == (contract.AMOUNT_BELOW, contract.AMOUNT_SMALLEST)
    assert set(consumer.REQUIRED_FIELDS) | set(consumer.OPTIONAL_STRING_FIELDS) == set(contract.STRING_FIELDS) | {
        contract.TIME_FIELD
    }


def test_valid_events_pass_both(synthesis: Synthesis) -> None:
    validator = _validator(synthesis)
    for data in (
        event("ok"),
        event("ok", amount=0, source="s", customer_id="c", attributes={"k": "v"}),
        event("ok", amount=-9.9e125),
        event("ok", amount=1e-130),
        {**event("ok"), "event_time": "2026-11-27T10:00:00.123Z", "event_id": "e" * 256},
    ):
        assert _accepts(validator, data) and _consumer_accepts(data), data
