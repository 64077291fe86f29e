"""Who may change the webhook token: TokenAdminPrincipalArns and CloudFormation deploying the stack, or the account.

The secret's resource policy, resolved as CloudFormation resolves it for the parameters given, judged by
the IAM evaluator the deploy roles are judged by (tests/unit/test_deploy_roles.py), with the request
context each caller's call carries. CloudFormation's calls for a stack's resources are forward access
sessions, with or without a service role, so they carry aws:CalledViaFirst = cloudformation.amazonaws.com.
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.local_stack.template import load_template
from tests.unit.test_deploy_roles import (
    ACCOUNT,
    DEPLOY,
    DEPLOYED_STACK,
    SECRET,
    STACK_TAG,
    decision,
    execution_role,
    physical,
)
from tests.unit.test_template_front_door import deployed

ADMIN = f"arn:aws:iam::{ACCOUNT}:role/token-admin"
READER = f"arn:aws:iam::{ACCOUNT}:role/zenoti-configurer"
DEVELOPER = f"arn:aws:iam::{ACCOUNT}:role/developer"  # of this account, with secretsmanager:* in IAM
RECEIVER = f"arn:aws:iam::{ACCOUNT}:role/zenoti-webhooks-ReceiverFunctionRole-ABC"
OUTSIDER = "arn:aws:iam::210987654321:role/admin"
VIA_CLOUDFORMATION = {"aws:CalledViaFirst": "cloudformation.amazonaws.com"}
# What `ops token rotate` and `token drop-previous` call (ops/webhook_token.py).
ROTATION = ("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue")
CHANGES = (
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
    "secretsmanager:RotateSecret",
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:DeleteResourcePolicy",
    "secretsmanager:DeleteSecret",
    "secretsmanager:ReplicateSecretToRegions",
)


def secret_policy(**parameters: str) -> list[dict[str, Any]]:
    """The secret's resource policy statements as CloudFormation writes them for these parameters."""
    properties = deployed(load_template(), **parameters)["WebhookTokenSecretPolicy"]["Properties"]
    assert properties["BlockPublicPolicy"] is True
    values = {
        "AWS::AccountId": ACCOUNT,
        "TokenAdminPrincipalArns": [arn for arn in parameters.get("TokenAdminPrincipalArns", "").split(",") if arn],
        "TokenReaderPrincipalArns": [arn for arn in parameters.get("TokenReaderPrincipalArns", "").split(",") if arn],
    }

    def resolved(node: Any) -> Any:
        if isinstance(node, list):
            return [resolved(item) for item in node if item != {"Ref": "AWS::NoValue"}]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"}:
            return values[node["Ref"]]
        if set(node) == {"Fn::GetAtt"}:
            assert node["Fn::GetAtt"] == ["ReceiverFunctionRole", "Arn"]
            return RECEIVER
        if set(node) == {"Fn::Join"}:
            separator, items = node["Fn::Join"]
            parts = resolved(items)
            return separator.join(part for item in parts for part in (item if isinstance(item, list) else [item]))
        if set(node) == {"Fn::Split"}:
            separator, text = node["Fn::Split"]
            return resolved(text).split(separator)
        return {key: resolved(value) for key, value in node.items()}

    statements: list[dict[str, Any]] = resolved(properties["ResourcePolicy"]["Statement"])
    return statements


def by(principal: str, **context: str) -> dict[str, str]:
    return {"aws:PrincipalArn": principal, "aws:PrincipalAccount": principal.split(":")[4], **context}


def denied(statements: list[dict[str, Any]], action: str, context: dict[str, str]) -> bool:
    return decision(statements, action, SECRET, context) == "deny"


@pytest.mark.parametrize("readers", ["", READER])
def test_only_the_admins_change_the_token_and_they_can_rotate_it(readers):
    policy = secret_policy(TokenAdminPrincipalArns=ADMIN, TokenReaderPrincipalArns=readers)

    for action in CHANGES:
        assert denied(policy, action, by(DEVELOPER)), action
        assert denied(policy, action, by(RECEIVER)), action  # it reads the token, never writes it
        assert denied(policy, action, by(OUTSIDER)), action
    for action in ROTATION:
        assert not denied(policy, action, by(ADMIN)), action  # read too, even when readers are named


def test_cloudformation_still_deploys_the_secret_and_its_policy_through_the_deploy_role():
    # The deploy workflow's execution role (its own policies) and the secret's resource policy together.
    policy = secret_policy(TokenAdminPrincipalArns=ADMIN)
    role = execution_role(DEPLOY)
    context = {
        **role.context,
        **by(physical(DEPLOY, "AWS::IAM::Role")),
        STACK_TAG: DEPLOYED_STACK,
        "secretsmanager:BlockPublicPolicy": "true",
    }
    updates = ("secretsmanager:UpdateSecret", "secretsmanager:PutResourcePolicy")

    for action in updates:
        assert decision([*role.statements, *policy], action, SECRET, {**context, **VIA_CLOUDFORMATION}) == "allow"
        # The same role, called directly rather than by CloudFormation, is no admin of the token.
        assert decision([*role.statements, *policy], action, SECRET, context) == "deny", action


def test_without_admins_the_account_changes_the_token_as_before():
    policy = secret_policy()

    for action in CHANGES:
        assert not denied(policy, action, by(DEVELOPER)), action
        assert denied(policy, action, by(OUTSIDER)), action


def test_with_readers_named_only_they_the_receiver_and_the_admins_read_the_token():
    policy = secret_policy(TokenAdminPrincipalArns=ADMIN, TokenReaderPrincipalArns=READER)
    read = "secretsmanager:GetSecretValue"

    assert [p for p in (READER, RECEIVER, ADMIN) if denied(policy, read, by(p))] == []
    assert denied(policy, read, by(DEVELOPER))
