"""The organization config: typed models, the embedded example and the loader.

The bottom layer: it imports nothing else of the project. ``common`` holds what every
section shares; one module per section (``organization``, ``network``,
``disaster_recovery``, ``streaming``, ``object_index``); ``model`` composes them into
:class:`OrgConfig`; ``loader`` reads and validates a file; ``names`` derives the
deterministic physical names other accounts rely on.
"""

from org_config.loader import ConfigError, load_config, parse_config
from org_config.model import AccountRole, OrgConfig

__all__ = ["AccountRole", "ConfigError", "OrgConfig", "load_config", "parse_config"]
