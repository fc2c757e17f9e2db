"""Offline rules of ClusterExtension and KubernetesCompute: a passing and a failing case each."""

from __future__ import annotations

import pytest

from tests.builders import OTHER_SUB, extension, kubernetes, workspace
from tests.test_rules import findings_for, only


def rules_of(tmp_path, *docs):
    return {f.rule for f in findings_for(tmp_path, workspace(), *docs)}


def test_extension_and_two_computes_in_two_namespaces_are_clean(tmp_path):
    assert (
        findings_for(tmp_path, workspace(), extension(), kubernetes(), kubernetes("k8s-team-b", namespace="team-b"))
        == []
    )


@pytest.mark.parametrize(
    "inference",
    [
        "tls: {cname: s.contoso.com, certificate: {env: C}, key: {env: K}}",
        "tls: {cname: s.contoso.com, secretName: scoring-tls}",
        "allowInsecureConnections: true",
    ],
)
def test_each_single_way_of_tls_passes(tmp_path, inference):
    assert "KUBE001" not in rules_of(tmp_path, extension(inference=inference))


@pytest.mark.parametrize(
    "inference",
    [
        "allowInsecureConnections: true\ntls: {cname: s.contoso.com, secretName: scoring-tls}",
        "tls: {cname: s.contoso.com, secretName: x, certificate: {env: C}, key: {env: K}}",
        "tls: {cname: s.contoso.com}",
        "tls: {secretName: scoring-tls}",
        "tls: {cname: s.contoso.com, certificate: {env: C}}",
        "enabled: true",
    ],
)
def test_tls_in_two_ways_or_incomplete_is_kube001(tmp_path, inference):
    hit = only(findings_for(tmp_path, workspace(), extension(inference=inference)), "KUBE001")[0]
    assert hit.is_error and hit.address == "extension/serving-aks"


def test_internal_load_balancer_with_node_port_is_kube002(tmp_path):
    assert "KUBE002" in rules_of(
        tmp_path,
        extension(inference="allowInsecureConnections: true\nrouterServiceType: NodePort\ninternalLoadBalancer: true"),
    )
    assert "KUBE002" not in rules_of(
        tmp_path, extension(inference="allowInsecureConnections: true\ninternalLoadBalancer: true")
    )


def test_neither_training_nor_inference_is_kube003(tmp_path):
    assert "KUBE003" in rules_of(tmp_path, extension(inference="enabled: false"))
    assert "KUBE003" not in rules_of(tmp_path, extension(inference="enabled: false", extra="  training: true\n"))


def test_pinned_version_with_auto_upgrade_is_kube004(tmp_path):
    assert "KUBE004" in rules_of(tmp_path, extension(extra="  version: {version: 1.1.70}\n"))
    assert "KUBE004" not in rules_of(tmp_path, extension(extra="  version: {version: 1.1.70, autoUpgrade: false}\n"))


@pytest.mark.parametrize("namespace", ["Team-A", "team_a", "-team", "a" * 64])
def test_namespace_not_a_dns_label_is_kube005(tmp_path, namespace):
    assert "KUBE005" in rules_of(tmp_path, extension(), kubernetes(namespace=f"'{namespace}'"))


def test_instance_types_need_non_zero_requests_and_limits_and_gpus_only_in_limits(tmp_path):
    good = (
        "  instanceTypes:\n    gpu:\n      resources:\n        requests: {cpu: 1, memory: 4Gi}\n"
        "        limits: {cpu: 2, memory: 8Gi, nvidia.com/gpu: 1}\n"
    )
    assert "KUBE006" not in rules_of(tmp_path, extension(), kubernetes(extra=good))
    for bad in (
        good.replace("cpu: 1,", "cpu: 0,"),
        good.replace("requests: {cpu: 1,", "requests: {nvidia.com/gpu: 1, cpu: 1,"),
        good.replace("        limits: {cpu: 2, memory: 8Gi, nvidia.com/gpu: 1}\n", "        limits: {cpu: 2}\n"),
    ):
        assert "KUBE006" in rules_of(tmp_path, extension(), kubernetes(extra=bad)), bad


@pytest.mark.parametrize(
    "identity",
    ["{type: 'SystemAssigned,UserAssigned', ids: [x]}", "{type: SystemAssigned, ids: [x]}", "{type: UserAssigned}"],
)
def test_identity_is_system_xor_user_kube007(tmp_path, identity):
    assert "KUBE007" in rules_of(tmp_path, extension(), kubernetes(extra=f"  identity: {identity}\n"))


def test_cluster_in_another_subscription_is_kube008(tmp_path):
    assert "KUBE008" in rules_of(tmp_path, extension(sub=OTHER_SUB), kubernetes(sub=OTHER_SUB))


def test_extension_declared_twice_for_one_cluster_is_kube010(tmp_path):
    assert "KUBE010" in rules_of(tmp_path, extension(), extension(name="again"))


def test_two_computes_in_one_namespace_warn_kube011(tmp_path):
    hit = only(findings_for(tmp_path, workspace(), extension(), kubernetes(), kubernetes("k8s-team-b")), "KUBE011")[0]
    assert not hit.is_error


def test_default_instance_type_must_be_declared_kube012(tmp_path):
    extra = (
        "  defaultInstanceType: big\n  instanceTypes:\n    small:\n      resources:\n"
        "        requests: {cpu: 1, memory: 1Gi}\n        limits: {cpu: 1, memory: 1Gi}\n"
    )
    assert "KUBE012" in rules_of(tmp_path, extension(), kubernetes(extra=extra))


def test_kubernetes_compute_name_shares_the_workspace_name_space_with_aks_computes(tmp_path):
    assert "AKS002" in rules_of(tmp_path, extension(), kubernetes(), kubernetes(namespace="other"))
