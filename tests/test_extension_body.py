"""The extension body as the Azure CLI builds it: derived settings, protected PEM pair, PATCH shape."""

from __future__ import annotations

import base64

from reconciler import extension_body as eb
from reconciler.state import Extension
from tests.builders import aks_id, cluster, desired, extension, workspace

PEM = "tls: {cname: scoring.contoso.com, certificate: {env: CERT}, key: {env: KEY}}"


def one(tmp_path, **kw):
    return desired(tmp_path, workspace(), extension(**kw)).extensions[0]


def test_install_body_has_every_setting_the_cli_derives_for_an_aks_cluster(tmp_path):
    body = eb.install_body(one(tmp_path), cluster("serving-aks"), None)
    settings = body["properties"]["configurationSettings"]
    cid = aks_id("serving-aks")
    assert {k: settings[k] for k in eb.DERIVED_KEYS} == {
        "cluster_name": cid,
        "clusterId": cid,
        "prometheus.prometheusSpec.externalLabels.cluster_name": cid,
        "cluster_name_friendly": "serving-aks",
        "location": "westeurope",
        "jobSchedulerLocation": "westeurope",
        "domain": "westeurope.cloudapp.azure.com",
        "servicebus.enabled": "false",
        "relayserver.enabled": "false",
        "nginxIngress.enabled": "true",
    }
    assert (
        settings["scoringFe.serviceType.nodePort"] == "false"
        and settings["inferenceRouterServiceType"] == "loadBalancer"
    )
    assert body["properties"]["scope"] == {"cluster": {"releaseNamespace": "azureml"}}
    assert body["properties"]["extensionType"] == "Microsoft.AzureML.Kubernetes"
    assert "configurationProtectedSettings" not in body["properties"]


def test_the_pem_pair_goes_base64_in_protected_settings_and_only_its_digest_in_plain_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("CERT", "CERT-PEM")
    monkeypatch.setenv("KEY", "KEY-PEM")
    de = one(tmp_path, inference=PEM)
    body = eb.install_body(de, cluster("serving-aks"), {"certificate": "CERT-PEM", "key": "KEY-PEM"})["properties"]
    assert body["configurationProtectedSettings"] == {
        "scoringFe.sslCert": base64.b64encode(b"CERT-PEM").decode(),
        "scoringFe.sslKey": base64.b64encode(b"KEY-PEM").decode(),
    }
    plain = str(body["configurationSettings"])
    assert "CERT-PEM" not in plain and "KEY-PEM" not in plain
    assert body["configurationSettings"][eb.DIGEST_KEY] == de.protected_digest()


def test_a_patch_names_only_changed_settings_and_removes_dropped_ones_with_null(tmp_path):
    de = one(tmp_path, inference="allowInsecureConnections: true\ninternalLoadBalancer: false")
    have = eb.configuration_settings(
        one(tmp_path, inference="allowInsecureConnections: true\ninternalLoadBalancer: true"), cluster("serving-aks")
    )
    observed = Extension(
        "id", "azureml", "Microsoft.AzureML.Kubernetes", aks_id("serving-aks"), {**have, "chart.own": "x"}
    )
    patch = eb.upgrade_body(de, cluster("serving-aks"), observed, None, send_protected=False)["properties"]
    assert patch["configurationSettings"] == {
        "internalLoadBalancerProvider": None,
        "scoringFe.serviceType.internalLoadBalancer": "false",
    }
    assert patch["autoUpgradeMinorVersion"] is True and "configurationProtectedSettings" not in patch
