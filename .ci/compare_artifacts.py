"""Compare two builds of the deployable artifact file by file: same paths, same SHA-256 of each file.

Usage: python .ci/compare_artifacts.py FIRST_DIR SECOND_DIR (exits 1, naming the files, when they differ).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path


def digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def main(first: str, second: str) -> int:
    a, b = digests(Path(first)), digests(Path(second))
    differ = sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
    for name in differ:
        print(f"differs: {name} ({'both' if name in a and name in b else 'only one build'})")
    # One digest of the whole artifact: paths and contents, in order.
    whole = hashlib.sha256("".join(f"{digest}  {name}\n" for name, digest in a.items()).encode()).hexdigest()
    print(f"{len(a)} files; {len(differ)} differ; artifact digest {whole}")
    return 1 if differ or not a else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
