"""Times `jixiao lsp` answering a keystroke with diagnostics, in a 2,000-line ruleset.

    python bench/bench_lsp.py            # 40 keystrokes in each layout
    python bench/bench_lsp.py --quick    # 10

The ruleset is rules/2025 with copies of its county scorecard (ids renamed) until it has about
2,000 lines. Two layouts: one scorecard per file, as the shipped rules are kept, with the edit
in county.jx; and every scorecard in one 2,000-line file, edited there (the server re-parses the
file that changed, so this is the worst case). A keystroke is a full-text change alternating
between a rule that checks and one with an unknown name, so that every keystroke changes the
diagnostics; the figure is from sending the change to receiving the file's diagnostics, over
stdio, as an editor sees it. Target: under 100 ms.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.app.lsp.client import LspClient  # noqa: E402

TARGET_MS = 100
LINES = 2000


def _copies(county: str, count: int) -> list[str]:
    ids = re.findall(r"indicator (\w+)", county)
    out = []
    for i in range(count):
        text = county.replace('scorecard county "', f'scorecard county{i} "')
        for ident in ids:
            text = re.sub(rf"\b{ident}\b", f"{ident}_{i}", text)
        out.append(text)
    return out


def build(folder: Path, one_file: bool) -> Path:
    """A ruleset of about LINES lines; returns the file the keystrokes edit."""
    shutil.copytree(ROOT / "rules" / "2025", folder, ignore=shutil.ignore_patterns("tests"))
    county = (folder / "county.jx").read_text(encoding="utf-8")
    total = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.jx"))
    copies = _copies(county, (LINES - total) // len(county.splitlines()) + 1)
    if one_file:
        big = folder / "cards.jx"
        big.write_text(county + "\n" + "\n".join(copies), encoding="utf-8")
        (folder / "county.jx").unlink()
        return big
    for i, text in enumerate(copies):
        (folder / f"county{i}.jx").write_text(text, encoding="utf-8")
    return folder / "county.jx"


def keystrokes(edited: Path, count: int) -> list[float]:
    """Milliseconds from each change to its diagnostics."""
    client = LspClient(edited.parent)
    uri = edited.as_uri()
    text = edited.read_text(encoding="utf-8")
    good, bad = "per overdue_document 2", "per overdue_documen 2"
    assert good in text
    client.request("initialize", {"processId": None, "capabilities": {}})
    client.notify("initialized", {})
    doc = {"uri": uri, "languageId": "jixiao", "version": 1, "text": text}
    client.notify("textDocument/didOpen", {"textDocument": doc})
    client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    times = []
    try:
        for k in range(count):
            new = text.replace(good, bad, 1) if k % 2 == 0 else text
            seen = len(client.notifications)
            start = time.perf_counter()
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": k + 2},
                    "contentChanges": [{"text": new}],
                },
            )
            while not any(
                m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
                for m in client.notifications[seen:]
            ):
                client.notifications.append(client.inbox.get(timeout=30))
            times.append((time.perf_counter() - start) * 1000)
    finally:
        client.close()
    return times


def main() -> None:
    """Runs both layouts and prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 keystrokes instead of 40")
    count = 10 if parser.parse_args().quick else 40
    for one_file, label in ((False, "one scorecard per file"), (True, "one 2,000-line file")):
        with tempfile.TemporaryDirectory() as tmp:
            edited = build(Path(tmp) / "2025", one_file)
            lines = sum(
                len(p.read_text(encoding="utf-8").splitlines()) for p in edited.parent.glob("*.jx")
            )
            times = keystrokes(edited, count)
            median, worst = statistics.median(times), max(times)
            print(
                f"{label:24} {lines} lines, {count} keystrokes: median {median:.1f} ms, "
                f"p90 {sorted(times)[int(len(times) * 0.9)]:.1f} ms, max {worst:.1f} ms "
                f"(target < {TARGET_MS} ms: {'met' if median < TARGET_MS else 'NOT met'})"
            )


if __name__ == "__main__":
    main()
