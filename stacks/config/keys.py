"""Which config keys a stack may hold: ``quicstack:<section>`` and Pulumi's own ``pulumi:*``.

A key in another namespace (``quickstack:relay``), a bare key (``relay``) or a dotted key
(``quicstack:acme.environment``) is never read by the program, so the setting it was meant to make
silently would not happen: each is refused, naming the key that was probably meant.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import pulumi

from components.shared.errors import PROJECT, ConfigError

# Keys of Pulumi itself (e.g. `pulumi:disable-default-providers` from Pulumi.yaml) are the engine's business.
ENGINE_NAMESPACE = "pulumi"


def nearest(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def problem(key: str, known: Iterable[str]) -> str | None:
    """Why ``key`` (as written in the stack file) is not a key of this project, or None when it is.

    ``known`` are the project's top-level keys without the namespace (``domain``, ``relay``, ...).
    """
    known = list(known)
    namespace, sep, name = key.partition(":")
    if not sep:
        guess = nearest(key, known) or key
        return f"has no namespace: write {PROJECT}:{guess}"
    if namespace == ENGINE_NAMESPACE:
        return None
    section, dot, rest = name.partition(".")
    if namespace != PROJECT:
        guess = nearest(section, known) if section not in known else section
        hint = f"did you mean {PROJECT}:{name if guess == section else guess}?" if guess else \
            f"this program reads only {PROJECT}:<key> (keys: {', '.join(known)})"
        return f"is not in the {PROJECT} namespace, so nothing would read it; {hint}"
    if dot and section in known:
        return f"is a dotted key written literally; nest it instead: {PROJECT}:{section}: {{{rest}: ...}}"
    return None  # an unknown quicstack key is the model's to report (it lists the keys allowed there)


class StackKeyError(ConfigError):
    """A key the program would never read; the line names the key exactly as written."""

    def __init__(self, key: str, problem: str):
        self.key = key
        pulumi.RunError.__init__(self, f"{key}: {problem}")


def check(keys: Iterable[str], known: Iterable[str]) -> None:
    """Raise for the first key of ``keys`` that is not a key of this project."""
    known = list(known)
    for key in keys:
        found = problem(key, known)
        if found:
            raise StackKeyError(key, found)
