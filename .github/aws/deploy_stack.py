"""Deploys a packaged stack through its execution role, declaring the resource types its change set may hold.

The deploy workflow's roles may create a change set only with CreateChangeSet's ResourceTypes set to the
list deploy-roles.yaml allows (ChangeSetRulesPolicy), and `sam deploy` cannot send that list: this does
what `sam deploy` does after `sam package` (a change set, the stack's previous parameter values kept,
executed and waited for), with the list read from deploy-roles.yaml. Run with the SAM CLI's Python:

    .venv-sam/bin/python .github/aws/deploy_stack.py --stack-name NAME --template-file packaged.yaml \\
        --s3-bucket BUCKET --s3-prefix NAME --role-arn EXECUTION_ROLE_ARN [--parameter-overrides KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError, WaiterError

ROLES_TEMPLATE = Path(__file__).resolve().with_name("deploy-roles.yaml")
RULES_POLICY = "ChangeSetRulesPolicy"
RESOURCE_TYPES_STATEMENT = "OnlyTheTemplatesResourceTypes"
# What CloudFormation says of a change set that would change nothing: a deployment with nothing to do.
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# A stack that only ever had a failed change set is still new to CloudFormation.
NEW_STACK_STATUSES = {"REVIEW_IN_PROGRESS"}


class CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Sub, !Ref, ...) read as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)  # noqa: S506
    return template


def allowed_resource_types(roles_template: Path = ROLES_TEMPLATE) -> list[str]:
    """The resource types deploy-roles.yaml lets a change set declare, which are the ones it must declare."""
    policy = load_template(roles_template)["Resources"][RULES_POLICY]["Properties"]["PolicyDocument"]
    [statement] = [item for item in policy["Statement"] if item.get("Sid") == RESOURCE_TYPES_STATEMENT]
    return list(statement["Condition"]["ForAnyValue:StringNotEquals"]["cloudformation:ResourceTypes"])


def parameter_values(
    template: dict[str, Any], overrides: dict[str, str], previous: set[str] | None
) -> list[dict[str, Any]]:
    """Every parameter the template declares: the override, else the stack's previous value, else its default."""
    unknown = set(overrides) - set(template.get("Parameters", {}))
    if unknown:
        raise SystemExit(f"The template has no parameter {', '.join(sorted(unknown))}")
    values: list[dict[str, Any]] = []
    for key in template.get("Parameters", {}):
        if key in overrides:
            values.append({"ParameterKey": key, "ParameterValue": overrides[key]})
        elif previous is not None and key in previous:
            values.append({"ParameterKey": key, "UsePreviousValue": True})
    return values


def existing_stack(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    try:
        [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    if stack["StackStatus"] in NEW_STACK_STATUSES:
        return None
    result: dict[str, Any] = stack
    return result


def upload_template(s3: Any, path: Path, bucket: str, prefix: str) -> str:
    """The template's URL in the stack's own prefix of the bucket, named by its content."""
    body = path.read_bytes()
    key = f"{prefix}/{hashlib.sha256(body).hexdigest()}.template"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"{s3.meta.endpoint_url}/{bucket}/{key}"


def deploy(
    cloudformation: Any,
    s3: Any,
    *,
    stack_name: str,
    template_file: Path,
    bucket: str,
    prefix: str,
    role_arn: str,
    overrides: dict[str, str],
    resource_types: list[str],
) -> str:
    """Creates and executes the change set; returns what happened, or exits with why it failed."""
    stack = existing_stack(cloudformation, stack_name)
    previous = None if stack is None else {item["ParameterKey"] for item in stack.get("Parameters", [])}
    change_set_type = "CREATE" if stack is None else "UPDATE"
    change_set_name = f"deploy-{int(time.time())}"
    cloudformation.create_change_set(
        StackName=stack_name,
        ChangeSetName=change_set_name,
        ChangeSetType=change_set_type,
        TemplateURL=upload_template(s3, template_file, bucket, prefix),
        Parameters=parameter_values(load_template(template_file), overrides, previous),
        Capabilities=["CAPABILITY_IAM"],
        RoleARN=role_arn,
        ResourceTypes=resource_types,
    )
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            StackName=stack_name, ChangeSetName=change_set_name, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
        )
    except WaiterError as error:
        change_set = cloudformation.describe_change_set(StackName=stack_name, ChangeSetName=change_set_name)
        reason = change_set.get("StatusReason", str(error))
        if any(phrase in reason for phrase in NO_CHANGES):
            cloudformation.delete_change_set(StackName=stack_name, ChangeSetName=change_set_name)
            return f"{stack_name}: no changes to deploy"
        raise SystemExit(f"{stack_name}: the change set failed: {reason}") from error

    cloudformation.execute_change_set(StackName=stack_name, ChangeSetName=change_set_name)
    waiter = "stack_create_complete" if change_set_type == "CREATE" else "stack_update_complete"
    try:
        cloudformation.get_waiter(waiter).wait(StackName=stack_name, WaiterConfig={"Delay": 10, "MaxAttempts": 360})
    except WaiterError as error:
        events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
        failures = [
            f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', event['ResourceStatus'])}"
            for event in events[:50]
            if event["ResourceStatus"].endswith("_FAILED")
        ]
        raise SystemExit(f"{stack_name}: the deployment failed:\n" + "\n".join(failures)) from error
    return f"{stack_name}: {change_set_type.lower()}d"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--template-file", required=True, type=Path, help="the template sam package wrote")
    parser.add_argument("--s3-bucket", required=True)
    parser.add_argument("--s3-prefix", required=True)
    parser.add_argument("--role-arn", required=True, help="the CloudFormation execution role")
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.parameter_overrides)
    outcome = deploy(
        boto3.client("cloudformation"),
        boto3.client("s3"),
        stack_name=args.stack_name,
        template_file=args.template_file,
        bucket=args.s3_bucket,
        prefix=args.s3_prefix,
        role_arn=args.role_arn,
        overrides=overrides,
        resource_types=allowed_resource_types(),
    )
    print(outcome)


if __name__ == "__main__":
    main(sys.argv[1:])
