"""The loader: positions, multi-document files, and what it refuses to parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import loader
from reconciler.manifest import InferenceCluster, Workspace
from tests.builders import attach, workspace


def load_text(tmp_path: Path, text: str, name: str = "m.yaml"):
    (tmp_path / name).write_text(text)
    return loader.load([tmp_path / name])


def rules_of(result):
    return [(f.rule, f.position.line, f.position.col) for f in result.findings]


def test_multi_document_file_yields_models_with_positions(tmp_path):
    result = load_text(tmp_path, workspace() + "---\n" + attach())
    assert result.findings == []
    ((_wdoc, ws),) = result.workspaces
    ((cdoc, ic),) = result.clusters
    assert isinstance(ws, Workspace) and isinstance(ic, InferenceCluster)
    assert str(cdoc.at(("spec", "attach", "clusterId"))).endswith("m.yaml:20:16")


def test_folder_is_searched_recursively_for_yaml_and_yml(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "ws.yml").write_text(workspace())
    (tmp_path / "a" / "b" / "c.yaml").write_text(attach())
    (tmp_path / "notes.txt").write_text("not yaml")
    result = loader.load([tmp_path])
    assert [p.name for p in result.files] == ["c.yaml", "ws.yml"]  # sorted by path
    assert len(result.documents) == 2


def test_local_cloud_seed_beside_manifests_is_not_a_manifest(tmp_path):
    (tmp_path / "local-cloud.yaml").write_text("subscriptions: {}\n")
    (tmp_path / "ws.yaml").write_text(workspace())
    assert loader.load([tmp_path]).findings == []


def test_missing_path_is_an_error(tmp_path):
    result = loader.load([tmp_path / "nope"])
    assert [f.rule for f in result.findings] == ["IO001"]


def test_empty_folder_is_an_error(tmp_path):
    assert [f.rule for f in loader.load([tmp_path]).findings] == ["IO001"]


def test_syntax_error_points_at_line_and_column(tmp_path):
    result = load_text(tmp_path, "apiVersion: reconciler.aml/v1\nkind: [Workspace\n")
    ((rule, line, _col),) = rules_of(result)
    assert rule == "YAML001" and line == 3


def test_anchor_and_alias_are_rejected(tmp_path):
    result = load_text(tmp_path, workspace() + "---\nx: &a [1, 2]\ny: *a\n")
    assert rules_of(result) == [("YAML002", 11, 4)]
    assert result.documents == []


def test_alias_bomb_is_rejected_quickly(tmp_path):
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
        for i in range(9)
    )
    assert [r for r, _, _ in rules_of(load_text(tmp_path, bomb))] == ["YAML002"]


@pytest.mark.parametrize("tag", ["!!python/object:os.system", "!custom", "!!binary"])
def test_custom_and_unsafe_tags_are_rejected(tmp_path, tag):
    result = load_text(tmp_path, f"apiVersion: reconciler.aml/v1\nkind: {tag} Workspace\n")
    assert [r for r, _, _ in rules_of(result)] == ["YAML003"]


def test_duplicate_key_is_rejected_at_the_second_key(tmp_path):
    result = load_text(tmp_path, workspace() + "kind: Workspace\n")
    assert rules_of(result) == [("YAML004", 10, 1)]
    assert "first at line 2" in result.findings[0].message


def test_deep_nesting_is_rejected(tmp_path):
    result = load_text(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert [r for r, _, _ in rules_of(result)] == ["YAML005"]


def test_deep_block_nesting_is_rejected(tmp_path):
    text = "".join("  " * i + f"k{i}:\n" for i in range(40)) + "  " * 40 + "v\n"
    assert [r for r, _, _ in rules_of(load_text(tmp_path, text))] == ["YAML005"]


def test_oversized_file_is_rejected(tmp_path):
    result = load_text(tmp_path, "# " + "x" * (loader.MAX_FILE_BYTES + 1) + "\n")
    assert [r for r, _, _ in rules_of(result)] == ["YAML005"]


def test_non_utf8_file_is_rejected(tmp_path):
    (tmp_path / "m.yaml").write_bytes(b"name: \xff\xfe\n")
    assert [f.rule for f in loader.load([tmp_path]).findings] == ["YAML001"]


def test_unknown_field_points_at_its_key(tmp_path):
    result = load_text(tmp_path, workspace() + "  colour: blue\n")
    assert rules_of(result) == [("SCHEMA001", 10, 3)]
    assert "spec.colour" in result.findings[0].message


def test_wrong_enum_points_at_the_value(tmp_path):
    result = load_text(tmp_path, workspace() + "---\n" + attach(purpose="Prod"))
    ((rule, line, col),) = rules_of(result)
    assert (rule, line, col) == ("SCHEMA001", 18, 19)
    assert "FastProd" in result.findings[0].message


def test_wrong_api_version_and_kind(tmp_path):
    bad_version = load_text(tmp_path, workspace().replace("reconciler.aml/v1", "v2"), "a.yaml")
    assert rules_of(bad_version) == [("SCHEMA001", 1, 13)]
    bad_kind = load_text(tmp_path, workspace().replace("kind: Workspace", "kind: Cluster"), "b.yaml")
    assert rules_of(bad_kind) == [("SCHEMA001", 2, 7)]


def test_missing_required_field_points_at_its_parent(tmp_path):
    result = load_text(tmp_path, workspace().replace("  workspaceName: ml-prod\n", ""))
    assert rules_of(result) == [("SCHEMA001", 6, 3)]
    assert "spec.workspaceName" in result.findings[0].message


def test_secret_reference_needs_exactly_one_source(tmp_path):
    tls = "  tls:\n    enabled: true\n    cname: a.example.com\n    certificate: {file: c.pem, env: CERT}\n    key: {env: KEY}\n"
    result = load_text(tmp_path, workspace() + "---\n" + attach(extra=tls))
    ((rule, line, _),) = rules_of(result)
    assert rule == "SCHEMA001" and line == 24
    assert "exactly one" in result.findings[0].message


def test_empty_documents_are_skipped(tmp_path):
    result = load_text(tmp_path, "---\n" + workspace() + "---\n")
    assert result.findings == [] and len(result.documents) == 1
