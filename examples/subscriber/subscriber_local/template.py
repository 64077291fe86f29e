"""Reading the example's template.yaml: the single source of truth for its local resources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# The same reader of CloudFormation's YAML as the receiver's local stack: this tool runs against the
# receiver's `make serve`, from the receiver's repository (README.md, "Run it against the receiver").
from devtools.local_stack.template import load_template as receivers_loader

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The example's template as plain data, read as the receiver's local stack reads its own."""
    return receivers_loader(path)


def properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]  # type: ignore[no-any-return]


def resolve(value: Any, references: dict[str, Any]) -> Any:
    """`value` with !Ref and !GetAtt X.Arn replaced from `references` (logical ids and parameter names)."""
    if isinstance(value, list):
        return [resolve(item, references) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return references[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        return references[f"{logical_id}.{attribute}"]
    if any(key.startswith("Fn::") for key in value):
        raise ValueError(f"cannot resolve {value} locally")
    return {key: resolve(item, references) for key, item in value.items()}
