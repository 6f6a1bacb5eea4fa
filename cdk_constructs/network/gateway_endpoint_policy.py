"""The endpoint policies of the spokes' S3 and DynamoDB gateway endpoints.

A gateway endpoint without a policy carries requests to any account's buckets and
tables, and that traffic never crosses the inspection firewall: an exfiltration path.
Each policy here allows only:

* the organization's own resources: ``aws:ResourceOrgID`` equal to the organization id
  (a global condition key, set to the organization of the account that owns the
  resource; IAM User Guide, "AWS global condition context keys"; the pattern of the
  AWS data perimeter examples, aws-samples/data-perimeter-policy-examples);
* for S3, reading objects (``s3:GetObject`` only) from the AWS-owned buckets the
  workloads' instances need in their region, which belong to no account of the
  organization:

  - ``al2023-repos-<region>-de612dc2`` and ``amazonlinux-2-repos-<region>``: the Amazon
    Linux 2023 and Amazon Linux 2 package repositories (``dnf``/``yum`` fetch from them
    through the S3 endpoint; Amazon Linux 2023 User Guide, and the AL2 FAQ);
  - when the network serves Systems Manager (an ``ssm`` interface endpoint), the
    buckets the SSM Agent reads documents, plug-ins, patch baselines and updates from
    (Systems Manager User Guide, "SSM Agent communications with AWS managed S3
    buckets").

Lambda layers and container images are out of scope: Lambda fetches layers itself, not
through the VPC, and no workload pulls from ECR (no ``ecr`` interface endpoint).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Buckets of Amazon Linux's package repositories, per region ("<region>" is replaced).
AMAZON_LINUX_BUCKETS: tuple[str, ...] = ("al2023-repos-<region>-de612dc2", "amazonlinux-2-repos-<region>")
# Buckets the SSM Agent reads from (documents, plug-ins, updates, patch baselines).
SSM_AGENT_BUCKETS: tuple[str, ...] = (
    "aws-ssm-<region>",
    "amazon-ssm-<region>",
    "amazon-ssm-packages-<region>",
    "<region>-birdwatcher-prod",
    "aws-ssm-distributor-file-<region>",
    "aws-ssm-document-attachments-<region>",
    "patch-baseline-snapshot-<region>",
)


def aws_owned_buckets(region: str, interface_endpoints: Sequence[str]) -> list[str]:
    """The AWS-owned buckets the spokes of ``region`` may read, in a stable order."""
    names = [*AMAZON_LINUX_BUCKETS, *(SSM_AGENT_BUCKETS if "ssm" in interface_endpoints else ())]
    return [name.replace("<region>", region) for name in names]


def gateway_endpoint_policy(
    service: str, *, organization_id: str, aws_buckets: Sequence[str], account_id: str | None = None
) -> dict[str, Any]:
    """The policy document of the ``service`` ("s3" or "dynamodb") gateway endpoint.

    ``account_id`` is for the sandbox profile, which has no organization of its own: the
    endpoint then allows the resources of that one account (``aws:ResourceAccount``).
    """
    owner = (
        {"Sid": "AccountResourcesOnly", "Condition": {"StringEquals": {"aws:ResourceAccount": account_id}}}
        if account_id is not None
        else {"Sid": "OrganizationResourcesOnly", "Condition": {"StringEquals": {"aws:ResourceOrgID": organization_id}}}
    )
    statements: list[dict[str, Any]] = [
        {
            "Sid": owner["Sid"],
            "Effect": "Allow",
            "Principal": "*",
            "Action": f"{service}:*",
            "Resource": "*",
            "Condition": owner["Condition"],
        }
    ]
    if service == "s3" and aws_buckets:
        statements.append(
            {
                "Sid": "ReadAwsOwnedBuckets",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [f"arn:aws:s3:::{bucket}/*" for bucket in aws_buckets],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
