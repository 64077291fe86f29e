"""Write the contracts' JSON Schema files from the models, or check that the committed files still match them.
`make schema` writes schema/*.schema.json; `make check-schema` (--check) exits 1 if one is not what the models give."""

from __future__ import annotations

import argparse
import difflib
import functools
import json
import operator
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import Field, TypeAdapter
from typing_extensions import TypedDict, is_typeddict

from zenoti_receiver.models.catalog import FAMILIES, Family
from zenoti_receiver.responses import AcceptedBody, DuplicateBody, FailureBody, HeldBody, RefusedBody, TriggerTestBody

DIRECTORY = Path(__file__).resolve().parent.parent / "schema"  # the published contracts
DIALECT = "https://json-schema.org/draft/2020-12/schema"  # the draft pydantic generates for
RESPONSES = "src/zenoti_receiver/responses.py"


# Not the function's: 429 when the stage throttles, 404 for another path or verb, 500 or 503 when the
# function could not answer (it crashed, timed out, or Lambda throttled it).
class ApiGatewayBody(TypedDict):
    """API Gateway's own answer, instead of the function's: throttled, no such route, or the function failed."""

    message: str


def _published(source: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": DIALECT, "$comment": f"Generated from {source} by `make schema`; do not edit.", **schema}


def _body(body_type: Any, source: str = RESPONSES) -> Callable[[], dict[str, Any]]:
    return lambda: _published(source, TypeAdapter(_portable(body_type)).json_schema())


def _event(family: Family) -> dict[str, Any]:
    """The schema of a family's events: its model's, or, where its types differ in shape, one of its models by type."""
    models = family.models()
    source = f"src/zenoti_receiver/models/{family.module}.py"
    if len(models) == 1:
        return _published(source, models[0].model_json_schema())
    # pydantic picks the model by event_type, and so does the schema (a discriminator over oneOf).
    either: Any = functools.reduce(operator.or_, models)
    adapter: TypeAdapter[Any] = TypeAdapter(Annotated[either, Field(discriminator="event_type")])
    described = {"title": f"{family.title} event", "description": f"One webhook body of the {family.title} family."}
    return _published(source, {**described, **adapter.json_schema()})


def _portable(hint: Any) -> Any:
    """The same type, with each typing.TypedDict in it made again with typing_extensions."""
    # pydantic reads typing.TypedDict only from Python 3.12 on; responses.py uses it. Rebuilt on every
    # version, so that every version writes the same files.
    if is_typeddict(hint):
        fields = {name: _portable(field) for name, field in get_type_hints(hint, include_extras=True).items()}
        rebuilt: Any = TypedDict(hint.__name__, fields, total=hint.__total__)  # type: ignore[misc]  # a name known at run time
        rebuilt.__doc__ = hint.__doc__
        return rebuilt
    origin, arguments = get_origin(hint), get_args(hint)
    if origin is None or origin is Literal:
        return hint
    parts = tuple(_portable(argument) for argument in arguments)
    if origin in (Union, types.UnionType):
        return Union[parts]  # noqa: UP007 - X | Y cannot be built from a tuple
    return origin[parts[0] if len(parts) == 1 else parts]


# File name -> its schema. An event's is what its family's model accepts: every message a subscriber
# receives is an event the receiver accepted, body verbatim, so it validates against its family's schema.
CONTRACTS: dict[str, Callable[[], dict[str, Any]]] = {
    **{f"{family.name}.v1.schema.json": functools.partial(_event, family) for family in FAMILIES},
    "response-accepted.schema.json": _body(AcceptedBody),
    "response-duplicate.schema.json": _body(DuplicateBody),
    "response-held.schema.json": _body(HeldBody),
    "response-test.schema.json": _body(TriggerTestBody),
    "response-refused.schema.json": _body(RefusedBody),
    "response-error.schema.json": _body(FailureBody),
    "response-api-gateway.schema.json": _body(ApiGatewayBody, source="devtools/contracts.py"),
}


def rendered(name: str) -> str:
    """The text of one schema file, as committed."""
    return json.dumps(CONTRACTS[name](), indent=2, ensure_ascii=False) + "\n"


def write(directory: Path = DIRECTORY) -> list[str]:
    """Write every schema file that is missing or not what the models give; their names."""
    changed = [name for name in differences(directory) if name in CONTRACTS]
    for name in changed:
        (directory / name).write_text(rendered(name), encoding="utf-8")
    return changed


def differences(directory: Path = DIRECTORY) -> dict[str, str]:
    """File name -> what is wrong with it (a diff, or why), for every committed file the models do not give."""
    found = {}
    for name in CONTRACTS:
        path = directory / name
        committed = path.read_text(encoding="utf-8") if path.exists() else None
        if committed is None:
            found[name] = "is missing"
        elif committed != (expected := rendered(name)):
            diff = difflib.unified_diff(
                committed.splitlines(keepends=True), expected.splitlines(keepends=True), f"{name} (committed)", name
            )
            found[name] = "differs from what the models give:\n" + "".join(diff)
    for path in sorted(directory.glob("*.schema.json")):
        if path.name not in CONTRACTS:
            found[path.name] = "is given by no model (CONTRACTS in devtools/contracts.py): delete it, or generate it"
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.contracts", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is not up to date")
    arguments = parser.parse_args(argv)
    if not arguments.check:
        for name in write():
            print(f"wrote schema/{name}")
        return 0
    found = differences()
    for name, problem in found.items():
        print(f"schema/{name} {problem}", file=sys.stderr)
    if found:
        print(
            "The published contracts no longer match the models. If the change is intended, run `make schema`, commit"
            " the files and say in docs/contracts.md what changed for subscribers; otherwise undo the model change.",
            file=sys.stderr,
        )
        return 1
    print(f"schema/: {len(CONTRACTS)} files match the models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
