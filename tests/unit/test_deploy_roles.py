"""The deploy roles (.github/aws/deploy-roles.yaml) against the templates they deploy, both ways.

Nothing escalates: a stack deployed through an execution role can create, change or pass a role only
on the stack path and with that execution role's permissions boundary, never remove or exchange it,
never change a policy, a trust policy or the account's log policy, let only API Gateway invoke its
functions, and reach no API or web ACL of another stack; the boundary itself grants nothing outside
the stack. The GitHub roles' change sets import nothing and declare only the templates' resource
types; each role is trusted only by its environment's run of the deploy workflow and kept off the
other side's stack; the workflow deploys with .github/aws/deploy_stack.py, which is run against moto.

Nothing is missing: every resource type in the templates as CloudFormation receives them (SAM's own
transform, every option on, and the example subscriber's) has its create, update and delete calls in
NEEDS below, each allowed to both execution roles on a stack of their own; NEEDS is checked against
the calls AWS's own resource handlers make (the registry schemas cfn-lint ships), so a call neither
granted nor explained fails.

The roles are judged by a small evaluator of IAM's rules (explicit deny, then allow; the condition
operators the policies use), with the request context CloudFormation's calls carry.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import cfnlint
import pytest
import yaml
from botocore.stub import Stubber
from moto import mock_aws

from devtools.local_stack.template import load_template
from tests.conftest import ROOT

ROLES = ROOT / ".github" / "aws" / "deploy-roles.yaml"
DEPLOY_STACK = ROOT / ".github" / "aws" / "deploy_stack.py"
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
needs_sam = pytest.mark.skipif(
    not SAM_PYTHON.exists(), reason="needs the SAM CLI in .venv-sam (make validate creates it)"
)

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
PR_STACK = "zenoti-pr-42"
DEPLOYED_STACK = "zenoti-webhooks"
BUCKET = "zenoti-github-deploy-artifactsbucket-1a2b3c"
STACK_TAG = "aws:ResourceTag/aws:cloudformation:stack-name"


# --- The roles template, resolved as CloudFormation would resolve it in our account.


def parameters(**overrides: str) -> dict[str, str]:
    declared = load_template(ROLES)["Parameters"]
    values = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
    values["Repository"] = "octocat@123456/zenoti-webhooks@456789"
    return {**values, **overrides}


def physical(logical_id: str, resource_type: str, attribute: str | None = None) -> str:
    """What Ref or GetAtt Arn of a resource of the roles template gives."""
    if resource_type == "AWS::IAM::ManagedPolicy":
        return f"arn:{PARTITION}:iam::{ACCOUNT}:policy/zenoti-github-deploy-{logical_id}-ABCDEF"
    if resource_type == "AWS::IAM::Role":
        return f"arn:{PARTITION}:iam::{ACCOUNT}:role/github-deploy/zenoti-github-deploy-{logical_id}-ABCDEF"
    if resource_type == "AWS::S3::Bucket":
        return f"arn:{PARTITION}:s3:::{BUCKET}" if attribute == "Arn" else BUCKET
    if resource_type == "AWS::IAM::OIDCProvider":
        return f"arn:{PARTITION}:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    raise AssertionError(f"no physical id for {resource_type}")


def resolve(node: Any, template: dict[str, Any], values: dict[str, str]) -> Any:
    pseudo = {
        "AWS::Partition": PARTITION,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": "zenoti-github-deploy",
    }

    def reference(name: str) -> str:
        logical_id, _, attribute = name.partition(".")
        if name in pseudo:
            return pseudo[name]
        if name in values:
            return values[name]
        return physical(logical_id, template["Resources"][logical_id]["Type"], attribute or None)

    if isinstance(node, list):
        return [resolve(item, template, values) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return reference(node["Ref"])
    if set(node) == {"Fn::GetAtt"}:
        return reference(".".join(node["Fn::GetAtt"]))
    if set(node) == {"Fn::Sub"}:
        text, variables = node["Fn::Sub"] if isinstance(node["Fn::Sub"], list) else (node["Fn::Sub"], {})
        variables = resolve(variables, template, values)

        def value(name: str) -> str:
            return str(variables[name]) if name in variables else reference(name)

        text = re.sub(r"\$\{(?!!)([^}]+)\}", lambda match: value(match[1]), text)
        return text.replace("${!", "${")
    if set(node) == {"Fn::Join"}:
        delimiter, items = node["Fn::Join"]
        return delimiter.join(resolve(items, template, values))
    if set(node) == {"Fn::Split"}:
        delimiter, text = node["Fn::Split"]
        return resolve(text, template, values).split(delimiter)
    if set(node) == {"Fn::Select"}:
        index, items = node["Fn::Select"]
        return resolve(items, template, values)[int(index)]
    if set(node) == {"Fn::If"}:
        condition, when_true, when_false = node["Fn::If"]
        assert condition == "CreateOidcProvider"
        return resolve(when_true if values["GitHubOidcProviderArn"] == "" else when_false, template, values)
    return {key: resolve(value, template, values) for key, value in node.items()}


@cache
def roles_template(overrides: frozenset[tuple[str, str]] = frozenset()) -> dict[str, Any]:
    """The roles template's resources, at its defaults or with the given parameters."""
    template = load_template(ROLES)
    resolved: dict[str, Any] = resolve(template["Resources"], template, parameters(**dict(overrides)))
    return resolved


@dataclass(frozen=True)
class Principal:
    """An execution role: its tags (what its policies' variables read) and every statement it has."""

    logical_id: str
    stack_prefix: str
    boundary: str
    statements: tuple[dict[str, Any], ...] = field(repr=False)

    @property
    def context(self) -> dict[str, str]:
        return {
            "aws:PrincipalTag/stack-prefix": self.stack_prefix,
            "aws:PrincipalTag/permissions-boundary": self.boundary,
        }


def policy_document_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


@cache
def execution_role(logical_id: str, overrides: frozenset[tuple[str, str]] = frozenset()) -> Principal:
    """A role of the roles template with every statement of its policies (the GitHub roles too: no tags)."""
    resources = roles_template(overrides)
    properties = resources[logical_id]["Properties"]
    statements: list[dict[str, Any]] = []
    for arn in properties.get("ManagedPolicyArns", []):
        [policy] = [
            resource
            for name, resource in resources.items()
            if resource["Type"] == "AWS::IAM::ManagedPolicy" and physical(name, resource["Type"]) == arn
        ]
        statements += policy_document_statements(policy["Properties"]["PolicyDocument"])
    for policy in properties.get("Policies", []):
        statements += policy_document_statements(policy["PolicyDocument"])
    tags = {tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])}
    return Principal(logical_id, tags.get("stack-prefix", ""), tags.get("permissions-boundary", ""), tuple(statements))


def boundary_logical_id(principal: Principal) -> str:
    [logical_id] = [
        name
        for name, resource in roles_template().items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and physical(name, resource["Type"]) == principal.boundary
    ]
    return logical_id


def boundary_statements(principal: Principal) -> list[dict[str, Any]]:
    document = roles_template()[boundary_logical_id(principal)]["Properties"]["PolicyDocument"]
    return policy_document_statements(document)


PR = "PullRequestExecutionRole"
DEPLOY = "DeployExecutionRole"
STACK_OF = {PR: PR_STACK, DEPLOY: DEPLOYED_STACK}
OTHER = {PR: DEPLOY, DEPLOY: PR}


# --- IAM's evaluation, for the operators these policies use.


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def substitute(text: str, context: dict[str, Any]) -> str:
    """Policy variables (${aws:PrincipalTag/...}) take their values from the request; an unknown one matches nothing."""
    return re.sub(r"\$\{([^}]+)\}", lambda match: str(context.get(match[1], "\0unset\0")), text)


def condition_holds(operator: str, key: str, expected: Any, context: dict[str, Any]) -> bool:
    qualifier, _, operator = operator.rpartition(":")
    if qualifier:
        # A multivalued key: each of the request's values against the condition. Absent, ForAnyValue is
        # false and ForAllValues true.
        assert qualifier in {"ForAnyValue", "ForAllValues"}, qualifier
        check = any if qualifier == "ForAnyValue" else all
        values = as_list(context[key]) if key in context else []
        return check(condition_holds(operator, key, expected, {**context, key: value}) for value in values)
    expected_values = [substitute(str(value), context) for value in as_list(expected)]
    if operator == "Null":
        return (key not in context) == (expected_values == ["true"])
    negated = operator in {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
    if key not in context:
        return negated
    compare = {
        "StringEquals": lambda pattern, value: pattern == value,
        "StringNotEquals": lambda pattern, value: pattern == value,
        "StringLike": wildcard,
        "StringNotLike": wildcard,
        "ArnEquals": wildcard,
        "ArnLike": wildcard,
        "ArnNotEquals": wildcard,
        "ArnNotLike": wildcard,
        "Bool": lambda pattern, value: pattern.lower() == value.lower(),
    }[operator]
    matched = any(compare(pattern, str(value)) for pattern in expected_values for value in as_list(context[key]))
    return not matched if negated else matched


def applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, Any]) -> bool:
    assert "NotAction" not in statement, statement
    assert "NotResource" not in statement, statement
    if not any(wildcard(pattern, action, ignore_case=True) for pattern in as_list(statement["Action"])):
        return False
    if not any(wildcard(substitute(pattern, context), resource) for pattern in as_list(statement["Resource"])):
        return False
    return all(
        condition_holds(operator, key, expected, context)
        for operator, conditions in statement.get("Condition", {}).items()
        for key, expected in conditions.items()
    )


def decision(statements: Iterable[dict[str, Any]], action: str, resource: str, context: dict[str, Any]) -> str:
    """'deny' (an explicit deny applies), 'allow', or 'implicit' (nothing allows it)."""
    matching = [statement["Effect"] for statement in statements if applies(statement, action, resource, context)]
    return "deny" if "Deny" in matching else "allow" if "Allow" in matching else "implicit"


def decide(principal: Principal, action: str, resource: str, **context: Any) -> str:
    return decision(principal.statements, action, resource, {**principal.context, **context})


# --- The calls CloudFormation makes for each resource type of the templates, as the execution role.


@dataclass(frozen=True)
class Call:
    """Actions on one resource, with the condition keys the request carries ({stack} and {boundary} filled in)."""

    actions: tuple[str, ...]
    resource: str
    context: tuple[tuple[str, str], ...] = ()


def arn(service: str, rest: str, *, region: bool = True, account: bool = True) -> str:
    return f"arn:{PARTITION}:{service}:{REGION if region else ''}:{ACCOUNT if account else ''}:{rest}"


FUNCTION = arn("lambda", "function:{stack}-ReceiverFunction-Ab12Cd34Ef56")
ROLE_PATH = "/zenoti-stack/"
FUNCTION_ROLE = arn("iam", f"role{ROLE_PATH}{{stack}}-ReceiverFunctionRole-Ab12Cd34Ef56", region=False)
# A role of the stack's name made before the path, or by hand, maybe without the boundary.
ROOT_ROLE = arn("iam", "role/{stack}-ReceiverFunctionRole-Zz98Yy76Xx54", region=False)
BOUNDED = (("iam:PermissionsBoundary", "{boundary}"),)
HTTP_API = arn("apigateway", "/apis/a1b2c3d4e5", account=False)
REST_API = arn("apigateway", "/restapis/f6g7h8i9j0", account=False)
REST_STAGE = arn("apigateway", "/restapis/f6g7h8i9j0/stages/webhook", account=False)
WEB_ACL = arn("wafv2", "regional/webacl/FrontDoorWebAcl-Ab12Cd34/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b")
IP_SET = arn("wafv2", "regional/ipset/FrontDoorAllowedSources-Ab12Cd34/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b")
SECRET = arn("secretsmanager", "secret:WebhookTokenSecret-Ab12Cd34Ef56-xYz9Ab")
TOPIC = arn("sns", "{stack}-EventsTopic-Ab12Cd34Ef56")
QUEUE = arn("sqs", "{stack}-SubscriberEventsQueue-Ab12Cd34Ef56")
TABLE = arn("dynamodb", "table/{stack}-EventsTable-Ab12Cd34Ef56")
WAF_LOGS = arn("logs", "log-group:aws-waf-logs-{stack}")
ALL = "*"

NEEDS: dict[str, list[Call]] = {
    "AWS::IAM::Role": [
        Call(
            (
                "iam:CreateRole",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:UpdateRole",
                "iam:DeleteRole",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:TagRole",
                "iam:UntagRole",
            ),
            FUNCTION_ROLE,
            BOUNDED,
        ),
        *(
            Call(("iam:AttachRolePolicy",), FUNCTION_ROLE, (*BOUNDED, ("iam:PolicyARN", policy)))
            for policy in (
                f"arn:{PARTITION}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                f"arn:{PARTITION}:iam::aws:policy/AWSXrayWriteOnlyAccess",
                f"arn:{PARTITION}:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
            )
        ),
    ],
    "AWS::Lambda::Function": [
        Call(
            (
                "lambda:CreateFunction",
                "lambda:GetFunction",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:DeleteFunction",
                "lambda:PublishVersion",
                "lambda:PutFunctionConcurrency",
                "lambda:DeleteFunctionConcurrency",
                "lambda:PutRuntimeManagementConfig",
                "lambda:GetRuntimeManagementConfig",
                "lambda:PutFunctionRecursionConfig",
                "lambda:GetFunctionRecursionConfig",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:TagResource",
                "lambda:UntagResource",
            ),
            FUNCTION,
        ),
        Call(("iam:PassRole",), FUNCTION_ROLE, (("iam:PassedToService", "lambda.amazonaws.com"),)),
        Call(("s3:GetObject", "s3:GetObjectVersion"), f"arn:{PARTITION}:s3:::{BUCKET}/{{stack}}/0a1b2c3d4e5f"),
    ],
    "AWS::Lambda::Permission": [
        Call(("lambda:AddPermission",), FUNCTION, (("lambda:Principal", "apigateway.amazonaws.com"),)),
        Call(("lambda:RemovePermission", "lambda:GetPolicy"), FUNCTION),
    ],
    "AWS::Lambda::EventInvokeConfig": [
        Call(
            (
                "lambda:PutFunctionEventInvokeConfig",
                "lambda:UpdateFunctionEventInvokeConfig",
                "lambda:DeleteFunctionEventInvokeConfig",
                "lambda:GetFunctionEventInvokeConfig",
            ),
            FUNCTION + ":$LATEST",
        ),
    ],
    "AWS::Lambda::EventSourceMapping": [
        Call(("lambda:CreateEventSourceMapping",), ALL, (("lambda:FunctionArn", FUNCTION),)),
        Call(
            ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"),
            arn("lambda", "event-source-mapping:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"),
            (("lambda:FunctionArn", FUNCTION),),
        ),
        Call(
            ("lambda:TagResource", "lambda:UntagResource", "lambda:ListTags"),
            arn("lambda", "event-source-mapping:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"),
        ),
    ],
    "AWS::Logs::LogGroup": [
        *(
            Call(
                (
                    "logs:CreateLogGroup",
                    "logs:PutRetentionPolicy",
                    "logs:DeleteRetentionPolicy",
                    "logs:TagResource",
                    "logs:UntagResource",
                    "logs:ListTagsForResource",
                    "logs:DeleteLogGroup",
                ),
                group,
            )
            for group in (
                arn("logs", "log-group:/aws/lambda/{stack}-ReceiverFunction-Ab12Cd34Ef56"),
                arn("logs", "log-group:{stack}-ApiAccessLogs-Ab12Cd34Ef56"),
                WAF_LOGS,
            )
        ),
        Call(("logs:DescribeLogGroups",), ALL),
    ],
    "AWS::ApiGatewayV2::Api": [
        Call(("apigateway:POST", "apigateway:PUT"), arn("apigateway", "/apis", account=False)),
        Call(("apigateway:GET", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"), HTTP_API),
        Call(
            ("apigateway:POST", "apigateway:DELETE"),
            arn("apigateway", "/tags/" + HTTP_API.replace(":", "%3A"), account=False),
        ),
    ],
    "AWS::ApiGatewayV2::Stage": [
        Call(("apigateway:POST",), HTTP_API + "/stages"),
        Call(("apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"), HTTP_API + "/stages/$default"),
        Call(("logs:CreateLogDelivery", "logs:DescribeResourcePolicies"), ALL),
    ],
    "AWS::ApiGateway::RestApi": [
        Call(("apigateway:POST",), arn("apigateway", "/restapis", account=False)),
        Call(("apigateway:GET", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"), REST_API),
    ],
    "AWS::ApiGateway::Resource": [
        Call(
            ("apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"),
            REST_API + "/resources/a1b2c3",
        ),
    ],
    "AWS::ApiGateway::Method": [
        Call(("apigateway:PUT", "apigateway:GET", "apigateway:DELETE"), REST_API + "/resources/a1b2c3/methods/POST"),
    ],
    "AWS::ApiGateway::Deployment": [
        Call(
            ("apigateway:POST", "apigateway:GET", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"),
            REST_API + "/deployments/d4e5f6",
        ),
    ],
    "AWS::ApiGateway::Stage": [
        Call(
            ("apigateway:POST", "apigateway:GET", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"), REST_STAGE
        ),
        Call(("logs:CreateLogDelivery", "logs:DescribeResourcePolicies"), ALL),
    ],
    "AWS::WAFv2::WebACL": [
        Call(
            (
                "wafv2:CreateWebACL",
                "wafv2:GetWebACL",
                "wafv2:UpdateWebACL",
                "wafv2:DeleteWebACL",
                "wafv2:TagResource",
                "wafv2:UntagResource",
                "wafv2:ListTagsForResource",
            ),
            WEB_ACL,
        ),
        Call(("wafv2:CreateWebACL", "wafv2:UpdateWebACL"), IP_SET),
    ],
    "AWS::WAFv2::IPSet": [
        Call(
            (
                "wafv2:CreateIPSet",
                "wafv2:GetIPSet",
                "wafv2:UpdateIPSet",
                "wafv2:DeleteIPSet",
                "wafv2:TagResource",
                "wafv2:UntagResource",
                "wafv2:ListTagsForResource",
            ),
            IP_SET,
        ),
    ],
    "AWS::WAFv2::WebACLAssociation": [
        Call(
            ("wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource", "wafv2:GetWebACL"),
            WEB_ACL,
        ),
        Call(("wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource"), REST_STAGE),
        Call(("apigateway:SetWebACL",), REST_STAGE),
    ],
    "AWS::WAFv2::LoggingConfiguration": [
        Call(("wafv2:PutLoggingConfiguration",), WEB_ACL, (("wafv2:LogDestinationResource", WAF_LOGS),)),
        Call(("wafv2:GetLoggingConfiguration", "wafv2:DeleteLoggingConfiguration"), WEB_ACL),
        Call(
            (
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ),
            ALL,
        ),
    ],
    "AWS::DynamoDB::Table": [
        Call(
            (
                "dynamodb:CreateTable",
                "dynamodb:DescribeTable",
                "dynamodb:UpdateTable",
                "dynamodb:DeleteTable",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:UpdateContinuousBackups",
                "dynamodb:DescribeTimeToLive",
                "dynamodb:UpdateTimeToLive",
                "dynamodb:DescribeContributorInsights",
                "dynamodb:UpdateContributorInsights",
                "dynamodb:DescribeKinesisStreamingDestination",
                "dynamodb:GetResourcePolicy",
                "dynamodb:TagResource",
                "dynamodb:UntagResource",
                "dynamodb:ListTagsOfResource",
            ),
            TABLE,
        ),
    ],
    "AWS::SNS::Topic": [
        Call(
            (
                "sns:CreateTopic",
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:GetDataProtectionPolicy",
                "sns:ListSubscriptionsByTopic",
                "sns:Subscribe",
                "sns:Unsubscribe",
                "sns:TagResource",
                "sns:UntagResource",
                "sns:ListTagsForResource",
                "sns:DeleteTopic",
            ),
            TOPIC,
        ),
    ],
    "AWS::SNS::TopicPolicy": [Call(("sns:SetTopicAttributes",), TOPIC)],
    "AWS::SNS::Subscription": [
        Call(
            ("sns:Subscribe", "sns:SetSubscriptionAttributes", "sns:GetSubscriptionAttributes", "sns:Unsubscribe"),
            TOPIC,
        ),
    ],
    "AWS::SQS::Queue": [
        Call(
            (
                "sqs:CreateQueue",
                "sqs:GetQueueUrl",
                "sqs:GetQueueAttributes",
                "sqs:SetQueueAttributes",
                "sqs:ListQueueTags",
                "sqs:TagQueue",
                "sqs:UntagQueue",
                "sqs:DeleteQueue",
            ),
            QUEUE,
        ),
    ],
    "AWS::SQS::QueuePolicy": [Call(("sqs:SetQueueAttributes",), QUEUE)],
    "AWS::SecretsManager::Secret": [
        Call(("secretsmanager:CreateSecret", "secretsmanager:TagResource"), SECRET),
        Call(
            (
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:UpdateSecret",
                "secretsmanager:UntagResource",
                "secretsmanager:DeleteSecret",
            ),
            SECRET,
        ),
        Call(("secretsmanager:GetRandomPassword",), ALL),
    ],
    "AWS::SecretsManager::ResourcePolicy": [
        # Not taggable itself: the calls are on the secret, which CloudFormation tagged with the stack's name.
        Call(
            ("secretsmanager:PutResourcePolicy",),
            SECRET,
            (("secretsmanager:BlockPublicPolicy", "true"), (STACK_TAG, "{stack}")),
        ),
        Call(
            ("secretsmanager:GetResourcePolicy", "secretsmanager:DeleteResourcePolicy"),
            SECRET,
            ((STACK_TAG, "{stack}"),),
        ),
    ],
    "AWS::CloudWatch::Alarm": [
        Call(
            (
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:ListTagsForResource",
            ),
            arn("cloudwatch", "alarm:{stack}-ServerErrorsAlarm-Ab12Cd34Ef56"),
        ),
        Call(("cloudwatch:DescribeAlarms",), ALL),
    ],
    "AWS::CloudWatch::Dashboard": [
        Call(
            (
                "cloudwatch:PutDashboard",
                "cloudwatch:GetDashboard",
                "cloudwatch:DeleteDashboards",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:ListTagsForResource",
            ),
            arn("cloudwatch", "dashboard/{stack}-receiver", region=False),
        ),
    ],
    "AWS::Budgets::Budget": [
        Call(
            (
                "budgets:ModifyBudget",
                "budgets:ViewBudget",
                "budgets:TagResource",
                "budgets:UntagResource",
                "budgets:ListTagsForResource",
            ),
            arn("budgets", "budget/{stack}-monthly", region=False),
        ),
    ],
}

# What AWS's resource handlers may call that these templates never make them call, and why.
UNUSED: dict[str, dict[str, str]] = {
    "*": {
        "kms:*": "no resource names a customer managed key (SNS uses alias/aws/sns, SQS SSE-SQS, DynamoDB its own key)",
        "ec2:*": "no function is in a VPC",
        "elasticfilesystem:*": "no file system is mounted",
        "s3files:*": "no file system is mounted",
        "firehose:*": "logs go to CloudWatch Logs, not Firehose",
        "kinesis:*": "no table streams to Kinesis",
        "iam:CreateServiceLinkedRole": "WAF needs its logging role for Firehose only; no table is global",
        "s3:*": "only function code is read from S3 (granted); nothing is imported from S3 or logged to it",
        "logs:PutResourcePolicy": "the log deliveries' policy is the account's, made once (LogDeliveryPolicy)",
        "logs:DeleteResourcePolicy": "the log deliveries' policy is the account's, made once (LogDeliveryPolicy)",
    },
    "AWS::IAM::Role": {
        "iam:UpdateAssumeRolePolicy": "denied: a trust policy is set when the role is created, never changed",
        "iam:DeleteRolePermissionsBoundary": "denied on purpose: no role may lose its boundary",
        "iam:UpdateRoleDescription": "SAM's roles have no description",
    },
    "AWS::Lambda::Function": {
        "lambda:AssociateRuntimeAlias": "no runtime alias",
        "lambda:PassCapacityProvider": "no capacity provider",
        "lambda:PutFunctionScalingConfig": "no capacity provider",
        "lambda:GetCodeSigningConfig": "no code signing",
        "lambda:PutFunctionCodeSigningConfig": "no code signing",
        "lambda:DeleteFunctionCodeSigningConfig": "no code signing",
        "lambda:GetLayerVersion": "no layers",
    },
    "AWS::DynamoDB::Table": {
        "dynamodb:*Item": "the handler writes items only when importing data; the tables start empty",
        "dynamodb:Query": "only when importing data",
        "dynamodb:Scan": "only when importing data",
        "dynamodb:ImportTable": "no import",
        "dynamodb:DescribeImport": "no import",
        "dynamodb:*Replica": "no global table",
        "dynamodb:*KinesisStreamingDestination": "no Kinesis stream (its description is read, and granted)",
        "dynamodb:PutResourcePolicy": "no table resource policy",
        "dynamodb:DeleteResourcePolicy": "no table resource policy",
        "logs:*": "only when importing data",
    },
    "AWS::Logs::LogGroup": {
        "logs:*IndexPolic*": "no field index",
        "logs:*DataProtectionPolicy": "no data protection policy",
        "logs:PutBearerTokenAuthentication": "no bearer token",
        "logs:*KmsKey": "no customer managed key",
        "logs:PutLogGroupDeletionProtection": "no deletion protection on log groups",
        "logs:CreateLogDelivery": "only for a delivery, which the API stages and WAF logging ask for (granted there)",
        "logs:DescribeResourcePolicies": "granted for the log deliveries",
    },
    "AWS::ApiGatewayV2::Api": {"s3:getObject": "the OpenAPI body is inline, never in S3"},
    "AWS::ApiGatewayV2::Stage": {
        "apigateway:TagResource": "not an IAM action: tags are POST and DELETE on /tags/*, granted",
        "apigateway:UntagResource": "not an IAM action: tags are POST and DELETE on /tags/*, granted",
    },
    "AWS::ApiGateway::RestApi": {
        "apigateway:UpdateRestApiPolicy": "the front door has no resource policy",
        "iam:PassRole": "no role is passed to API Gateway (no S3 import, no credentials)",
    },
    "AWS::ApiGateway::Method": {"iam:PassRole": "the front door's integrations are HTTP proxies, with no credentials"},
    "AWS::SNS::Topic": {
        "sns:PutDataProtectionPolicy": "no data protection policy",
        "iam:GetRole": "no delivery status logging role",
        "iam:PassRole": "no delivery status logging role",
    },
    "AWS::SNS::Subscription": {
        "iam:GetRole": "no subscription role (sqs and email only)",
        "iam:PassRole": "no subscription role (sqs and email only)",
    },
    "AWS::SecretsManager::Secret": {
        "secretsmanager:ReplicateSecretToRegions": "no replica",
        "secretsmanager:RemoveRegionsFromReplication": "no replica",
    },
    "AWS::Budgets::Budget": {
        "billing:GetBillingViewData": "no BillingViewArn: the budget reads the account's own costs"
    },
    "AWS::WAFv2::WebACL": {"payments:GetConnectedAccount": "no paid managed rule group"},
    "AWS::WAFv2::WebACLAssociation": {
        "wafv2:GetPermissionPolicy": "rule groups shared across accounts only",
        "wafv2:PutPermissionPolicy": "rule groups shared across accounts only",
        **{
            f"{service}:*": "the web ACL is associated with an API Gateway stage only"
            for service in (
                "amplify",
                "apprunner",
                "appsync",
                "bedrock-agentcore",
                "cognito-idp",
                "elasticloadbalancing",
            )
        },
    },
    "AWS::WAFv2::LoggingConfiguration": {
        "iam:DescribeOrganization": "for destinations in another account; the log group is the stack's",
    },
}


def requests(principal: Principal, resource_type: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    stack = STACK_OF[principal.logical_id]
    system_tags = handler_schema(resource_type).get("tagging", {}).get("cloudFormationSystemTags", False)
    for call in NEEDS[resource_type]:
        context = {key: value.format(stack=stack, boundary=principal.boundary) for key, value in call.context}
        if system_tags and call.resource != ALL:
            context[STACK_TAG] = stack
        for action in call.actions:
            yield action, call.resource.format(stack=stack), context


# --- AWS's resource handlers (CloudFormation registry schemas, as cfn-lint ships them).


@cache
def handler_schema(resource_type: str) -> dict[str, Any]:
    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    digest = json.loads((schemas / "providers" / "us-east-1.json").read_text(encoding="utf-8"))[resource_type]
    schema: dict[str, Any] = json.loads((schemas / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
    return schema


def handler_permissions(resource_type: str) -> set[str]:
    handlers = handler_schema(resource_type).get("handlers", {})
    return {
        permission
        for step in ("create", "update", "delete")
        for permission in handlers.get(step, {}).get("permissions", [])
    }


# --- The templates as CloudFormation receives them.

TEMPLATES = {
    "template.yaml": ROOT / "template.yaml",
    "template.yaml, every option on": ROOT / ".aws-sam" / "template-options-on.yaml",
    "examples/subscriber": ROOT / "examples" / "subscriber" / "template.yaml",
}


@cache
def transformed(name: str) -> dict[str, Any]:
    path = TEMPLATES[name]
    if name.endswith("every option on"):
        run = subprocess.run(
            [sys.executable, str(ROOT / ".ci" / "template_with_options_on.py")],
            capture_output=True,
            text=True,
            check=True,
        )
        path.parent.mkdir(exist_ok=True)
        path.write_text(run.stdout, encoding="utf-8")
    run = subprocess.run(
        [str(SAM_PYTHON), str(ROOT / "tests" / "unit" / "sam_transform.py"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    template: dict[str, Any] = json.loads(run.stdout)
    return template


def resource_types(name: str) -> set[str]:
    return {resource["Type"] for resource in transformed(name)["Resources"].values()}


# --- Nothing a deploy needs is missing.


@needs_sam
@pytest.mark.parametrize("name", TEMPLATES)
def test_every_resource_type_of_the_templates_is_in_the_table(name):
    unknown = resource_types(name) - set(NEEDS)

    assert not unknown, f"{name} has resource types NEEDS does not know: add what CloudFormation calls for them"


@pytest.mark.parametrize("resource_type", sorted(NEEDS))
def test_the_table_holds_every_call_awss_handler_makes_or_says_why_not(resource_type):
    tabled = {action.lower() for call in NEEDS[resource_type] for action in call.actions}
    explained = {**UNUSED["*"], **UNUSED.get(resource_type, {})}

    unexplained = {
        permission
        for permission in handler_permissions(resource_type)
        if permission.lower() not in tabled
        and not any(wildcard(pattern, permission, ignore_case=True) for pattern in explained)
    }

    assert not unexplained, f"{resource_type}: the handler calls {sorted(unexplained)}, neither in NEEDS nor UNUSED"


@needs_sam
@pytest.mark.parametrize("role", [PR, DEPLOY])
@pytest.mark.parametrize("name", TEMPLATES)
def test_the_execution_role_allows_every_call_its_stacks_resources_need(role, name):
    principal = execution_role(role)

    missing = [
        f"{action} on {resource}"
        for resource_type in sorted(resource_types(name) & set(NEEDS))
        for action, resource, context in requests(principal, resource_type)
        if decide(principal, action, resource, **context) != "allow"
    ]

    assert not missing, f"{role} cannot deploy {name}: {missing}"


# --- Nothing escalates: the roles a stack creates.

ROLE_WRITES = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:UpdateRole",
)
READ_OR_TAG = {
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListRoleTags",
    "iam:TagRole",
    "iam:UntagRole",
}
BOUNDED_ACTIONS = {*ROLE_WRITES, "iam:AttachRolePolicy", "iam:DeleteRole"}
BASIC_EXECUTION = f"arn:{PARTITION}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@pytest.mark.parametrize("role", [PR, DEPLOY])
@pytest.mark.parametrize("action", [*ROLE_WRITES, "iam:AttachRolePolicy"])
def test_a_role_is_created_or_changed_only_with_the_execution_roles_own_boundary(role, action):
    principal = execution_role(role)
    target = FUNCTION_ROLE.format(stack=STACK_OF[role])
    policy = {"iam:PolicyARN": BASIC_EXECUTION}

    assert decide(principal, action, target, **{"iam:PermissionsBoundary": principal.boundary}, **policy) == "allow"
    assert decide(principal, action, target, **policy) == "deny"
    for other in (execution_role(OTHER[role]).boundary, f"arn:{PARTITION}:iam::{ACCOUNT}:policy/AnyOther"):
        assert decide(principal, action, target, **{"iam:PermissionsBoundary": other}, **policy) == "deny"


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_no_trust_policy_changes_no_boundary_is_removed_and_no_admin_policy_is_attached(role):
    principal = execution_role(role)
    target = FUNCTION_ROLE.format(stack=STACK_OF[role])
    bounded = {"iam:PermissionsBoundary": principal.boundary}

    assert decide(principal, "iam:UpdateAssumeRolePolicy", target, **bounded) == "deny"
    assert decide(principal, "iam:DeleteRolePermissionsBoundary", target, **bounded) == "deny"
    admin = f"arn:{PARTITION}:iam::aws:policy/AdministratorAccess"
    assert decide(principal, "iam:AttachRolePolicy", target, **bounded, **{"iam:PolicyARN": admin}) != "allow"


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_roles_outside_the_stacks_names_are_out_of_reach(role):
    principal = execution_role(role)
    bounded = {"iam:PermissionsBoundary": principal.boundary}
    others = [
        FUNCTION_ROLE.format(stack=STACK_OF[OTHER[role]]),
        arn("iam", f"role/github-deploy/zenoti-github-deploy-{role}-ABCDEF", region=False),
        arn("iam", "role/OrganizationAccountAccessRole", region=False),
    ]

    for target in others:
        for action in (*ROLE_WRITES, "iam:PassRole", "iam:TagRole"):
            assert (
                decide(principal, action, target, **bounded, **{"iam:PassedToService": "lambda.amazonaws.com"})
                != "allow"
            )


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_only_roles_on_the_stack_path_are_created_or_passed(role):
    principal = execution_role(role)
    bounded = {"iam:PermissionsBoundary": principal.boundary, "iam:PolicyARN": BASIC_EXECUTION}
    on_path, at_root = FUNCTION_ROLE.format(stack=STACK_OF[role]), ROOT_ROLE.format(stack=STACK_OF[role])

    for service in ("lambda.amazonaws.com",):
        assert decide(principal, "iam:PassRole", on_path, **{"iam:PassedToService": service}) == "allow"
        # PassRole has no condition on the passed role's boundary: a role of the stack's name off the path
        # (an older stack's, one made by hand) may have none, and must never be handed to a function.
        assert decide(principal, "iam:PassRole", at_root, **{"iam:PassedToService": service}) != "allow"
    for action in (*ROLE_WRITES, "iam:AttachRolePolicy"):
        if action not in {"iam:DeleteRolePolicy", "iam:DetachRolePolicy"}:
            assert decide(principal, action, at_root, **bounded) != "allow", action
    # The roles a stack had before the path are replaced by its next deployment, which deletes them.
    for action in ("iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRole"):
        assert decide(principal, action, at_root, **bounded) == "allow", action
        assert decide(principal, action, at_root) != "allow", action


def statement_policies() -> list[str]:
    return [
        physical(name, resource["Type"])
        for name, resource in roles_template().items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
    ]


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_no_policy_can_be_created_or_changed_the_boundaries_included(role):
    principal = execution_role(role)

    for policy in (principal.boundary, execution_role(OTHER[role]).boundary, *statement_policies()):
        for action in (
            "iam:CreatePolicyVersion",
            "iam:SetDefaultPolicyVersion",
            "iam:DeletePolicy",
            "iam:DeletePolicyVersion",
        ):
            assert decide(principal, action, policy) == "deny"


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_every_iam_action_allowed_is_a_read_a_tag_a_pass_to_lambda_or_bounded(role):
    for statement in execution_role(role).statements:
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            if not action.startswith("iam:"):
                assert action != "*", statement
                assert not action.startswith("sts:"), statement
                continue
            assert "*" not in action, statement
            condition = statement.get("Condition", {})
            if action == "iam:PassRole":
                assert set(condition["StringEquals"]["iam:PassedToService"]) <= {"lambda.amazonaws.com"}
            elif action in BOUNDED_ACTIONS:
                assert (
                    condition["StringEquals"]["iam:PermissionsBoundary"] == "${aws:PrincipalTag/permissions-boundary}"
                )
            else:
                assert action in READ_OR_TAG, f"{action} is allowed without the boundary"


def test_each_execution_role_names_a_boundary_of_its_own_that_the_template_defines():
    pr, deploy = execution_role(PR), execution_role(DEPLOY)

    assert pr.boundary != deploy.boundary
    assert boundary_logical_id(pr) == "PullRequestBoundary"
    assert boundary_logical_id(deploy) == "DeployBoundary"


# --- Nothing escalates: what a stack's template may still do.


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_functions_may_be_invoked_only_by_api_gateway_and_only_the_stacks_own(role):
    principal = execution_role(role)
    own = FUNCTION.format(stack=STACK_OF[role])
    tag = {STACK_TAG: STACK_OF[role]}

    assert (
        decide(principal, "lambda:AddPermission", own, **tag, **{"lambda:Principal": "apigateway.amazonaws.com"})
        == "allow"
    )
    for principal_name in ("*", ACCOUNT, "210987654321", "sns.amazonaws.com", "events.amazonaws.com"):
        assert decide(principal, "lambda:AddPermission", own, **tag, **{"lambda:Principal": principal_name}) != "allow"
    assert decide(principal, "lambda:AddPermission", own, **tag) != "allow"
    other = FUNCTION.format(stack=STACK_OF[OTHER[role]])
    context = {STACK_TAG: STACK_OF[OTHER[role]], "lambda:Principal": "apigateway.amazonaws.com"}
    assert decide(principal, "lambda:AddPermission", other, **context) != "allow"


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_the_apis_and_web_acls_of_another_stack_are_out_of_reach(role):
    principal = execution_role(role)
    calls = [
        ("apigateway:DELETE", HTTP_API),
        ("apigateway:PATCH", HTTP_API + "/stages/$default"),
        ("apigateway:PUT", HTTP_API),
        ("apigateway:DELETE", REST_API),
        ("apigateway:SetWebACL", REST_STAGE),
        ("wafv2:DisassociateWebACL", REST_STAGE),
        ("wafv2:UpdateWebACL", WEB_ACL),
        ("wafv2:DeleteWebACL", WEB_ACL),
        ("wafv2:UpdateIPSet", IP_SET),
        ("secretsmanager:PutResourcePolicy", SECRET),
    ]

    for action, resource in calls:
        own = {STACK_TAG: STACK_OF[role], "secretsmanager:BlockPublicPolicy": "true"}
        foreign = {**own, STACK_TAG: STACK_OF[OTHER[role]]}
        assert decide(principal, action, resource, **own) == "allow", (action, resource)
        assert decide(principal, action, resource, **foreign) == "deny", (action, resource)


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_the_stacks_secret_policy_must_stay_private(role):
    principal = execution_role(role)
    tag = {STACK_TAG: STACK_OF[role]}

    assert decide(principal, "secretsmanager:PutResourcePolicy", SECRET, **tag) != "allow"
    assert (
        decide(
            principal,
            "secretsmanager:PutResourcePolicy",
            SECRET,
            **tag,
            **{"secretsmanager:BlockPublicPolicy": "false"},
        )
        != "allow"
    )


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_no_stack_changes_the_accounts_log_policy_which_the_setup_makes_for_the_stacks_log_groups(role):
    principal = execution_role(role)
    document = json.loads(roles_template()["LogDeliveryPolicy"]["Properties"]["PolicyDocument"])
    delivery = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": arn("logs", "delivery-source:ApiAccessLogs")}

    for action in ("logs:PutResourcePolicy", "logs:DeleteResourcePolicy"):
        assert decide(principal, action, ALL) == "deny"
    for group in (f"{STACK_OF[role]}-ApiAccessLogs-Ab12Cd34Ef56", f"aws-waf-logs-{STACK_OF[role]}"):
        stream = arn("logs", f"log-group:{group}:log-stream:2026/12/06")
        assert decision(document["Statement"], "logs:PutLogEvents", stream, delivery) == "allow", group
        assert decision(document["Statement"], "logs:PutLogEvents", stream, {}) != "allow", group
    for group in ("/aws/lambda/billing", "audit-trail", "aws-waf-logs-other"):
        stream = arn("logs", f"log-group:{group}:log-stream:2026/12/06")
        assert decision(document["Statement"], "logs:PutLogEvents", stream, delivery) != "allow", group


# --- The boundary: grants nothing outside the stack, and everything its functions do.

BOUNDARY_SERVICES = {"dynamodb", "sns", "kms", "sqs", "secretsmanager", "lambda", "logs", "xray"}


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_the_boundary_grants_no_escalation_and_nothing_outside_the_stack(role):
    principal = execution_role(role)
    statements = boundary_statements(principal)

    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            service, _, name = action.partition(":")
            assert service in BOUNDARY_SERVICES, action
            assert "*" not in name, action
        for resource in as_list(statement["Resource"]):
            if resource == "*":
                assert all(action.startswith("xray:") for action in as_list(statement["Action"])), statement
            elif ":kms:" in resource:
                assert statement["Condition"]["StringEquals"]["kms:ViaService"] == f"sns.{REGION}.amazonaws.com"
            elif ":secretsmanager:" in resource:
                assert statement["Condition"]["StringLike"][STACK_TAG] == f"{principal.stack_prefix}*"
            else:
                assert f":{principal.stack_prefix}*" in resource or f"/{principal.stack_prefix}*" in resource, resource
    for action, resource in [
        ("iam:CreateRole", "*"),
        ("iam:PassRole", "*"),
        ("sts:AssumeRole", arn("iam", "role/OrganizationAccountAccessRole", region=False)),
        ("dynamodb:PutItem", TABLE.format(stack=STACK_OF[OTHER[role]])),
        ("sns:Publish", TOPIC.format(stack=STACK_OF[OTHER[role]])),
        ("lambda:InvokeFunction", FUNCTION.format(stack=STACK_OF[OTHER[role]])),
    ]:
        assert decision(statements, action, resource, {}) != "allow", action
    assert decision(statements, "secretsmanager:GetSecretValue", SECRET, {STACK_TAG: STACK_OF[OTHER[role]]}) != "allow"


def test_the_two_boundaries_are_one_policy_for_two_prefixes():
    def normalised(role: str) -> str:
        principal = execution_role(role)
        return json.dumps(boundary_statements(principal)).replace(principal.stack_prefix, "PREFIX")

    assert normalised(PR) == normalised(DEPLOY)


def physical_in_stack(template: dict[str, Any], stack: str, node: Any) -> Any:
    """A function role's resource references, as ARNs in a stack named `stack`."""
    resources = template["Resources"]

    def name_of(logical_id: str) -> str:
        return f"{stack}-{logical_id}-Ab12Cd34Ef56"

    def attribute(logical_id: str, attribute: str | None) -> str:
        resource_type = resources[logical_id]["Type"]
        if resource_type == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            return arn("dynamodb", f"table/{name_of(logical_id)}/stream/2026-12-06T21:48:50.002")
        if resource_type == "AWS::DynamoDB::Table":
            return arn("dynamodb", f"table/{name_of(logical_id)}") if attribute else name_of(logical_id)
        if resource_type == "AWS::SNS::Topic":
            return arn("sns", name_of(logical_id))
        if resource_type == "AWS::SQS::Queue":
            return arn("sqs", name_of(logical_id))
        if resource_type == "AWS::SecretsManager::Secret":
            return arn("secretsmanager", f"secret:{logical_id}-Ab12Cd34Ef56-xYz9Ab")
        if resource_type == "AWS::Lambda::Function":
            return arn("lambda", f"function:{name_of(logical_id)}")
        if resource_type == "AWS::Logs::LogGroup":
            name = physical_in_stack(template, stack, resources[logical_id]["Properties"]["LogGroupName"])
            return arn("logs", f"log-group:{name}:*") if attribute else name
        raise AssertionError(f"a function's policy names a {resource_type}")

    pseudo = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": stack}
    if isinstance(node, list):
        return [physical_in_stack(template, stack, item) for item in node]
    if isinstance(node, str):
        return node
    if "Ref" in node:
        return pseudo.get(node["Ref"]) or attribute(node["Ref"], None)
    if "Fn::GetAtt" in node:
        return attribute(node["Fn::GetAtt"][0], node["Fn::GetAtt"][1])
    if "Fn::Sub" in node:
        text, variables = node["Fn::Sub"] if isinstance(node["Fn::Sub"], list) else (node["Fn::Sub"], {})

        def value(match: re.Match[str]) -> str:
            name = match[1]
            if name in variables:
                return str(physical_in_stack(template, stack, variables[name]))
            if name in pseudo:
                return pseudo[name]
            logical_id, _, attr = name.partition(".")
            return attribute(logical_id, attr or None)

        return re.sub(r"\$\{([^}]+)\}", value, text)
    raise AssertionError(f"cannot resolve {node}")


# What the managed policies SAM attaches are used for, on the function's own resources.
MANAGED_POLICY_USE: dict[str, list[tuple[str, str]]] = {
    "AWSLambdaBasicExecutionRole": [
        ("logs:CreateLogGroup", arn("logs", "log-group:/aws/lambda/{function}")),
        ("logs:CreateLogStream", arn("logs", "log-group:/aws/lambda/{function}")),
        ("logs:PutLogEvents", arn("logs", "log-group:/aws/lambda/{function}")),
    ],
    "AWSXrayWriteOnlyAccess": [
        ("xray:PutTraceSegments", ALL),
        ("xray:PutTelemetryRecords", ALL),
        ("xray:GetSamplingRules", ALL),
        ("xray:GetSamplingTargets", ALL),
    ],
    "AWSLambdaSQSQueueExecutionRole": [
        ("sqs:ReceiveMessage", arn("sqs", "{stack}-Queue-Ab12Cd34Ef56")),
        ("sqs:DeleteMessage", arn("sqs", "{stack}-Queue-Ab12Cd34Ef56")),
        ("sqs:GetQueueAttributes", arn("sqs", "{stack}-Queue-Ab12Cd34Ef56")),
    ],
}


@needs_sam
@pytest.mark.parametrize("role", [PR, DEPLOY])
@pytest.mark.parametrize("name", TEMPLATES)
def test_the_boundary_allows_everything_the_functions_and_the_schedule_do(role, name):
    principal = execution_role(role)
    stack = STACK_OF[role]
    template = transformed(name)
    boundary = boundary_statements(principal)
    refused = []

    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        properties = resource["Properties"]
        calls = []
        for policy in properties.get("Policies", []):
            for statement in policy_document_statements(policy["PolicyDocument"]):
                assert statement["Effect"] == "Allow"
                for target in as_list(physical_in_stack(template, stack, statement["Resource"])):
                    calls += [(action, target) for action in as_list(statement["Action"])]
        function = f"{stack}-{logical_id.removesuffix('Role')}-Ab12Cd34Ef56"
        for managed in properties.get("ManagedPolicyArns", []):
            use = MANAGED_POLICY_USE[managed.rsplit("/", 1)[-1]]
            calls += [(action, target.format(function=function, stack=stack)) for action, target in use]
        for action, target in calls:
            context = {STACK_TAG: stack} if ":secretsmanager:" in target else {}
            if decision(boundary, action, target, context) != "allow":
                refused.append(f"{logical_id}: {action} on {target}")

    assert not refused, f"{principal.boundary} would refuse {refused}"


@needs_sam
@pytest.mark.parametrize("name", ["template.yaml", "template.yaml, every option on", "examples/subscriber"])
def test_every_role_of_the_stack_carries_the_permissions_boundary_parameter(name):
    template = transformed(name)
    boundary = {"Fn::If": ["HasPermissionsBoundary", {"Ref": "PermissionsBoundary"}, {"Ref": "AWS::NoValue"}]}
    roles = {
        logical_id: resource["Properties"].get("PermissionsBoundary")
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }

    assert roles
    assert all(value == boundary for value in roles.values()), roles
    assert template["Parameters"]["PermissionsBoundary"]["Default"] == ""


@needs_sam
@pytest.mark.parametrize("name", TEMPLATES)
def test_every_role_of_the_stack_is_on_the_path_the_execution_roles_pass(name):
    paths = {
        logical_id: resource["Properties"].get("Path")
        for logical_id, resource in transformed(name)["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }

    assert paths
    assert all(path == ROLE_PATH for path in paths.values()), paths


# --- The GitHub roles' change sets: only the stack's own, only the templates' resource types, no import.

GITHUB_ROLE = {PR: "PullRequestRole", DEPLOY: "DeployRole"}


@cache
def deploy_stack() -> Any:
    spec = importlib.util.spec_from_file_location("deploy_stack", DEPLOY_STACK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def change_set(role: str, stack: str, **context: Any) -> tuple[str, dict[str, Any]]:
    """A CreateChangeSet request of the role's workflow job for `stack`: its ARN and its context."""
    request = {
        "cloudformation:RoleArn": physical(role, "AWS::IAM::Role"),
        "cloudformation:ResourceTypes": deploy_stack().allowed_resource_types(),
        **context,
    }
    return arn("cloudformation", f"stack/{stack}/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"), request


@needs_sam
def test_the_declared_resource_types_are_every_type_of_the_templates_as_written_and_as_transformed():
    declared = set(deploy_stack().allowed_resource_types())
    written = {
        resource["Type"] for path in TEMPLATES.values() for resource in load_template(path)["Resources"].values()
    }
    used = written | {resource_type for name in TEMPLATES for resource_type in resource_types(name)}

    assert used <= declared, f"deploy-roles.yaml's list lacks {sorted(used - declared)}"
    # The lead's event source mapping (DynamoDB Streams) and the subscriber's queue are on it already.
    assert {"AWS::Lambda::EventSourceMapping", "AWS::SQS::Queue"} <= declared
    assert not {"AWS::IAM::User", "AWS::IAM::Policy", "AWS::CloudFormation::Stack"} & declared


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_a_change_set_must_declare_only_the_templates_resource_types(role):
    principal = execution_role(GITHUB_ROLE[role])
    declared = deploy_stack().allowed_resource_types()
    resource, request = change_set(role, STACK_OF[role])

    assert decide(principal, "cloudformation:CreateChangeSet", resource, **request) == "allow"
    # Without the list CloudFormation would accept any type in the template.
    undeclared = {key: value for key, value in request.items() if key != "cloudformation:ResourceTypes"}
    assert decide(principal, "cloudformation:CreateChangeSet", resource, **undeclared) == "deny"
    for extra in ("AWS::IAM::User", "AWS::EC2::Instance", "AWS::CloudFormation::Stack", "Custom::Anything", "AWS::*"):
        types = {"cloudformation:ResourceTypes": [*declared, extra]}
        assert decide(principal, "cloudformation:CreateChangeSet", resource, **{**request, **types}) == "deny", extra


@pytest.mark.parametrize("role", [PR, DEPLOY])
def test_no_change_set_imports_an_existing_resource(role):
    principal = execution_role(GITHUB_ROLE[role])
    resource, request = change_set(role, STACK_OF[role])
    imports = {"cloudformation:ImportResourceTypes": ["AWS::DynamoDB::Table"]}

    assert decide(principal, "cloudformation:CreateChangeSet", resource, **request, **imports) == "deny"
    assert decide(principal, "cloudformation:ExecuteChangeSet", resource, **imports) == "deny"
    assert decide(principal, "cloudformation:ImportStacksToStackSet", ALL) != "allow"


def test_neither_github_role_reaches_the_other_sides_stack_even_when_one_name_begins_with_the_other():
    overlapping = frozenset({("StackName", "zenoti-pr-production")})
    pull_requests = execution_role("PullRequestRole", overlapping)
    production, request = change_set(PR, "zenoti-pr-production")

    for action in ("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:DeleteStack"):
        assert decide(pull_requests, action, production, **request) == "deny", action
    artifact = f"arn:{PARTITION}:s3:::{BUCKET}/zenoti-pr-production/0a1b2c3d4e5f"
    assert decide(pull_requests, "s3:PutObject", artifact) == "deny"
    own, request = change_set(PR, PR_STACK)
    assert decide(pull_requests, "cloudformation:CreateChangeSet", own, **request) == "allow"

    deployment = execution_role("DeployRole")
    pull_request, request = change_set(DEPLOY, PR_STACK)
    for action in ("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:DeleteStack"):
        assert decide(deployment, action, pull_request, **request) == "deny", action


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # mock_aws does not intercept when it is set
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION), boto3.client("s3", region_name=REGION)


PACKAGED = """
Parameters:
  LogRetentionInDays: {Type: Number, Default: 90}
  AlarmEmail: {Type: String, Default: ""}
Resources:
  EventsTopic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "${AWS::StackName} ${LogRetentionInDays} ${AlarmEmail}"
"""


def test_the_workflows_deployment_declares_the_allowed_types_and_keeps_the_stacks_other_parameters(aws, tmp_path):
    cloudformation, s3 = aws
    s3.create_bucket(Bucket=BUCKET)
    sent: list[dict[str, Any]] = []
    cloudformation.meta.events.register(
        "provide-client-params.cloudformation.CreateChangeSet", lambda params, **_: sent.append(dict(params))
    )
    template = tmp_path / "packaged.yaml"
    template.write_text(PACKAGED, encoding="utf-8")
    module = deploy_stack()

    def deploy(**overrides: str) -> str:
        outcome: str = module.deploy(
            cloudformation,
            s3,
            stack_name=PR_STACK,
            template_file=template,
            bucket=BUCKET,
            prefix=PR_STACK,
            role_arn=physical(PR, "AWS::IAM::Role"),
            overrides=overrides,
            resource_types=module.allowed_resource_types(),
        )
        return outcome

    assert deploy(LogRetentionInDays="1", AlarmEmail="ops@example.com") == f"{PR_STACK}: created"
    assert deploy(LogRetentionInDays="7") == f"{PR_STACK}: updated"
    with pytest.raises(SystemExit, match="no parameter Unknown"):
        deploy(Unknown="x")

    [stack] = cloudformation.describe_stacks(StackName=PR_STACK)["Stacks"]
    values = {parameter["ParameterKey"]: parameter["ParameterValue"] for parameter in stack["Parameters"]}
    assert values == {"LogRetentionInDays": "7", "AlarmEmail": "ops@example.com"}
    assert [request["ChangeSetType"] for request in sent] == ["CREATE", "UPDATE"]
    principal = execution_role(GITHUB_ROLE[PR])
    resource, _ = change_set(PR, PR_STACK)
    for request in sent:
        assert request["TemplateURL"].endswith(".template")
        assert f"/{BUCKET}/{PR_STACK}/" in request["TemplateURL"]
        context = {
            "cloudformation:RoleArn": request["RoleARN"],
            "cloudformation:ResourceTypes": request["ResourceTypes"],
        }
        assert decide(principal, "cloudformation:CreateChangeSet", resource, **context) == "allow"


def test_the_workflows_deployment_with_nothing_to_change_succeeds_and_leaves_no_change_set(aws, tmp_path):
    cloudformation, s3 = aws
    s3.create_bucket(Bucket=BUCKET)
    template = tmp_path / "packaged.yaml"
    template.write_text(PACKAGED, encoding="utf-8")
    no_changes = {
        "Status": "FAILED",
        "StatusReason": "The submitted information didn't contain changes. Submit different information to create a"
        " change set.",
    }
    stack = {"StackName": PR_STACK, "StackStatus": "UPDATE_COMPLETE", "CreationTime": "2026-12-01T00:00:00Z"}
    with Stubber(cloudformation) as cloudformation_api:
        cloudformation_api.add_response("describe_stacks", {"Stacks": [stack]})
        cloudformation_api.add_response("create_change_set", {"Id": "deploy"})
        cloudformation_api.add_response("describe_change_set", no_changes)
        cloudformation_api.add_response("describe_change_set", no_changes)
        cloudformation_api.add_response("delete_change_set", {})
        outcome = deploy_stack().deploy(
            cloudformation,
            s3,
            stack_name=PR_STACK,
            template_file=template,
            bucket=BUCKET,
            prefix=PR_STACK,
            role_arn=physical(PR, "AWS::IAM::Role"),
            overrides={},
            resource_types=deploy_stack().allowed_resource_types(),
        )
        cloudformation_api.assert_no_pending_responses()

    assert outcome == f"{PR_STACK}: no changes to deploy"


def check_stack_names(job: str, **names: str) -> subprocess.CompletedProcess[str]:
    [step] = [step for step in workflow_jobs()[job]["steps"] if step.get("name") == "Check the stack names"]
    return subprocess.run(["bash", "-c", step["run"]], env=names, capture_output=True, text=True, check=False)


@cache
def workflow_jobs() -> dict[str, Any]:
    jobs: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]
    return jobs


@pytest.mark.parametrize("job", ["deploy", "pull-request"])
def test_the_workflow_deploys_nothing_when_one_stack_name_begins_with_the_other(job):
    def check(deployed: str, prefix: str, stack: str) -> int:
        names = {"DEPLOYED_STACK_NAME": deployed, "PR_STACK_PREFIX": prefix, "STACK_NAME": stack}
        return check_stack_names(job, **names).returncode

    own = "zenoti-webhooks" if job == "deploy" else "zenoti-pr-42"
    assert check("zenoti-webhooks", "zenoti-pr-", own) == 0
    assert check("zenoti-pr-production", "zenoti-pr-", own) != 0
    assert check("zenoti", "zenoti-pr-", own) != 0
    assert check("zenoti-webhooks", "zenoti-pr-", "zenoti-other") != 0
    env = workflow_jobs()[job]["env"]
    assert {"DEPLOYED_STACK_NAME", "PR_STACK_PREFIX", "STACK_NAME"} <= set(env)


def test_the_pull_request_job_uses_the_pull_requests_own_account_when_it_has_one():
    job = workflow_jobs()["pull-request"]
    [credentials] = [step for step in job["steps"] if "configure-aws-credentials" in step.get("uses", "")]

    assert job["env"]["SAM_BUCKET"] == "${{ vars.AWS_PR_SAM_BUCKET || vars.AWS_SAM_BUCKET }}"
    for region in (job["env"]["AWS_REGION"], job["env"]["AWS_DEFAULT_REGION"], credentials["with"]["aws-region"]):
        assert region == "${{ vars.AWS_PR_REGION || vars.AWS_REGION }}"
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_PR_ROLE_ARN }}"


# --- Who may assume the roles, and the workflow that does.


def test_the_repository_may_be_named_by_githubs_immutable_subject():
    pattern = load_template(ROLES)["Parameters"]["Repository"]["AllowedPattern"]

    assert re.fullmatch(pattern, "octocat@123456/my-repo@456789")
    assert re.fullmatch(pattern, "octocat/my-repo")
    for wrong in ("octocat@123456/my-repo", "octocat/my-repo@456789", "octocat@x/my-repo@1", "octocat/my repo"):
        assert not re.fullmatch(pattern, wrong)


def may_assume(logical_id: str, subject: str, **overrides: str) -> bool:
    """Whether a GitHub OIDC token with this subject (and AWS's audience) may assume the role."""
    [statement] = roles_template(frozenset(overrides.items()))[logical_id]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    token = {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": subject,
    }
    return all(
        condition_holds(operator, key, expected, token)
        for operator, conditions in statement["Condition"].items()
        for key, expected in conditions.items()
    )


REPOSITORY_NAME = "octocat/zenoti-webhooks"
WORKFLOW_REF = f"{REPOSITORY_NAME}/.github/workflows/deploy.yml"


def created_by(stacks: str) -> set[str]:
    """The logical ids of the roles template's resources with its parameter Stacks at this value."""
    template = load_template(ROLES)
    values = parameters(Stacks=stacks)

    def evaluate(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        [(function, argument)] = node.items()
        if function == "Ref":
            return values[argument]
        if function == "Fn::Equals":
            return evaluate(argument[0]) == evaluate(argument[1])
        if function == "Fn::Not":
            return not evaluate(argument[0])
        raise AssertionError(f"no evaluation of {function}")

    return {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or evaluate(template["Conditions"][resource["Condition"]])
    }


def test_an_account_may_hold_the_pull_request_stacks_roles_or_the_deployments_alone():
    pull_requests = {"PullRequestRole", "PullRequestExecutionRole", "PullRequestBoundary"}
    deployment = {"DeployRole", "DeployExecutionRole", "DeployBoundary"}
    shared = {
        "ArtifactsBucket",
        "StackRolesPolicy",
        "StackResourcesPolicy",
        "ChangeSetRulesPolicy",
        "LogDeliveryPolicy",
    }

    assert pull_requests | deployment | shared <= created_by("all")
    assert pull_requests | shared <= created_by("pull-requests")
    assert not deployment & created_by("pull-requests")
    assert deployment | shared <= created_by("deployment")
    assert not pull_requests & created_by("deployment")


@pytest.mark.parametrize("repository", ["octocat@123456/zenoti-webhooks@456789", "octocat/zenoti-webhooks"])
def test_the_deployment_role_trusts_only_the_deploy_workflow_of_main_or_a_version_tag(repository):
    def subject(environment: str, workflow_ref: str) -> str:
        return f"repo:{repository}:environment:{environment}:job_workflow_ref:{workflow_ref}"

    for ref in ("refs/heads/main", "refs/tags/v1.4.0"):
        assert may_assume("DeployRole", subject("production", f"{WORKFLOW_REF}@{ref}"), Repository=repository), ref
    refused = [
        # GitHub's default subject names the environment alone: any branch the environment lets in, any workflow.
        f"repo:{repository}:environment:production",
        subject("production", f"{WORKFLOW_REF}@refs/heads/feature"),
        subject("production", f"{WORKFLOW_REF}@refs/pull/7/merge"),
        subject("production", f"{REPOSITORY_NAME}/.github/workflows/ci.yml@refs/heads/main"),
        subject("production", "octocat/other/.github/workflows/deploy.yml@refs/heads/main"),
        subject("pull-request", f"{WORKFLOW_REF}@refs/heads/main"),
        f"repo:octocat@123456/other@999:environment:production:job_workflow_ref:{WORKFLOW_REF}@refs/heads/main",
    ]
    for other in refused:
        assert not may_assume("DeployRole", other, Repository=repository), other


def test_the_pull_request_role_trusts_only_the_deploy_workflow_run_for_a_pull_request():
    repository = parameters()["Repository"]

    pull_request_run = f"{WORKFLOW_REF}@refs/pull/42/merge"

    assert may_assume(
        "PullRequestRole", f"repo:{repository}:environment:pull-request:job_workflow_ref:{pull_request_run}"
    )
    for other in (
        f"repo:{repository}:environment:pull-request",
        f"repo:{repository}:environment:pull-request:job_workflow_ref:{WORKFLOW_REF}@refs/heads/main",
        f"repo:{repository}:environment:production:job_workflow_ref:{WORKFLOW_REF}@refs/pull/42/merge",
        f"repo:{repository}:environment:pull-request:job_workflow_ref:{REPOSITORY_NAME}/.github/workflows/ci.yml"
        "@refs/pull/42/merge",
    ):
        assert not may_assume("PullRequestRole", other), other


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_pull_request_job_waits_for_its_reviewers_and_never_runs_for_dependabot(workflow):
    job = workflow["jobs"]["pull-request"]

    assert job["environment"] == parameters()["PullRequestEnvironment"]
    assert "github.actor != 'dependabot[bot]'" in job["if"]
    assert "github.event.pull_request.user.login != 'dependabot[bot]'" in job["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert workflow["jobs"]["deploy"]["environment"] == parameters()["DeployEnvironment"]


@pytest.mark.parametrize("job", ["deploy", "pull-request"])
def test_the_sam_cli_comes_from_the_hashed_lock_and_every_role_gets_the_boundary(workflow, job):
    steps = workflow["jobs"][job]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)

    assert not any("setup-sam" in step.get("uses", "") for step in steps)
    assert "make .venv-sam/.installed" in runs
    # sam deploy cannot declare the resource types the roles require of a change set.
    assert "sam deploy" not in runs
    assert ".venv-sam/bin/sam package" in runs
    assert ".venv-sam/bin/python .github/aws/deploy_stack.py" in runs
    assert "PermissionsBoundary=" in runs
    assert re.search(r"(?m)^\s*sam ", runs) is None, "sam must be .venv-sam's"
