"""Tools for people operating the receiver, on the function's own code (src/, found here) and on AWS."""

import sys
from pathlib import Path

_FUNCTION_CODE = str(Path(__file__).resolve().parent.parent / "src")
if _FUNCTION_CODE not in sys.path:
    sys.path.append(_FUNCTION_CODE)
