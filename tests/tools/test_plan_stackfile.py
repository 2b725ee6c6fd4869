"""The stack file itself (issue 15, class 8): every shape a user can write is planned or refused in
one line naming the file, line and column; keys the program would never read are refused too."""

from __future__ import annotations

import pytest

from tests.support.plan import run_plan
from tools.plan.stackfile import StackFileError, config_values

GOOD = "config:\n  quicstack:domain: example.com\n"

# (file text, the one line expected after "<file>:")
SHAPES = [
    ("- quicstack:domain: example.com\n",
     "1:1: is a YAML list, not a stack file (a mapping with a `config:` mapping)"),
    ("quicstack.example.com\n",
     "1:1: is a YAML scalar, not a stack file (a mapping with a `config:` mapping)"),
    ("config:\n  - quicstack:domain: example.com\n",
     "2:3: config is a YAML list; it must map keys such as quicstack:domain to values"),
    ("config: example.com\n",
     "1:9: config is a YAML scalar; it must map keys such as quicstack:domain to values"),
    ("config:\n\tquicstack:domain: example.com\n",
     "2:1: invalid YAML: a tab character where YAML needs spaces (indent with spaces only)"),
    ("config:\n  quicstack:domain: [example.com\n",
     "3:1: invalid YAML: expected ',' or ']', but got '<stream end>'"),
    ("config:\n  quicstack:domain: example.com\n   quicstack:cloud: k3s\n",
     "3:19: invalid YAML: mapping values are not allowed here"),
    ("config:\n  quicstack:domain: a.example.com\n  quicstack:domain: b.example.com\n",
     "3:3: invalid YAML: duplicate key 'quicstack:domain' (first at line 2)"),
    ("config:\n  quicstack:domain: example.com\n  quicstack:acme:\n    email: a@example.com\n    email: b@example.com\n",
     "5:5: invalid YAML: duplicate key 'email' (first at line 4)"),
    ("confg:\n  quicstack:domain: example.com\n",
     "1:1: 'confg' is not a stack file key (did you mean config:?)"),
    ("config:\n  ? [a, b]\n  : x\n",
     "2:5: invalid YAML: a key is a YAML list; keys are names such as quicstack:domain"),
    ("config:\n  quickstack:relay:\n    enabled: false\n  quicstack:domain: example.com\n",
     "2:3: quickstack:relay: is not in the quicstack namespace, so nothing would read it; did you mean quicstack:relay?"),
    ("config:\n  quicstak:acme:\n    environment: staging\n",
     "2:3: quicstak:acme: is not in the quicstack namespace, so nothing would read it; did you mean quicstack:acme?"),
    ("config:\n  relay:\n    enabled: false\n",
     "2:3: relay: has no namespace: write quicstack:relay"),
    ("config:\n  domian: example.com\n",
     "2:3: domian: has no namespace: write quicstack:domain"),
    ("config:\n  gcp:project: my-project\n",
     "2:3: gcp:project: is not in the quicstack namespace, so nothing would read it; this program reads only "
     "quicstack:<key> (keys: cloud, domain, acme, dns, ingress, relay, web, publisher, envoyDemo, existing, k3s, gke, eks)"),
    ("config:\n  quicstack:acme.environment: staging\n",
     "2:3: quicstack:acme.environment: is a dotted key written literally; nest it instead: "
     "quicstack:acme: {environment: ...}"),
]


@pytest.mark.parametrize("text,message", SHAPES, ids=[m.split(": ", 1)[1][:40] for _, m in SHAPES])
def test_stack_file_shapes_are_refused_with_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(text)
    with pytest.raises(StackFileError) as err:
        config_values(path)
    assert str(err.value) == f"{path}:{message}"


@pytest.mark.parametrize("text,expected", [
    ("", {}),
    ("# only a comment\n", {}),
    ("config:\n", {}),
    ("encryptionsalt: v1:abc\nconfig:\n  pulumi:disable-default-providers: [aws]\n  quicstack:domain: example.com\n",
     {"pulumi:disable-default-providers": '["aws"]', "quicstack:domain": "example.com"}),
    ("config:\n  quicstack:relay:\n    enabled: false\n  quicstack:envoyDemo: {replicas: 3}\n",
     {"quicstack:relay": '{"enabled": false}', "quicstack:envoyDemo": '{"replicas": 3}'}),
])
def test_valid_shapes_become_config_values(tmp_path, text, expected):
    path = tmp_path / "Pulumi.ok.yaml"
    path.write_text(text)
    assert config_values(path) == expected


def test_plan_exits_2_with_the_one_line_and_no_traceback(tmp_path):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config:\n\tquicstack:domain: example.com\n")
    run = run_plan(path, tmp_path / "out")
    assert run.returncode == 2
    assert run.stderr == f"{path}:2:1: invalid YAML: a tab character where YAML needs spaces (indent with spaces only)\n"
    assert not (tmp_path / "out" / "bad").exists()


def test_encrypted_value_where_plain_text_is_expected(tmp_path):
    path = tmp_path / "Pulumi.sec.yaml"
    path.write_text(f"{GOOD}  quicstack:relay:\n    host:\n      secure: v1:AAAABBBBCCCC\n")
    run = run_plan(path, tmp_path / "out")
    assert run.returncode == 2
    assert run.stderr == ("quicstack:relay.host: is an encrypted (secure:) value, but no quicstack key is a secret: "
                          "write it in plain text (`pulumi config set` without --secret)\n")
