"""With WafFrontDoor=true, nothing but the front door reaches the receiver function.

Read from the template as CloudFormation receives it: SAM's translator turns the function's HttpApi
events into the HTTP API's routes and the function's permissions (tests/unit/sam_translate.py), then
the template's conditions are decided for the parameters given, as CloudFormation decides them.
"""

from __future__ import annotations

import json
import subprocess
from functools import cache
from typing import Any

import pytest

from devtools.local_stack.template import load_template, resource
from tests.conftest import ROOT

SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
WEBHOOK_PATHS = {"/zenoti/webhook", "/zenoti/class-booking-deleted"}
VERBS = {"POST", "PUT", "PATCH"}
needs_sam = pytest.mark.skipif(
    not SAM_PYTHON.exists(), reason="needs the SAM CLI in .venv-sam (make validate creates it)"
)


@cache
def transformed() -> dict[str, Any]:
    result = subprocess.run(
        [str(SAM_PYTHON), str(ROOT / "tests/unit/sam_translate.py"), str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def deployed(template: dict[str, Any], **parameters: str) -> dict[str, Any]:
    """The resources CloudFormation creates for these parameters: conditions decided, Fn::If resolved."""
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()} | parameters
    conditions: dict[str, bool] = {}

    def decide(expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            [(function, argument)] = expression.items()
            if function == "Ref" and argument in values:
                return values[argument]
            if function == "Condition":
                return holds(argument)
            if function == "Fn::Equals":  # as CloudFormation compares: 0 in the template is the string "0"
                return str(decide(argument[0])) == str(decide(argument[1]))
            if function == "Fn::Not":
                return not decide(argument[0])
            if function == "Fn::And":
                return all(decide(each) for each in argument)
            if function == "Fn::Or":
                return any(decide(each) for each in argument)
            if function == "Fn::Join":
                joined = decide(argument[1])
                return argument[0].join(joined if isinstance(joined, list) else [joined])
        return expression

    def holds(name: str) -> bool:
        if name not in conditions:
            conditions[name] = bool(decide(template["Conditions"][name]))
        return conditions[name]

    def resolved(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Fn::If"}:
                condition, when_true, when_false = value["Fn::If"]
                return resolved(when_true if holds(condition) else when_false)
            return {key: resolved(each) for key, each in value.items()}
        if isinstance(value, list):
            return [resolved(each) for each in value]
        return value

    return {
        logical_id: resolved(body)
        for logical_id, body in template["Resources"].items()
        if "Condition" not in body or holds(body["Condition"])
    }


def of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: body["Properties"] for logical_id, body in resources.items() if body["Type"] == kind}


def invokers(resources: dict[str, Any]) -> dict[str, str]:
    """Who may invoke the receiver: each permission's logical id and the API its source ARN names."""
    found = {}
    for logical_id, permission in of_type(resources, "AWS::Lambda::Permission").items():
        if "ReceiverFunction" not in json.dumps(permission["FunctionName"]):
            continue
        assert (permission["Action"], permission["Principal"]) == ("lambda:InvokeFunction", "apigateway.amazonaws.com")
        source = json.dumps(permission["SourceArn"])
        found[logical_id] = "FrontDoorApi" if "${FrontDoorApi}/${FrontDoorStage}/" in source else source
    return found


def http_api_endpoint_disabled(api: dict[str, Any]) -> bool:
    servers = api["Body"].get("servers", [])
    return any(
        s.get("x-amazon-apigateway-endpoint-configuration", {}).get("disableExecuteApiEndpoint") for s in servers
    )


@needs_sam
def test_with_the_front_door_only_it_can_invoke_the_function():
    resources = deployed(transformed(), WafFrontDoor="true")

    found = invokers(resources)
    through_front_door = {logical_id for logical_id, api in found.items() if api == "FrontDoorApi"}
    # The two webhook paths of the front door's stage, and nothing broader.
    assert through_front_door == {"FrontDoorInvokesOnWebhookPath", "FrontDoorInvokesOnBookingDeletedPath"}
    sources = {json.dumps(resources[logical_id]["Properties"]["SourceArn"]) for logical_id in through_front_door}
    assert {source.rsplit("/*", 1)[1].rstrip('"}') for source in sources} == WEBHOOK_PATHS
    # The HTTP API's routes keep their permissions, but its only endpoint answers nothing, and no custom
    # domain could reach it: the function is reached through the front door alone.
    [http_api] = of_type(resources, "AWS::ApiGatewayV2::Api").values()
    assert all("WebhookApi" in api for api in set(found.values()) - {"FrontDoorApi"})
    assert http_api_endpoint_disabled(http_api)
    assert not {body["Type"] for body in resources.values()} & {
        "AWS::ApiGatewayV2::DomainName",
        "AWS::ApiGatewayV2::ApiMapping",
        "AWS::ApiGateway::DomainName",
        "AWS::Lambda::Url",
    }


@needs_sam
def test_the_front_door_serves_both_paths_for_every_verb_with_the_function_itself():
    resources = deployed(transformed(), WafFrontDoor="true")
    paths = {
        logical_id: "/zenoti/" + properties["PathPart"]
        for logical_id, properties in of_type(resources, "AWS::ApiGateway::Resource").items()
        if properties["ParentId"] == {"Ref": "FrontDoorZenotiResource"}
    }

    served = set()
    for method in of_type(resources, "AWS::ApiGateway::Method").values():
        integration = method["Integration"]
        assert (integration["Type"], integration["IntegrationHttpMethod"]) == ("AWS_PROXY", "POST")
        assert "${ReceiverFunction.Arn}/invocations" in integration["Uri"]["Fn::Sub"]
        assert integration["TimeoutInMillis"] < 10_000  # Zenoti waits 10 s
        served.add((method["HttpMethod"], paths[method["ResourceId"]["Ref"]]))
    assert served == {(verb, path) for verb in VERBS for path in WEBHOOK_PATHS}
    # The web ACL guards the stage the permissions name, and the stage serves these methods.
    [stage_name] = [stage["StageName"] for stage in of_type(resources, "AWS::ApiGateway::Stage").values()]
    association = of_type(resources, "AWS::WAFv2::WebACLAssociation")["FrontDoorWebAclAssociation"]
    assert "/restapis/${FrontDoorApi}/stages/${FrontDoorStage}" in association["ResourceArn"]["Fn::Sub"]
    [deployment] = [body for body in resources.values() if body["Type"] == "AWS::ApiGateway::Deployment"]
    assert {resources[d]["Type"] for d in deployment["DependsOn"]} == {"AWS::ApiGateway::Method"}
    assert len(deployment["DependsOn"]) == len(served)
    assert stage_name == "webhook"


@needs_sam
def test_without_the_front_door_the_http_api_serves_zenoti():
    resources = deployed(transformed())

    assert not [logical_id for logical_id in resources if logical_id.startswith("FrontDoor")]
    [http_api] = of_type(resources, "AWS::ApiGatewayV2::Api").values()
    assert not http_api_endpoint_disabled(http_api)
    assert invokers(resources)
    assert all("WebhookApi" in api for api in invokers(resources).values())


def test_zenoti_is_given_the_front_doors_neutral_path_when_there_is_one():
    condition, front_door, direct = load_template()["Outputs"]["WebhookUrl"]["Value"]["Fn::If"]

    assert condition == "HasWafFrontDoor"
    assert (
        front_door["Fn::Sub"]
        == "https://${FrontDoorApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/webhook/zenoti/webhook"
    )
    assert "${WebhookApi}" in direct["Fn::Sub"]


def test_the_front_door_is_watched_like_the_http_api():
    template = load_template()
    server_errors = resource(template, "FrontDoorServerErrorsAlarm")["Properties"]
    refusals = resource(template, "FrontDoorRefusalsAlarm")["Properties"]
    watched = {"ApiName": {"Fn::Sub": "${AWS::StackName}-front-door"}, "Stage": {"Ref": "FrontDoorStage"}}

    assert (server_errors["Namespace"], server_errors["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    assert {d["Name"]: d["Value"] for d in server_errors["Dimensions"]} == watched
    assert resource(template, "FrontDoorApi")["Properties"]["Name"] == watched["ApiName"]
    [gateway] = [m["MetricStat"]["Metric"] for m in refusals["Metrics"] if m["Id"] == "answered4xx"]
    assert (gateway["MetricName"], {d["Name"]: d["Value"] for d in gateway["Dimensions"]}) == ("4XXError", watched)


def test_the_front_door_keeps_no_trace_of_the_token():
    # X-Ray's segment of a REST API stage records the URL with its query string, where Zenoti puts the token.
    resources = deployed(load_template(), WafFrontDoor="true")
    stage = resources["FrontDoorStage"]["Properties"]

    assert stage["TracingEnabled"] is False
    assert "query" not in stage["AccessLogSetting"]["Format"].lower()
    assert {"QueryString": {}} in resources["FrontDoorWafLogging"]["Properties"]["RedactedFields"]
