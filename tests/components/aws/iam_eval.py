"""A small IAM policy evaluator for tests: does an identity policy allow one request?

Covers what the stack's policies use: Allow statements, `*`/`?` wildcards in actions and resources,
and the condition operators Null, StringEquals, StringLike and their ForAllValues/ForAnyValue forms.
An unknown operator fails the test rather than being guessed at.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Mapping


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatchcase(value, pattern.replace("[", "[[]"))


def _condition(op: str, key: str, wanted: Any, context: Mapping[str, Any]) -> bool:
    qualifier, _, base = op.rpartition(":")
    present = key in context
    if base == "Null":
        return (not present) == (str(wanted).lower() == "true")
    compare = {"StringEquals": lambda p, v: p == v, "StringLike": _match}.get(base)
    assert compare is not None, f"condition operator {op} is not modelled"
    values = _list(context.get(key, []))
    patterns = _list(wanted)
    if qualifier == "ForAllValues":
        return all(any(compare(p, v) for p in patterns) for v in values)
    if qualifier == "ForAnyValue":
        return any(compare(p, v) for p in patterns for v in values)
    return present and any(compare(p, v) for p in patterns for v in values)


def allows(policy: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any] | None = None) -> bool:
    """Whether an Allow statement covers ``action`` on ``resource`` with the request ``context``."""
    context = context or {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", "Deny statements are not modelled"
        if not any(_match(a, action, ignore_case=True) for a in _list(statement["Action"])):
            continue
        if not any(_match(r, resource) for r in _list(statement["Resource"])):
            continue
        conditions = statement.get("Condition", {})
        if all(_condition(op, key, wanted, context) for op, pairs in conditions.items() for key, wanted in pairs.items()):
            return True
    return False
