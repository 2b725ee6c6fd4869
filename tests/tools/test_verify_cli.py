"""``python -m tools.verify``: inputs, trust, exit codes, and the one-line failure messages.

Network checks run against loopback stand-ins (tests/support/verify_servers.py); the tool itself runs
in a subprocess, or in-process only where it creates no event loop.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys

import pytest

from tests.support.envoy import free_port
from tests.support.verify_servers import Servers, Site, make_pki, run_verify
from tools.verify import __main__ as cli
from tools.verify.report import Progress
from tools.verify.checks import Result

HOSTS = ("verify.localhost", "*.verify.localhost", "127.0.0.1")
ISOLATED = {"cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp",
            "content-type": "text/html"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), HOSTS)


def configure(argv: list[str], stdin: str = ""):
    return cli.configure(cli.parser().parse_args(argv), io.StringIO(stdin))


def test_stack_outputs_on_stdin_become_endpoints(pki):
    outputs = {
        "envoyUrl": "https://quic.example.com:8443", "envoyAddress": "203.0.113.7", "envoyReplicas": 2,
        "relayUrl": "https://relay.example.com", "relayAddress": "nlb-1.elb.amazonaws.com",
        "relayCertificateSecret": "relay-tls", "webUrl": "https://example.com", "ingressAddress": "203.0.113.8",
        "caCertificate": pki.ca.read_text(),
    }
    endpoints, options = configure([], json.dumps(outputs))
    by_role = {ep.role: ep for ep in endpoints}
    assert list(by_role) == ["envoy", "relay", "web"]
    envoy, relay, web = by_role["envoy"], by_role["relay"], by_role["web"]
    assert (envoy.host, envoy.port, envoy.authority, envoy.expected_address, envoy.replicas) == \
        ("quic.example.com", 8443, "quic.example.com:8443", "203.0.113.7", 2)
    assert (relay.host, relay.port, relay.expected_address) == ("relay.example.com", 443, "nlb-1.elb.amazonaws.com")
    assert (web.path, web.expected_address, web.relay_url) == ("/", "203.0.113.8", "https://relay.example.com")
    assert options.trust.cadata.strip() == pki.ca.read_text().strip() and not options.trust.insecure


def test_secret_placeholders_and_missing_outputs_are_skipped():
    endpoints, options = configure([], json.dumps({"webUrl": "https://example.com", "caCertificate": "[secret]"}))
    assert [ep.role for ep in endpoints] == ["web"]
    assert options.trust.label == "system CA store" and options.trust.cadata is None


def test_explicit_flags_override(pki):
    endpoints, options = configure(["--envoy", "https://127.0.0.1:4443/x?y=1", "--replicas", "3", "--ca", str(pki.ca),
                                    "--relay-path", "demo", "--url", "https://a.example", "--url", "https://b.example"])
    assert [(ep.name, ep.path) for ep in endpoints] == [("envoy", "/x?y=1"), ("url1", "/"), ("url2", "/")]
    assert endpoints[0].replicas == 3 and options.trust.cafile == str(pki.ca) and options.relay_path == "/demo"


def test_expected_values_come_from_the_outputs_and_flags_win():
    outputs = {"envoyUrl": "https://quic.example.com", "envoyServerIdLength": 6, "relayPublicPrefix": "live",
               "envoyH2Body": "two", "envoyH3Body": "three"}
    _, options = configure([], json.dumps(outputs))
    assert (options.server_id_length, options.relay_path, options.h2_body, options.h3_body) == (6, "/live", "two", "three")
    _, options = configure(["--server-id-length", "4", "--relay-path", "x", "--h2-body", "a", "--h3-body", "b"],
                           json.dumps(outputs))
    assert (options.server_id_length, options.relay_path, options.h2_body, options.h3_body) == (4, "/x", "a", "b")


def test_without_outputs_the_config_defaults_are_expected():
    _, options = configure(["--url", "https://example.com"])
    assert (options.server_id_length, options.relay_path, options.h2_body, options.h3_body) == (
        8, "/anon", "h2 success!", "h3 success!")


@pytest.mark.parametrize("argv, stdin, message", [
    ([], "", "nothing to verify: stdin is empty"),
    ([], "not json", "stdin is not JSON"),
    ([], "[1, 2]", "not a JSON object of stack outputs"),
    ([], "{}", "none of envoyUrl, relayUrl, webUrl"),
    ([], json.dumps({"webUrl": "https://example.com", "caCertificate": "-----BEGIN CERTIFICATE-----\nMOCK\n"}),
     "caCertificate output is not a PEM certificate"),
    (["--url", "http://example.com"], "", "'http://example.com' is not an https:// URL"),
    (["--url", "https://example.com:99999"], "", "has an invalid port"),
    (["--url", "https://example.com", "--ca", "/nonexistent.pem"], "", "--ca /nonexistent.pem: not a readable PEM"),
    (["--url", "https://example.com", "--ca", "x.pem", "--insecure"], "", "--ca and --insecure contradict"),
    (["--url", "https://example.com", "--stack", "dev"], "", "either --stack or URLs"),
])
def test_bad_input_is_one_line_and_exit_2(argv, stdin, message, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("argv, message", [
    (["--timeout", "0"], "argument --timeout: 0 is outside 0.1-300"),
    (["--probes", "many"], "argument --probes: 'many' is not a number"),
    # The config allows 1-14 (a server ID leaves room for the 4-byte minimum nonce in 18 bytes).
    (["--server-id-length", "15"], "argument --server-id-length: 15 is outside 1-14"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_exit_2_in_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


def test_server_id_length_14_is_accepted(capsys):
    assert cli.parser().parse_args(["--server-id-length", "14"]).server_id_length == 14


@pytest.mark.parametrize("argv, stdin, message", [
    (["--url", "https://example.com:0/"], "", "'https://example.com:0/' has an invalid port (1-65535)"),
    (["--url", "https://exa mple.com/"], "",
     "'https://exa mple.com/' has no valid host name (letters, digits and '-' in dot-separated labels, or an IP address)"),
    (["--url", "https://-bad-.example/"], "",
     "'https://-bad-.example/' has no valid host name (letters, digits and '-' in dot-separated labels, or an IP address)"),
    (["--envoy", "https://ops:hunter2@quic.example.com/"], "",
     "'https://***@quic.example.com/' has a user name or password in it; the checks send no credentials: remove it"),
    (["--url", "ftp://ops:hunter2@example.com/"], "", "'ftp://***@example.com/' is not an https:// URL"),
    ([], json.dumps({"envoyUrl": 42}),
     "the envoyUrl output is the number 42, not a string: is this `pulumi stack output --json`?"),
    ([], json.dumps({"webUrl": ["https://example.com"]}),
     "the webUrl output is a list, not a string: is this `pulumi stack output --json`?"),
    ([], json.dumps({"envoyUrl": "https://quic.example.com", "envoyReplicas": "two"}),
     "the envoyReplicas output is 'two', not a whole number of replicas (1-1000)"),
    ([], json.dumps({"envoyUrl": "https://quic.example.com", "envoyReplicas": 0}),
     "the envoyReplicas output is the number 0, not a whole number of replicas (1-1000)"),
    ([], json.dumps({"envoyUrl": "https://quic.example.com", "envoyReplicas": True}),
     "the envoyReplicas output is true, not a whole number of replicas (1-1000)"),
    ([], json.dumps({"envoyUrl": "https://quic.example.com", "envoyReplicas": 2.5}),
     "the envoyReplicas output is the number 2.5, not a whole number of replicas (1-1000)"),
    ([], json.dumps({"webUrl": "https://example.com", "caCertificate": {"pem": "x"}}),
     "the caCertificate output is an object, not a string: is this `pulumi stack output --json`?"),
    ([], json.dumps({"envoyUrl": "https://quic.example.com", "envoyServerIdLength": 15}),
     "the envoyServerIdLength output is the number 15, not a server ID length (1-14)"),
    ([], json.dumps({"envoyUrl": "https://quic.example.com", "envoyServerIdLength": "8"}),
     "the envoyServerIdLength output is '8', not a server ID length (1-14)"),
    ([], json.dumps({"relayUrl": "https://relay.example.com", "relayPublicPrefix": ["anon"]}),
     "the relayPublicPrefix output is a list, not a broadcast path"),
    ([], json.dumps({"envoyUrl": "https://quic.example.com", "envoyH2Body": 42}),
     "the envoyH2Body output is the number 42, not a response body"),
])
def test_malformed_input_is_one_line_exit_2_and_echoes_no_password(argv, stdin, message, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {message}\n" and captured.out == ""
    assert "hunter2" not in captured.err


@pytest.mark.parametrize("argv", [["--json", "--url", "https://example.com:0/"], ["--json", "--probes", "0"]])
def test_usage_errors_with_json_are_json_on_stdout_too(argv, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report == {"ok": False, "error": captured.err.removeprefix("error: ").rstrip("\n"), "exitCode": 2}
    assert captured.err.count("\n") == 1


def test_ctrl_c_is_one_line_and_exit_130(tmp_path):
    """SIGINT while a check waits on a server that accepts and never answers: no asyncio noise, no traceback."""
    import signal
    import socket
    import subprocess

    from tests.support.plan import ROOT

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(30)
        proc = subprocess.Popen([sys.executable, "-m", "tools.verify", "--url", f"https://127.0.0.1:{server.getsockname()[1]}/",
                                 "--timeout", "60", "--insecure"], cwd=ROOT, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                # A terminal delivers Ctrl-C; a CI job started in the background ignores SIGINT and a
                                # child inherits that (Python then raises no KeyboardInterrupt): restore the default.
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            conn, _ = server.accept()  # the tool is inside its event loop now
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
            conn.close()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert (proc.returncode, out, err) == (130, "", "interrupted\n")


def test_stack_without_pulumi_cli_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main(["--stack", "local"]) == 2
    assert capsys.readouterr().err == ("error: --stack needs the Pulumi CLI, which is not on PATH: install it, or pipe "
                                       "`pulumi stack output --json` in, or pass --envoy/--relay/--web URLs\n")


def test_nothing_on_stdin_exits_2_from_the_command_line():
    run = run_verify()
    assert run.returncode == 2 and run.stdout == "" and run.stderr.startswith("error: nothing to verify")


def fake_pulumi(directory, outputs: dict, exit_code: int = 0) -> str:
    """A ``pulumi`` on PATH that records its arguments and prints ``outputs``; returns the new PATH."""
    script = directory / "pulumi"
    script.write_text(f"#!/bin/sh\necho \"$@\" > {directory}/args\n"
                      f"cat <<'EOF'\n{json.dumps(outputs)}\nEOF\n"
                      f"[ {exit_code} = 0 ] || echo 'error: no stack named local found' >&2\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return f"{directory}{os.pathsep}{os.environ['PATH']}"


def test_stack_flag_runs_pulumi_stack_output(pki, tmp_path):
    port = free_port()
    page = (200, ISOLATED, b"<html>")
    outputs = {"webUrl": f"https://verify.localhost:{port}", "ingressAddress": "127.0.0.1", "caCertificate": pki.ca.read_text()}
    path = fake_pulumi(tmp_path, outputs)
    with Servers() as servers:
        servers.https(port, pki, Site(routes={"/": page}))
        run = run_verify("--stack", "local", "--json", "--skip", "redirect", env={**os.environ, "PATH": path})
    assert (tmp_path / "args").read_text().split() == ["stack", "output", "--json", "--stack", "local"]
    assert run.returncode == 0, run.stdout + run.stderr
    report = run.report
    assert report["trust"] == "stack's own CA (caCertificate output)"
    assert [(c["check"], c["status"]) for c in report["checks"]] == [("dns", "pass"), ("tls", "pass"), ("page", "pass"),
                                                                      ("edge-http3", "skip"), ("redirect", "skip")]
    assert run.check("web", "dns")["figures"] == {"addresses": ["127.0.0.1", "::1"], "source": "loopback name",
                                                  "expected": "127.0.0.1"}


def test_failing_pulumi_stack_output_is_reported(tmp_path):
    path = fake_pulumi(tmp_path, {}, exit_code=255)
    run = run_verify("--stack", "local", env={**os.environ, "PATH": path})
    assert run.returncode == 2
    assert run.stderr == "error: `pulumi stack output --stack local` failed: error: no stack named local found\n"


def test_a_mistyped_stack_lists_the_stacks_before_the_cli_runs(tmp_path):
    path = fake_pulumi(tmp_path, {})
    run = run_verify("--stack", "lcoal", env={**os.environ, "PATH": path})
    assert run.returncode == 2 and not (tmp_path / "args").exists()
    assert run.stderr.startswith("error: no stack 'lcoal' (no stacks/Pulumi.lcoal.yaml); the stacks are: ")
    assert "eks, gke, k3s, local" in run.stderr and len(run.stderr.splitlines()) == 1


def test_closed_udp_port_with_open_tcp_port_fails_http3_within_the_timeout(pki):
    port = free_port()  # TCP serves HTTPS; nothing listens on UDP
    site = Site(routes={"/": (200, {"alt-svc": f'h3=":{port}"; ma=60'}, b"tcp only\n")})
    timeout = 1.5
    with Servers() as servers:
        servers.https(port, pki, site)
        run = run_verify("--url", f"https://127.0.0.1:{port}/", "--ca", str(pki.ca), "--timeout", str(timeout), "--json")
    assert run.returncode == 1
    h3 = run.check("url", "http3")
    assert h3["status"] == "fail"
    assert h3["summary"] == f"HTTP/2 works but QUIC timed out: UDP/{port} is blocked or nothing listens for QUIC"
    assert timeout * 1000 <= h3["ms"] < (timeout + 1) * 1000
    assert run.check("url", "http2")["status"] == "pass"
    assert run.seconds < timeout + 3


def test_table_marks_the_failure_and_exit_code_is_1(pki):
    port = free_port()
    with Servers() as servers:
        servers.https(port, pki, Site(routes={"/": (200, {}, b"x")}))
        run = run_verify("--url", f"https://127.0.0.1:{port}/", "--ca", str(pki.ca), "--timeout", "1",
                         env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert lines[0] == f"quicstack verify: 1 endpoint, trust: CA file {pki.ca}"
    assert any(line.startswith("✘ url  http3  HTTP/2 works but QUIC timed out") for line in lines), run.stdout
    assert any(line.startswith("! url  http2  200 \"x\"") and "no alt-svc" in line for line in lines), run.stdout
    assert lines[-1].startswith("2 passed, 1 warning, 1 failed, 0 skipped in ")
    assert run.stderr == ""  # no progress line without a terminal, and no traceback


def test_certificate_for_another_host(tmp_path):
    other = make_pki(tmp_path, ("other.example", "www.other.example"))
    port = free_port()
    with Servers() as servers:
        servers.https(port, other, Site(routes={"/": (200, {}, b"x")}))
        servers.quic(port, other, Site(routes={"/": (200, {}, b"x")}))
        run = run_verify("--url", f"https://127.0.0.1:{port}/", "--ca", str(other.ca), "--json")
    assert run.returncode == 1
    assert run.check("url", "tls")["summary"] == "certificate is for other.example, www.other.example, not 127.0.0.1"
    assert run.check("url", "http3")["summary"] == \
        "QUIC handshake failed: the certificate is rejected over QUIC too (see the tls check)"


def test_untrusted_issuer_suggests_ca(pki):
    port = free_port()
    with Servers() as servers:
        servers.https(port, pki, Site(routes={"/": (200, {}, b"x")}))
        run = run_verify("--web", f"https://verify.localhost:{port}/", "--json")
    tls = run.check("web", "tls")
    assert run.returncode == 1 and tls["status"] == "fail"
    assert tls["summary"].startswith("certificate issued by verify test CA is not trusted by the system CA store; "
                                     "pass --ca with the CA that issued it")
    assert run.check("web", "page")["summary"].startswith("certificate not accepted")


def test_expiring_certificate_is_a_warning_not_a_failure(tmp_path):
    soon = make_pki(tmp_path, ("127.0.0.1",), days=5)
    port = free_port()
    with Servers() as servers:
        servers.https(port, soon, Site(routes={"/": (200, ISOLATED, b"<html>")}))
        run = run_verify("--web", f"https://127.0.0.1:{port}/", "--ca", str(soon.ca), "--json", "--skip", "redirect")
    tls = run.check("web", "tls")
    assert run.returncode == 0 and tls["status"] == "warn" and tls["figures"]["daysLeft"] == 4
    assert "4 days left: under 14" in tls["summary"]


def test_host_that_does_not_resolve():
    run = run_verify("--url", "https://nonexistent.invalid/", "--timeout", "3", "--json")
    assert run.returncode == 1
    dns = run.check("url", "dns")
    assert dns["status"] == "fail" and dns["summary"].startswith("nonexistent.invalid does not resolve")
    assert {c["status"] for c in run.report["checks"] if c["check"] != "dns"} == {"skip"}


def test_host_resolving_elsewhere_than_the_load_balancer(pki):
    port = free_port()
    outputs = {"webUrl": f"https://127.0.0.1:{port}", "ingressAddress": "192.0.2.10", "caCertificate": pki.ca.read_text()}
    with Servers() as servers:
        servers.https(port, pki, Site(routes={"/": (200, ISOLATED, b"<html>")}))
        run = run_verify("--json", stdin=json.dumps(outputs))
    assert run.returncode == 1
    assert run.check("web", "dns")["summary"] == \
        "127.0.0.1 resolves to 127.0.0.1, not to the load balancer's 192.0.2.10: point the DNS record at it"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal():
    tty, pipe = Terminal(), io.StringIO()
    for stream in (tty, pipe):
        progress = Progress(2, stream)
        progress(Result("envoy", "dns", "pass", ""))
        progress(Result("envoy", "tls", "fail", ""))
        progress.clear()
    assert pipe.getvalue() == ""
    assert "\rverifying: 1/2 checks done, " in tty.getvalue()
    assert "\rverifying: 2/2 checks done, 1 failed, " in tty.getvalue()
    assert tty.getvalue().endswith("\r\x1b[K")


SECRET = "SECRETver.tok3n-SECRET.s1g_SECRET"
"""A recognisable token, shaped like a JWT (three base64url parts) but not like a JWT's header (``eyJ``)."""
RELAY = ["--relay", "https://relay.example.com"]


@pytest.fixture
def no_token_variable(monkeypatch):
    monkeypatch.delenv("QUICSTACK_TOKEN", raising=False)


@pytest.mark.parametrize("source", ["flag", "file", "env"])
def test_the_token_comes_from_the_flag_the_file_or_the_variable(source, monkeypatch, tmp_path, no_token_variable):
    (tmp_path / "token").write_text(f"\n  {SECRET}\n\n")
    args = {"flag": ["--token", SECRET], "file": ["--token-file", str(tmp_path / "token")], "env": []}[source]
    if source == "env":
        monkeypatch.setenv("QUICSTACK_TOKEN", f" {SECRET}\n")
    _, options = configure([*RELAY, *args])
    assert options.token == SECRET


def test_the_flag_then_the_file_then_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("QUICSTACK_TOKEN", "from.the.variable")
    (tmp_path / "token").write_text("from.the.file")
    assert configure([*RELAY, "--token", "from.the.flag"])[1].token == "from.the.flag"
    assert configure([*RELAY, "--token-file", str(tmp_path / "token")])[1].token == "from.the.file"
    assert configure(RELAY)[1].token == "from.the.variable"
    monkeypatch.setenv("QUICSTACK_TOKEN", "")
    assert configure(RELAY)[1].token is None


def test_help_says_a_token_on_the_command_line_is_visible_to_other_users():
    text = " ".join(cli.parser().format_help().split())
    assert "visible to other local users in the process list" in text and "--token-file FILE" in text
    assert "QUICSTACK_TOKEN" in text


def verify_token_errors(tmp_path) -> list:
    """(arguments, the variable, what the one line says) for every way verify refuses with a token."""
    (tmp_path / "token").write_text(SECRET)
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "two").write_text(f"{SECRET}\n{SECRET}\n")
    (tmp_path / "notjwt").write_text("SECRET-not-a-jwt")
    file = ["--token-file", str(tmp_path / "token")]
    taken = "can be taken by whoever answers"
    return [
        ([*RELAY, "--insecure", "--token", SECRET], None, f"--insecure with a token (--token): a token sent without "
         f"checking the server's certificate {taken}"),
        ([*RELAY, "--insecure", *file], None, f"--insecure with a token (--token-file {tmp_path}/token)"),
        ([*RELAY, "--insecure"], SECRET, f"--insecure with a token (QUICSTACK_TOKEN): a token sent without checking "
         f"the server's certificate {taken}"),
        ([*RELAY, "--token", SECRET, *file], None, "give either --token or --token-file, not both"),
        ([*RELAY, "--token-file", str(tmp_path / "empty")], SECRET, f"--token-file {tmp_path}/empty is empty"),
        ([*RELAY, "--token-file", str(tmp_path / "two")], None, f"--token-file {tmp_path}/two holds more than one"),
        ([*RELAY, "--token-file", str(tmp_path / "nope")], SECRET, f"--token-file {tmp_path}/nope: cannot read it"),
        ([*RELAY, "--token", "SECRET not a JWT"], None, "the token (--token) is not a JWT"),
        ([*RELAY, "--token-file", str(tmp_path / "notjwt")], None, f"the token (--token-file {tmp_path}/notjwt) is "
         "not a JWT"),
        (["--url", "https://example.com", *file], None, f"the token (--token-file {tmp_path}/token) is for the "
         "relay's moq check, but there is no relay to verify"),
        (["--url", "https://example.com"], SECRET, "the token (QUICSTACK_TOKEN) is for the relay's moq check, but "
         "there is no relay to verify: unset QUICSTACK_TOKEN"),
        (["--url", "http://example.com", "--token", SECRET], None, "'http://example.com' is not an https:// URL"),
        (["--token", SECRET, "--timeout", "0"], None, "argument --timeout: 0 is outside 0.1-300"),
    ]


@pytest.mark.parametrize("as_json", [False, True])
def test_no_token_in_any_refusal(as_json, monkeypatch, tmp_path, capsys):
    """Through --token, --token-file and QUICSTACK_TOKEN, every refusal is one line (exit 2) without the token."""
    for argv, variable, message in verify_token_errors(tmp_path):
        if variable:
            monkeypatch.setenv("QUICSTACK_TOKEN", variable)
        else:
            monkeypatch.delenv("QUICSTACK_TOKEN", raising=False)
        assert cli.main([*argv, *(["--json"] if as_json else [])]) == 2, argv
        out, err = capsys.readouterr()
        assert err.startswith(f"error: {message}") and err.count("\n") == 1, (argv, err)
        assert "SECRET" not in out + err, (argv, out, err)
        assert not as_json or json.loads(out)["exitCode"] == 2


def test_an_unexpected_failure_quoting_the_token_is_redacted(monkeypatch, tmp_path, capsys):
    """Belt and braces: an error that would carry the token (a library echoing its session URL) has it hidden."""
    def boom(args):
        cli.configure(args, None)
        raise RuntimeError(f"session https://relay.example.com/anon?jwt={SECRET} failed")

    monkeypatch.setenv("QUICSTACK_TOKEN", SECRET)
    monkeypatch.setattr(cli, "run", boom)
    assert cli.main(RELAY) == 1
    assert capsys.readouterr().err == "error: RuntimeError: session https://relay.example.com/anon?jwt=*** failed\n"


@pytest.mark.parametrize("as_json", [False, True])
def test_no_token_in_the_results_of_a_relay_that_does_not_answer(as_json, tmp_path):
    """The checks run with the token (from the variable) against a closed port: the output never holds it."""
    port = free_port()
    env = {**os.environ, "QUICSTACK_TOKEN": SECRET}
    run = run_verify("--relay", f"https://127.0.0.1:{port}/anon", "--timeout", "0.5",
                     *(["--json"] if as_json else []), env=env)
    assert run.returncode == 1, run.stderr
    assert "SECRET" not in run.stdout + run.stderr and "moq" in run.stdout
