"""How long the functions may take, in one place: each function's timeout and each AWS call's bounds."""

# Zenoti waits 10 s for an answer and retries a failed delivery 30 s later at the earliest.
ZENOTI_WAITS_SECONDS = 10

# template.yaml's Timeout of each function (tests/unit/test_template.py holds it to these). The receiver's
# is the hard stop, with a second of Zenoti's wait left for API Gateway and the network. A batch of the
# stream takes milliseconds a record while SNS is well; while it is not, the first failed call ends it.
RECEIVER_TIMEOUT_SECONDS = 9
PUBLISHER_TIMEOUT_SECONDS = 30

# Every AWS call the functions make (DynamoDB, SNS, Secrets Manager) takes milliseconds when AWS is well,
# so a second of read time, and one retry, is room enough; past that the delivery fails fast (a 5xx while
# nothing is stored: Zenoti retries) instead of running into the timeout.
AWS_CONNECT_SECONDS = 0.5
AWS_READ_SECONDS = 1.0
AWS_ATTEMPTS = 2
# Every attempt timing out, and botocore's standard retry mode waiting at most 1 s before each retry.
AWS_CALL_WORST_SECONDS = AWS_ATTEMPTS * (AWS_CONNECT_SECONDS + AWS_READ_SECONDS) + AWS_ATTEMPTS - 1
