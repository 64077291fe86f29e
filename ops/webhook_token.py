"""The webhook token: rotate it without losing events (the receiver accepts `token` and `previous_token`), then
drop the one it replaced. Generated here, never an argument, a log line or an error; printed only with --print-url."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import ClientError

from ops.errors import EXIT_DONE, OperatorError
from ops.target import PRINT_TOKEN_OUTPUT, SECRET_OUTPUT, WEBHOOK_OUTPUT, TargetOptions, resolve_deployment

# 48 URL-safe characters (288 bits), as long as the token the stack generates; `-` and `_` need no
# escaping in Zenoti's URL field.
TOKEN_BYTES = 36
NEXT_STEPS = """Next:
  1. Wait TokenCacheSeconds (5 minutes by default): running functions then accept the new token{still}.
  2. Read it with the stack's PrintTokenCommand output (or --print-url here):
       {command}
     and set Zenoti's webhook URL to {url}?token=<the new token>.
  3. Once Zenoti's deliveries carry it (UnauthorizedAlarm stays quiet), stop accepting the old one:
       .venv/bin/python -m ops token drop-previous{where}"""


@dataclass(frozen=True)
class TokenTarget:
    secret_id: str
    secretsmanager: Any
    webhook_url: str | None  # the stack's WebhookUrl output; unknown with --secret-id
    print_token_command: str
    where: str = ""  # the options that chose this secret, for the commands printed next


def resolve(options: TargetOptions, secret_id: str | None) -> TokenTarget:
    """The secret to change: the stack's WebhookTokenSecretArn output, or the one named."""
    deployment = resolve_deployment(options, {SECRET_OUTPUT: secret_id})
    chosen: dict[str, str | None] = {"--secret-id": secret_id} if secret_id else {"--stack-name": options.stack_name}
    chosen |= {"--region": options.region, "--endpoint-url": options.endpoint_url}
    where = "".join(f" {option} {value}" for option, value in chosen.items() if value)
    secret_id, outputs = deployment.names[SECRET_OUTPUT], deployment.outputs
    printing = outputs.get(PRINT_TOKEN_OUTPUT) or (
        f"aws secretsmanager get-secret-value --secret-id {secret_id} --query SecretString --output text"
        " | python3 -c \"import json, sys; print(json.load(sys.stdin)['token'])\""
    )
    webhook_url = outputs.get(WEBHOOK_OUTPUT)
    return TokenTarget(secret_id, deployment.client("secretsmanager"), webhook_url, printing, where)


def rotate(target: TokenTarget, out: TextIO, *, force: bool = False, print_url: bool = False) -> int:
    """Write a new token, keeping the one in force as previous_token."""
    value = _read(target)
    current = value.get("token")
    has_token = isinstance(current, str) and bool(current)
    url = target.webhook_url or "<WebhookUrl>"
    if value.get("previous_token") and not force:
        raise OperatorError(
            "a rotation is under way: the secret still holds previous_token, which Zenoti may be using. "
            f"Finish it first (`.venv/bin/python -m ops token drop-previous{target.where}`, once Zenoti uses the new "
            "token), or pass --force to replace the token in force and keep only it as previous_token"
        )
    if not has_token and not force:
        raise OperatorError(
            'the secret holds no token to keep (it is not JSON of the form {"token": "..."}), so the '
            "receiver refuses every delivery; pass --force to write a new token alone"
        )
    new = secrets.token_urlsafe(TOKEN_BYTES)
    value.pop("previous_token", None)
    version = _write(target, value | {"token": new} | ({"previous_token": current} if has_token else {}))
    kept = "the token it replaces is kept as previous_token" if has_token else "there was no token to keep"
    print(f"Wrote a new token to {target.secret_id} (version {version}); {kept}.", file=out)
    still = ", and still the old one" if has_token else ""
    print(NEXT_STEPS.format(still=still, command=target.print_token_command, url=url, where=target.where), file=out)
    if print_url:
        print(f"{url}?token={new}", file=out)
    return EXIT_DONE


def drop_previous(target: TokenTarget, out: TextIO) -> int:
    """End a rotation: remove previous_token, so only the token in force is accepted."""
    value = _read(target)
    if not isinstance(value.get("token"), str) or not value["token"]:
        raise OperatorError('the secret holds no token (it is not JSON of the form {"token": "..."}); left as it is')
    if "previous_token" not in value:
        print(f"{target.secret_id} holds no previous_token: only the token in force is accepted.", file=out)
        return EXIT_DONE
    del value["previous_token"]
    version = _write(target, value)
    stops = "the old token stops being accepted within TokenCacheSeconds (5 minutes by default)"
    print(f"Removed previous_token from {target.secret_id} (version {version}): {stops}.", file=out)
    return EXIT_DONE


def _read(target: TokenTarget) -> dict[str, Any]:
    secret = target.secretsmanager.get_secret_value(SecretId=target.secret_id)
    try:
        value = json.loads(secret.get("SecretString") or "")
    except ValueError:
        return {}  # malformed: never shown, it may be a token written bare
    return value if isinstance(value, dict) else {}


def _write(target: TokenTarget, value: dict[str, Any]) -> str:
    try:
        written = target.secretsmanager.put_secret_value(SecretId=target.secret_id, SecretString=json.dumps(value))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "AccessDeniedException":
            raise
        # Most often the secret's own policy: with TokenAdminPrincipalArns, only they change the token.
        raise OperatorError(
            f"you may not write {target.secret_id} (AccessDeniedException): with the stack parameter "
            "TokenAdminPrincipalArns, only those principals change the token: run this as one of them; "
            "without it, your role needs secretsmanager:PutSecretValue on the secret. Nothing was changed"
        ) from None
    return str(written["VersionId"])
