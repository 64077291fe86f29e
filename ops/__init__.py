"""Tools for people operating the receiver: replay stored events, look deletions up.

They stand on the function's own code (src/: how an item is decoded, how a message is built) and on
AWS; `python -m ops` from the repository's root finds src/ here, as the tests' pythonpath does.
"""

import sys
from pathlib import Path

_FUNCTION_CODE = str(Path(__file__).resolve().parent.parent / "src")
if _FUNCTION_CODE not in sys.path:
    sys.path.append(_FUNCTION_CODE)
