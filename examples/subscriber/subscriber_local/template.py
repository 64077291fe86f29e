"""Reading the example's template.yaml: the single source of truth for its local resources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads the short forms of intrinsic functions (!Ref, !Sub, !GetAtt, ...) as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        template: dict[str, Any] = yaml.load(stream, Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    return template


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
