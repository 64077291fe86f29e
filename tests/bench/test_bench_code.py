"""`make bench`: what runs in its process is the code root it is given, and what its cold-start child copies agrees."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import zenoti_receiver.timing  # noqa: F401 - the checkout's package, loaded as the bench's own imports load it
from devtools.local_stack.receiver import import_handler
from devtools.local_stack.template import REPO


def _ours() -> dict[str, object]:
    return {name: module for name, module in sys.modules.items() if name.partition(".")[0] == "zenoti_receiver"}


def test_a_module_is_imported_from_the_code_root_it_is_given(tmp_path, monkeypatch):
    other = tmp_path / "src"
    shutil.copytree(
        REPO / "src" / "zenoti_receiver", other / "zenoti_receiver", ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(sys, "path", list(sys.path))
    checkout = _ours()
    try:
        module = import_handler("zenoti_receiver.timing", other)

        assert Path(str(module.__file__)).is_relative_to(other)
        assert Path(str(sys.modules["zenoti_receiver"].__file__)).is_relative_to(other)
    finally:  # the checkout's modules back, for the tests that follow in this process
        for name in _ours():
            del sys.modules[name]
        sys.modules.update(checkout)  # type: ignore[arg-type]


def test_the_cold_start_childs_copies_are_the_functions_settings():
    # The child process that measures a cold start imports nothing of src/ before the clock starts: its copies of
    # the timeouts and of the adapters' botocore settings are held to the originals here.
    from botocore.config import Config

    from devtools.bench.cold_start import TIMEOUT_MS, bounded_config
    from zenoti_receiver.adapters.aws import BOUNDED
    from zenoti_receiver.timing import PUBLISHER_TIMEOUT_SECONDS, RECEIVER_TIMEOUT_SECONDS

    assert TIMEOUT_MS == {"receiver": RECEIVER_TIMEOUT_SECONDS * 1000, "publisher": PUBLISHER_TIMEOUT_SECONDS * 1000}
    copy, original = bounded_config(), BOUNDED
    assert isinstance(copy, Config)
    for setting in ("connect_timeout", "read_timeout", "retries", "tcp_keepalive", "parameter_validation"):
        assert getattr(copy, setting) == getattr(original, setting), setting
