"""The shared policy-document parser on a table of documents (policies/webstack_guard/documents.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policies"))
from webstack_guard.documents import account_of, allow_statements, is_every_resource, outside_principals, parse_document

OURS = "123456789012"
OTHER = "210987654321"


def doc(*statements, as_string=False):
    document = {"Version": "2012-10-17", "Statement": list(statements) if len(statements) != 1 else statements[0]}
    return json.dumps(document) if as_string else document


def allow(**fields):
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **fields}


def test_string_or_object_and_statement_object_or_list_parse_alike():
    one = allow(Principal="*")
    assert parse_document(doc(one, as_string=True)) == parse_document(doc(one)) == parse_document(
        {"Statement": [one]})
    assert parse_document("not json") is None and parse_document({"rules": []}) is None and parse_document(None) is None


def test_deny_statements_grant_nothing():
    [statement] = parse_document(doc({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}))
    assert not statement.grants("s3:GetObject") and not statement.lets_everyone_in
    assert allow_statements(doc({"Effect": "Deny", "Action": "*", "Resource": "*"})) == []


@pytest.mark.parametrize("fields, action, granted", [
    ({"Action": "iam:PassRole"}, "iam:PassRole", True),
    ({"Action": ["iam:Pass*"]}, "iam:passrole", True),
    ({"Action": "iam:*"}, "iam:CreatePolicyVersion", True),
    ({"Action": "s3:GetObject"}, "iam:PassRole", False),
    ({"NotAction": "s3:*"}, "iam:PassRole", True),
    ({"NotAction": ["iam:*"]}, "iam:PassRole", False),
])
def test_action_and_not_action(fields, action, granted):
    statement = {"Effect": "Allow", "Resource": "*", **fields}
    [parsed] = parse_document(doc(statement))
    assert parsed.grants(action) is granted


# (principal, condition, who is outside with our account known)
PRINCIPALS = [
    ("*", None, ["everyone (Principal '*' without a condition on account, organisation or source)"]),
    ({"AWS": "*"}, None, ["everyone (Principal '*' without a condition on account, organisation or source)"]),
    ({"AWS": ["*"]}, {"StringEqualsIfExists": {"aws:SourceAccount": OURS}}, [
        "everyone (Principal '*' without a condition on account, organisation or source)"]),
    ({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, []),
    ({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "*"}}, [
        "everyone (Principal '*' without a condition on account, organisation or source)"]),
    ("*", {"StringEquals": {"aws:SourceAccount": OURS}}, []),
    ("*", {"StringEquals": {"aws:PrincipalAccount": OTHER}}, [f"account {OTHER} (through its condition)"]),
    ("*", {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{OURS}:topic"}}, []),
    ("*", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:*:topic"}}, ["account * (through its condition)"]),
    ("*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, [
        "everyone (Principal '*' without a condition on account, organisation or source)"]),
    ({"AWS": OURS}, None, []),
    ({"AWS": f"arn:aws:iam::{OURS}:root"}, None, []),
    ({"AWS": f"arn:aws:iam::{OURS}:role/app"}, None, []),
    ({"AWS": OTHER}, None, [f"account {OTHER} ({OTHER})"]),
    ({"AWS": [f"arn:aws:iam::{OTHER}:root"]}, None, [f"account {OTHER} (arn:aws:iam::{OTHER}:root)"]),
    ({"AWS": f"arn:aws:sts::{OTHER}:assumed-role/x/y"}, None, [f"account {OTHER} (arn:aws:sts::{OTHER}:assumed-role/x/y)"]),
    ({"Service": "sns.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": OURS}}, []),
    ({"Service": "ecs-tasks.amazonaws.com"}, None, []),
    ({"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, None, []),
]


@pytest.mark.parametrize("principal, condition, outside", PRINCIPALS, ids=[str(i) for i in range(len(PRINCIPALS))])
def test_principals_and_restricting_conditions(principal, condition, outside):
    statement = allow(Principal=principal, **({"Condition": condition} if condition else {}))
    [parsed] = parse_document(doc(statement))
    assert outside_principals(parsed, {OURS}, set()) == outside


def test_not_principal_lets_everyone_but_the_list_in():
    [parsed] = parse_document(doc(allow(NotPrincipal={"AWS": f"arn:aws:iam::{OURS}:root"})))
    assert outside_principals(parsed, {OURS}, set()) == ["everyone but the NotPrincipal list"]


def test_accounts_are_foreign_only_when_ours_are_known_and_trusted_accounts_are_ours():
    [parsed] = parse_document(doc(allow(Principal={"AWS": OTHER})))
    assert outside_principals(parsed, set(), set()) == []
    assert outside_principals(parsed, {OURS}, {OTHER}) == []


@pytest.mark.parametrize("value, account", [
    (OURS, OURS), (f"arn:aws:iam::{OURS}:root", OURS), ("arn:aws:iam::*:role/x", "*"),
    ("arn:aws:s3:::bucket", None), ("sns.amazonaws.com", None), ("*", None)])
def test_account_of(value, account):
    assert account_of(value) == account


@pytest.mark.parametrize("resource, kinds, every", [
    ("*", (), True), ("arn:aws:iam::*:role/*", ("role/",), True), (f"arn:aws:iam::{OURS}:*", (), True),
    (f"arn:aws:iam::{OURS}:role/app-*", ("role/",), False), (f"arn:aws:iam::{OURS}:role/app", ("role/",), False),
])
def test_is_every_resource(resource, kinds, every):
    assert is_every_resource(resource, kinds) is every
