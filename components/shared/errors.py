"""One-line config errors: ``quicstack:<key>: <value> <what is allowed>``.

Every invalid stack config ends in exactly one such line. pydantic's own errors are rewritten into
this shape here, so users never see a traceback or pydantic's multi-line report.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

PROJECT = "quicstack"


class ConfigError(pulumi.RunError):
    """A user mistake in stack config; ``str()`` is the one line to print.

    A RunError, so the Pulumi CLI reports it as that line alone, without a traceback.
    """

    def __init__(self, key: str, problem: str, value: Any = None, *, has_value: bool = True):
        self.key = key
        shown = f"{_show(value)} " if has_value else ""
        super().__init__(f"{PROJECT}:{key}: {shown}{problem}")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    return str(value)


def _model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class that owns the last element of ``loc`` (to list its allowed keys)."""
    model: Any = root
    for part in loc[:-1]:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        model = unwrap_optional(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def unwrap_optional(annotation: Any) -> Any:
    """``Optional[X]`` -> ``X`` so the search can descend into optional sections."""
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    return args[0] if len(args) == 1 else annotation


def _problem(err: dict) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    if kind == "literal_error":
        return "is not one of " + ", ".join(re.findall(r"'([^']*)'", ctx["expected"]))
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return err["msg"].replace("Input should be", "is not")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "is not a whole number"
    if kind in ("bool_parsing", "bool_type"):
        return "is not true or false"
    if kind in ("string_type",):
        return "is not a string"
    if kind in ("list_type",):
        return "is not a list"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "is not an object"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return err["msg"][0].lower() + err["msg"][1:]


def from_validation_error(exc: ValidationError, root: type[BaseModel], prefix: tuple = ()) -> ConfigError:
    """Turn pydantic's first error into a ConfigError naming the key, the value and what is allowed."""
    err = exc.errors(include_url=False)[0]
    loc = prefix + tuple(str(p) for p in err["loc"])
    key = ".".join(loc)
    if err["type"] == "extra_forbidden":
        owner = _model_at(root, tuple(err["loc"]))
        allowed = ", ".join(owner.model_fields_by_alias()) if owner else "none"
        return ConfigError(key, f"is not a known key (allowed here: {allowed})", has_value=False)
    if err["type"] == "missing":
        return ConfigError(key, "is required", has_value=False)
    return ConfigError(key, _problem(err), err.get("input"))
