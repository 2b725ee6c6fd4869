"""The opt-in in-cluster demo publisher: what the plan deploys, and the config rules around it."""

from __future__ import annotations

import ipaddress

import kubernetes_validate
import pytest

from components.workloads.relay.versions import CLI_IMAGE
from stacks.config import ConfigError, load
from tests.support import validators

SELFSIGNED = {"quicstack:domain": "quicstack.localhost", "quicstack:acme": {"environment": "selfsigned"}}


def containers(p) -> dict[str, dict]:
    pod = p.object("Deployment", "demo-publisher")["spec"]["template"]["spec"]
    return {c["name"]: c for c in pod.get("initContainers", []) + pod["containers"]}


def test_off_by_default(plan):
    assert not [o for o in plan("local").manifests if "publisher" in o["metadata"]["name"]]


def test_planned_publisher_on_a_selfsigned_stack(plan_config):
    run, p = plan_config({**SELFSIGNED, "quicstack:publisher": {"enabled": True}})
    assert run.returncode == 0, run.stderr
    deployment = p.object("Deployment", "demo-publisher")
    pod = deployment["spec"]["template"]["spec"]
    c = containers(p)
    moq, ffmpeg = c["moq"], c["ffmpeg"]
    # Pinned upstream images: the moq-cli release of the relay's tag, and a static ffmpeg.
    assert (moq["image"], ffmpeg["image"]) == (CLI_IMAGE, "mwader/static-ffmpeg:9.0.1")
    # moq is a native sidecar that must be listening before ffmpeg starts pushing to it.
    assert [x["name"] for x in pod["initContainers"]] == ["moq"] and moq["restartPolicy"] == "Always"
    assert moq["startupProbe"]["tcpSocket"]["port"] == 1935
    assert moq["args"][-6:] == ["import", "--broadcast", "bbb.hang", "rtmp", "--listen", "0.0.0.0:1935"]
    assert ffmpeg["args"][-1] == "rtmp://127.0.0.1:1935/live/demo" and "libx264" in ffmpeg["args"]
    # Publishes exactly what the watch page plays.
    env = {e["name"]: e for e in moq["env"]}
    assert env["MOQ_CONNECT"]["value"] == "https://relay.quicstack.localhost/anon" and "MOQ_TOKEN" not in env
    # The selfsigned stack's CA verifies the relay (the relay certificate Secret's ca.crt).
    relay_secret = next(v["secret"]["secretName"] for v in p.object("Deployment", "relay")["spec"]["template"]["spec"]["volumes"]
                        if v["name"] == "tls")
    assert pod["volumes"] == [{"name": "ca", "secret": {"secretName": relay_secret, "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]
    assert moq["args"][:2] == ["--connect-tls-root", "/etc/moq/ca/ca.crt"]
    # The relay's host resolves to the relay Service's cluster IP inside the pod (no hairpin; *.localhost works).
    (alias,) = pod["hostAliases"]
    assert alias["hostnames"] == ["relay.quicstack.localhost"] and ipaddress.ip_address(alias["ip"])
    assert p.one("kubernetes:core/v1:Service", "relay-service")["urn"] in p.depends_on(
        p.one("kubernetes:apps/v1:Deployment", "demo-publisher-deployment")["urn"])
    # Restricted pod security for both containers; nobody may connect in.
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    for container in (moq, ffmpeg):
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"] and sc["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["limits"] and container["resources"]["requests"]
    policy = p.object("NetworkPolicy", "demo-publisher")
    assert "ingress" not in policy["spec"] and policy["spec"]["podSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    for obj in (deployment, policy):
        kubernetes_validate.validate(obj, validators.KUBERNETES_VERSION, strict=True)
    report = validators.checkov(p.dir / "manifests")
    assert [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]] == []


def test_token_comes_from_a_secret(plan_config):
    run, p = plan_config({"quicstack:domain": "example.com", "quicstack:acme": {"environment": "staging", "email": "a@example.com"},
                          "quicstack:relay": {"auth": "jwt", "jwtKey": "generate"},
                          "quicstack:publisher": {"enabled": True, "tokenSecret": "publish-token"}})
    assert run.returncode == 0, run.stderr
    moq = containers(p)["moq"]
    env = {e["name"]: e for e in moq["env"]}
    assert env["MOQ_TOKEN"] == {"name": "MOQ_TOKEN", "valueFrom": {"secretKeyRef": {"name": "publish-token", "key": "token"}}}
    # The kubelet expands $(MOQ_TOKEN): defined before, so the token is never written into the pod spec.
    assert list(env) == ["RUST_LOG", "MOQ_TOKEN", "MOQ_CONNECT"]
    assert env["RUST_LOG"]["value"] == "info,web_transport_moq=info"
    assert env["MOQ_CONNECT"]["value"] == "https://relay.example.com/anon?jwt=$(MOQ_TOKEN)"
    # Public roots for a Let's Encrypt certificate: no CA mount.
    assert "--connect-tls-root" not in moq["args"] and not moq.get("volumeMounts")


@pytest.mark.parametrize("config, error", [
    ({"relay": {"auth": "jwt", "jwtKey": "generate"}, "publisher": {"enabled": True}},
     "quicstack:publisher.tokenSecret: is required: relay.auth is jwt here, so publishing needs a token "
     "(a Secret in namespace moq with key `token`)"),
    # Let's Encrypt certificates: publishing takes tokens by default.
    ({"acme": {"environment": "staging", "email": "ops@example.com"}, "publisher": {"enabled": True}},
     "quicstack:publisher.tokenSecret: is required: relay.auth is jwt here, so publishing needs a token "
     "(a Secret in namespace moq with key `token`)"),
    ({"publisher": {"tokenSecret": "t"}}, "quicstack:publisher.tokenSecret: 't' is set, but publisher.enabled is false"),
    ({"relay": {"enabled": False}, "web": {"enabled": False}, "publisher": {"enabled": True}},
     "quicstack:publisher.enabled: true needs the relay it publishes to: set relay.enabled true, or publisher.enabled false"),
    ({"publisher": {"enabled": True, "cliImage": "moqdev/moq-cli:latest"}},
     "quicstack:publisher.cliImage: 'moqdev/moq-cli:latest' is not pinned: give a version tag "
     "(not a moving tag such as latest, main or nightly) or a digest"),
    ({"publisher": {"enabled": True, "tokenSecret": "Bad_Name"}},
     "quicstack:publisher.tokenSecret: 'Bad_Name' is not a Secret name (lower-case a-z, 0-9, '-' and '.')"),
])
def test_config_rules(config, error):
    with pytest.raises(ConfigError) as err:
        load({"domain": "example.com", **config})
    assert str(err.value) == error
