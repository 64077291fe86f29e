"""What `sam build` puts in the function's artifact, and `make build` to produce it."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from devtools.bench.events import REPO

ARTIFACT = REPO / ".aws-sam" / "build" / "ReceiverFunction"


@dataclass
class PackageSize:
    files: int
    bytes: int  # the files' sizes
    disk_bytes: int  # blocks allocated, like du
    zipped_bytes: int  # what a deployment zip of it would weigh (deflate, level 6)
    top: list[tuple[str, int]]  # top-level entries by size, largest first


def measure_package(artifact: Path = ARTIFACT) -> PackageSize | None:
    if not artifact.is_dir():
        return None
    by_entry: dict[str, int] = {}
    files = total = disk = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(artifact.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            stat = path.stat()
            files += 1
            total += stat.st_size
            disk += stat.st_blocks * 512
            entry = path.relative_to(artifact).parts[0]
            # A package and its .dist-info count together: they come and go together.
            name = entry.split("-", 1)[0] if entry.endswith((".dist-info", ".data")) else entry.removesuffix(".py")
            by_entry[name] = by_entry.get(name, 0) + stat.st_size
            archive.write(path, path.relative_to(artifact).as_posix())
    top = sorted(by_entry.items(), key=lambda item: item[1], reverse=True)
    return PackageSize(files=files, bytes=total, disk_bytes=disk, zipped_bytes=buffer.tell(), top=top)


def run_make_build() -> int:
    """`make build`; sam build needs python3.13 on PATH, which pyenv can provide (as .ci/run does)."""
    environment = dict(os.environ)
    pyenv = shutil.which("pyenv")
    if not _runs("python3.13") and pyenv:
        versions = _output([pyenv, "versions", "--bare"]).split()
        if "3.13.0" in versions:
            environment["PYENV_VERSION"] = f"{_output([pyenv, 'version-name']).strip()}:3.13.0"
    make = shutil.which("make")
    if make is None:
        print("make is not installed", file=sys.stderr)
        return 127
    # Its output goes to stderr: stdout is the table's.
    build = subprocess.run([make, "build"], cwd=REPO, env=environment, stdout=sys.stderr, check=False)  # noqa: S603 - our make
    return build.returncode


def _runs(command: str) -> bool:
    executable = shutil.which(command)
    if executable is None:
        return False
    # pyenv's shim exists for versions that are not selected: only running it tells.
    return subprocess.run([executable, "--version"], capture_output=True, check=False).returncode == 0  # noqa: S603 - a PATH lookup


def _output(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout  # noqa: S603 - pyenv, found on PATH
