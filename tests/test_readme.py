"""The README stays true: the two commands, the stacks, the config reference and the outputs table from the code."""

from tests.conftest import STACKS
from tests.support.plan import ROOT
from tools import config_reference, outputs_reference

README = (ROOT / "README.md").read_text()


def test_config_reference_matches_the_model():
    start, end = README.index(config_reference.BEGIN), README.index(config_reference.END) + len(config_reference.END)
    assert README[start:end] == config_reference.render(), "run: python -m tools.config_reference, and paste it into README.md"


def test_outputs_table_matches_the_declaration():
    start, end = README.index(outputs_reference.BEGIN), README.index(outputs_reference.END) + len(outputs_reference.END)
    assert README[start:end] == outputs_reference.render(), "run: python -m tools.outputs_reference, and paste it into README.md"


def test_every_output_is_declared_once_with_a_description():
    from dataclasses import fields

    from stacks.outputs import StackOutputs

    described = outputs_reference.descriptions()
    assert list(described) == [f.name for f in fields(StackOutputs)] and all(described.values())


def test_every_config_field_has_a_description():
    rows = [r for r in config_reference.render().splitlines() if r.startswith("| `quicstack:")]
    assert rows and all(not r.rstrip().endswith("|  |") for r in rows)


def test_the_two_commands():
    assert "```sh\nmake up\n```" in README and "```sh\nmake test\n```" in README


def test_every_stack_is_documented():
    for stack in STACKS:
        assert f"`{stack}`" in README, stack
