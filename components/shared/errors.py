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
SECURE_PROBLEM = ("is an encrypted (secure:) value, but no quicstack key is a secret: write it in plain text "
                  "(`pulumi config set` without --secret)")
HIDDEN = "<a value that looks like key material, not shown>"

# Key material an error must never echo: PEM blocks, JWTs, JWK or service-account JSON, and long
# base64 or hex runs (a pasted key, token or password).
_PEM_OR_JSON_KEY = re.compile(r"-----BEGIN |\"(kty|private_key|k|d)\"\s*:", re.ASCII)
_JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.", re.ASCII)
_BLOB = re.compile(r"[A-Za-z0-9+/_=-]{20,}")
_HEX = re.compile(r"(?<!sha256:)\b[0-9a-fA-F]{32,}\b")


class ConfigError(pulumi.RunError):
    """A user mistake in stack config; ``str()`` is the one line to print.

    A RunError, so the Pulumi CLI reports it as that line alone, without a traceback.
    """

    def __init__(self, key: str, problem: str, value: Any = None, *, has_value: bool = True):
        self.key = key
        shown = f"{_show(value)} " if has_value else ""
        super().__init__(f"{PROJECT}:{key}: {shown}{problem}")


def looks_like_key_material(text: str) -> bool:
    """True for text that may be a key, token or password, which an error line must not repeat."""
    if _PEM_OR_JSON_KEY.search(text) or _JWT.search(text) or _HEX.search(text):
        return True
    return any(all(any(test(c) for c in run) for test in (str.isupper, str.islower, str.isdigit))
               for run in _BLOB.findall(text))


class FieldProblem(ValueError):
    """Raised by a model-level check to name one of the model's own keys (and its value) in the error."""

    def __init__(self, key: str, value: Any, problem: str):
        super().__init__(problem)
        self.key, self.value, self.problem = key, value, problem


def _show(value: Any) -> str:
    if isinstance(value, str):
        return HIDDEN if looks_like_key_material(value) else repr(value)
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


def _is_secure(value: Any) -> bool:
    """A ``secure:`` value from the stack file, still encrypted (the offline plan cannot decrypt it)."""
    return isinstance(value, dict) and list(value) == ["secure"]


def _problem(err: dict) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    if _is_secure(err.get("input")):
        return SECURE_PROBLEM
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
    if _is_secure(err.get("input")) or (err["type"] == "extra_forbidden" and loc[-1] == "secure"):
        return ConfigError(".".join(loc[:-1]) if loc[-1] == "secure" else key, SECURE_PROBLEM, has_value=False)
    if err["type"] == "extra_forbidden":
        owner = _model_at(root, tuple(err["loc"]))
        removed = getattr(owner, "REMOVED", {}).get(loc[-1])
        if removed:
            return ConfigError(key, f"was removed: {removed}", has_value=False)
        allowed = ", ".join(owner.model_fields_by_alias()) if owner else "none"
        return ConfigError(key, f"is not a known key (allowed here: {allowed})", has_value=False)
    if err["type"] == "missing":
        return ConfigError(key, "is required", has_value=False)
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, FieldProblem):
        return ConfigError(f"{key}.{cause.key}", cause.problem, cause.value)
    return ConfigError(key, _problem(err), err.get("input"))
