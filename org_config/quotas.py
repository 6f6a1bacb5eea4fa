"""Account quotas the config is checked against, and the Lambda concurrency each pattern
reserves in an account and region.

The root model (:mod:`org_config.model`) sums the reservations of every built pattern per
account and region and refuses a config whose sum would not leave AWS's unreserved
minimum. Each pattern's reservation is computed here from its section's fields, the way
its stacks set ``ReservedConcurrentExecutions`` (a section that comes to answer this
itself, with a ``reserved_concurrency()`` method, replaces its function here). Imports
only the section modules and ``common``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from org_config.common import _Model
from org_config.disaster_recovery import DisasterRecovery
from org_config.object_index import ObjectIndex
from org_config.streaming import Streaming

# AWS keeps this many concurrent executions of every account and region unreserved, for
# the functions without reserved concurrency: "You can reserve up to the Unreserved
# account concurrency value that is shown, minus 100" ("Configuring reserved concurrency
# for a function", AWS Lambda Developer Guide).
LAMBDA_UNRESERVED_MINIMUM = 100


class AccountQuotas(_Model):
    """Account quotas the config is checked against, at AWS's defaults. Raise one here only
    after AWS has raised it for every account and region the patterns deploy to."""

    lambda_concurrent_executions: Annotated[
        int,
        Field(
            ge=LAMBDA_UNRESERVED_MINIMUM,
            description=(
                'Lambda concurrent executions per account and region (AWS\'s default: 1,000, "Lambda quotas", '
                "AWS Lambda Developer Guide); the reserved concurrency of every pattern in one account and "
                f"region must leave {LAMBDA_UNRESERVED_MINIMUM} of it unreserved"
            ),
        ),
    ] = 1000


@dataclass(frozen=True)
class ConcurrencyReservation:
    """Concurrent executions one pattern's functions reserve in one account and region."""

    account: str
    region: str
    what: str  # the functions, as a reader names them: "object index (indexer 8, query 20, reconcile 2)"
    executions: int


def object_index_reservation(index: ObjectIndex, home: str) -> ConcurrencyReservation:
    """The indexer (sized from the event rate), the query and the reconcile functions."""
    executions = index.indexer_concurrency + index.query_reserved_concurrency + index.reconcile_reserved_concurrency
    what = (
        f"object index (indexer {index.indexer_concurrency}, query {index.query_reserved_concurrency}, "
        f"reconcile {index.reconcile_reserved_concurrency})"
    )
    return ConcurrencyReservation(index.account, home, what, executions)


def streaming_reservation(streaming: Streaming, home: str) -> ConcurrencyReservation:
    """The consumer: one concurrent batch per shard and parallelization slot."""
    sizing = streaming.sizing()
    executions = streaming.reserved_concurrency()  # the sizing's derivation, as the stack reserves it
    what = f"streaming consumer ({sizing.concurrency_shards} shards x parallelization {sizing.parallelization_factor})"
    return ConcurrencyReservation(streaming.account, home, what, executions)


def disaster_recovery_reservations(dr: DisasterRecovery, home: str, dr_region: str) -> list[ConcurrencyReservation]:
    """The service functions and health probes of both regions, as the DR section derives
    them from its tier (``DisasterRecovery.reserved_concurrency_by_region``)."""
    reserved = dr.reserved_concurrency_by_region()
    return [
        ConcurrencyReservation(dr.account, home, "DR home function and health probe", reserved["home"]),
        ConcurrencyReservation(dr.account, dr_region, "DR standby function and health probe", reserved["dr"]),
    ]


def concurrency_problems(reservations: list[ConcurrencyReservation], quotas: AccountQuotas) -> list[str]:
    """One problem per account and region whose reservations, summed, would not leave
    AWS's unreserved minimum of the quota; in the order the reservations come."""
    quota = quotas.lambda_concurrent_executions
    by_place: dict[tuple[str, str], list[ConcurrencyReservation]] = {}
    for reservation in reservations:
        if reservation.executions > 0:
            by_place.setdefault((reservation.account, reservation.region), []).append(reservation)
    problems = []
    for (account, region), placed in by_place.items():
        total = sum(r.executions for r in placed)
        if total > quota - LAMBDA_UNRESERVED_MINIMUM:
            parts = ", ".join(f"{r.what}: {r.executions}" for r in placed)
            problems.append(
                f"account_quotas.lambda_concurrent_executions: account '{account}' in {region} would reserve "
                f"{total} concurrent executions ({parts}), more than its quota of {quota} less the "
                f"{LAMBDA_UNRESERVED_MINIMUM} Lambda keeps unreserved; lower them, or raise the quota with AWS "
                "and here"
            )
    return problems
