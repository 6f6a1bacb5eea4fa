"""The Lambda runtime, architecture and Powertools layer every Python function in the project uses.

One place, so the patterns' functions move to a new runtime together and no pattern imports
another pattern's stack module to find them.
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_

RUNTIME = lambda_.Runtime.PYTHON_3_14  # the latest Python runtime; cdk-nag's AwsSolutions-L1 asks for it
ARCHITECTURE = lambda_.Architecture.X86_64
# 27: the version the Powertools for AWS Lambda (Python) docs list for python314-x86_64 in every commercial region
POWERTOOLS_LAYER_VERSION = 27
POWERTOOLS_LAYER_ACCOUNT = "017000801446"  # the Powertools for AWS Lambda publishing account


def powertools_layer_arn(partition: str, region: str) -> str:
    """The public Powertools for AWS Lambda (Python) v3 layer for this runtime and architecture."""
    runtime = RUNTIME.name.replace(".", "")  # python3.14 -> python314
    name = f"AWSLambdaPowertoolsPythonV3-{runtime}-{ARCHITECTURE.name}"
    return f"arn:{partition}:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:{name}:{POWERTOOLS_LAYER_VERSION}"
