"""The delivery section: the pipeline that deploys the organization from its repository.

Optional: without it no pipeline is built and the organization is deployed by hand in the
waves of the deployment plan. May import: ``org_config.common``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from org_config.common import _NAME, _Model

_REPOSITORY = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
_CONNECTION_ARN = re.compile(
    r"^arn:aws:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
)


class Delivery(_Model):
    # The deployment account (a name from `accounts`) that runs the pipeline.
    account: Annotated[str, Field(pattern=_NAME)]
    # The repository the pipeline watches, as owner/name, and its branch.
    repository: Annotated[str, Field(pattern=_REPOSITORY)]
    branch: Annotated[str, Field(min_length=1, max_length=255)] = "main"
    # An AWS CodeConnections connection to the repository's host, created (and approved in
    # the console) once in the deployment account: CloudFormation cannot finish the handshake.
    connection_arn: str
    # The organization config the pipeline checks, synthesizes and deploys, inside the repository.
    config_path: Annotated[str, Field(min_length=1)] = "org_config/example_organization.yaml"

    @field_validator("connection_arn")
    @classmethod
    def _connection(cls, value: str) -> str:
        if not _CONNECTION_ARN.fullmatch(value):
            raise ValueError(
                "must be a CodeConnections connection ARN "
                "(arn:aws:codeconnections:<region>:<account>:connection/<uuid>)"
            )
        return value
