"""What `sam build` puts in the function's artifact, and `make build` to produce it."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from collections import Counter

from devtools.bench.table import Row, megabytes, row
from devtools.local_stack.template import REPO

ARTIFACT = REPO / ".aws-sam" / "build" / "ReceiverFunction"
LABEL = "Package size (sam build artifact)"


def package_rows(build_status: int) -> list[Row]:
    """Its size on disk, in files and zipped (deflate, level 6), and its three largest top-level entries."""
    if build_status:
        return [row(LABEL, f"`make build` failed (exit {build_status})")]
    if not ARTIFACT.is_dir():
        return [row(LABEL, "run `make build` first", f"(no {ARTIFACT.relative_to(REPO)}; or --build)")]
    by_entry: Counter[str] = Counter()
    files = total = disk = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(ARTIFACT.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            stat = path.stat()
            files, total, disk = files + 1, total + stat.st_size, disk + stat.st_blocks * 512  # blocks, like du
            entry = path.relative_to(ARTIFACT).parts[0]
            # A package and its .dist-info count together: they come and go together.
            name = entry.split("-", 1)[0] if entry.endswith((".dist-info", ".data")) else entry.removesuffix(".py")
            by_entry[name] += stat.st_size
            archive.write(path, path.relative_to(ARTIFACT).as_posix())
    sizes = f"{megabytes(total)} in {files} files; zipped {megabytes(buffer.tell())}"
    return [
        row(LABEL, f"{megabytes(disk)} on disk", sizes, goal="(none)"),
        *[row(f"  {name}", megabytes(size)) for name, size in by_entry.most_common(3)],
    ]


def run_make_build() -> int:
    """`make build` (which finds python3.13 for sam build as CI does), its output on stderr: stdout is the table's."""
    print("[bench] make build", file=sys.stderr, flush=True)
    return subprocess.run(["make", "build"], cwd=REPO, stdout=sys.stderr, check=False).returncode  # noqa: S607
