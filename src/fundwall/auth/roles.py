"""Roles (角色) and the permissions each one holds.

Five roles sign in to the console. Member roles belong to a bank or payment institution and
see only its customers; a member's admin may also restrict the member's own accounts (a
bank's own measures). The hub supervisor (the central-bank branch) sees the region in
aggregate and runs the rule packs, the shared risk list and the punishment list; the police
officer issues orders and answers clues for a police unit, and sees the customer data its
unit's orders and accepted clues cover (the police scope, `fundwall.auth.tenancy`); the
auditor reads the audit log. Three more are never given to a person: `member_system` is what
an API key acts as, for its member's systems, `police_system` what a police unit's API key
acts as, and `operator` is whoever runs `fundwall` on the server itself (the command line,
the demo, the benchmarks), who holds the database and the keys already and so holds every
permission.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from fundwall.domain.institutions import InstitutionKind


class Permission(StrEnum):
    VIEW_OVERVIEW = "view_overview"
    """The overview of decisions, interceptions and alerts (a member: its own; others: the
    region in aggregate)."""
    VIEW_REGION = "view_region"
    """Aggregates across every member, member by member."""
    VIEW_CUSTOMER_DATA = "view_customer_data"
    """The member's own customers: accounts, transactions, decisions and alerts."""
    VIEW_ALERTS = "view_alerts"
    """The member's alerts: the decisions on its transactions that raised one (never the
    police's: decisions and alerts are the banks')."""
    UNMASK_PERSONAL_DATA = "unmask_personal_data"
    """Show a holder's name, ID and phone in full, on purpose and audited."""
    WORK_ALERTS = "work_alerts"
    """Take, close and annotate the member's alerts."""
    VIEW_RULE_PACKS = "view_rule_packs"
    """The rule packs, their use in decisions, shadow against live, stored backtests."""
    PROMOTE_RULE_PACKS = "promote_rule_packs"
    """Register rule packs, promote one to live, run one in shadow."""
    VIEW_AUDIT_LOG = "view_audit_log"
    MANAGE_USERS = "manage_users"
    """Create users and reset passwords (a member admin: only within the member)."""
    MANAGE_API_KEYS = "manage_api_keys"
    SUBMIT_TRANSACTIONS = "submit_transactions"
    """Send transactions to the engine through the API."""
    REPORT_ACCOUNTS = "report_accounts"
    """Report the member's own accounts' life (opening, class, status, closure)."""
    RESTRICT_ACCOUNTS = "restrict_accounts"
    """Restrict an account (stop-payment, freeze, non-counter suspension), lift a
    restriction, set an account's standing status. An actor of a member: only the member's
    own accounts and only the measures a bank takes itself (non-counter suspension, the
    statuses it reports); stop-payments and freezes are legal orders."""
    MANAGE_RISK_LIST = "manage_risk_list"
    """Keep the shared risk list (风险名单) as the hub: list identifiers for a member, retract
    any entry, suspend a member's publishing, rotate and retire the sharing keys, see the
    counts by category, member and month."""
    PUBLISH_RISK = "publish_risk"
    """Publish the member's identifiers to the shared risk list (one, or a file of many),
    retract the member's own entries, list its entries to re-key."""
    QUERY_RISK_LIST = "query_risk_list"
    """Read the shared risk list: query one identifier, bulk-match a file, follow the feed of
    new and retracted entries (an entry's reporter and notes only of the member's own)."""
    PUNISH = "punish"
    """Put persons on the punishment list (联合惩戒) and lift listings."""
    VIEW_CASES = "view_cases"
    """Read the member's cases: the queue and its counts, a case with its alerts, accounts,
    notes and evidence list (not the evidence files, which are read to work the case)."""
    WORK_CASES = "work_cases"
    """Group the member's alerts into cases, work the case queue (assign, prioritise, note,
    add evidence, merge, split) and close cases with an outcome."""
    SEND_CLUES = "send_clues"
    """Send a clue from one of the member's cases to a police unit (线索移送)."""
    ANSWER_CLUES = "answer_clues"
    """The police unit's clue inbox: receive, accept, reject, report a result."""
    ISSUE_ORDERS = "issue_orders"
    """Issue police orders (公安指令) for the officer's unit: query, stop-payment, freeze,
    renewal, release."""
    EXECUTE_ORDERS = "execute_orders"
    """The member's orders inbox: answer an order routed to it (executed or refused)."""
    RETURN_FUNDS = "return_funds"
    """Return frozen money (资金返还) for the officer's unit: draft a return plan on one of the
    unit's freezes, publish it for objections, decide the objections, approve it."""
    VIEW_MODELS = "view_models"
    """The model registry: each model's card, features, held-out figures and state."""
    PROMOTE_MODELS = "promote_models"
    """Register models and move them between states (shadow, challenger, champion)."""
    EXPORT_LABELS = "export_labels"
    """Export closed cases' outcomes as labels (accounts and transactions of every member)."""
    VERIFY_PHONES = "verify_phones"
    """Check the phones bound to the member's customers against the telecom registry again
    (手机实名验证): one holder's, or all of them."""
    VIEW_SCREENING = "view_screening"
    """Read screening runs (存量账户排查), their work lists, actions and figures: a member its
    own runs and its own part of the hub's; the hub every run, account numbers masked."""
    SCREEN_ACCOUNTS = "screen_accounts"
    """Screen the member's own accounts and act on its part of a work list: notify holders;
    restrictions, statuses and closures also need restrict_accounts (or report_accounts)."""
    SCREEN_REGION = "screen_region"
    """Screen the whole region's accounts as the hub: every member's part of one work list."""
    ONBOARD_CUSTOMERS = "onboard_customers"
    """Decide on a simplified opening (简易开户) and open the account it allows."""
    VIEW_REPORTS = "view_reports"
    """The official statistics (统计报表) and their exports: the hub the region's and every
    member's, a member its own, a police unit what it was party to."""
    SET_RISK_TIERS = "set_risk_tiers"
    """Set the risk tier (风险等级) of the member's accounts, with the measures that go with
    it (a daily outflow cap, a non-counter suspension until identity is checked again)."""
    FILE_APPEALS = "file_appeals"
    """A verified person (the public portal): read the restrictions on their own accounts,
    appeal a bank's measure (异议申诉) with evidence, follow their own appeals."""
    CLOSE_OWN_ACCOUNTS = "close_own_accounts"
    """A verified person: ask to close one of their own accounts online (线上销户)."""
    REVIEW_APPEALS = "review_appeals"
    """The member's appeals: the queue with deadlines, an appeal with its evidence, ask the
    anti-fraud centre for an opinion, decide (lift the measure or maintain it) with an
    answer to the person."""
    GIVE_APPEAL_OPINIONS = "give_appeal_opinions"
    """A police unit's opinion requests on appeals: read the appeals it was asked about,
    answer with an opinion."""
    OVERSEE_APPEALS = "oversee_appeals"
    """The hub: every member's overdue appeals and the appeal figures member by member."""
    WORK_DISSUASION = "work_dissuasion"
    """The member's dissuasion tasks (预警劝阻): the queue, claiming a task, recording the
    call's outcome, cancelling the warned payment the payer gave up."""
    RUN_CAMPAIGNS = "run_campaigns"
    """The member's publicity (反诈宣传): its own SMS templates, campaigns to segments of its
    customers and their delivery figures, and its on-site and online events."""
    RECORD_OPT_OUTS = "record_opt_outs"
    """Record that a phone's holder wants no more campaign messages (退订)."""


class Role(StrEnum):
    HUB_SUPERVISOR = "hub_supervisor"
    """监管人员 of the regional hub (the central-bank branch)."""
    MEMBER_ADMIN = "member_admin"
    """A member institution's administrator: its users and API keys, and analyst work."""
    MEMBER_ANALYST = "member_analyst"
    """A member institution's anti-fraud analyst (反诈分析员)."""
    POLICE_OFFICER = "police_officer"
    """An officer of a police anti-fraud unit (反诈民警)."""
    AUDITOR = "auditor"
    """Reads the hash-chained audit log (审计员)."""
    MEMBER_SYSTEM = "member_system"
    """A member's system calling the API with an API key; never a person's role."""
    POLICE_SYSTEM = "police_system"
    """A police unit's system calling the API with an API key; never a person's role."""
    OPERATOR = "operator"
    """The server's operator at the command line (本机运维); never a console role."""
    PUBLIC = "public"
    """A person verified by the public portal (ID number and a code sent to the phone bound
    to their accounts); never a console role: only their own restrictions and appeals."""

    @property
    def assignable(self) -> bool:
        """Whether a user may be given this role (API keys hold `member_system`; the command
        line acts as `operator`)."""
        return self not in (Role.MEMBER_SYSTEM, Role.POLICE_SYSTEM, Role.OPERATOR, Role.PUBLIC)

    @property
    def member_kinds(self) -> frozenset[InstitutionKind]:
        """Kinds of institution a user of this role may belong to (empty: none)."""
        return _MEMBER_KINDS[self]

    @property
    def needs_member(self) -> bool:
        """Whether a user of this role must belong to an institution."""
        return self in (
            Role.MEMBER_ADMIN,
            Role.MEMBER_ANALYST,
            Role.MEMBER_SYSTEM,
            Role.POLICE_OFFICER,
            Role.POLICE_SYSTEM,
        )

    @property
    def is_police(self) -> bool:
        """Whether the role acts for a police unit (its data is the police scope)."""
        return self in (Role.POLICE_OFFICER, Role.POLICE_SYSTEM)


_HOLDERS: Final = frozenset({InstitutionKind.BANK, InstitutionKind.PAYMENT_INSTITUTION})
_MEMBER_KINDS: Final[Mapping[Role, frozenset[InstitutionKind]]] = MappingProxyType(
    {
        Role.HUB_SUPERVISOR: frozenset(),
        Role.MEMBER_ADMIN: _HOLDERS,
        Role.MEMBER_ANALYST: _HOLDERS,
        Role.POLICE_OFFICER: frozenset({InstitutionKind.POLICE_UNIT}),
        Role.AUDITOR: frozenset(),
        Role.MEMBER_SYSTEM: _HOLDERS,
        Role.POLICE_SYSTEM: frozenset({InstitutionKind.POLICE_UNIT}),
        Role.OPERATOR: frozenset(),
        Role.PUBLIC: frozenset(),
    }
)

_ANALYST: Final = frozenset(
    {
        Permission.VIEW_OVERVIEW,
        Permission.VIEW_CUSTOMER_DATA,
        Permission.VIEW_ALERTS,
        Permission.UNMASK_PERSONAL_DATA,
        Permission.WORK_ALERTS,
        Permission.VIEW_RULE_PACKS,
        Permission.VIEW_MODELS,
        Permission.VIEW_CASES,
        Permission.WORK_CASES,
        Permission.SEND_CLUES,
        Permission.EXECUTE_ORDERS,
        Permission.PUBLISH_RISK,
        Permission.QUERY_RISK_LIST,
        Permission.VERIFY_PHONES,
        Permission.VIEW_SCREENING,
        Permission.SCREEN_ACCOUNTS,
        Permission.SET_RISK_TIERS,
        Permission.ONBOARD_CUSTOMERS,
        Permission.REVIEW_APPEALS,
        Permission.WORK_DISSUASION,
        Permission.RUN_CAMPAIGNS,
        Permission.RECORD_OPT_OUTS,
        Permission.VIEW_REPORTS,
    }
)
_POLICE: Final = frozenset(
    {
        Permission.GIVE_APPEAL_OPINIONS,
        Permission.VIEW_CUSTOMER_DATA,
        Permission.UNMASK_PERSONAL_DATA,
        Permission.ANSWER_CLUES,
        Permission.ISSUE_ORDERS,
        Permission.RETURN_FUNDS,
        Permission.VIEW_REPORTS,
    }
)

ROLE_PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = MappingProxyType(
    {
        Role.HUB_SUPERVISOR: frozenset(
            {
                Permission.VIEW_OVERVIEW,
                Permission.VIEW_REGION,
                Permission.VIEW_RULE_PACKS,
                Permission.PROMOTE_RULE_PACKS,
                Permission.VIEW_MODELS,
                Permission.PROMOTE_MODELS,
                Permission.MANAGE_USERS,
                Permission.MANAGE_RISK_LIST,
                Permission.QUERY_RISK_LIST,
                Permission.PUNISH,
                Permission.VIEW_SCREENING,
                Permission.SCREEN_REGION,
                Permission.OVERSEE_APPEALS,
                Permission.VIEW_REPORTS,
            }
        ),
        Role.MEMBER_ADMIN: _ANALYST
        | {Permission.MANAGE_USERS, Permission.MANAGE_API_KEYS, Permission.RESTRICT_ACCOUNTS},
        Role.MEMBER_ANALYST: _ANALYST,
        Role.POLICE_OFFICER: _POLICE | {Permission.VIEW_OVERVIEW},
        Role.AUDITOR: frozenset(
            {Permission.VIEW_AUDIT_LOG, Permission.VIEW_RULE_PACKS, Permission.VIEW_MODELS}
        ),
        Role.MEMBER_SYSTEM: frozenset(
            {
                Permission.SUBMIT_TRANSACTIONS,
                Permission.REPORT_ACCOUNTS,
                Permission.VIEW_CUSTOMER_DATA,
                Permission.VIEW_ALERTS,
                Permission.VIEW_CASES,
                Permission.SEND_CLUES,
                Permission.EXECUTE_ORDERS,
                Permission.PUBLISH_RISK,
                Permission.QUERY_RISK_LIST,
                Permission.VERIFY_PHONES,
                Permission.VIEW_SCREENING,
                Permission.SCREEN_ACCOUNTS,
                Permission.SET_RISK_TIERS,
                Permission.ONBOARD_CUSTOMERS,
                Permission.REVIEW_APPEALS,
                Permission.WORK_DISSUASION,
                Permission.RUN_CAMPAIGNS,
                Permission.RECORD_OPT_OUTS,
                Permission.VIEW_REPORTS,
            }
        ),
        Role.POLICE_SYSTEM: _POLICE,
        Role.OPERATOR: frozenset(Permission),
        Role.PUBLIC: frozenset({Permission.FILE_APPEALS, Permission.CLOSE_OWN_ACCOUNTS}),
    }
)
"""What each role may do. Tenancy (whose rows) is separate: see `fundwall.auth.tenancy`."""
