"""``python -m tools.publish``: its test pattern and tone, and its one-line errors (no relay needed here)."""

from __future__ import annotations

import math
import struct
import pytest

from tools.publish import tone
from tools.publish.__main__ import main
from tools.publish.pattern import Pattern
from tools.verify.inputs import UsageError


def publish(capsys, *args: str) -> tuple[int, str, str]:
    """``main(args)`` in this process (argument errors happen before anything connects): code, stdout, stderr."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_pattern_is_one_i420_picture_that_changes_every_frame():
    p = Pattern(320, 180, 30)
    first, second = p.frame(0, "12:00:00.000"), p.frame(1, "12:00:00.033")
    assert len(first) == len(second) == 320 * 180 * 3 // 2
    assert first != second
    # Same index and clock: same picture (nothing random), so a test can tell motion from noise.
    assert first == p.frame(0, "12:00:00.000")
    # The top-left corner is the first (75 % white) bar, in luma and in both chroma planes.
    y, u, v = first[0], first[320 * 180], first[320 * 180 * 5 // 4]
    assert (y, u, v) == (180, 128, 128)


def test_clock_text_is_drawn_and_moves_nothing_else():
    p = Pattern(320, 180, 30)
    a, b = p.frame(5, "12:00:00.000"), p.frame(5, "12:00:01.000")
    changed = [i for i in range(320 * 180) if a[i] != b[i]]
    assert changed, "the clock changes the picture"
    rows = {i // 320 for i in changed}
    assert max(rows) < 180 // 2, "only the clock line (upper half) differs when only the time differs"


def test_tone_is_a_seamless_1khz_sine():
    frame = tone.frame()
    samples = struct.unpack(f"<{len(frame) // 2}h", frame)
    assert len(samples) == 48_000 * 20 // 1000
    assert samples[0] == 0 and max(samples) == round(0.1 * 32767)
    # 48 samples a period, so frame after frame the wave continues without a click.
    assert samples[12] == max(samples) and samples[48] == 0
    assert abs(samples[1] - round(0.1 * 32767 * math.sin(2 * math.pi / 48))) <= 1


@pytest.mark.parametrize("args, error", [
    ((), "error: give --stack, or --url and --broadcast"),
    (("--stack", "nope"), "error: no stack 'nope' (no stacks/Pulumi.nope.yaml); the stacks are: eks, gke, k3s, local; "
                          "start a new one with `quicstack init nope --cloud CLOUD`"),
    (("--url", "http://relay.example.com/anon", "--broadcast", "b"),
     "error: --url 'http://relay.example.com/anon' is not an https:// URL without a query (the token goes in --token)"),
    (("--url", "https://relay.example.com/anon?jwt=x", "--broadcast", "b"),
     "error: --url 'https://relay.example.com/anon?jwt=x' is not an https:// URL without a query (the token goes in --token)"),
    (("--url", "https://relay.example.com/anon", "--broadcast", "/b"),
     "error: --broadcast '/b' is not a broadcast path (segments of A-Z, a-z, 0-9 and . _ ~ -, joined by '/')"),
    (("--stack", "local", "--size", "640"), "error: --size '640' is not WIDTHxHEIGHT such as 640x360"),
    (("--stack", "local", "--size", "641x360"),
     "error: --size/--fps: 641x360: even numbers from 128x72 to 1920x1080 (I420 halves both for chroma)"),
    (("--stack", "local", "--fps", "0"), "error: --size/--fps: 0 fps: 1 to 60"),
    (("--stack", "local", "--ca", "/nonexistent.pem"), "error: --ca /nonexistent.pem: no such file"),
])
def test_bad_arguments_get_one_line_and_exit_2(capsys, monkeypatch, args, error):
    monkeypatch.delenv("QUICSTACK_TOKEN", raising=False)
    assert publish(capsys, *args) == (2, "", error + "\n")


def test_invalid_stack_config_is_the_programs_one_line(capsys, tmp_path):
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text("config:\n  quicstack:domain: example.com\n  quicstack:web:\n    broadcast: ''\n")
    assert publish(capsys, "--stack", str(stack)) == (2, "", "quicstack:web.broadcast: '' is empty: name the broadcast the page plays\n")


def test_with_a_stack_that_wants_tokens_it_mints_one_for_the_broadcast(monkeypatch, tmp_path):
    """Wiring to ``tools.token``: the stack's name, publish rights for exactly the page's broadcast, the TTL."""
    from tools.publish.__main__ import parse, target
    from tools.token import __main__ as tool

    asked = []
    monkeypatch.setattr(tool, "token", lambda args, stdin: asked.append((vars(args), stdin)) or "minted.jwt.token")
    monkeypatch.delenv("QUICSTACK_TOKEN", raising=False)
    stack = tmp_path / "Pulumi.public.yaml"  # Let's Encrypt certificates: publishing takes tokens by default
    stack.write_text("config:\n  quicstack:domain: example.com\n  quicstack:acme:\n    environment: staging\n"
                     "    email: ops@example.com\n")
    t = target(parse(["--stack", str(stack), "--token-ttl", "600"]))
    assert asked == [({"stack": "public", "key": None, "publish": ["anon/bbb.hang"], "subscribe": None, "ttl": 600,
                       "long_lived": False}, None)]
    assert (t.url, t.broadcast, t.token) == ("https://relay.example.com/anon", "bbb.hang", "minted.jwt.token")
    assert t.session_url == "https://relay.example.com/anon?jwt=minted.jwt.token"


def test_a_selfsigned_stack_publishes_without_a_token(monkeypatch):
    from tools.publish.__main__ import parse, target

    monkeypatch.delenv("QUICSTACK_TOKEN", raising=False)
    t = target(parse(["--stack", "local"]))
    assert (t.url, t.broadcast, t.token) == ("https://relay.quicstack.localhost/anon", "bbb.hang", None)


SECRET = "SECRETpub.tok3n-SECRET.s1g_SECRET"
"""A recognisable token that is not shaped like a JWT's header (``eyJ``): only its value can hide it."""
ACME_STACK = "config:\n  quicstack:domain: example.com\n  quicstack:acme:\n    environment: staging\n" \
             "    email: ops@example.com\n"


@pytest.mark.parametrize("source", ["flag", "file", "env"])
def test_the_token_comes_from_the_flag_the_file_or_the_variable(monkeypatch, tmp_path, source):
    from tools.publish.__main__ import parse, target

    monkeypatch.delenv("QUICSTACK_TOKEN", raising=False)
    (tmp_path / "token").write_text(f"\n  {SECRET}\n\n")
    args = {"flag": ["--token", SECRET], "file": ["--token-file", str(tmp_path / "token")], "env": []}[source]
    if source == "env":
        monkeypatch.setenv("QUICSTACK_TOKEN", f" {SECRET}\n")
    t = target(parse(["--url", "https://relay.example.com/anon", "--broadcast", "b", *args]))
    assert t.token == SECRET


def test_the_flag_then_the_file_then_the_variable(monkeypatch, tmp_path):
    from tools.publish.__main__ import parse, target

    monkeypatch.setenv("QUICSTACK_TOKEN", "from.the.variable")
    (tmp_path / "token").write_text("from.the.file")
    base = ["--url", "https://relay.example.com/anon", "--broadcast", "b"]
    assert target(parse([*base, "--token", "from.the.flag"])).token == "from.the.flag"
    assert target(parse([*base, "--token-file", str(tmp_path / "token")])).token == "from.the.file"
    assert target(parse(base)).token == "from.the.variable"


def test_a_token_from_the_variable_is_not_replaced_by_a_minted_one(monkeypatch, tmp_path):
    from tools.publish.__main__ import parse, target
    from tools.token import __main__ as tool

    monkeypatch.setattr(tool, "token", lambda args, stdin: pytest.fail("minted although a token was given"))
    monkeypatch.setenv("QUICSTACK_TOKEN", SECRET)
    (tmp_path / "Pulumi.public.yaml").write_text(ACME_STACK)
    assert target(parse(["--stack", str(tmp_path / "Pulumi.public.yaml")])).token == SECRET


def test_help_says_a_token_on_the_command_line_is_visible_to_other_users(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "visible to other local users in the process list" in text and "--token-file FILE" in text
    assert "QUICSTACK_TOKEN" in text


def token_errors(tmp_path) -> list:
    """(arguments, the variable, exit code, what the one line says) for every way publish refuses with a token."""
    (tmp_path / "token").write_text(SECRET)
    (tmp_path / "empty").write_text(" \n")
    (tmp_path / "two").write_text(f"{SECRET} {SECRET}\n")
    (tmp_path / "Pulumi.bad.yaml").write_text("config:\n  quicstack:domain: example.com\n  quicstack:web:\n"
                                               "    broadcast: ''\n")
    url = ["--url", "https://relay.example.com/anon", "--broadcast", "b"]
    file = ["--token-file", str(tmp_path / "token")]
    return [
        ([*url, "--token", SECRET, *file], None, 2, "error: give either --token or --token-file, not both"),
        ([*url, "--token-file", str(tmp_path / "empty")], SECRET, 2, f"error: --token-file {tmp_path}/empty is empty"),
        ([*url, "--token-file", str(tmp_path / "two")], None, 2,
         f"error: --token-file {tmp_path}/two holds more than one word; a token is one (its contents are not shown)"),
        ([*url, "--token-file", str(tmp_path / "nope")], SECRET, 2,
         f"error: --token-file {tmp_path}/nope: cannot read it (No such file or directory)"),
        ([*url, "--token-file", str(tmp_path)], SECRET, 2, f"error: --token-file {tmp_path}: cannot read it"),
        ([*url, "--token", SECRET, "--insecure"], None, 2, "error: unrecognized arguments: --insecure"),
        ([*url, *file, "--insecure"], None, 2, "error: unrecognized arguments: --insecure"),
        ([*url, "--insecure"], SECRET, 2, "error: unrecognized arguments: --insecure"),
        ([*url, "--token", SECRET, "--token-ttl", "604801"], None, 2, "error: --token-ttl 604801: 60 to 604800"),
        (["--url", "https://relay.example.com/anon", "--broadcast", "/b", *file], None, 2, "error: --broadcast '/b'"),
        (["--stack", str(tmp_path / "Pulumi.bad.yaml")], SECRET, 2, "quicstack:web.broadcast: '' is empty"),
        (["--url", "https://relay.example.com/anon", "--broadcast", "b", "--token", "   "], None, 2,
         "error: --token is empty"),
        # a relay that does not answer: the session is never opened, and the line names only the address
        (["--url", "https://127.0.0.1:9/anon", "--broadcast", "b", "--connect-timeout", "0.3", *file], None, 1,
         "error: no QUIC answer from 127.0.0.1 port 9 in time"),
    ]


def test_no_token_in_any_error(capsys, monkeypatch, tmp_path):
    """Through --token, --token-file and QUICSTACK_TOKEN, every refusal is one line that never holds the token."""
    for args, variable, code, line in token_errors(tmp_path):
        if variable:
            monkeypatch.setenv("QUICSTACK_TOKEN", variable)
        else:
            monkeypatch.delenv("QUICSTACK_TOKEN", raising=False)
        got, out, err = publish(capsys, *args)
        assert got == code and err.startswith(line) and err.count("\n") == 1, (args, err)
        assert "SECRET" not in out + err, (args, out, err)


def test_publish_has_no_way_to_skip_the_certificate_check():
    """A token goes only to a relay whose certificate was verified: nothing like --insecure exists to turn that off."""
    from tools.publish.__main__ import parse

    with pytest.raises(UsageError, match="unrecognized arguments: --insecure"):
        parse(["--stack", "local", "--insecure"])
    assert not any("insecure" in name or "verify" in name for name in vars(parse(["--stack", "local"])))


def test_a_refusal_quoting_the_token_is_redacted(capsys, monkeypatch):
    """Belt and braces: a message that would carry the token (a client library echoing its URL) has it hidden."""
    import tools.publish.__main__ as tool

    def refuse(args):
        raise UsageError(f"the relay at {tool.target(args).session_url} refused")

    monkeypatch.setenv("QUICSTACK_TOKEN", SECRET)
    monkeypatch.setattr(tool, "pattern", refuse)
    code, out, err = publish(capsys, "--url", "https://relay.example.com/anon", "--broadcast", "b")
    assert (code, out, err) == (2, "", "error: the relay at https://relay.example.com/anon?jwt=*** refused\n")
