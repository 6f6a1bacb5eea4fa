"""The ingestion API's mapping template, rendered with a Velocity engine (airspeed) and
API Gateway's ``$input`` and ``$util`` as documented: a validated request becomes a valid
PutRecords body whose records the consumer then applies. Hostile partition keys and event
text (quotes, backslashes, non-ASCII) must keep the body valid JSON."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import airspeed  # type: ignore[import-untyped]
import pytest

from tests.streaming.consumer_support import STREAM, event, invoke, lambda_event, table_items
from tests.support.synthesis import Synthesis

PIPELINE = "streaming-pipeline-eu-west-1"


class _Input:
    """API Gateway's ``$input`` for a JSON body: ``path`` returns the value, ``json`` its JSON text."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def _select(self, expression: str) -> Any:
        value: Any = self.body
        for name, index in re.findall(r"\.(\w+)|\[(\d+)\]", expression.removeprefix("$")):
            value = value[name] if name else value[int(index)]
        return value

    def path(self, expression: str) -> Any:
        return self._select(expression)

    def json(self, expression: str) -> str:
        return json.dumps(self._select(expression))


class _Util:
    def base64Encode(self, text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    def escapeJavaScript(self, text: str) -> str:
        # As documented: JavaScript string rules, so a single quote becomes \' (not JSON).
        return text.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")


def _request_template(synthesis: Synthesis) -> str:
    template = synthesis.stack(PIPELINE).template
    (method,) = (r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method")
    joined = method["Integration"]["RequestTemplates"]["application/json"]
    # The stream name is a reference to the data stack; the test stream stands in for it.
    parts = joined["Fn::Join"][1] if isinstance(joined, dict) else [joined]
    return "".join(part if isinstance(part, str) else STREAM for part in parts)


def _render(synthesis: Synthesis, body: dict[str, Any]) -> dict[str, Any]:
    text = airspeed.Template(_request_template(synthesis)).merge({"input": _Input(body), "util": _Util()})
    rendered: dict[str, Any] = json.loads(text)  # fails the test if the body is not JSON
    return rendered


HOSTILE_KEYS = ['customer "42"', "o'brien", "back\\slash", "ünïcödé-ключ", "a" * 256]


def test_request_becomes_a_putrecords_body(synthesis: Synthesis) -> None:
    records = [
        {"partition_key": key, "data": event(f"e{i}", source='say "hi"\n', attributes={"k": "v'"})}
        for i, key in enumerate(HOSTILE_KEYS)
    ]
    body = _render(synthesis, {"records": records})
    assert body["StreamName"] == STREAM
    assert [r["PartitionKey"] for r in body["Records"]] == HOSTILE_KEYS
    for sent, put in zip(records, body["Records"], strict=True):
        assert json.loads(base64.b64decode(put["Data"])) == sent["data"]


@pytest.mark.parametrize("count", [1, 2, 500])
def test_every_record_is_forwarded(synthesis: Synthesis, count: int) -> None:
    records = [{"partition_key": f"k{i}", "data": event(f"e{i}")} for i in range(count)]
    assert len(_render(synthesis, {"records": records})["Records"]) == count


def test_records_from_the_api_are_applied_by_the_consumer(synthesis: Synthesis, aws: dict[str, Any]) -> None:
    records = [{"partition_key": key, "data": event(f"api-{i}", amount=i)} for i, key in enumerate(HOSTILE_KEYS[:3])]
    put = _render(synthesis, {"records": records})["Records"]
    batch = lambda_event(aws["kinesis"], [(r["PartitionKey"], base64.b64decode(r["Data"])) for r in put])
    assert invoke(batch) == []
    items = table_items(aws)
    assert set(items) == {"api-0", "api-1", "api-2"}
    assert items["api-1"]["partition_key"] == {"S": "o'brien"}
