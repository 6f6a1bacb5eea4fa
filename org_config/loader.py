"""Load and validate an organization config file.

The loader turns every validation failure into a single line that names the file, the
field and the rule, e.g. ``org.yaml: accounts[2].id: account id must be exactly 12 digits
(got '1234')``, so the app can stop before it writes anything to the cloud assembly.
Where pydantic finds several problems, the line lists them all, unknown keys first (a
misspelt key is usually the cause of the "field required" that follows it).

The file is treated as untrusted input: it must be UTF-8, at most ``MAX_CONFIG_BYTES``
long, and its YAML may not expand (through anchors and aliases) to more than
``MAX_YAML_NODES`` values, so a small "billion laughs" document is refused before it can
exhaust memory. Imports the root model and the derived names only.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from org_config.model import PATTERN_RULES, OrgConfig
from org_config.names import bucket_name_problems

EXAMPLE_CONFIG_NAME = "example_organization.yaml"
# A real organization's config is a few kilobytes; these bounds leave room for thousands of
# accounts and assignments while refusing documents built to exhaust memory.
MAX_CONFIG_BYTES = 1_048_576
MAX_YAML_NODES = 100_000


class ConfigError(Exception):
    """An invalid config: ``str(error)`` is one line naming the source, field and rule."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (plain YAML keeps
    the last one silently, which would hide a copy-paste mistake)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            raise ConfigError(f"line {key_node.start_mark.line + 1}: key '{key}' is given twice")
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values ``node`` stands for once every alias is expanded. An alias is the
    same node object as its anchor, so each distinct node is sized once (memoized by
    identity): the time is linear in the document, whatever its expansion."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    sizes[id(node)] = min(size, MAX_YAML_NODES + 1)
    return sizes[id(node)]


def _load_yaml(text: str) -> Any:
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_YAML_NODES:
            raise ConfigError(
                f"the YAML expands to more than {MAX_YAML_NODES:,} values through anchors and aliases; "
                "write the values out instead"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _field_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _keys(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The model's fields by the key a config file writes (the alias, where it has one)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _known_fields(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """Keys of the model that holds the unknown key at ``loc`` (for a suggestion)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            field = _keys(current).get(part)
            if field is None:
                continue  # a key of a dict of models (a VPC name), not a field
            current = field.annotation
        # Walk into tuple[Model, ...] and dict[str, Model] element types.
        for argument in getattr(current, "__args__", ()):
            if isinstance(argument, type) and issubclass(argument, BaseModel):
                current = argument
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(_keys(current))
    return []


def _describe(error: ErrorDetails) -> str:
    """One error as "<field>: <rule in words>"."""
    path = _field_path(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        key = str(error["loc"][-1])
        close = difflib.get_close_matches(key, _known_fields(OrgConfig, error["loc"]), n=1)
        message = f"unknown key (did you mean '{close[0]}'?)" if close else "unknown key"
    elif error["type"] == "string_pattern_mismatch":
        pattern = str((error.get("ctx") or {}).get("pattern", ""))
        message = PATTERN_RULES.get(pattern, message) + f" (got {json.dumps(error['input'])})"
    # A cross-field rule's message already starts with the full path of its field.
    if not path or message.startswith(path):
        return message
    return f"{path}: {message}"


def _one_line(error: ValidationError) -> str:
    errors = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")  # stable: keeps the order otherwise
    return "; ".join(dict.fromkeys(_describe(e) for e in errors))


def parse_config(text: str, *, source: str = "<config>") -> OrgConfig:
    """Validate the YAML ``text`` of a config; raise :class:`ConfigError` on any problem."""
    try:
        data = _load_yaml(text)
    except ConfigError as err:
        raise ConfigError(f"{source}: {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: not valid YAML ({' '.join(str(err).split())})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections")
    try:
        # Validate through JSON so YAML lists become tuples and no value is coerced
        # beyond what JSON allows (a number is never accepted where text is required).
        config = OrgConfig.model_validate_json(json.dumps(data, default=str))
    except ValidationError as err:
        raise ConfigError(f"{source}: {_one_line(err)}") from None
    problems = bucket_name_problems(config)
    if problems:
        raise ConfigError(f"{source}: {'; '.join(problems)}")
    return config


def example_config_text() -> str:
    """The embedded example organization, used when no config file is selected."""
    return resources.files("org_config").joinpath(EXAMPLE_CONFIG_NAME).read_text(encoding="utf-8")


def read_config_text(file: Path) -> str:
    """The text of the config at ``file``: bounded in size and strictly UTF-8."""
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise ConfigError(f"{file}: cannot read the config file ({err.strerror})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{file}: the config file is larger than {MAX_CONFIG_BYTES:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError(
            f"{file}: not UTF-8 text (byte 0x{raw[err.start]:02x} on line {line}); save the file as UTF-8"
        ) from None


def load_config(path: str | Path | None = None) -> OrgConfig:
    """Load the config at ``path``, or the embedded example organization when ``None``."""
    if path is None:
        return parse_config(example_config_text(), source=EXAMPLE_CONFIG_NAME)
    file = Path(path)
    return parse_config(read_config_text(file), source=str(file))


def config_source(path: str | Path | None) -> str:
    """How errors name the config at ``path`` (the example's file name when ``None``)."""
    return EXAMPLE_CONFIG_NAME if path is None else str(Path(path))
