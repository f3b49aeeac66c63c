"""The pre-commit hooks, run by the real pre-commit in a bureau's rules repository.

The repository holds a copy of the 2025 rules and uses the hooks as docs/authoring.md says: from
a clone of the Jixiao repository (here a local one, so nothing is fetched), running the `jixiao`
of the environment the tests run in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

HOOKS = ("jixiao-fmt", "jixiao-check", "jixiao-test")


def _env(tmp: Path) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp),
        "PRE_COMMIT_HOME": str(tmp / "pre-commit-cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "规则编写人",
        "GIT_AUTHOR_EMAIL": "rules@example.invalid",
        "GIT_COMMITTER_NAME": "规则编写人",
        "GIT_COMMITTER_EMAIL": "rules@example.invalid",
        "LANG": "C.UTF-8",
    }


class Repo:
    """A git repository driven as an author would."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs a command in the repository."""
        return subprocess.run(
            args,
            cwd=self.path,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )

    def git(self, *args: str) -> str:
        """Runs git; fails the test on an error."""
        done = self.run("git", *args)
        assert done.returncode == 0, done.stdout
        return done.stdout.strip()

    def commit(self, message: str) -> subprocess.CompletedProcess[str]:
        """Stages everything and commits, through the installed hooks."""
        self.git("add", "-A")
        return self.run("git", "commit", "-q", "-m", message)


@pytest.fixture
def bureau(tmp_path: Path) -> Repo:
    """A rules repository with the 2025 rules committed, and the hooks installed."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = _env(tmp_path)
    hooks = Repo(tmp_path / "jixiao", env)
    shutil.copy(REPO_ROOT / ".pre-commit-hooks.yaml", hooks.path)
    hooks.git("add", "-A")
    hooks.git("commit", "-q", "-m", "hook definitions")
    rev = hooks.git("rev-parse", "HEAD")

    repo = Repo(tmp_path / "bureau-rules", env)
    shutil.copytree(REPO_ROOT / "rules" / "2025", repo.path / "rules" / "2025")
    # the shipped tests read the worked examples at ../../../tests/examples
    shutil.copytree(REPO_ROOT / "tests" / "examples", repo.path / "tests" / "examples")
    ids = "".join(f"      - id: {h}\n" for h in HOOKS)
    (repo.path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks.path}\n    rev: {rev}\n    hooks:\n{ids}", encoding="utf-8"
    )
    installed = repo.run("pre-commit", "install")
    assert installed.returncode == 0, installed.stdout
    # the rules as the bureau had them before it took up the hooks
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "2025 rules")
    return repo


def _status(output: str, hook: str) -> str:
    """The result pre-commit printed for a hook: Passed, Failed or Skipped."""
    for line in output.splitlines():
        if line.startswith(hook + "."):
            return line.rsplit(".", 1)[-1].strip()
    raise AssertionError(f"no line for {hook!r} in:\n{output}")


def _position(text: str, snippet: str, offset: int = 0) -> str:
    """`line:col` (1-based) of a snippet in a text, `offset` characters into it."""
    before = text[: text.index(snippet) + offset]
    return f"{before.count(chr(10)) + 1}:{len(before.rsplit(chr(10), 1)[-1]) + 1}"


def test_hooks_refuse_bad_commits_and_fmt_fixes_layout(bureau: Repo) -> None:
    """Layout, rule errors and failing tests each stop a commit; fmt rewrites what it can."""
    county = bureau.path / "rules" / "2025" / "county.jx"
    formatted = county.read_text(encoding="utf-8")

    # 1. Not in fmt's layout: refused, rewritten by fmt, then committed as rewritten.
    messy = "# reviewed by the office\n" + formatted.replace(
        "  floor 60\n", "      floor   60\n"
    ).replace("weight 70% max 100 {", "weight 70%   max 100{")
    county.write_text(messy, encoding="utf-8")
    refused = bureau.commit("county: note the review")
    assert refused.returncode == 1, refused.stdout
    assert _status(refused.stdout, "jixiao fmt") == "Failed"
    assert "files were modified by this hook" in refused.stdout
    assert county.read_text(encoding="utf-8") == "# reviewed by the office\n" + formatted
    assert bureau.git("rev-list", "--count", "HEAD") == "1"
    passed = bureau.commit("county: note the review")
    assert passed.returncode == 0, passed.stdout
    for hook in ("jixiao fmt", "jixiao check", "jixiao test"):
        assert _status(passed.stdout, hook) == "Passed", passed.stdout
    assert bureau.git("rev-list", "--count", "HEAD") == "2"
    formatted = county.read_text(encoding="utf-8")

    # 2. An unknown fact type: refused by check, with the diagnostic's position.
    county.write_text(formatted.replace("per overdue_document 2", "per overdue_doc 2"), "utf-8")
    refused = bureau.commit("G1: rename the fact")
    assert refused.returncode == 1, refused.stdout
    assert _status(refused.stdout, "jixiao fmt") == "Passed"
    assert _status(refused.stdout, "jixiao check") == "Failed"
    where = _position(formatted, "per overdue_document 2", len("per "))
    assert f"rules/2025/county.jx:{where}: error[E103]: unknown fact type 'overdue_doc'" in (
        refused.stdout
    )

    # 3. A rule change the tests beside the rules do not expect: refused by test.
    county.write_text(
        formatted.replace("{ provincial: 3, municipal: 1.5 }", "{ provincial: 2, municipal: 1.5 }"),
        "utf-8",
    )
    refused = bureau.commit("K4: 2 per provincial issue")
    assert refused.returncode == 1, refused.stdout
    assert _status(refused.stdout, "jixiao check") == "Passed"
    assert _status(refused.stdout, "jixiao test") == "Failed"
    assert "K4" in refused.stdout
    assert bureau.git("rev-list", "--count", "HEAD") == "2"
