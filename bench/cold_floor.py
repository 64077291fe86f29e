"""The floor of a cold start: boto3 and the same AWS calls for one event, with no framework at all.

Run by bench.cold_start like cold_handler.py (same environment, same event on stdin): creates the
three clients the function creates, with the same botocore settings, and makes the calls a new
event costs the function: get_secret_value, a conditional put_item, publish, update_item.
Prints one `BENCH-RESULT {json}` line last. Self-contained, like cold_handler.py.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime


def main() -> None:
    event = json.loads(sys.stdin.read())
    before_import = time.perf_counter()
    import boto3
    from botocore.config import Config

    # What the function's adapters configure (src/zenoti_receiver/adapters/aws.py).
    config = Config(
        connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2}, tcp_keepalive=True
    )
    secretsmanager = boto3.client("secretsmanager", config=config)
    dynamodb = boto3.client("dynamodb", config=config)
    sns = boto3.client("sns", config=config)
    imported = time.perf_counter()

    secret = json.loads(secretsmanager.get_secret_value(SecretId=os.environ["TOKEN_SECRET_ARN"])["SecretString"])
    if event["queryStringParameters"]["token"] != secret["token"]:
        raise SystemExit("wrong token")
    payload = event["body"]
    body = json.loads(payload)
    data = body["data"]
    now = datetime.now(UTC).isoformat()
    table = os.environ["EVENTS_TABLE_NAME"]
    dynamodb.put_item(
        TableName=table,
        Item={
            "event_id": {"S": body["event_id"]},
            "event_type": {"S": body["event_type"]},
            "occurred_at": {"S": body["event_timestamp"]},
            "center_id": {"S": data["center_id"]},
            "guest_id": {"S": data["guest_id"]},
            "registration_id": {"N": str(data["registration_id"])},
            "payload": {"S": payload},
            "received_at": {"S": now},
            "published": {"BOOL": False},
        },
        ConditionExpression="attribute_not_exists(event_id)",
    )
    message_id = sns.publish(
        TopicArn=os.environ["EVENTS_TOPIC_ARN"],
        Message=payload,
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": body["event_type"]},
            "event_resource": {"DataType": "String", "StringValue": body["event_resource"]},
            "center_id": {"DataType": "String", "StringValue": data["center_id"]},
        },
    )["MessageId"]
    dynamodb.update_item(
        TableName=table,
        Key={"event_id": {"S": body["event_id"]}},
        UpdateExpression="SET published = :true, sns_message_id = :message",
        ExpressionAttributeValues={":true": {"BOOL": True}, ":message": {"S": message_id}},
    )
    served = time.perf_counter()
    report = {
        "status": 200,
        "body": {"status": "accepted", "event_id": body["event_id"]},
        "init_s": imported - before_import,
        "request_s": served - imported,
    }
    print("BENCH-RESULT " + json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
