"""Where the function's code is, outside Lambda: the example's src/ and the receiver's model of the event."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent
FUNCTION_CODE = EXAMPLE / "src"  # CodeUri in template.yaml
# The receiver's source, when the example sits in the receiver's repository (examples/subscriber/).
RECEIVER_CODE = EXAMPLE.parent.parent / "src"
MODEL = "zenoti_receiver.models.class_booking"


def put_on_path() -> None:
    """Make booking_subscriber importable, and the receiver's model if src/ holds no vendored copy (README)."""
    if str(FUNCTION_CODE) not in sys.path:
        sys.path.insert(0, str(FUNCTION_CODE))
    if not _model_found() and (RECEIVER_CODE / "zenoti_receiver").is_dir():
        sys.path.append(str(RECEIVER_CODE))
    if not _model_found():
        raise ModuleNotFoundError(
            "the receiver's model of the event is missing: copy src/zenoti_receiver/models/class_booking.py and "
            f"envelope.py of the receiver to {FUNCTION_CODE}/zenoti_receiver/models/ (README, 'In your own repository')"
        )


def _model_found() -> bool:
    try:
        return importlib.util.find_spec(MODEL) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False
