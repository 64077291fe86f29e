"""`make deploy`: guided the first time, then with the answers samconfig.toml keeps."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT


def deploy(directory: Path) -> str:
    # SAM replaced by echo, and its venv by a stamp newer than its lock: the recipe runs, nothing deploys.
    run = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "deploy",
            "SAM=echo sam",
            "SAM_VENV=fake-venv",
            "DEPLOY_ARGS=--no-execute-changeset",
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return run.stdout


def test_deploy_is_guided_until_samconfig_holds_a_region(tmp_path: Path):
    (tmp_path / ".ci").mkdir()
    for name in ("Makefile", "samconfig.toml", "requirements-sam.txt", "requirements-dev.txt", ".ci/python3.13.sh"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "fake-venv").mkdir()
    (tmp_path / "fake-venv" / ".installed").touch()

    first = deploy(tmp_path)
    config = tmp_path / "samconfig.toml"
    config.write_text(config.read_text() + '\n[default.deploy.parameters]\nregion = "eu-west-1"\n')
    later = deploy(tmp_path)

    assert "sam build" in first
    assert "sam deploy --guided --no-execute-changeset" in first
    assert "sam deploy --no-execute-changeset" in later
    assert "--guided" not in later
