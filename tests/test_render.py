"""Plan rendering: text symbols and summary, plan-file JSON, Markdown; never a secret."""

from __future__ import annotations

import json

from reconciler import render
from reconciler.state import Tls
from tests.builders import attach, attached, cluster, create, digest_of, observed, planned, workspace

CUSTOM = "  tls:\n    enabled: true\n    cname: a.example.com\n    certificate: {env: CERT}\n    key: {env: KEY}\n"


def mixed_plan(tmp_path, monkeypatch):
    monkeypatch.setenv("CERT", "-----BEGIN CERTIFICATE-----TOPSECRETCERT")
    monkeypatch.setenv("KEY", "-----BEGIN PRIVATE KEY-----TOPSECRETKEY")
    docs = (workspace(), attach(extra=CUSTOM), create(), attach(name="new-name", cluster="old-aks"))
    obs = observed(
        [attached("scoring-prod", "scoring-aks", purpose="DevTest"), attached("old-name", "old-aks")],
        [cluster("scoring-aks"), cluster("old-aks")],
    )
    return planned(tmp_path, docs, obs)


def test_text_has_symbols_reasons_and_summary(tmp_path, monkeypatch):
    text = render.to_text(mixed_plan(tmp_path, monkeypatch))
    assert "  -/+ prod/scoring-prod  reattach" in text
    assert "  + prod/dev-scoring  create" in text
    assert "  - prod/old-name  detach" in text
    assert '~ clusterPurpose: "DevTest" -> "FastProd"' in text
    assert text.rstrip().endswith("Plan: 1 to create, 1 to attach, 0 to update, 1 to re-attach, 1 to detach.")
    assert "\x1b[" not in text  # no colour when not asked


def test_json_follows_the_plan_file_format(tmp_path, monkeypatch):
    doc = json.loads(render.to_json(mixed_plan(tmp_path, monkeypatch)))
    assert doc["formatVersion"] == 1 and doc["manifestsDigest"].startswith("sha256:")
    assert set(doc["summary"]) == {"create", "attach", "update", "scale", "reattach", "detach", "replace", "install", "upgrade",
                                   "uninstall", "pending", "noop"}
    change = next(c for c in doc["changes"] if c["address"] == "prod/scoring-prod")
    assert change["action"] == "reattach"
    assert change["workspace"] == {"subscriptionId": "00000000-0000-0000-0000-000000000001", "resourceGroup": "ml-prod-rg", "workspaceName": "ml-prod"}
    assert change["computeName"] == "scoring-prod" and change["clusterId"].endswith("/scoring-aks")
    assert {"path": "clusterPurpose", "before": "DevTest", "after": "FastProd"} in change["diff"]
    assert set(change["observed"]) >= {"etag", "modifiedOn"}
    assert change["steps"] == [
        {"id": "prod/scoring-prod#1", "op": "detach", "dependsOn": []},
        {"id": "prod/scoring-prod#2", "op": "attach", "dependsOn": ["prod/scoring-prod#1"]},
    ]


def test_secrets_never_appear_not_even_hashed_only_sensitive(tmp_path, monkeypatch):
    p = mixed_plan(tmp_path, monkeypatch)
    for text in (render.to_text(p), render.to_json(p), render.to_markdown(p)):
        assert "TOPSECRET" not in text and "sha256:" + "" not in text.replace("manifestsDigest\": \"sha256:", "")
    doc = json.loads(render.to_json(p))
    change = next(c for c in doc["changes"] if c["address"] == "prod/scoring-prod")
    cert = next(d for d in change["diff"] if d["path"] == "tls.certificate")
    assert cert["after"] == "(sensitive)"
    assert not any(d["path"] == "specDigest" for c in doc["changes"] for d in c["diff"])


def test_no_changes_text(tmp_path):
    d = digest_of(tmp_path, workspace(), attach(), name="scoring-prod")
    p = planned(tmp_path, (workspace(), attach()), observed([attached("scoring-prod", "scoring-aks", digest=d)], [cluster("scoring-aks")]))
    assert "No changes." in render.to_text(p)
    assert "**No changes.**" in render.to_markdown(p)


def test_errors_are_rendered_with_hint(tmp_path):
    p = planned(tmp_path, (workspace(), attach()), observed())
    text = render.to_text(p)
    assert "error AKS020" in text and "hint:" in text and "Planning failed" in text


def test_markdown_has_summary_table_and_collapsible_details(tmp_path, monkeypatch):
    md = render.to_markdown(mixed_plan(tmp_path, monkeypatch))
    assert md.startswith("<!-- reconciler-plan -->")
    assert "| `-/+` | `prod/scoring-prod` | reattach |" in md
    assert md.count("<details>") == 4 and md.count("</details>") == 4


def test_markdown_is_cut_under_the_comment_limit_with_a_note(tmp_path):
    docs = [workspace()] + [attach(name=f"scoring{i}", cluster=f"aks{i}") for i in range(60)]
    p = planned(tmp_path, tuple(docs), observed(clusters=[cluster(f"aks{i}") for i in range(60)]))
    md = render.to_markdown(p, limit=6000)
    assert len(md) <= 6000 and "more changes cut to fit the comment limit" in md
    assert len(render.to_markdown(p)) <= render.MARKDOWN_LIMIT


def test_reattach_and_rename_are_marked_with_endpoint_downtime_in_every_format(tmp_path, monkeypatch):
    p = mixed_plan(tmp_path, monkeypatch)
    text = render.to_text(p)
    assert text.count("! endpoint unavailable for ~6 min") == 2  # the re-attach and the rename's attach
    doc = json.loads(render.to_json(p))
    downtime = {c["address"]: c["endpointDowntimeSeconds"] for c in doc["changes"]}
    assert downtime == {"prod/scoring-prod": 360, "prod/dev-scoring": 0, "prod/new-name": 360, "prod/old-name": 0}
    md = render.to_markdown(p)
    assert md.count("! endpoint unavailable for ~6 min") == 4  # table row and details summary, twice


def test_markdown_names_the_commit_and_run_from_the_ci_environment(tmp_path, monkeypatch):
    p = mixed_plan(tmp_path, monkeypatch)
    github = render.ci_run({"GITHUB_SHA": "0123456789abcdef0123", "GITHUB_SERVER_URL": "https://github.com",
                            "GITHUB_REPOSITORY": "team/manifests", "GITHUB_RUN_ID": "42"})
    md = render.to_markdown(p, ci=github)
    assert "Planned at commit `0123456789ab` in [this run](https://github.com/team/manifests/actions/runs/42)." in md
    devops = render.ci_run({"BUILD_SOURCEVERSION": "feedface", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/org/",
                            "SYSTEM_TEAMPROJECT": "ML Platform", "BUILD_BUILDID": "7"})
    assert devops == render.CiRun("feedface", "https://dev.azure.com/org/ML%20Platform/_build/results?buildId=7")
    assert render.ci_run({}) is None


def test_one_error_is_not_one_errors(tmp_path):
    p = planned(tmp_path, (workspace(), attach()), observed())
    assert len(p.errors) == 1
    assert "Planning failed: 1 error.**" in render.to_markdown(p) and "Planning failed: 1 error." in render.to_text(p)


def test_markdown_whose_table_alone_is_too_long_is_cut_at_a_row_with_a_note(tmp_path):
    docs = [workspace()] + [attach(name=f"scoring{i}", cluster=f"aks{i}") for i in range(60)]
    p = planned(tmp_path, tuple(docs), observed(clusters=[cluster(f"aks{i}") for i in range(60)]))
    md = render.to_markdown(p, limit=2000)
    assert len(md) <= 2000 and "cut to fit the comment limit" in md
    body = md.split("\n_…")[0]
    assert all(line.startswith("|") for line in body.splitlines()[-3:])  # whole rows only
