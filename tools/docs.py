"""Regenerate the generated sections of the pattern pages from the synthesized templates.

A page marks each generated section with ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->``; everything between is replaced, everything outside is prose.
Run ``make docs`` after a change; a test fails when a page has drifted from the code.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from analysis.assembly import StackTemplate, read_assembly
from analysis.deployment.plan import build_plan
from analysis.disaster_recovery import report as disaster_recovery_report
from analysis.disaster_recovery.report import (
    render_assumptions,
    render_overview,
    render_rpo,
    render_rto,
    render_runbooks,
)
from analysis.disaster_recovery.tiers import TierReport
from analysis.network.cost import cost_at_rest, egress_model, load_prices, render_break_even, render_cost_table
from analysis.network.report import (
    dns_matrix,
    network_from_assembly,
    reachability_matrix,
    render_dns,
    render_gateway_endpoints,
    render_matrix,
)
from analysis.organization.guardrail_cases import CASES
from analysis.organization.report import (
    build_organization,
    evaluate_cases,
    render_case_table,
    render_ou_tree,
    render_scp_matrix,
    scps_from_template,
)
from analysis.streaming.report import deployed_shards, render_alarms, render_cost, render_sizing
from org_config import OrgConfig, load_config
from org_config.model import AccountRole
from stacks.organization.service_control_policies import library
from tools.settings_tables import PAGE_SECTIONS, settings_sections

ROOT = Path(__file__).resolve().parents[1]
ORGANIZATION_PAGE = ROOT / "docs" / "patterns" / "organization.md"
NETWORK_PAGE = ROOT / "docs" / "patterns" / "network.md"
DISASTER_RECOVERY_PAGE = ROOT / "docs" / "patterns" / "disaster-recovery.md"
STREAMING_PAGE = ROOT / "docs" / "patterns" / "streaming.md"
DEPLOYMENT_PAGE = ROOT / "docs" / "deployment.md"


def _stack(stacks: list[StackTemplate], prefix: str) -> StackTemplate:
    return next(s for s in stacks if s.name.startswith(prefix))


def organization_sections(config: OrgConfig, stacks: list[StackTemplate]) -> dict[str, str]:
    template = _stack(stacks, "organization-").template
    scps = scps_from_template(config, template)
    outcomes = evaluate_cases(config, build_organization(config, scps), CASES)
    statements = ["| SCP | statement | prevents, and why | exempt |", "| --- | --- | --- | --- |"]
    for policy in library(config).values():
        for guardrail in policy.guardrails:
            statements.append(f"| `{policy.name}` | `{guardrail.sid}` | {guardrail.prevents} | {guardrail.exempt} |")
    return {
        "ou-tree": render_ou_tree(config, scps),
        "scp-matrix": render_scp_matrix(config, scps),
        "scp-statements": "\n".join(statements),
        "request-table": render_case_table(outcomes),
    }


def network_sections(config: OrgConfig, stacks: list[StackTemplate]) -> dict[str, str]:
    """The reachability matrix, DNS reachability, what the gateway endpoints allow, the
    cost at rest and the central-egress break-even, all computed from the synthesized
    templates."""
    net = network_from_assembly(config, stacks)
    prices = load_prices()
    return {
        "network-reachability-matrix": render_matrix(reachability_matrix(config, net)),
        "network-dns-reachability": render_dns(dns_matrix(config, net)),
        "network-gateway-endpoints": render_gateway_endpoints(config, net),
        "network-cost-at-rest": render_cost_table(cost_at_rest(stacks, prices), prices),
        "network-egress-break-even": render_break_even(egress_model(net, prices), prices.currency),
    }


def disaster_recovery_sections(reports: Mapping[str, TierReport]) -> dict[str, str]:
    """The DR page's tables: all four tiers side by side, and the runbooks of each."""
    return {
        "dr-overview": render_overview(reports),
        "dr-rpo": render_rpo(reports),
        "dr-rto": render_rto(reports),
        "dr-cost": disaster_recovery_report.render_cost(reports),
        "dr-assumptions": render_assumptions(),
        "dr-failover": render_runbooks(reports, failback=False),
        "dr-failback": render_runbooks(reports, failback=True),
    }


def streaming_sections(config: OrgConfig, stacks: list[StackTemplate]) -> dict[str, str]:
    settings = config.streaming
    sizing = settings.sizing()
    shards = deployed_shards(_stack(stacks, "streaming-data-").template)
    return {
        "streaming-sizing": render_sizing(settings, sizing, shards),
        "streaming-cost": render_cost(sizing),
        "streaming-alarms": render_alarms(_stack(stacks, "streaming-pipeline-").template),
    }


def deployment_sections(config: OrgConfig, stacks: list[StackTemplate]) -> dict[str, str]:
    """The deployment plan in waves and the bootstrap commands, from the manifest."""
    names = {account.id: account.name for account in config.accounts}
    plan = build_plan(
        stacks,
        deployer_account=config.account(AccountRole.MANAGEMENT).id,
        account_names=names,
        pipeline_account=config.account_named(config.delivery.account).id if config.delivery else None,
    )
    return {
        "deployment-plan": plan.render_markdown(),
        "bootstrap-commands": "\n".join(["```sh", *plan.bootstrap_commands(), "```"]),
    }


def _replacement(body: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return f"{match.group(1)}{body}\n{match.group(2)}"

    return replace


def replace_sections(text: str, sections: dict[str, str]) -> str:
    """``text`` with each marked section replaced; a missing marker is an error."""
    for name, body in sections.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"no generated:{name} section in the page")
        text = pattern.sub(_replacement(body), text)
    return text


def refuse_other_organizations(config: OrgConfig, stacks: list[StackTemplate], outdir: str | Path) -> None:
    """Raise unless every stack of the assembly belongs to the example organization."""
    foreign = sorted({s.account for s in stacks if not s.environment_agnostic} - {a.id for a in config.accounts})
    if foreign:
        raise ValueError(
            f"{outdir} holds templates of another organization (accounts {', '.join(foreign)}); "
            "the pages document the example organization: synthesize it without CONFIG or ORG_CONFIG"
        )


def settings_pages(generated: Mapping[Path, str]) -> dict[Path, str]:
    """Every page with a settings table, its tables regenerated from the config model (on
    top of ``generated``, the page's text so far, where it has one); needs no assembly."""
    pages: dict[Path, str] = {}
    for name in PAGE_SECTIONS:
        path = ROOT / "docs" / name
        text = generated.get(path) or path.read_text(encoding="utf-8")
        pages[path] = replace_sections(text, settings_sections(name))
    return pages


def pages(outdir: str | Path, *, dr_reports: Mapping[str, TierReport] | None = None) -> dict[Path, str]:
    """Every generated page, as it should read for the assembly at ``outdir``. The DR page
    needs all four tiers: pass their reports (``tools.dr_tiers.tier_reports``) to include it."""
    config = load_config()  # the docs describe the example organization, whatever ORG_CONFIG says
    stacks = read_assembly(outdir)
    refuse_other_organizations(config, stacks, outdir)
    generated = {
        ORGANIZATION_PAGE: replace_sections(
            ORGANIZATION_PAGE.read_text(encoding="utf-8"), organization_sections(config, stacks)
        ),
        NETWORK_PAGE: replace_sections(NETWORK_PAGE.read_text(encoding="utf-8"), network_sections(config, stacks)),
        STREAMING_PAGE: replace_sections(
            STREAMING_PAGE.read_text(encoding="utf-8"), streaming_sections(config, stacks)
        ),
        DEPLOYMENT_PAGE: replace_sections(
            DEPLOYMENT_PAGE.read_text(encoding="utf-8"), deployment_sections(config, stacks)
        ),
    }
    if dr_reports is not None:
        generated[DISASTER_RECOVERY_PAGE] = replace_sections(
            DISASTER_RECOVERY_PAGE.read_text(encoding="utf-8"), disaster_recovery_sections(dr_reports)
        )
    settings = settings_pages(generated)
    if dr_reports is None:
        settings.pop(DISASTER_RECOVERY_PAGE)  # the DR page is written only with its tier tables
    return {**generated, **settings}


def main(argv: list[str]) -> int:
    outdir = argv[0] if argv else "cdk.out"
    from tools.dr_tiers import tier_reports  # synthesizes the three tiers the example does not deploy

    try:
        refuse_other_organizations(load_config(), read_assembly(outdir), outdir)
        generated = pages(outdir, dr_reports=tier_reports(outdir))
    except ValueError as error:
        print(f"make docs: {error}", file=sys.stderr)
        return 1
    for path, text in generated.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
