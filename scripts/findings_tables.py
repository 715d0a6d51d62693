"""Rewrite the generated finding tables in README.md and docs/architecture.md from the registry.

Run `make tables` after adding or changing a finding in daserver_check/findings.py; the tests
fail until the files hold what the registry says.
"""

from __future__ import annotations

import re
from pathlib import Path

from daserver_check.findings import makers_table, markdown_table

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = (
    (ROOT / "README.md", r"(<!-- findings table:[^\n]*-->\n).*?(<!-- end of findings table -->)",
     markdown_table),
    (ROOT / "docs" / "architecture.md", r"(<!-- makers table -->\n).*?(<!-- end of makers table -->)",
     makers_table),
)


def main() -> None:
    for path, pattern, table in BLOCKS:
        text = path.read_text(encoding="utf-8")
        new = re.sub(pattern, lambda m, t=table: m.group(1) + t() + m.group(2), text, flags=re.S)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
