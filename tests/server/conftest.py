from __future__ import annotations

import os
from pathlib import Path

import pytest

from .hivebuild import build_hive, require_hivexregedit
from .scenario import FIXTURES, hive_text


@pytest.fixture(scope="session")
def kb_hives(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Real SYSTEM and SOFTWARE hive files made by hivexregedit from the KB 2980660 .reg files."""
    require_hivexregedit()
    try:
        import regipy  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("regipy is missing (pip install regipy)")
        pytest.skip("regipy not installed")
    root = tmp_path_factory.mktemp("hives")
    bundle = FIXTURES / "kb2980660"
    system = build_hive(
        root / "SYSTEM",
        hive_text([(bundle / n).read_bytes() for n in ("http.reg", "tcpip6.reg", "proxymgr.reg")],
                  system=True),
        "HKEY_LOCAL_MACHINE\\SYSTEM",
    )
    software = build_hive(
        root / "SOFTWARE",
        hive_text([(bundle / "v6transition.reg").read_bytes()], system=False),
        "HKEY_LOCAL_MACHINE\\SOFTWARE",
    )
    return system, software
