"""`make local` (python -m subscriber_local): it stops cleanly, exit 0, on Ctrl-C and on SIGTERM, and reads another
queue in the shape that queue's subscription delivers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from conftest import EXAMPLE
from subscriber_local.__main__ import raw_message_delivery
from subscriber_local.resources import LOCAL_TOPIC_ARN, REGION

moto_server = pytest.importorskip("moto.server", reason="needs moto's server (moto[server])")


@pytest.fixture
def emulator() -> Iterator[str]:
    """moto's server on a free local port, with the receiver's topic as `make serve` names it."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    sns = boto3.client(
        "sns", endpoint_url=url, region_name=REGION, aws_access_key_id="local", aws_secret_access_key="local"
    )
    sns.create_topic(Name=LOCAL_TOPIC_ARN.rsplit(":", 1)[1])
    yield url
    server.stop()


def started(command: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    """The command in a session of its own (a terminal's), once it has said it waits for messages."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(PYTHONUNBUFFERED="1", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    environment["PYTHONPATH"] = str(EXAMPLE.parent.parent)  # the receiver's repository: its local stack
    process = subprocess.Popen(
        command,
        cwd=EXAMPLE,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    lines = []
    while line := process.stdout.readline():
        lines.append(line)
        if "Waiting for messages" in line:
            return process
    process.wait(timeout=10)
    raise AssertionError(f"{command} exited before it was ready:\n{''.join(lines)}")


def subscriber_process(process: subprocess.Popen[str], command: str) -> int:
    """The process of the subscriber itself: make's child under `make local`."""
    if command == "python -m subscriber_local":
        return process.pid
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if not children.exists():
        pytest.skip("finding make's child needs Linux's /proc")
    [child] = children.read_text().split()
    return int(child)


@pytest.mark.parametrize(
    ("command", "stop", "sent_to"),
    [
        pytest.param("make local", signal.SIGTERM, "the subscriber", id="make local, SIGTERM"),
        pytest.param("python -m subscriber_local", signal.SIGINT, "the process group", id="Ctrl-C"),
        pytest.param(
            "python -m subscriber_local", signal.SIGTERM, "the subscriber", id="SIGTERM", marks=pytest.mark.deep
        ),
        pytest.param("make local", signal.SIGINT, "the subscriber", id="make local, SIGINT", marks=pytest.mark.deep),
    ],
)
def test_the_local_command_stops_cleanly_on_ctrl_c_and_sigterm(emulator, tmp_path, command, stop, sent_to):
    # A signal to make itself (a terminal's Ctrl-C reaches the whole process group) ends make by that signal
    # once the subscriber has stopped: GNU make re-raises it whatever its recipe did (README, `make local`).
    if stop == signal.SIGINT and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # A run started with SIGINT ignored (a CI runner, `cmd &` in a script) passes that on to every child,
        # and Python then leaves SIGINT ignored: no terminal's Ctrl-C can be played here.
        pytest.skip("SIGINT is ignored in this run, and so in every process it starts")
    arguments = ["--endpoint-url", emulator]
    if command == "make local":
        argv = ["make", "-s", "local", f"LOCAL_ARGS={' '.join(arguments)}"]
    else:
        argv = [sys.executable, "-m", "subscriber_local", *arguments]
    process = started(argv, tmp_path)

    try:
        if sent_to == "the subscriber":
            os.kill(subscriber_process(process, command), stop)
        else:
            os.killpg(process.pid, stop)
        printed, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    assert process.returncode == 0, printed
    assert printed.strip().endswith("Stopping."), printed
    assert "Traceback" not in printed
    assert "make: ***" not in printed


def test_with_queue_url_the_function_is_told_the_shape_that_queues_subscription_delivers(aws, topic_arn):
    # `make local --queue-url` reads a queue it did not subscribe: the shape is that subscription's setting,
    # as the template tells the deployed function its own, never a guess from a message.
    sqs, sns = boto3.client("sqs", region_name=REGION), boto3.client("sns", region_name=REGION)
    arns = {}
    for name in ("raw", "enveloped", "unsubscribed"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arns[name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arns["raw"], Attributes={"RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arns["enveloped"])

    assert raw_message_delivery(sns, topic_arn, arns["raw"]) == "true"
    assert raw_message_delivery(sns, topic_arn, arns["enveloped"]) == "false"
    assert raw_message_delivery(sns, topic_arn, arns["unsubscribed"]) is None
