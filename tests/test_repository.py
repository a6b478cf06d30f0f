"""The repository explains itself: every document a file cites is in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT_RE = re.compile(r"(?<![\w/.-])((?:\.\.?/)*[\w./-]*[\w-]+\.md)\b")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    files = []
    for name in names:
        path = ROOT / name
        try:
            files.append((path, path.read_text()))
        except (UnicodeDecodeError, FileNotFoundError):
            continue
    return files


def test_every_cited_document_exists():
    missing = []
    for path, text in tracked_text_files():
        for cited in DOCUMENT_RE.findall(text):
            if cited.startswith(("http", "//")):
                continue
            candidates = [(path.parent / cited).resolve(), (ROOT / cited).resolve()]
            if not any(c.is_relative_to(ROOT) and c.exists() for c in candidates):
                missing.append(f"{path.relative_to(ROOT)} cites {cited}")
    assert not missing, "\n".join(missing)


def test_the_documents_a_maintainer_needs_are_here():
    for doc in ("README.md", "docs/architecture.md", "docs/domain.md", "docs/schema-changes.md"):
        assert (ROOT / doc).stat().st_size > 1000, doc


def test_the_registry_never_imports_the_gym_apps():
    """Dependencies point one way: gym apps use affiliates' lower rooms (routing, silos). Only operations,
    which act on a gym's logins for staff and workers, reach into the gyms, and only their logins."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "affiliates").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(r"\s*(from|import)\s+gym\b", line)
        and not (
            path.is_relative_to(ROOT / "affiliates" / "operations") and re.match(r"\s*from\s+gym\.accounts\b", line)
        )
    ]
    assert not offenders, offenders
