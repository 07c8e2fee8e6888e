"""IAM policy documents as AWS evaluates them: one parser for every rule that reads one.

A document arrives as a JSON string or an object; `Statement` is one object or a list; `Action`,
`Resource` and the principal lists are a string or a list; `NotAction`/`NotResource`/`NotPrincipal`
invert them. `Principal` is `"*"`, or a map of `AWS` (account ids, account/role/user ARNs, `"*"`),
`Service`, `Federated` and `CanonicalUser` values. Deny statements grant nothing. A condition
restricts who is let in only when it names accounts, organisations, ARNs or network sources with a
positive operator (`StringEquals`, `ArnLike`, ... not `...IfExists`, `Null` or `Not...`) and values
that are not only wildcards.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Iterable, Optional

from .common import is_internet_cidr

# Condition keys (lower case) that pin a statement to known accounts, organisations, ARNs, VPC endpoints or
# networks, so that `Principal: "*"` no longer means "anyone".
RESTRICTING_CONDITION_KEYS = frozenset({
    "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourcevpce", "aws:sourcevpc",
    "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn", "aws:userid",
    "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourceip", "s3:dataaccesspointaccount", "s3:dataaccesspointarn",
    "kms:calleraccount",
})
# Condition keys whose values are account ids or ARNs carrying one.
ACCOUNT_CONDITION_KEYS = frozenset({
    "aws:sourceaccount", "aws:sourceowner", "aws:principalaccount", "kms:calleraccount", "aws:sourcearn",
    "aws:principalarn", "s3:dataaccesspointaccount",
})
ACCOUNT_ID = re.compile(r"^\d{12}$")
ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(\d{12}|\*):")


def account_of(value: Any) -> Optional[str]:
    """The 12-digit account of an account id or ARN (`*` for an ARN of any account); None otherwise."""
    text = str(value).strip()
    if ACCOUNT_ID.match(text):
        return text
    match = ARN_ACCOUNT.match(text)
    return match.group(1) if match else None


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


@dataclass(frozen=True)
class Principal:
    """One principal of a statement: its kind (`AWS`, `Service`, `Federated`, `CanonicalUser` or `*`) and value."""

    kind: str
    value: str

    @property
    def is_everyone(self) -> bool:
        return self.value.strip() == "*"

    @property
    def is_service(self) -> bool:
        return self.kind == "Service"

    @property
    def account(self) -> Optional[str]:
        return account_of(self.value) if self.kind == "AWS" else None


@dataclass(frozen=True)
class Condition:
    operator: str
    key: str
    values: tuple[str, ...]

    @property
    def restricts(self) -> bool:
        """Does this test narrow who can use the statement (see the module docstring)?"""
        operator = self.operator
        if operator.endswith("IfExists") or operator == "Null" or operator.startswith(("Not", "ForAnyValue:Not",
                                                                                        "ForAllValues:Not")):
            return False
        if self.key.lower() not in RESTRICTING_CONDITION_KEYS or not self.values:
            return False
        if any(v.strip("*?") == "" for v in self.values):
            return False
        if self.key.lower() == "aws:sourceip" and any(is_internet_cidr(v) for v in self.values):
            return False
        return True

    @property
    def accounts(self) -> set[str]:
        """Accounts the condition names (ids, or the account part of ARNs); empty for org/network conditions."""
        if self.key.lower() not in ACCOUNT_CONDITION_KEYS or not self.restricts:
            return set()
        return {a for a in (account_of(v) for v in self.values) if a}


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: Optional[tuple[str, ...]]
    resources: tuple[str, ...]
    not_resources: Optional[tuple[str, ...]]
    principals: tuple[Principal, ...]
    not_principals: Optional[tuple[Principal, ...]]
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        return self.sid or f"#{self.index}"

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def grants(self, action: str) -> bool:
        """Does this Allow statement let `action` through (`Action` patterns, or everything not in `NotAction`)?"""
        if not self.allows:
            return False
        action = action.lower()
        if self.not_actions is not None:
            return not any(fnmatchcase(action, pattern.lower()) for pattern in self.not_actions)
        return any(fnmatchcase(action, pattern.lower()) for pattern in self.actions)

    def granted(self, actions: Iterable[str]) -> list[str]:
        return [action for action in actions if self.grants(action)]

    @property
    def restricted(self) -> bool:
        """Is any condition of the statement one that narrows who can use it?"""
        return any(condition.restricts for condition in self.conditions)

    @property
    def condition_accounts(self) -> set[str]:
        return {account for condition in self.conditions for account in condition.accounts}

    @property
    def lets_everyone_in(self) -> bool:
        """An Allow with NotPrincipal, or for `*` (or `{"AWS": "*"}`) that no condition narrows."""
        if not self.allows:
            return False
        if self.not_principals is not None:
            return True
        return any(p.is_everyone for p in self.principals) and not self.restricted


def _principals(value: Any) -> tuple[Principal, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (Principal("*" if value.strip() == "*" else "AWS", value),)
    if isinstance(value, dict):
        return tuple(Principal(str(kind), item) for kind, items in value.items() for item in _strings(items))
    return tuple(Principal("AWS", item) for item in _strings(value))


def _conditions(value: Any) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        return ()
    found = []
    for operator, tests in value.items():
        if isinstance(tests, dict):
            found += [Condition(str(operator), str(key), _strings(values)) for key, values in tests.items()]
    return tuple(found)


def _statement(index: int, raw: dict) -> Statement:
    return Statement(
        index=index,
        sid=str(raw.get("Sid") or ""),
        effect=str(raw.get("Effect") or ""),
        actions=_strings(raw.get("Action")),
        not_actions=_strings(raw["NotAction"]) if "NotAction" in raw else None,
        resources=_strings(raw.get("Resource")),
        not_resources=_strings(raw["NotResource"]) if "NotResource" in raw else None,
        principals=_principals(raw.get("Principal")),
        not_principals=_principals(raw["NotPrincipal"]) if "NotPrincipal" in raw else None,
        conditions=_conditions(raw.get("Condition")),
    )


def parse_document(value: Any) -> Optional[list[Statement]]:
    """The statements of a policy document (JSON string or object); None when `value` is not one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict) or "Statement" not in value:
        return None
    raw = value["Statement"]
    raw = raw if isinstance(raw, list) else [raw]
    return [_statement(index, item) for index, item in enumerate(raw) if isinstance(item, dict)]


def allow_statements(value: Any) -> list[Statement]:
    return [s for s in parse_document(value) or [] if s.allows]


def is_every_resource(resource: str, kinds: tuple[str, ...] = ()) -> bool:
    """`*`, or an ARN whose resource part is only a wildcard (every resource), optionally after a kind prefix.

    `arn:aws:iam::*:role/*` with kinds ("role/",) counts; `arn:aws:iam::123456789012:role/app-*` names a subtree.
    """
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return resource.strip("*") == ""
    path = parts[5]
    for kind in kinds:
        if path.startswith(kind):
            path = path[len(kind):]
            break
    return path.strip("*/") == ""


def outside_principals(statement: Statement, own_accounts: set[str], trusted_accounts: set[str]) -> list[str]:
    """Who outside the stack's own accounts an Allow statement lets in, described; [] when nobody.

    Everyone (`*`, `{"AWS": "*"}`, NotPrincipal) unless a condition narrows it, and then accounts named by
    the condition that are not ours; account principals not ours (known only when `own_accounts` is);
    service principals never (AWS services act for the resource owner; source conditions narrow them further).
    """
    if not statement.allows:
        return []
    ours = own_accounts | trusted_accounts
    found: list[str] = []
    if statement.lets_everyone_in:
        found.append("everyone (Principal '*' without a condition on account, organisation or source)"
                     if statement.not_principals is None else "everyone but the NotPrincipal list")
    elif any(p.is_everyone for p in statement.principals):
        foreign = sorted(a for a in statement.condition_accounts if a == "*" or (ours and a not in ours))
        found += [f"account {a} (through its condition)" for a in foreign]
    for principal in statement.principals:
        account = principal.account
        if principal.is_everyone or account is None:
            continue
        if account == "*" or (own_accounts and account not in ours):
            found.append(f"account {account} ({principal.value})")
    return found
