"""Each offline rule: a passing and a failing case, asserting rule id and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import loader, rules
from tests.builders import OTHER_SUB, aks_id, attach, create, workspace


def findings_for(tmp_path: Path, *docs: str):
    (tmp_path / "m.yaml").write_text("---\n".join(docs))
    result = loader.load([tmp_path])
    return result.findings + rules.check(result)


def ids_and_lines(findings):
    return {(f.rule, f.position.line) for f in findings}


def only(findings, rule):
    hits = [f for f in findings if f.rule == rule]
    assert hits, f"expected {rule} in {[f.format() for f in findings]}"
    return hits


def test_baseline_manifests_are_clean(tmp_path):
    assert findings_for(tmp_path, workspace(), attach(), create()) == []


# Documents are joined with "---\n": workspace() has 9 lines, so the second
# document starts on line 11 and the third after that one.
WS_LINES = 10


@pytest.mark.parametrize("name", ["abc", "scoring-prod", "a" * 24, "Model-v2", "web-api-x1"])
def test_valid_compute_names_pass(tmp_path, name):
    assert not [f for f in findings_for(tmp_path, workspace(), attach(name=name)) if f.rule == "AKS001"]


@pytest.mark.parametrize("name", ["ab", "a" * 25, "1scoring", "scoring_prod", "scoring-01", "-abc", "sc.prod"])
def test_invalid_compute_names_fail_with_aks001(tmp_path, name):
    hit = only(findings_for(tmp_path, workspace(), attach(name=f"'{name}'")), "AKS001")[0]
    assert hit.position.line == WS_LINES + 4
    assert hit.is_error and hit.hint


def test_compute_name_unique_per_workspace_across_files(tmp_path):
    (tmp_path / "a.yaml").write_text(workspace() + "---\n" + attach(name="scoring", cluster="one"))
    (tmp_path / "b.yaml").write_text(attach(name="Scoring", cluster="two"))
    result = loader.load([tmp_path])
    hit = only(rules.check(result), "AKS002")[0]
    assert hit.position.path.name == "b.yaml" and hit.position.line == 4


def test_same_compute_name_in_two_workspaces_is_fine(tmp_path):
    docs = (
        workspace(),
        workspace("dev", ws="ml-dev"),
        attach(name="scoring", cluster="one"),
        attach(name="scoring", cluster="two", ws="dev"),
    )
    assert findings_for(tmp_path, *docs) == []


def test_unknown_workspace_alias_fails_with_aks003(tmp_path):
    hit = only(findings_for(tmp_path, workspace(), attach(ws="staging")), "AKS003")[0]
    assert hit.position.line == WS_LINES + 6
    assert "staging" in hit.message and "prod" in hit.message


def test_workspace_alias_declared_twice_fails_with_ws001(tmp_path):
    hit = only(findings_for(tmp_path, workspace(), workspace(ws="other")), "WS001")[0]
    assert hit.position.line == WS_LINES + 4


def test_one_workspace_under_two_aliases_fails_with_ws002(tmp_path):
    hit = only(findings_for(tmp_path, workspace(), workspace("again")), "WS002")[0]
    assert hit.position.line == WS_LINES + 8


def test_both_attach_and_create_fail_with_aks004(tmp_path):
    doc = attach(extra="  create:\n    location: westeurope\n")
    hit = only(findings_for(tmp_path, workspace(), doc), "AKS004")[0]
    assert "both" in hit.message and hit.position.line == WS_LINES + 6


def test_neither_attach_nor_create_fails_with_aks004(tmp_path):
    doc = attach().split("  attach:")[0]
    hit = only(findings_for(tmp_path, workspace(), doc), "AKS004")[0]
    assert "neither" in hit.message


@pytest.mark.parametrize(
    "bad",
    [
        "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/a",
        "scoring-aks",
        aks_id("a").replace("managedClusters", "virtualMachines"),
    ],
)
def test_malformed_cluster_id_fails_with_aks005(tmp_path, bad):
    hit = only(findings_for(tmp_path, workspace(), attach(cluster_id=bad)), "AKS005")[0]
    assert hit.position.line == WS_LINES + 10


def test_cluster_id_is_case_insensitive(tmp_path):
    doc = attach(
        cluster_id=aks_id("Scoring-AKS")
        .replace("resourceGroups", "resourcegroups")
        .replace("Microsoft.ContainerService", "microsoft.containerservice")
    )
    assert findings_for(tmp_path, workspace(), doc) == []


def test_cluster_in_another_subscription_fails_with_aks006(tmp_path):
    hit = only(findings_for(tmp_path, workspace(), attach(cluster_id=aks_id("x", sub=OTHER_SUB))), "AKS006")[0]
    assert hit.position.line == WS_LINES + 10 and OTHER_SUB in hit.message


def test_same_cluster_twice_in_one_workspace_fails_with_aks007_across_files(tmp_path):
    (tmp_path / "a.yaml").write_text(workspace() + "---\n" + attach(name="scoring-a", cluster="shared-aks"))
    (tmp_path / "b.yaml").write_text(
        attach(name="scoring-b", cluster_id=aks_id("SHARED-aks").replace("resourceGroups", "resourcegroups"))
    )
    hit = only(rules.check(loader.load([tmp_path])), "AKS007")[0]
    assert hit.position.path.name == "b.yaml" and hit.position.line == 10
    assert "scoring-a" in hit.message


def test_same_cluster_in_two_workspaces_is_allowed(tmp_path):
    docs = (
        workspace(),
        workspace("dev", ws="ml-dev"),
        attach(name="a-one", cluster="shared"),
        attach(name="a-two", cluster="shared", ws="dev"),
    )
    assert findings_for(tmp_path, *docs) == []


@pytest.mark.parametrize(
    "purpose,vm,count",
    [("FastProd", "Standard_D3_v2", 3), ("DenseProd", "Standard_D4_v2", 2), ("DevTest", "Standard_D2_v2", 1)],
)
def test_enough_vcpus_pass(tmp_path, purpose, vm, count):
    assert findings_for(tmp_path, workspace(), create(purpose=purpose, vm=vm, count=count)) == []


@pytest.mark.parametrize(
    "purpose,vm,count",
    [("FastProd", "Standard_D3_v2", 2), ("DenseProd", "Standard_D2_v2", 5), ("DevTest", "Standard_D1_v2", 1)],
)
def test_too_few_vcpus_fail_with_aks008(tmp_path, purpose, vm, count):
    hit = only(findings_for(tmp_path, workspace(), create(purpose=purpose, vm=vm, count=count)), "AKS008")[0]
    assert hit.position.line == WS_LINES + 12


def test_default_purpose_is_production_for_vcpus(tmp_path):
    doc = create(count=2).replace("  clusterPurpose: DevTest\n", "")
    assert only(findings_for(tmp_path, workspace(), doc), "AKS008")


def test_unknown_vm_size_is_only_a_warning_aks009(tmp_path):
    hit = only(findings_for(tmp_path, workspace(), create(vm="Standard_Z99_v9")), "AKS009")[0]
    assert not hit.is_error and hit.position.line == WS_LINES + 11


def test_gpu_size_gets_node_pool_note_aks010(tmp_path):
    hit = only(findings_for(tmp_path, workspace(), create(vm="Standard_NC6", count=2)), "AKS010")[0]
    assert not hit.is_error and "secondary node pools" in hit.hint


@pytest.mark.parametrize("count", [0, -1])
def test_agent_count_below_one_fails_with_aks011(tmp_path, count):
    hit = only(findings_for(tmp_path, workspace(), create(count=count)), "AKS011")[0]
    assert hit.position.line == WS_LINES + 12


TLS_LEAF = "  tls:\n    enabled: true\n    leafDomainLabel: contoso\n"
TLS_CUSTOM = (
    "  tls:\n    enabled: true\n    cname: a.example.com\n    certificate: {file: c.pem}\n    key: {env: KEY}\n"
)


@pytest.mark.parametrize("tls", [TLS_LEAF, TLS_CUSTOM, "  tls:\n    enabled: false\n"])
def test_valid_tls_passes(tmp_path, tls):
    assert findings_for(tmp_path, workspace(), attach(extra=tls)) == []


@pytest.mark.parametrize(
    "tls,line",
    [
        ("  tls:\n    enabled: true\n", 12),
        (TLS_CUSTOM + "    leafDomainLabel: contoso\n", 12),
        ("  tls:\n    enabled: true\n    cname: a.example.com\n    key: {env: KEY}\n", 12),
    ],
)
def test_incomplete_or_double_tls_fails_with_aks012(tmp_path, tls, line):
    hit = only(findings_for(tmp_path, workspace(), attach(extra=tls)), "AKS012")[0]
    assert hit.position.line == WS_LINES + line


def test_tls_with_internal_load_balancer_fails_with_aks013(tmp_path):
    extra = "  loadBalancer:\n    type: InternalLoadBalancer\n" + TLS_LEAF
    hit = only(findings_for(tmp_path, workspace(), attach(extra=extra)), "AKS013")[0]
    assert hit.position.line == WS_LINES + 14


def test_internal_load_balancer_with_subnet_passes(tmp_path):
    extra = "  loadBalancer:\n    type: InternalLoadBalancer\n    subnet: aks-subnet\n"
    assert findings_for(tmp_path, workspace(), attach(extra=extra)) == []


def test_subnet_without_internal_load_balancer_fails_with_aks014(tmp_path):
    extra = "  loadBalancer:\n    type: PublicIp\n    subnet: aks-subnet\n"
    hit = only(findings_for(tmp_path, workspace(), attach(extra=extra)), "AKS014")[0]
    assert hit.position.line == WS_LINES + 13


SUBNET = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks"


def network(subnet=SUBNET, service="10.0.0.0/16", dns="10.0.0.10", bridge="172.17.0.1/16") -> str:
    lines = ["    network:"]
    for key, value in (
        ("subnetId", subnet),
        ("serviceCidr", service),
        ("dnsServiceIP", dns),
        ("dockerBridgeCidr", bridge),
    ):
        if value is not None:
            lines.append(f"      {key}: {value}")
    return "\n".join(lines) + "\n"


def test_complete_network_passes(tmp_path):
    assert findings_for(tmp_path, workspace(), create(extra=network())) == []


def test_partial_network_fails_with_aks015(tmp_path):
    hit = only(findings_for(tmp_path, workspace(), create(extra=network(dns=None, bridge=None))), "AKS015")[0]
    assert "dnsServiceIP" in hit.message and hit.position.line == WS_LINES + 14


@pytest.mark.parametrize(
    "kwargs,line,needle",
    [
        ({"subnet": "aks-subnet"}, 14, "subnet id"),
        ({"service": "10.0.0.1/16"}, 15, "serviceCidr"),
        ({"dns": "10.1.0.10"}, 16, "outside"),
        ({"dns": "10.0.0.1"}, 16, "first address"),
        ({"dns": "10.0.0.0"}, 16, "network"),
        ({"dns": "not-an-ip"}, 16, "not an IP"),
        ({"bridge": "10.0.5.1/24"}, 17, "overlaps"),
        ({"bridge": "172.17.0.1"}, 0, None),
    ],
)
def test_bad_network_addresses_fail_with_aks016(tmp_path, kwargs, line, needle):
    found = [f for f in findings_for(tmp_path, workspace(), create(extra=network(**kwargs))) if f.rule == "AKS016"]
    if needle is None:  # a bare address is a /32 interface: valid, no overlap
        assert found == []
        return
    assert found and found[0].position.line == WS_LINES + line and needle in found[0].message


def test_tls_settings_while_disabled_warn_aks017(tmp_path):
    hit = only(
        findings_for(tmp_path, workspace(), attach(extra="  tls:\n    enabled: false\n    leafDomainLabel: x\n")),
        "AKS017",
    )[0]
    assert not hit.is_error


def test_every_rule_has_a_hint_and_a_stable_id():
    for rule_id, rule in rules.RULES.items():
        assert rule.hint and rule.title and rule.id == rule_id
