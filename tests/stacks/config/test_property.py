"""Arbitrary config either validates or fails with the one-line error, never anything else."""

from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.config import ConfigError, Settings, load
from stacks.config.settings import Settings as Root

scalars = st.none() | st.booleans() | st.integers(-5, 70000) | st.floats(allow_nan=True) | st.text(max_size=12) | st.sampled_from(
    ["example.com", "http01", "dns01", "production", "selfsigned", "k3s", "gke", "eks", "existing", "clouddns", "route53"])
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10) | st.sampled_from(
    ["challenge", "environment", "email", "provider", "zone", "quicPort", "image", "publicPort", "relayUdp", "region"]), inner, max_size=4), max_leaves=12)
keys = st.sampled_from(list(Root.model_fields_by_alias())) | st.text(max_size=10)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, values, max_size=6))
def test_any_mapping_validates_or_fails_in_one_line(raw):
    try:
        assert isinstance(load(raw), Settings)
    except ConfigError as err:
        line = str(err)
        assert line.startswith("quicstack:") and "\n" not in line, line


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["challenge", "environment", "email", "relayChallenge"]), scalars, max_size=4),
       st.dictionaries(st.sampled_from(["provider", "zone", "project", "records"]), scalars, max_size=4))
def test_acme_and_dns_sections(acme, dns):
    try:
        load({"domain": "example.com", "acme": acme, "dns": dns})
    except ConfigError as err:
        assert str(err).startswith(("quicstack:acme", "quicstack:dns")) and "\n" not in str(err)
