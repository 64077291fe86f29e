"""Run with the SAM CLI's python (.venv-sam): a template as CloudFormation receives it from SAM's transform.

    .venv-sam/bin/python tests/unit/sam_translate.py TEMPLATE [Name=value ...]

Prints the transformed template (JSON): what AWS::Serverless-2016-10-31 turns each AWS::Serverless::*
resource and event into (APIs, routes, permissions, roles), with SAM's own translator and no AWS call.
Each function's local CodeUri is replaced by an S3 location, as `sam deploy` does after uploading it.
Not a module of the test suite: the translator lives in its own virtual environment.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The translator asks for managed policy ARNs only for policies named without one: none here."""

    def load(self) -> dict[str, str]:
        return {}


def main(template_path: str, *overrides: str) -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the pseudo-parameters need a region
    template: dict[str, Any] = yaml_parse(Path(template_path).read_text(encoding="utf-8"))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/function.zip"
    parameters = dict(override.split("=", 1) for override in overrides)
    print(json.dumps(transform(template, parameters, NoManagedPolicies())))


if __name__ == "__main__":
    main(*sys.argv[1:])
