"""``python3 -m tools.bootstrap``: the set-up steps of ``make up`` / ``make down`` on a fresh machine.

Every step prints one line saying what it does; an error is one line and exit code 2 (1 for leftovers found).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tools.bootstrap import cluster, kube, leftovers, release, versions

DOCS = "docs/getting-started-local.md"
# Set (to 1) where only the pinned release will do, even with another pulumi on PATH (the kind end-to-end workflow).
PINNED_ENV = "QUICSTACK_PINNED_PULUMI"


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def pulumi_release() -> release.Release:
    return release.pulumi(versions.pulumi_version(), *versions.host())


def cmd_pulumi(args) -> int:
    found = None if os.environ.get(PINNED_ENV) == "1" else shutil.which("pulumi")
    if args.where:  # the folder `make` puts first on PATH for its pulumi commands
        print(Path(found).parent if found else pulumi_release().home(args.tools) / "pulumi")
        return 0
    if found:
        version = subprocess.run([found, "version"], capture_output=True, text=True, timeout=60).stdout.strip()
        say(f"pulumi: using {found} ({version or 'version unknown'}); the project pins v{versions.pulumi_version()}")
        return 0
    pinned = pulumi_release()
    if not pinned.executable(args.tools).is_file():
        say(f"pulumi: the Pulumi CLI is not installed; installing the pinned v{pinned.version} into {args.tools}")
    exe = release.install(pinned, args.tools, release.releases_url(args.releases_url), say)
    say(f"pulumi: using {exe}")
    return 0


def cmd_cluster(args) -> int:
    cluster.create(args.stack, args.tools, release.releases_url(args.releases_url), say)
    return 0


def cmd_down(args) -> int:
    cluster.down(args.tools, say)
    return 0


def cmd_leftovers(args) -> int:
    if args.action == "snapshot":
        args.file.write_text(json.dumps(leftovers.snapshot(), indent=1) + "\n")
        say(f"leftovers: snapshot of {', '.join(leftovers.KINDS)} written to {args.file}")
        return 0
    return 0 if leftovers.check(args.file, args.wait, say) else 1


def cmd_certificates(args) -> int:
    return 0 if kube.wait_for_certificates(args.wait, say) else 1


def cmd_loopback(args) -> int:
    ports = kube.load_balancer_ports()
    say("loopback: 127.0.0.1 " + ", ".join(f"{proto.upper()} {port} -> {address} ({name})"
                                          for (proto, port), (address, name) in sorted(ports.items())))
    print("\n".join(kube.loopback_rules(ports)))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m tools.bootstrap", description=__doc__.split("\n\n")[0] + f" ({DOCS})")
    default_tools = os.environ.get("QUICSTACK_TOOLS") or str(Path.home() / ".cache" / "quicstack")
    p.add_argument("--tools", type=Path, default=Path(default_tools), metavar="DIR",
                   help="where installed tools live (default: $QUICSTACK_TOOLS or ~/.cache/quicstack)")
    p.add_argument("--releases-url", metavar="URL",
                   help=f"a mirror of github.com's release downloads (default: ${release.RELEASES_URL_ENV} or "
                        f"{release.DEFAULT_RELEASES_URL})")
    sub = p.add_subparsers(dest="command", required=True)
    pulumi = sub.add_parser("pulumi", help="the Pulumi CLI: the one on PATH, else install the pinned release")
    pulumi.add_argument("--where", action="store_true", help="print the folder of the pulumi to run, install nothing")
    pulumi.set_defaults(run=cmd_pulumi)
    create = sub.add_parser("cluster", help="a kind cluster for the local stack when there is no kube context")
    create.add_argument("--stack", default="local")
    create.set_defaults(run=cmd_cluster)
    sub.add_parser("down", help="remove what `cluster` created, only that").set_defaults(run=cmd_down)
    left = sub.add_parser("leftovers", help="snapshot the cluster, or list what a destroy left behind")
    left.add_argument("action", choices=["snapshot", "check"])
    left.add_argument("file", type=Path, help="the snapshot file")
    left.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="check: poll this long for deletions")
    left.set_defaults(run=cmd_leftovers)
    certs = sub.add_parser("certificates", help="wait until every cert-manager Certificate is Ready")
    certs.add_argument("--wait", type=float, default=300, metavar="SECONDS")
    certs.set_defaults(run=cmd_certificates)
    sub.add_parser("loopback", help="print the iptables rules that send 127.0.0.1's ports to the LoadBalancers "
                   "(kind on Linux)").set_defaults(run=cmd_loopback)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (release.InstallError, kube.KubectlError, ValueError, OSError, subprocess.SubprocessError) as exc:
        say(f"{args.command}: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
