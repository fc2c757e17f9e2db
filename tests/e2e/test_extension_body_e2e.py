"""The product's extension body passes the emulator's health check; without the derived settings it fails.

The emulator models Azure's health check independently of the product: a body lacking any setting the
Azure CLI derives fails it, as a bare REST/Terraform install does.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import extension_body
from reconciler.cloud.auth import connect
from reconciler.cloud.kubernetes import KubernetesClient
from reconciler.emulator.services.k8sconfig.rules import missing_derived, settings_error
from tests.builders import aks_id, cluster, desired, extension, seed_cluster, workspace
from tests.e2e.conftest import seed

PEM = "tls: {cname: scoring.contoso.com, certificate: {env: CERT}, key: {env: KEY}}"


def product_body(tmp_path, inference: str = "allowInsecureConnections: true", pem=None):
    de = desired(tmp_path, workspace(), extension(inference=inference)).extensions[0]
    return extension_body.install_body(de, cluster("serving-aks"), pem)


@pytest.mark.parametrize(
    "inference, pem",
    [
        ("allowInsecureConnections: true", None),
        (PEM, {"certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "key": "k"}),
        ("tls: {cname: scoring.contoso.com, secretName: scoring-tls}\nrouterServiceType: NodePort", None),
    ],
)
def test_the_products_install_body_passes_the_emulators_health_check(make_cloud, tmp_path, monkeypatch, inference, pem):
    monkeypatch.setenv("CERT", "c")
    monkeypatch.setenv("KEY", "k")
    cloud = make_cloud(seed(clusters={"serving-aks": seed_cluster("westeurope", "1.30.5")}))
    client = KubernetesClient(connect(cloud.url))
    try:
        body = product_body(tmp_path, inference, pem)
        client.begin_install(aks_id("serving-aks"), "azureml", body).result(timeout=60)
        ext = client.get_extension(aks_id("serving-aks"), "azureml")
        assert ext is not None and ext.provisioning_state == "Succeeded", ext
        assert "scoringFe.sslCert" not in ext.settings  # protected settings are write-only
        assert (extension_body.DIGEST_KEY in ext.settings) == (pem is not None)  # their digest is readable
    finally:
        client.close()


def test_without_the_derived_settings_the_install_fails_its_health_check(make_cloud, tmp_path):
    cloud = make_cloud(seed(clusters={"serving-aks": seed_cluster("westeurope", "1.30.5")}))
    client = KubernetesClient(connect(cloud.url))
    try:
        body = product_body(tmp_path)
        settings_ = body["properties"]["configurationSettings"]
        for key in extension_body.DERIVED_KEYS:
            settings_.pop(key)
        with pytest.raises(Exception, match=r"[Hh]ealth check"):
            client.begin_install(aks_id("serving-aks"), "azureml", body).result(timeout=60)
    finally:
        client.close()


@settings(max_examples=60, deadline=None)
@given(
    training=st.booleans(),
    router=st.sampled_from(["LoadBalancer", "NodePort", "ClusterIP"]),
    ilb=st.booleans(),
    ha=st.booleans(),
    tls=st.sampled_from(["insecure", "secret", "pem"]),
    selector=st.dictionaries(st.sampled_from(["pool", "zone", "gpu"]), st.sampled_from(["a", "b"]), max_size=2),
)
def test_no_manifest_yields_a_body_missing_a_derived_setting(
    tmp_path_factory, training, router, ilb, ha, tls, selector
):
    if ilb and router == "NodePort":
        ilb = False  # KUBE002 refuses it offline
    ways = {
        "insecure": "allowInsecureConnections: true",
        "secret": "tls: {cname: s.contoso.com, secretName: s}",
        "pem": "tls: {cname: s.contoso.com, certificate: {env: C}, key: {env: K}}",
    }
    inference = f"{ways[tls]}\nrouterServiceType: {router}\ninternalLoadBalancer: {str(ilb).lower()}\nhighAvailability: {str(ha).lower()}"
    extra = f"  training: {str(training).lower()}\n" + (f"  nodeSelector: {selector}\n" if selector else "")
    folder = tmp_path_factory.mktemp("m")
    de = desired(folder, workspace(), extension(inference=inference, extra=extra)).extensions[0]
    pem = {"certificate": "c", "key": "k"} if tls == "pem" else None
    body = extension_body.install_body(de, cluster("serving-aks"), pem)["properties"]
    assert missing_derived(body["configurationSettings"]) == []
    assert (
        settings_error(body["configurationSettings"], list(body.get("configurationProtectedSettings", {})), nodes=3)
        is None
    )
