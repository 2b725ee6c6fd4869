"""``python -m tools.publish``: its test pattern and tone, and its one-line errors (no relay needed here)."""

from __future__ import annotations

import math
import struct
import pytest

from tools.publish import tone
from tools.publish.__main__ import main
from tools.publish.pattern import Pattern


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


def test_fast_bytes_writes_what_the_bindings_write():
    """The memmove stand-in for the bindings' byte loop leaves the same bytes in Rust's buffer."""
    import ctypes
    import os

    from moq_ffi._uniffi import moq as bindings

    from tools.publish import fast_bytes

    fast_bytes.install()
    converter, builder = bindings._UniffiFfiConverterBytes, bindings._UniffiRustBufferBuilder
    assert builder.write.fast
    for data in (b"", b"\x00\xff", os.urandom(70_001)):
        buffers = []
        for write in (builder.write.original, builder.write):
            b = builder()
            b.write_i32(len(data))
            write(b, data)
            buffers.append(b.finalize())
        assert [ctypes.string_at(r.data, r.len) for r in buffers] == [len(data).to_bytes(4, "big") + data] * 2
        for r in buffers:
            r.free()
        # and the bindings' own reader gets the value back
        assert converter.lift(converter.lower(data)) == data


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
    assert asked == [({"stack": "public", "key": None, "publish": ["anon/bbb.hang"], "subscribe": None, "ttl": 600},
                      None)]
    assert (t.url, t.broadcast, t.token) == ("https://relay.example.com/anon", "bbb.hang", "minted.jwt.token")
    assert t.session_url == "https://relay.example.com/anon?jwt=minted.jwt.token"


def test_a_selfsigned_stack_publishes_without_a_token(monkeypatch):
    from tools.publish.__main__ import parse, target

    monkeypatch.delenv("QUICSTACK_TOKEN", raising=False)
    t = target(parse(["--stack", "local"]))
    assert (t.url, t.broadcast, t.token) == ("https://relay.quicstack.localhost/anon", "bbb.hang", None)
