"""List prices and sizing assumptions behind the DR cost and recovery-time figures.

Region: eu-central-1 (Europe, Frankfurt), the DR region of the example organization.
Currency: USD, on-demand, before tax and discounts. Recorded for this repository on
2026-11-27; prices change, so check the pages below before you budget with them.

Sources:
* Amazon Aurora pricing (instances, storage, I/O, Global Database replicated write I/O):
  https://aws.amazon.com/rds/aurora/pricing/
* AWS Backup pricing (warm storage of Aurora and S3 backups): https://aws.amazon.com/backup/pricing/
* Amazon S3 pricing (Standard storage, Replication Time Control, inter-region transfer):
  https://aws.amazon.com/s3/pricing/
* AWS Lambda pricing (provisioned concurrency, Arm): https://aws.amazon.com/lambda/pricing/
* AWS KMS pricing: https://aws.amazon.com/kms/pricing/
* AWS Secrets Manager pricing (a replica is billed as a secret): https://aws.amazon.com/secrets-manager/pricing/
* Amazon Route 53 pricing (health checks, optional features): https://aws.amazon.com/route53/pricing/
  A health check that watches a CloudWatch alarm or other health checks is assumed to cost
  what a basic health check of an AWS endpoint costs.
* Amazon CloudWatch pricing (standard-resolution alarms): https://aws.amazon.com/cloudwatch/pricing/
* AWS WAF pricing (web ACL and rule per month; requests billed per use):
  https://aws.amazon.com/waf/pricing/
"""

from __future__ import annotations

PRICE_REGION = "eu-central-1"
PRICES_RECORDED = "2026-11-27"
HOURS_PER_MONTH = 730

# Aurora PostgreSQL (Aurora Standard), per instance-hour.
AURORA_INSTANCE_HOURLY: dict[str, float] = {
    "db.r6g.large": 0.31,
    "db.r6g.xlarge": 0.62,
    "db.r6g.2xlarge": 1.24,
    "db.r6i.large": 0.35,
    "db.r7g.large": 0.33,
    "db.r7g.xlarge": 0.66,
}
AURORA_STORAGE_GB_MONTH = 0.11
AURORA_REPLICATED_WRITE_IO_PER_MILLION = 0.22
BACKUP_AURORA_GB_MONTH = 0.023
BACKUP_S3_GB_MONTH = 0.06
S3_STANDARD_GB_MONTH = 0.0245
S3_RTC_PER_GB = 0.015
INTER_REGION_TRANSFER_PER_GB = 0.02
LAMBDA_PROVISIONED_ARM_GB_SECOND = 0.0000033334
KMS_KEY_MONTH = 1.00
SECRET_MONTH = 0.40
HEALTH_CHECK_AWS_ENDPOINT_MONTH = 0.50
HEALTH_CHECK_OPTIONAL_FEATURE_MONTH = 1.00  # each of HTTPS, fast (10 s) interval, string match, latency
CLOUDWATCH_ALARM_MONTH = 0.10
WAF_WEB_ACL_MONTH = 5.00
WAF_RULE_MONTH = 1.00  # a managed rule group counts as one rule

# Sizing assumptions of the sample workload (change them to yours).
DATABASE_GB = 100
FILES_GB = 500
FILES_WRITTEN_GB_MONTH = 20  # new or changed files per month: what replication transfers
DATABASE_WRITE_IOS_MILLION_MONTH = 50  # write I/Os per month that Global Database replicates
BACKUP_GB_PER_DATA_GB = 1.5  # a full copy plus the increments the retention keeps

# How long the operations of a failover take (minutes). Assumptions for the sizes above,
# except where noted; measure your own in a game day and change them.
DATABASE_RESTORE_MINUTES = 45  # restore a 100 GB Aurora cluster from a recovery point
FILES_RESTORE_MINUTES = 60  # restore 500 GB of files from an S3 recovery point
DATABASE_INSTANCE_CREATE_MINUTES = 15  # add an instance to a cluster
GLOBAL_FAILOVER_MINUTES = 2  # managed failover of a global database ("typically minutes" in the Aurora docs)
SERVICE_DEPLOY_MINUTES = 20  # deploy the service stack (API, certificate, function, record)
COMPUTE_ENABLE_MINUTES = 5  # set reserved and provisioned concurrency, wait for it to be ready
COMPUTE_SCALE_MINUTES = 5  # raise provisioned concurrency to production size
