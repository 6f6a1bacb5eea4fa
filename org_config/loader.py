"""Load and validate an organization config file.

The loader turns every validation failure into a single line that names the field and
the rule, e.g. ``accounts[2].id: account id must be exactly 12 digits (got '1234')``, so
the app can stop before it writes anything to the cloud assembly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from org_config.model import OrgConfig

EXAMPLE_CONFIG_NAME = "example_organization.yaml"


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


def _field_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    path = _field_path(first["loc"])
    extra = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    # A cross-field rule's message already starts with the full path of its field.
    if not path or message.startswith(path):
        return f"{message}{extra}"
    return f"{path}: {message}{extra}"


def parse_config(text: str, *, source: str = "<config>") -> OrgConfig:
    """Validate the YAML ``text`` of a config; raise :class:`ConfigError` on any problem."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except ConfigError as err:
        raise ConfigError(f"{source}: {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: not valid YAML ({' '.join(str(err).split())})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections")
    try:
        # Validate through JSON so YAML lists become tuples and no value is coerced
        # beyond what JSON allows (a number is never accepted where text is required).
        return OrgConfig.model_validate_json(json.dumps(data, default=str))
    except ValidationError as err:
        raise ConfigError(f"{source}: {_one_line(err)}") from None


def example_config_text() -> str:
    """The embedded example organization, used when no config file is selected."""
    return resources.files("org_config").joinpath(EXAMPLE_CONFIG_NAME).read_text(encoding="utf-8")


def load_config(path: str | Path | None = None) -> OrgConfig:
    """Load the config at ``path``, or the embedded example organization when ``None``."""
    if path is None:
        return parse_config(example_config_text(), source=EXAMPLE_CONFIG_NAME)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{file}: cannot read the config file ({err.strerror})") from None
    return parse_config(text, source=str(file))
