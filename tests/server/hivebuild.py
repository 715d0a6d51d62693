"""Build real hive files for tests: an empty regf file, filled by `hivexregedit --merge`.

hivex can edit hives but not create one, so `empty_hive` writes the smallest valid regf file
(one base block, one 4 KiB hbin with a root key and its security cell), following the layout
documented in the hivex sources (lib/hivex-internal.h) and libyal's "Windows NT Registry File
(REGF) format" notes.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from daserver_check.protocol.security_descriptor import sddl_to_bytes


def _checksum(block: bytes) -> int:
    value = 0
    for (word,) in struct.iter_unpack("<I", block[:508]):
        value ^= word
    return value


def empty_hive(root_name: str = "ROOT") -> bytes:
    hbin_size = 4096
    # --- cells, offsets relative to the first hbin (0x1000 in the file) ---
    nk_off = 0x20
    name = root_name.encode("ascii")
    nk_body = struct.pack(
        "<2sHQIIIIIIIIIIIIIIIHH",
        b"nk",
        0x2C,  # KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME
        0,  # last written
        0,  # access bits
        0xFFFFFFFF,  # parent
        0,  # subkeys
        0,  # volatile subkeys
        0xFFFFFFFF,  # subkey list
        0xFFFFFFFF,  # volatile subkey list
        0,  # values
        0xFFFFFFFF,  # value list
        0,  # security (patched below)
        0xFFFFFFFF,  # class name
        0, 0, 0, 0, 0,  # max lengths, work var
        len(name),
        0,
    ) + name
    nk_cell_size = (4 + len(nk_body) + 7) & ~7
    sk_off = nk_off + nk_cell_size
    sd = sddl_to_bytes("O:BAG:SYD:(A;CI;KA;;;SY)(A;CI;KA;;;BA)")
    sk_body = struct.pack("<2sHIIII", b"sk", 0, sk_off, sk_off, 1, len(sd)) + sd
    sk_cell_size = (4 + len(sk_body) + 7) & ~7
    nk_body = nk_body[:0x2C - 4 + 4] + nk_body[0x2C:]  # placeholder, patched next
    nk = bytearray(struct.pack("<i", -nk_cell_size) + nk_body)
    nk += b"\0" * (nk_cell_size - len(nk))
    struct.pack_into("<I", nk, 4 + 0x2C, sk_off)  # security key offset at nk+0x2C
    sk = bytearray(struct.pack("<i", -sk_cell_size) + sk_body)
    sk += b"\0" * (sk_cell_size - len(sk))
    used = nk_off + nk_cell_size + sk_cell_size
    free = hbin_size - used
    hbin = bytearray(hbin_size)
    struct.pack_into("<4sIIQQI", hbin, 0, b"hbin", 0, hbin_size, 0, 0, 0)
    hbin[nk_off : nk_off + nk_cell_size] = nk
    hbin[sk_off : sk_off + sk_cell_size] = sk
    struct.pack_into("<i", hbin, used, free)  # one free cell for the rest
    base = bytearray(4096)
    struct.pack_into("<4sIIQIIIIIII", base, 0, b"regf", 1, 1, 0, 1, 3, 0, 1, nk_off, hbin_size, 1)
    struct.pack_into("<I", base, 508, _checksum(bytes(base)))
    return bytes(base) + bytes(hbin)


def hivexregedit_available() -> bool:
    return shutil.which("hivexregedit") is not None


def require_hivexregedit() -> None:
    if not hivexregedit_available():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("hivexregedit is missing (Debian: apt-get install libwin-hivex-perl)")
        pytest.skip("hivexregedit not installed (Debian: libwin-hivex-perl)")


def build_hive(path: Path, reg_text: str, prefix: str) -> Path:
    """Write an empty hive to `path` and merge `reg_text` (regedit syntax) into it."""
    path.write_bytes(empty_hive())
    reg = path.with_suffix(".merge.reg")
    text = reg_text.replace("\r\n", "\n")
    # hivexregedit creates a key only when its parent exists: declare every ancestor first.
    ancestors: dict[str, None] = {}
    for line in text.split("\n"):
        if line.startswith("[") and line.endswith("]") and not line.startswith("[-"):
            parts = line[1:-1].split("\\")
            depth_prefix = len(prefix.split("\\"))
            for n in range(depth_prefix + 1, len(parts)):
                ancestors.setdefault("\\".join(parts[:n]), None)
    header, _, body = text.partition("\n")
    preamble = "".join(f"[{a}]\n\n" for a in sorted(ancestors, key=lambda a: a.count("\\")))
    # hivexregedit reads text in the local encoding with LF line ends (its man page, ENCODING).
    reg.write_text(header + "\n\n" + preamble + body, encoding="utf-8")
    subprocess.run(
        ["hivexregedit", "--merge", "--prefix", prefix, str(path), str(reg)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path
