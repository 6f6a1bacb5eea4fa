"""The organization config: typed models, the embedded example and the loader."""

from org_config.loader import ConfigError, load_config, parse_config
from org_config.model import AccountRole, OrgConfig

__all__ = ["AccountRole", "ConfigError", "OrgConfig", "load_config", "parse_config"]
