"""The base of every config section: immutable, camelCase keys, strict about unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    """Immutable, camelCase-keyed, and strict about unknown keys (a typo is an error)."""

    @classmethod
    def model_fields_by_alias(cls) -> dict:
        return {f.alias or n: f for n, f in cls.model_fields.items()}

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        use_attribute_docstrings=True,
    )
