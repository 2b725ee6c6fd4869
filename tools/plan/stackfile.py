"""Reads a stack file the way the Pulumi CLI would, refusing in one line what the CLI would refuse.

Under ``pulumi up`` the CLI parses ``Pulumi.<stack>.yaml`` itself and hands the program only the
values; the offline plan has to do that parsing, so the file's shape is checked here and every
problem is reported as ``<file>:<line>:<column>: <problem>`` (exit 2), never as a YAML exception.
Which keys are allowed is decided by ``stacks.config.keys``, which also runs under the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from stacks.config import from_strings, keys
from stacks.config.settings import Settings

# The top-level keys of a stack settings file (https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file/).
TOP_LEVEL = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


class StackFileError(Exception):
    """``<file>:<line>:<column>: <problem>``, the one line the plan prints (exit 2)."""

    def __init__(self, path: Path, mark: yaml.Mark | None, problem: str):
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        super().__init__(f"{where}: {problem}")


class _Loader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping, as the Pulumi CLI's parser does
    (PyYAML would silently keep the last value)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key is {_kind(key_node)}; keys are names such as quicstack:domain",
                    key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key].line + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a YAML list"
    return "a YAML scalar" if isinstance(node, yaml.ScalarNode) else "a YAML mapping"


def _parse(path: Path, text: str) -> tuple[yaml.Node | None, object]:
    """The document's node tree (for line numbers) and its value."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "'\\t'" in problem:
            problem = "a tab character where YAML needs spaces (indent with spaces only)"
        raise StackFileError(path, mark, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise StackFileError(path, None, f"invalid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()


def _config_node(path: Path, node: yaml.Node | None) -> yaml.MappingNode | None:
    if node is None:
        return None
    if not isinstance(node, yaml.MappingNode):
        raise StackFileError(path, node.start_mark,
                             f"is {_kind(node)}, not a stack file (a mapping with a `config:` mapping)")
    config = None
    for key_node, value_node in node.value:
        name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if name not in TOP_LEVEL:
            guess = keys.nearest(str(name), TOP_LEVEL)
            hint = f"did you mean {guess}:?" if guess else f"allowed: {', '.join(TOP_LEVEL)}"
            raise StackFileError(path, key_node.start_mark, f"{name!r} is not a stack file key ({hint})")
        if name == "config":
            config = value_node
    if config is None or (isinstance(config, yaml.ScalarNode) and config.tag == "tag:yaml.org,2002:null"):
        return None
    if not isinstance(config, yaml.MappingNode):
        raise StackFileError(path, config.start_mark,
                             f"config is {_kind(config)}; it must map keys such as quicstack:domain to values")
    return config


def config_values(path: Path) -> dict[str, str]:
    """The stack file's ``config:`` as the CLI hands it to the program: strings, objects as JSON."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise StackFileError(path, None, f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    node, document = _parse(path, text)
    config = _config_node(path, node)
    if config is None:
        return {}
    known = list(Settings.model_fields_by_alias())
    values: dict[str, str] = {}
    for key_node, value_node in config.value:
        problem = keys.problem(key_node.value, known)
        if problem:
            raise StackFileError(path, key_node.start_mark, f"{key_node.value}: {problem}")
        value = document["config"][key_node.value]
        values[key_node.value] = value if isinstance(value, str) else json.dumps(value, default=str)
    return values


def settings_of(path: Path) -> Settings:
    """The stack file's validated settings, as the program reads them (ConfigError or StackFileError)."""
    return from_strings(config_values(path))
