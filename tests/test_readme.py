"""The README and the docs stay true: the two commands, every stack, and the references generated from the code."""

from tests.conftest import STACKS
from tests.support.plan import ROOT
from tools import config_reference, outputs_reference, reference_page

README = (ROOT / "README.md").read_text()


def test_config_reference_matches_the_model():
    block = reference_page.embedded(config_reference.PAGE, config_reference.BEGIN, config_reference.END)
    assert block == config_reference.render(), "run: python -m tools.config_reference --write"


def test_outputs_table_matches_the_declaration():
    block = reference_page.embedded(outputs_reference.PAGE, outputs_reference.BEGIN, outputs_reference.END)
    assert block == outputs_reference.render(), "run: python -m tools.outputs_reference --write"


def test_write_rewrites_only_the_generated_block(tmp_path):
    page = tmp_path / "outputs.md"
    stale = f"# Outputs\n\nbefore\n\n{outputs_reference.BEGIN}\n| old |\n{outputs_reference.END}\n\nafter\n"
    page.write_text(stale)
    assert reference_page.rewrite(page, outputs_reference.BEGIN, outputs_reference.END, outputs_reference.render())
    assert page.read_text() == stale.replace(f"{outputs_reference.BEGIN}\n| old |\n{outputs_reference.END}",
                                             outputs_reference.render())
    assert not reference_page.rewrite(page, outputs_reference.BEGIN, outputs_reference.END, outputs_reference.render())


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
        page = ROOT / "docs" / "stacks" / f"{stack}.md"
        assert page.is_file() and f"docs/stacks/{stack}.md" in README, stack


def test_the_readme_is_short():
    assert len(README.splitlines()) <= 250
