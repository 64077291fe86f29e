"""Run with the SAM CLI's python (.venv-sam): a template as CloudFormation receives it after SAM's transform.

    .venv-sam/bin/python tests/unit/sam_transform.py TEMPLATE

Prints the transformed template as JSON: what SAM's own translator (samtranslator, the code behind the
AWS::Serverless-2016-10-31 transform) makes of TEMPLATE, the resources behind every condition
included. No AWS call is made: the local code paths become S3 URIs, as `sam package` would make them,
and no managed policy is looked up by name. Not a module of the test suite: SAM lives in its own
virtual environment.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

# The translator asks boto3 for the region even when the pseudo parameters are given.
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

PSEUDO_PARAMETERS = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}


class NoManagedPolicyNames:
    """The templates name managed policies by ARN only; a name to look up would be a finding."""

    def load(self) -> dict[str, str]:
        return {}


def transformed(path: str) -> dict[str, Any]:
    template: dict[str, Any] = yaml_parse(Path(path).read_text(encoding="utf-8"))
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and not str(properties.get("CodeUri")).startswith("s3://"):
            properties["CodeUri"] = f"s3://artifacts/{logical_id}.zip"
    result: dict[str, Any] = transform(template, dict(PSEUDO_PARAMETERS), NoManagedPolicyNames())
    return result


if __name__ == "__main__":
    print(json.dumps(transformed(sys.argv[1])))
