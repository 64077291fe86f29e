"""Run with the SAM CLI's python (the receiver's .venv-sam): the example's template as SAM transforms it.

    ../../.venv-sam/bin/python tests/sam_translate.py TEMPLATE

Prints the CloudFormation template SAM's translator (samtranslator, the code `sam deploy` runs)
makes of TEMPLATE, with the code as `sam package` would point at it (an S3 URI) and no AWS call: the
roles and policies SAM adds are what CloudFormation would create. Not a module of the test suite:
SAM lives in its own virtual environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """SAM asks IAM for the ARNs of the managed policies a template names by name; this template names none."""

    def load(self) -> dict[str, str]:
        return {}


def main(template_path: str) -> None:
    template: dict[str, Any] = yaml_parse(Path(template_path).read_text(encoding="utf-8"))
    for body in template["Resources"].values():
        if body["Type"] == "AWS::Serverless::Function":
            body["Properties"]["CodeUri"] = "s3://artifacts/function.zip"  # what `sam package` writes
    parameters = {"EventsTopicArn": "arn:aws:sns:us-east-1:123456789012:zenoti-webhooks-events"}
    print(json.dumps(transform(template, parameters, NoManagedPolicies())))


if __name__ == "__main__":
    main(*sys.argv[1:])
