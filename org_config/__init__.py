"""The organization config: typed models, the embedded example and the loader.

The bottom layer: it imports nothing else of the project. ``common`` holds what every
section shares; one module per section (``organization``, ``network``,
``disaster_recovery``, ``streaming``, ``object_index``, with ``streaming_sizing`` and
``streaming_schema`` that the streaming section's rules need); ``quotas`` holds the
account quotas and what each pattern reserves of them; ``model`` composes the sections
into :class:`OrgConfig` and checks the rules that span them; ``loader`` reads and
validates a file; ``names`` derives the deterministic physical names other accounts rely
on. Within the package, imports run in that order: a section imports ``common`` and its
own helpers (the DR section also the tier names, which ``organization`` defines), never
``model``; only ``loader`` and ``names`` import ``model``.
"""

from org_config.loader import ConfigError, load_config, parse_config
from org_config.model import AccountRole, OrgConfig

__all__ = ["AccountRole", "ConfigError", "OrgConfig", "load_config", "parse_config"]
