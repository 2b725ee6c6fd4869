"""Pulumi mocks that record every registration, for the offline plan and the tests.

The recording monitor keeps what the real engine would see: type, name, parent, provider reference,
explicit and implicit dependencies, and inputs with secret values marked. ``Mocks.new_resource``
answers with the inputs plus the few computed outputs the program reads (addresses, PEMs, ...).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

from . import fake_aws, fake_gcp

SECRET = "[secret]"
UNKNOWN = "[unknown]"
"""A stack output a preview cannot know yet (``pulumi preview`` shows it as ``output<string>``)."""


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    provider: str
    dependencies: list[str]
    custom: bool
    inputs: dict  # secret values wrapped as rpc secrets; see ``plain``/``redacted``
    options: dict = field(default_factory=dict)


def ints(value: Any) -> Any:
    """Mock inputs travel as protobuf Structs, so every number arrives as a float (443.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [ints(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """The value with every secret unwrapped (what the provider would receive); in a preview, an
    input computed from another resource's output is shown as ``[unknown]``."""
    if isinstance(value, Unknown) or value == rpc.UNKNOWN:
        return UNKNOWN
    if rpc.is_rpc_secret(value):
        return plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def redacted(value: Any) -> Any:
    """The value with every secret replaced by a marker (what a plan may show)."""
    if isinstance(value, Unknown) or value == rpc.UNKNOWN:
        return UNKNOWN
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {k: redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


MOCK_CA_PEM = "-----BEGIN CERTIFICATE-----\nMOCK-ROOT-CA\n-----END CERTIFICATE-----\n"


def _service(inputs: dict) -> dict:
    """LoadBalancer Services get an address in status, as the cloud would give them. A Service read
    back by id (``Service.get``: the ingress controller's, made by its chart) is a LoadBalancer too."""
    spec = inputs.get("spec") or {}
    allocated = {"spec": {"clusterIP": "192.0.2.30", **spec}}  # the API server gives every Service a cluster IP
    if spec.get("type", "LoadBalancer") != "LoadBalancer":
        return allocated
    if spec.get("loadBalancerClass") == "service.k8s.aws/nlb":  # NLBs report a host name, never an IP
        name = (inputs.get("metadata") or {}).get("name", "lb")
        hostname = f"{name}-0123456789.elb.eu-west-1.amazonaws.com"
        return {**allocated, "status": {"loadBalancer": {"ingress": [{"hostname": hostname}]}}}
    return {**allocated, "status": {"loadBalancer": {"ingress": [{"ip": spec.get("loadBalancerIP") or "192.0.2.10"}]}}}


def _secret(inputs: dict) -> dict:
    """A Secret read back by id (``Secret.get``) is the local root CA that cert-manager issued."""
    if "data" in inputs or "stringData" in inputs:
        return {}
    return {"data": {"ca.crt": base64.b64encode(MOCK_CA_PEM.encode()).decode(), "tls.crt": "", "tls.key": ""}}


def _private_key(inputs: dict, name: str) -> dict:
    """A real key of the requested algorithm, as the tls provider generates one: the program derives
    public material from it (the relay's JWK), and tests sign with the private half. Derived from the
    resource's name, so two plans of one stack are byte-identical (``tools.plan_diff``) while two keys of one
    plan still differ."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    seed = hashlib.sha256(f"quicstack plan mock key: {name}".encode()).digest()
    if inputs.get("algorithm") == "ECDSA" and inputs.get("ecdsaCurve", "P224") == "P256":
        key = ec.derive_private_key(int.from_bytes(seed, "big") % (P256_ORDER - 1) + 1, ec.SECP256R1())
    elif inputs.get("algorithm") == "ED25519":
        key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    else:
        raise ValueError(f"the plan's tls.PrivateKey mock makes ED25519 and ECDSA P256 keys, not {inputs}")
    public, none = key.public_key(), ser.NoEncryption()
    return {
        "privateKeyPem": key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, none).decode(),
        "privateKeyOpenssh": key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH, none).decode(),
        "publicKeyOpenssh": public.public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH).decode() + "\n",
        "publicKeyPem": public.public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo).decode(),
    }


# Computed outputs the program reads, per resource type (documentation-range values, RFC 5737).
COMPUTED: dict[str, Callable[[dict], dict]] = {
    "kubernetes:core/v1:Service": _service,
    "kubernetes:core/v1:Secret": _secret,
    "random:index/randomBytes:RandomBytes": lambda i: {
        "base64": "AAECAwQFBgcICQoLDA0ODw==",
        "hex": "000102030405060708090a0b0c0d0e0f",
    },
    "random:index/randomPassword:RandomPassword": lambda i: {"result": "mock-password-0123456789"},
}
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""The order of P-256's base point (SEC 2, section 2.4.2): a private scalar lies in [1, n-1]."""

# Invoke results the program indexes into, per token.
CALLS: dict[str, Callable[[dict], dict]] = {**fake_aws.CALLS, **fake_gcp.CALLS}
COMPUTED.update({**fake_aws.COMPUTED, **fake_gcp.COMPUTED})


class Mocks(pulumi.runtime.Mocks):
    """Answers as the engine would: after creation with the computed outputs; in a preview, a resource
    to be created has no id and only its inputs, so every computed output is unknown to the program
    (reads, ``X.get``, and invokes do run in a preview, so they still answer)."""

    def __init__(self, preview: bool = False):
        self.preview = preview

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = plain(args.inputs)
        if self.preview and (not args.resource_id or args.resource_id == rpc.UNKNOWN):
            # To be created, or a read whose id is not known yet: the engine skips it and every output is unknown.
            return [None, inputs]
        if args.typ == "tls:index/privateKey:PrivateKey":
            computed = _private_key(inputs, args.name)
        else:
            computed = COMPUTED.get(args.typ, lambda _: {})(ints(inputs))
        outputs = {**inputs, **computed}
        return [f"{args.name}-id" if args.custom else None, outputs]

    def call(self, args: pulumi.runtime.MockCallArgs):
        return CALLS.get(args.token, lambda _: {})(plain(args.args))


class ReadBeforeCreate(Exception):
    """What ``pulumi preview`` of a new stack reports for a read of an object the program creates."""


class RecordingMonitor(MockMonitor):
    """A MockMonitor that also keeps each RegisterResource request in order."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def ReadResource(self, request):
        if self.mocks.preview and request.id != rpc.UNKNOWN and request.dependencies:
            # The engine reads a known id even in a preview, ignoring depends_on (pulumi/pulumi#16395):
            # on a new stack the object this program is about to create does not exist yet.
            raise ReadBeforeCreate(f"Preview failed: {request.type} {request.name!r} reads {request.id!r}, which this "
                                   "program creates; derive the id from the creating resource's outputs")
        return super().ReadResource(request)

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    provider=request.provider,
                    dependencies=sorted(set(request.dependencies)),
                    custom=bool(request.custom),
                    inputs=ints(rpc.deserialize_properties(request.object)),
                    options={
                        "deleteBeforeReplace": request.deleteBeforeReplace,
                        "retainOnDelete": request.retainOnDelete,
                        "additionalSecretOutputs": sorted(request.additionalSecretOutputs),
                        "customTimeouts": {
                            "create": request.customTimeouts.create,
                            "update": request.customTimeouts.update,
                            "delete": request.customTimeouts.delete,
                        },
                        # Only when set, so plans from before this key stay comparable (tools.plan_diff).
                        **({"replaceOnChanges": sorted(request.replaceOnChanges)}
                           if request.replaceOnChanges else {}),
                    },
                )
            )
        return response


def install(project: str, stack: str, preview: bool = False) -> RecordingMonitor:
    """Set the process's one and only mocks (a second set_mocks would silently win over the first)."""
    monitor = RecordingMonitor(Mocks(preview))
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    return monitor


def run(program: Callable[[], None]) -> dict[str, Any]:
    """Run ``program`` to completion under the installed mocks; return stack outputs (secrets wrapped)."""
    from pulumi.runtime.settings import get_root_resource

    outputs: dict[str, Any] = {}

    async def collect() -> None:
        program()
        for key, value in get_root_resource().outputs.items():
            out = pulumi.Output.from_input(value)
            resolved = await out.future() if await out.is_known() else UNKNOWN
            outputs[key] = rpc.wrap_rpc_secret(resolved) if await out.is_secret() else resolved

    pulumi.runtime.test(lambda: pulumi.Output.from_input(collect()))()
    return outputs
