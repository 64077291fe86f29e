"""make deploy's first step tells a network that does not reach AWS from credentials that do not work."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.unit.test_makefile import deploy_check


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials of the right form (never checked by AWS here), a region, and one attempt per call."""
    for name in [name for name in os.environ if name.startswith("AWS_") or name.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOPERATOR00000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "operator-secret-access-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


def no_dns(*_: object, **__: object) -> None:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once closed


@pytest.mark.parametrize("network", ["no DNS", "a proxy that refuses"])
def test_a_network_that_does_not_reach_aws_is_not_called_a_credentials_problem(
    credentials, monkeypatch, tmp_path: Path, network
):
    if network == "no DNS":
        monkeypatch.setattr(socket, "getaddrinfo", no_dns)
        unreached = "https://sts.eu-west-1.amazonaws.com/"
    else:
        unreached = f"http://127.0.0.1:{closed_port()}"
        monkeypatch.setenv("HTTPS_PROXY", unreached)
    check = deploy_check()

    with pytest.raises(check.Refused) as refused:
        check.check(tmp_path / "samconfig.toml")

    message = str(refused.value)
    assert message.startswith(
        "AWS cannot be reached: the network (connection, DNS, proxy or firewall), not the credentials"
    )
    assert "credentials do not work" not in message
    assert unreached in message  # what could not be reached, for whoever checks the firewall
