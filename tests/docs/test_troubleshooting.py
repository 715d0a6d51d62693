"""docs/troubleshooting/ stays in step with the code-catalogue and the finding registry.

Every client code the catalogue (`daserver_check/codes.py`) knows causes for has a page named by
its contract spelling (`0x2AFC.md`); every finding id a page names is registered; every check the
catalogue lists for a code is named on that code's page; the index links every page; and the
PowerShell fixes are one command per line, with nothing Windows PowerShell 5.1 cannot parse
(`&&` and `||` arrived in PowerShell 7).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from daserver_check.codes import CATALOGUE, ClientErrorCode
from daserver_check.findings import FindingId
from daserver_check.model import format_code

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = DOCS / "troubleshooting"
INDEX = PAGES / "README.md"

# An inline code span that looks like a finding id: `stage.name`. File and host names share the
# shape; their last part gives them away.
_ID_SPAN = re.compile(r"`([a-z0-9-]+(?:\.[a-z0-9-]+)+)`")
_NOT_IDS = {"nse", "md", "py", "com", "json", "toml", "pem", "cer", "pfx", "reg", "txt", "cmd", "test"}
_POWERSHELL_BLOCK = re.compile(r"```powershell\n(.*?)```", re.DOTALL)

WITH_CAUSES = sorted((c for c in CATALOGUE.values() if c.causes), key=lambda c: c.code)


def page_for(code: ClientErrorCode) -> Path:
    return PAGES / f"{format_code(code.code)}.md"


def mentioned_ids(text: str) -> set[str]:
    return {m for m in _ID_SPAN.findall(text) if m.rsplit(".", 1)[1] not in _NOT_IDS}


def code_pages() -> list[Path]:
    return sorted(p for p in PAGES.glob("*.md") if p != INDEX)


def test_the_catalogue_has_codes_with_causes() -> None:
    # Guards the parametrisation below against an empty catalogue passing vacuously.
    assert {0x103, 0x2AFC, 0x2AF9, 0x643, 0x34} <= {c.code for c in WITH_CAUSES}


@pytest.mark.parametrize("code", WITH_CAUSES, ids=lambda c: c.hex)
def test_every_code_with_causes_has_a_page(code: ClientErrorCode) -> None:
    page = page_for(code)
    assert page.is_file(), f"no troubleshooting page {page.relative_to(ROOT)} for {code.hex}"
    text = page.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith(f"# {code.hex} ") and code.symbol in first


@pytest.mark.parametrize("code", WITH_CAUSES, ids=lambda c: c.hex)
def test_page_names_every_check_the_catalogue_lists(code: ClientErrorCode) -> None:
    text = page_for(code).read_text(encoding="utf-8")
    listed = {str(fid) for cause in code.causes for fid in cause.checks}
    missing = listed - mentioned_ids(text)
    assert not missing, f"{code.hex}: the catalogue names {sorted(missing)}, the page does not"


@pytest.mark.parametrize("page", code_pages(), ids=lambda p: p.name)
def test_every_id_a_page_names_exists(page: Path) -> None:
    registered = {fid.value for fid in FindingId}
    unknown = mentioned_ids(page.read_text(encoding="utf-8")) - registered
    assert not unknown, f"{page.name} names unregistered finding ids: {sorted(unknown)}"


@pytest.mark.parametrize("page", code_pages(), ids=lambda p: p.name)
def test_every_page_is_a_catalogued_code(page: Path) -> None:
    hex_codes = {format_code(c.code) for c in CATALOGUE.values()}
    assert page.stem in hex_codes, f"{page.name} is not a code of daserver_check/codes.py"


def test_index_links_every_page() -> None:
    index = INDEX.read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", index))
    assert {p.name for p in code_pages()} <= linked
    for name in linked:
        assert (PAGES / name).is_file(), f"README links {name}, which does not exist"


@pytest.mark.parametrize("page", [*code_pages(), INDEX], ids=lambda p: p.name)
def test_powershell_fixes_paste_into_windows_powershell_51(page: Path) -> None:
    blocks = _POWERSHELL_BLOCK.findall(page.read_text(encoding="utf-8"))
    if page != INDEX:
        assert blocks, f"{page.name} has no PowerShell block"
    for block in blocks:
        for line in block.splitlines():
            assert "&&" not in line and "||" not in line, f"{page.name}: {line}"
            # One command per line: no `;` chaining outside a script block or a quoted string.
            outside = re.sub(r'"[^"]*"|\{[^}]*\}', "", line)
            assert ";" not in outside, f"{page.name}: {line}"
            assert not line.startswith(("net stop", "net start")), f"{page.name}: {line}"


def test_links_between_pages_resolve() -> None:
    for page in [*code_pages(), INDEX]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).resolve().exists(), f"{page.name} links {target}"


@pytest.mark.parametrize("path", sorted(DOCS.rglob("*.md")) + sorted(DOCS.rglob("*.json")),
                         ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_point_only_to_what_the_repo_holds(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"DESIGN\.md|REFERENCE\.md|\bseeds?\b|\.\./shared", text, re.IGNORECASE)
    for ref in re.findall(r"docs/[A-Za-z0-9_./-]+\.(?:md|json)", text):
        assert (ROOT / ref).is_file(), f"{path.name} points to {ref}, which the repo does not hold"
