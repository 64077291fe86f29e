"""make deploy's first step, before anything is built: the AWS account and region the stack goes to.

Run by the SAM CLI's Python (.venv-sam, which has boto3). Prints the region on stdout, for
`sam deploy --region`; everything else on stderr. Fails in one line when there are no credentials,
when they do not work, or when AWS cannot be reached at all (the network, not the credentials). The
region is samconfig.toml's, or AWS_REGION / AWS_DEFAULT_REGION, or the AWS profile's; when none names
one, it is asked once and saved in samconfig.toml.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

SAMCONFIG = Path("samconfig.toml")
GLOBAL_SECTION = "[default.global.parameters]"
REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
# An answer, or a clear failure, within seconds when AWS cannot be reached.
QUICK = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 2})


class Refused(Exception):
    """Why make deploy cannot go on, in words that say what to do."""


def main() -> int:
    try:
        region, arn = check(SAMCONFIG)
    except Refused as refused:
        print(f"make deploy: {refused}", file=sys.stderr)
        return 1
    print(f"make deploy: to {region}, as {arn}", file=sys.stderr)
    print(region)
    return 0


def check(samconfig: Path) -> tuple[str, str]:
    """The region to deploy to and who deploys, once the credentials have proved to work."""
    for name, value in os.environ.items():
        if name.startswith("AWS_ENDPOINT_URL") and value and not value.startswith("https://"):
            raise Refused(f"{name} is {value} (left from a local run?): unset it to deploy to AWS")
    try:
        session = boto3.session.Session()
        credentials = session.get_credentials()
    except BotoCoreError as error:
        raise Refused(f"the AWS configuration cannot be read: {error}") from None
    if credentials is None:
        raise Refused(
            "no AWS credentials: run `aws configure` (or `aws sso login`), or set AWS_PROFILE, then make deploy again"
        )
    # botocore, and so the SAM CLI, read AWS_DEFAULT_REGION but not AWS_REGION: a region given either way counts.
    region = saved_region(samconfig) or os.environ.get("AWS_REGION") or session.region_name
    try:
        identity = session.client("sts", region_name=region or "us-east-1", config=QUICK).get_caller_identity()
    except (BotocoreConnectionError, HTTPClientError) as error:
        # No answer at all (DNS, no route, a proxy or firewall, TLS interception): nothing was said of
        # the credentials, and `aws configure` would not help.
        raise Refused(
            "AWS cannot be reached: the network (connection, DNS, proxy or firewall), not the credentials; "
            f"nothing was built or deployed yet: {error}"
        ) from None
    except (BotoCoreError, ClientError) as error:
        raise Refused(f"the AWS credentials do not work: {error}") from None
    if not region:
        region = ask_region()
        save_region(samconfig, region)
        print(f"make deploy: region {region} saved in {samconfig} (edit it there to change)", file=sys.stderr)
    return region, str(identity["Arn"])


def saved_region(samconfig: Path) -> str | None:
    try:
        config = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    default = config.get("default", {})
    for command in ("deploy", "global"):
        region = default.get(command, {}).get("parameters", {}).get("region")
        if region:
            return str(region)
    return None


def ask_region() -> str:
    print(
        "No AWS region is set (AWS_REGION, `aws configure`, samconfig.toml). Region to deploy to (e.g. eu-west-1): ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    answer = sys.stdin.readline().strip()
    if not REGION_NAME.fullmatch(answer):
        shown = f"{answer!r} is not a region" if answer else "no region given"
        raise Refused(f"{shown}: set AWS_REGION=<region> (or `aws configure set region <region>`) and run it again")
    return answer


def save_region(samconfig: Path, region: str) -> None:
    text = samconfig.read_text(encoding="utf-8") if samconfig.exists() else "version = 0.1\n"
    line = f'region = "{region}"\n'
    if GLOBAL_SECTION in text:
        text = text.replace(f"{GLOBAL_SECTION}\n", f"{GLOBAL_SECTION}\n{line}", 1)
    else:
        text = f"{text.rstrip()}\n\n{GLOBAL_SECTION}\n{line}"
    samconfig.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
