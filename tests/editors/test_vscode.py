"""The VS Code extension: its node tests (grammar, client) pass and its .vsix builds and loads.

Needs node and npm, and the extension's packages (`scripts/setup` runs `npm ci` in
editors/vscode); skipped, saying why, only where node or npm is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

EXTENSION = REPO_ROOT / "editors" / "vscode"


@pytest.fixture(scope="module")
def node() -> str:
    """The node executable; skips when node or npm is missing, fails when packages are."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed: the VS Code extension's tests need them")
    if not (EXTENSION / "node_modules" / "@vscode" / "vsce").is_dir():
        pytest.fail("editors/vscode/node_modules is missing: run scripts/setup (npm ci)")
    return node


def _run(args: list[str], cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_node_tests_pass(node: str) -> None:
    """The grammar tokenises every shipped rule file; the client starts the server as set."""
    out = _run(
        [node, "--test", *sorted(str(p) for p in (EXTENSION / "test").glob("*.test.js"))], EXTENSION
    )
    counts = dict(
        line[2:].split() for line in out.splitlines() if line.startswith(("# pass", "# fail"))
    )
    assert counts["fail"] == "0", out
    assert int(counts["pass"]) >= 8, out


def test_vsix_builds_and_loads(node: str, tmp_path: Path) -> None:
    """The .vsix holds the grammar, snippets and client, and loads with nothing from outside."""
    vsix = tmp_path / "jixiao.vsix"
    vsce = EXTENSION / "node_modules" / "@vscode" / "vsce" / "vsce"
    _run(
        [
            node,
            str(vsce),
            "package",
            "--allow-missing-repository",
            "--skip-license",
            "--out",
            str(vsix),
        ],
        EXTENSION,
    )
    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("extension/package.json"))
        z.extractall(tmp_path / "unpacked")
    for contributed in [
        "syntaxes/jixiao.tmLanguage.json",
        "language-configuration.json",
        "snippets/jixiao.code-snippets",
        "extension.js",
    ]:
        assert f"extension/{contributed}" in names
    assert not any(n.startswith("extension/test/") for n in names)
    assert not any("/@vscode/vsce/" in n for n in names), "dev dependencies were packaged"
    assert manifest["contributes"]["languages"][0]["extensions"] == [".jx"]
    loader = EXTENSION / "test" / "load-packaged.js"
    entry = tmp_path / "unpacked" / "extension" / "extension.js"
    assert _run([node, str(loader), str(entry)], tmp_path).split() == ["activate", "deactivate"]
