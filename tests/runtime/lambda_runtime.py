"""Lambda's own runtime on this machine: the built function under AWS's Runtime Interface Emulator.

`aws-lambda-rie` (on PATH, or named by AWS_LAMBDA_RIE) serves the Runtime API that Lambda's
execution environment serves; `awslambdaric`, the runtime interface client Lambda's
Python runtimes are built on, runs the handler of the artifact `make build-local` builds (the same
recipe as the deployed one, for this machine's platform), with python3.13 and the runtime's boto3
from .venv-runtime. One LambdaFunction is one execution environment: init on the first invoke, then
one invoke at a time (the emulator crashes on two at once), reachable on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from devtools.local_stack.template import relative

REPO = Path(__file__).resolve().parent.parent.parent
RIE_VARIABLE = "AWS_LAMBDA_RIE"
LOCAL_BUILD = REPO / ".aws-sam" / "local" / "function"  # make build-local
RUNTIME_PYTHON = REPO / ".venv-runtime" / "bin" / "python"  # make build-local
FUNCTION_SOURCE = REPO / "src"
INVOCATIONS = "/2015-03-31/functions/function/invocations"
START_SECONDS = 10.0  # the emulator listens within milliseconds; this only bounds a broken start

# Lambda gives a function no shell profile and no AWS config files: neither may a developer's here
# (a region, credentials or an endpoint_url in ~/.aws/config would change what the function does).
_ISOLATED = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "TZ": "UTC",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    # Lambda's /var/task is read-only: nothing the function imports writes bytecode next to it.
    "PYTHONDONTWRITEBYTECODE": "1",
}
_INIT_REPORT = re.compile(r"INIT REPORT\(durationMs: ([0-9.]+)\)")


@dataclass(frozen=True)
class RuntimeSetup:
    """What running a function in Lambda's runtime takes: the emulator, the runtime's python, the artifact."""

    rie: Path
    python: Path = RUNTIME_PYTHON
    build: Path = LOCAL_BUILD

    def describe(self) -> str:
        stale = " (older than src/: run make build-local)" if build_is_stale(self.build) else ""
        return f"Lambda's runtime: {self.rie} with awslambdaric, python3.13, build {relative(self.build)}{stale}"


def find_runtime(environ: Mapping[str, str] = os.environ) -> RuntimeSetup | str:
    """How to run the functions in Lambda's runtime here, or in one line why they cannot be."""
    named = environ.get(RIE_VARIABLE)
    rie = named or shutil.which("aws-lambda-rie")
    if not rie:
        return f"no aws-lambda-rie on PATH and {RIE_VARIABLE} is not set"
    if not (Path(rie).is_file() and os.access(rie, os.X_OK)):
        return f"{RIE_VARIABLE}={rie} is not an executable file"
    if not RUNTIME_PYTHON.is_file():
        return f"{relative(RUNTIME_PYTHON)} is missing (make build-local creates it; it needs python3.13)"
    if not (LOCAL_BUILD / "zenoti_receiver" / "handler.py").is_file():
        return f"no local build in {relative(LOCAL_BUILD)} (make build-local)"
    return RuntimeSetup(rie=Path(rie).resolve())


def build_is_stale(build: Path = LOCAL_BUILD) -> bool:
    """True when the function's code or lock changed after the build was made."""
    # The bytecode is compiled when the build is made (the sources are copied with their own times).
    built = min(path.stat().st_mtime for path in (build / "zenoti_receiver" / "__pycache__").iterdir())
    sources = [FUNCTION_SOURCE / "requirements.txt", *(FUNCTION_SOURCE / "zenoti_receiver").rglob("*.py")]
    return any(source.stat().st_mtime > built for source in sources)


class FunctionError(RuntimeError):
    """The function failed (an unhandled error, a timeout) or its environment died."""


@dataclass
class RuntimeLog:
    """What the emulator and the function printed, and the facts read from it."""

    lines: list[str] = field(default_factory=list)
    init_ms: list[float] = field(default_factory=list)  # one INIT REPORT per execution environment
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, line: str) -> None:
        with self.changed:
            self.lines.append(line)
            if match := _INIT_REPORT.search(line):
                self.init_ms.append(float(match.group(1)))
            self.changed.notify_all()

    def text(self) -> str:
        with self.changed:
            return "".join(self.lines)


class LambdaFunction:
    """One function in one execution environment of Lambda's runtime, on 127.0.0.1."""

    def __init__(
        self,
        setup: RuntimeSetup,
        name: str,
        handler: str,
        environment: Mapping[str, str],
        timeout_s: int,
        memory_mb: int = 512,
        log_file: Path | None = None,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.log = RuntimeLog()
        self._lock = threading.Lock()  # one invoke at a time, as one execution environment takes them
        self.port = _free_port()
        api_port = _free_port()
        command = [
            str(setup.rie),
            # Its own default is 0.0.0.0:8080 (every interface), and the Runtime API's 127.0.0.1:9001.
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{self.port}",
            "--runtime-api-address",
            f"127.0.0.1:{api_port}",
            str(setup.python),
            "-m",
            "awslambdaric",
            handler,
        ]
        # The emulator hands its own environment to the function, as Lambda hands the configured one.
        env = {
            **_ISOLATED,
            "PYTHONPATH": str(setup.build),  # first on sys.path, as /var/task is in Lambda
            "LAMBDA_TASK_ROOT": str(setup.build),
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_s),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            **environment,
        }
        self._log_stream: IO[str] | None = None
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log_stream = log_file.open("w", encoding="utf-8")
        self._process = subprocess.Popen(
            _stopped_with_parent(command),
            cwd=setup.build,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # its own process group: stopping it stops the runtime it started
        )
        self._reader = threading.Thread(target=self._read_output, name=f"{name}-log", daemon=True)
        self._reader.start()
        self._wait_listening()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{INVOCATIONS}"

    def invoke(self, event: Any) -> Any:
        """The function's result for `event` (its first invoke runs its init); one invoke at a time."""
        data = json.dumps(event).encode()
        with self._lock:
            if self._process.poll() is not None:
                raise FunctionError(f"{self.name}'s runtime exited ({self._process.returncode}):\n{self._tail()}")
            request = Request(self.url, data=data, method="POST")
            try:
                # The emulator ends an invoke at the function's timeout; this only bounds a hung emulator.
                with urlopen(request, timeout=self.timeout_s + 30) as response:
                    status, payload = response.status, response.read()
            except HTTPError as error:  # the function failed (its init, or the invoke): the body says how
                status, payload = error.code, error.read()
            except (URLError, OSError) as error:
                raise FunctionError(f"{self.name} could not be invoked: {error}\n{self._tail()}") from error
        try:
            result = json.loads(payload)
        except ValueError:
            raise FunctionError(f"{self.name} failed ({status}): {payload[:500]!r}") from None
        if status != 200 or (isinstance(result, dict) and "errorType" in result and "statusCode" not in result):
            raise FunctionError(f"{self.name} failed ({status}): {json.dumps(result)[:1000]}")
        return result

    def stop(self) -> None:
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._reader.join(timeout=10)
        if self._log_stream is not None:
            self._log_stream.close()

    def __enter__(self) -> LambdaFunction:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _read_output(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.log.add(line)
            if self._log_stream is not None:
                self._log_stream.write(line)
                self._log_stream.flush()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        self.stop()
        raise FunctionError(f"{self.name}'s runtime did not start:\n{self._tail()}")

    def _tail(self) -> str:
        return "".join(self.log.lines[-20:])


def _stopped_with_parent(command: list[str]) -> list[str]:
    """The command, made to get SIGTERM when the process that started it dies, even killed outright.

    util-linux's setpriv sets the parent-death signal, which exec keeps; without it, stop() and Ctrl-C
    still stop the emulator, but a tool killed outright would leave it running.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
