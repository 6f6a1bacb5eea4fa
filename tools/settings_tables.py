"""The settings tables of the pattern pages, generated from the config model.

One table per config section: every key (nested keys as dotted paths, ``[]`` for a list
item, ``<name>`` for a key the user chooses), whether it is required or what it defaults
to, and its rule. The rule is the field's ``description`` where it has one, else the
comment the model's source gives the field, followed by the constraints pydantic enforces
(ranges, patterns, choices). A test regenerates the tables and fails when a page differs.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from org_config.common import PATTERN_RULES
from org_config.model import OrgConfig

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "patterns"

# Which page (under docs/) documents which top-level sections, in the order of the file.
PAGE_SECTIONS: dict[str, tuple[str, ...]] = {
    "patterns/organization.md": (
        "organization",
        "accounts",
        "regions",
        "log_archive",
        "guardrails",
        "tag_policy",
        "backup_policy",
        "identity_center",
        "security_monitoring",
        "account_quotas",
    ),
    "patterns/network.md": ("network",),
    "patterns/disaster-recovery.md": ("disaster_recovery",),
    "patterns/streaming.md": ("streaming",),
    "patterns/s3-object-index.md": ("object_index",),
    "deployment.md": ("sandbox", "delivery"),
}


@cache
def _comments(model: type[BaseModel]) -> dict[str, str]:
    """The comment above (or beside) each field declaration in the model's source."""
    try:
        lines = inspect.getsource(model).splitlines()
    except (OSError, TypeError):
        return {}
    comments: dict[str, str] = {}
    pending: list[str] = []
    for line in lines[1:]:
        stripped = line.strip()
        if line.startswith("    #") and not line.startswith("     "):
            if not stripped.lstrip("# ").startswith("---"):  # a group heading, not a field's comment
                pending.append(stripped.lstrip("#").strip())
            continue
        declaration = re.match(r"^    (\w+)\s*:", line)
        if declaration:
            inline = line.split("  # ", 1)[1].strip() if "  # " in line else ""
            comments[declaration.group(1)] = " ".join([*pending, inline]).strip()
        pending = []
    return comments


def _plain(annotation: Any) -> Any:
    """The annotation without ``Annotated`` and without ``| None``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(options) == 1:
            return _plain(options[0])
    return annotation


def _model(annotation: Any) -> type[BaseModel] | None:
    plain = _plain(annotation)
    return plain if isinstance(plain, type) and issubclass(plain, BaseModel) else None


def _nested(annotation: Any) -> type[BaseModel] | None:
    """The model of a section, of each item of a list, or of each value of a mapping."""
    plain = _plain(annotation)
    origin = typing.get_origin(plain)
    if origin in (tuple, dict):
        return _model(typing.get_args(plain)[-1 if origin is dict else 0])
    return _model(plain)


def _constraints(field: FieldInfo) -> list[str]:
    """The rules pydantic enforces on the field, in words."""
    rules: list[str] = []
    annotation = _plain(field.annotation)
    metadata = list(field.metadata)
    item_metadata: list[Any] = []  # what each item of a list must match
    if typing.get_origin(annotation) is tuple:
        item = typing.get_args(annotation)[0]
        if typing.get_origin(item) is typing.Annotated:
            item_metadata = [m for arg in typing.get_args(item)[1:] for m in getattr(arg, "metadata", [arg])]
    bounds = {name: getattr(m, name) for m in metadata for name in ("ge", "gt", "le", "lt") if hasattr(m, name)}
    if bounds:
        low = f"at least {bounds['ge']}" if "ge" in bounds else (f"above {bounds['gt']}" if "gt" in bounds else "")
        high = f"at most {bounds['le']}" if "le" in bounds else (f"below {bounds['lt']}" if "lt" in bounds else "")
        rules.append(" and ".join(part for part in (low, high) if part))
    for m in metadata:
        if getattr(m, "min_length", None) and typing.get_origin(annotation) is tuple:
            rules.append(f"at least {m.min_length} item{'s' if m.min_length > 1 else ''}")
    for m in metadata:
        # A rule in a validator function of an annotated type: its docstring says it.
        doc = inspect.getdoc(getattr(m, "func", None)) if callable(getattr(m, "func", None)) else None
        if doc:
            rules.append(_sentence(doc.splitlines()[0]))
    for m in [*metadata, *item_metadata]:
        pattern = getattr(m, "pattern", None)
        if pattern:
            words = PATTERN_RULES.get(pattern, f"matches `{pattern}`")
            rules.append(f"each {words}" if m in item_metadata else words)
    if typing.get_origin(annotation) is Literal:
        rules.append("one of " + ", ".join(f"`{choice}`" for choice in typing.get_args(annotation)))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        rules.append("one of " + ", ".join(f"`{choice.value}`" for choice in annotation))
    return [rule for rule in rules if rule]


def _kind(annotation: Any) -> str:
    """The value a key takes, in words: text, integer, a list of text, a mapping..."""
    plain = _plain(annotation)
    origin = typing.get_origin(plain)
    if origin is tuple:
        return f"list of {_kind(typing.get_args(plain)[0])}"
    if origin is dict:
        return f"mapping to {_kind(typing.get_args(plain)[-1])}"
    if origin is Literal or (isinstance(plain, type) and issubclass(plain, Enum)):
        return "text"
    if _model(plain) is not None:
        return "mapping"
    names = {str: "text", int: "integer", float: "number", bool: "true or false"}
    return names.get(plain, "value") if isinstance(plain, type) else "value"


def _summary(model: type[BaseModel] | None) -> str:
    """The first sentence of a model's docstring."""
    doc = model.__dict__.get("__doc__") if model is not None else None  # its own, not BaseModel's
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split()).split(". ")[0].rstrip(".") if doc else ""


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "optional"
    if isinstance(value, BaseModel):
        return "optional (defaults below)"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, tuple | list | dict) and not value:
        return "none"
    if isinstance(value, tuple):
        value = list(value)
    return f"`{json.dumps(value)}`"


def _sentence(text: str) -> str:
    """A rule as the continuation of the kind: "text; the OU the account sits in"."""
    text = text.strip().rstrip(".")
    first = text.split(" ", 1)[0]
    # Lower the first word unless it is an acronym or a name (S3, IAM, AWS::...).
    return text[:1].lower() + text[1:] if len(first) == 1 or first[1:2].islower() else text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(model: type[BaseModel], prefix: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    comments = _comments(model)
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        annotation = _plain(field.annotation)
        nested = _nested(annotation)
        rule = field.description or comments.get(name, "") or (_summary(nested) if nested else "")
        parts = [_kind(annotation), *(part for part in (_sentence(rule), *_constraints(field)) if part)]
        origin = typing.get_origin(annotation)
        rows.append((f"`{key}`", _default(field), "; ".join(parts)))
        if nested is not None:
            suffix = ".<name>." if origin is dict else ("[]." if origin is tuple else ".")
            rows += _rows(nested, f"{key}{suffix}")
    return rows


def settings_table(section: str) -> str:
    """The markdown table of one top-level section of the config."""
    field = OrgConfig.model_fields.get(section) or OrgConfig.model_fields[f"{section}_section"]
    model = _nested(field.annotation)
    rule = field.description or _comments(OrgConfig).get(section, "") or _summary(model)
    rows = [("key", "required or default", "rule")]
    parts = (_kind(field.annotation), _sentence(rule))
    rows.append((f"`{section}`", _default(field), "; ".join(part for part in parts if part)))
    if model is not None:
        item = typing.get_origin(_plain(field.annotation)) is tuple
        rows += _rows(model, f"{section}[]." if item else f"{section}.")
    lines = ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    lines.insert(1, "| --- | --- | --- |")
    return "\n".join(lines)


def settings_sections(page: str) -> dict[str, str]:
    """The generated settings sections of one page (``settings-<section>``)."""
    return {f"settings-{section}": settings_table(section) for section in PAGE_SECTIONS.get(page, ())}
