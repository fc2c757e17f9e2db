"""Arbitrary YAML and manifest-shaped data: validate answers cleanly, never a traceback."""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import loader, rules
from reconciler.cli import main

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(alphabet=string.printable, max_size=30),
)
FIELDS = [
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "name",
    "workspace",
    "attach",
    "create",
    "clusterId",
    "tls",
    "enabled",
    "leafDomainLabel",
    "cname",
    "certificate",
    "key",
    "file",
    "env",
    "loadBalancer",
    "type",
    "subnet",
    "network",
    "serviceCidr",
    "dnsServiceIP",
    "dockerBridgeCidr",
    "subnetId",
    "agentCount",
    "vmSize",
    "location",
    "clusterPurpose",
    "subscriptionId",
    "resourceGroup",
    "workspaceName",
    "prune",
]
values = st.recursive(
    scalars
    | st.sampled_from(
        [
            "reconciler.aml/v1",
            "Workspace",
            "InferenceCluster",
            "FastProd",
            "DevTest",
            "InternalLoadBalancer",
            "10.0.0.0/16",
            "10.0.0.10",
            "prod",
        ]
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=6),
    max_leaves=25,
)


def _dump(value) -> str:
    """JSON is YAML: flow style is enough to reach every loader path."""
    return json.dumps(value, default=str)


def _check(tmp_path, text: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(text.encode("utf-8", "replace"))
    result = loader.load([path])
    findings = result.findings + rules.check(result)
    for f in findings:
        assert f.rule and f.message and f.position.path == path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(tmp_path, text):
    _check(tmp_path, text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))
def test_manifest_shaped_data_never_raises(tmp_path, data):
    _check(tmp_path, _dump(data))


def _manifest(ws_name, name, purpose, attach_id, tls_enabled, leaf, lb):
    return {
        "apiVersion": "reconciler.aml/v1",
        "kind": "InferenceCluster",
        "metadata": {"name": name},
        "spec": {
            "workspace": ws_name,
            "clusterPurpose": purpose,
            "attach": {"clusterId": attach_id},
            "tls": {"enabled": tls_enabled, **({"leafDomainLabel": leaf} if leaf else {})},
            "loadBalancer": {"type": lb},
        },
    }


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.builds(
            _manifest,
            st.sampled_from(["prod", "nope"]),
            st.text(min_size=0, max_size=30),
            st.sampled_from(["FastProd", "DevTest", "DenseProd", "Bad"]),
            st.sampled_from(
                [
                    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/r/providers/Microsoft.ContainerService/managedClusters/a",
                    "x",
                    "",
                ]
            ),
            st.booleans(),
            st.one_of(st.none(), st.text(max_size=10)),
            st.sampled_from(["PublicIp", "InternalLoadBalancer"]),
        ),
        max_size=4,
    )
)
def test_valid_looking_manifests_through_the_cli_exit_0_or_1(tmp_path, docs):
    import contextlib
    import io

    ws = {
        "apiVersion": "reconciler.aml/v1",
        "kind": "Workspace",
        "metadata": {"name": "prod"},
        "spec": {
            "subscriptionId": "00000000-0000-0000-0000-000000000001",
            "resourceGroup": "rg",
            "workspaceName": "ws",
        },
    }
    (tmp_path / "m.yaml").write_text("\n---\n".join(json.dumps(d) for d in [ws, *docs]))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["validate", str(tmp_path / "m.yaml"), "--log-format", "console"])
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
    assert code in (0, 1), err.getvalue()
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if code == 1:
        assert ": error " in out.getvalue() + err.getvalue()  # an invalid manifest is explained, file:line:col first
