"""One read-only view of registry keys over three sources: a .reg export, an offline hive file
(regipy), and — on Windows — the live registry (winreg).

Every view answers `values(key)` (None when the key is absent), `subkeys(key)` and
`covers(key)` (whether the source includes that part of the registry at all: the absence of a
value means "not set" only where the source covers it). Values come back as `RegValue` with the
bytes Windows stores, so the same fact read from any source compares equal.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any, Protocol

from daserver_check.errors import DaserverCheckError
from daserver_check.protocol.reg import RegExport, RegType, RegValue, encode_sz
from daserver_check.server.paths import HKLM, key_id, normalize_key


class RegistryView(Protocol):
    name: str

    def values(self, key: str) -> Mapping[str, RegValue] | None: ...

    def subkeys(self, key: str) -> list[str] | None: ...

    def covers(self, key: str) -> bool: ...


class HiveError(DaserverCheckError, ValueError):
    """An offline hive that regipy cannot read (or regipy missing)."""


def _under(key: str, root: str) -> bool:
    return key == root or key.startswith(root + "\\")


class RegExportView:
    """Keys of one .reg export, with `[-key]` and `"name"=-` deletions applied in file order."""

    def __init__(self, export: RegExport, name: str) -> None:
        self.name = name
        self._keys: dict[str, dict[str, RegValue]] = {}
        self._paths: dict[str, str] = {}
        self._absent: set[str] = set()
        for key in export.keys:
            kid = key_id(key.path)
            if key.deleted:
                # `[-KEY]`: the key does not exist. collect-script writes this for a missing
                # key, so the export still covers it ("absent" is a fact, not "not collected").
                for other in [k for k in self._keys if _under(k, kid)]:
                    del self._keys[other]
                self._absent.add(kid)
                continue
            self._absent.discard(kid)
            values = self._keys.setdefault(kid, {})
            self._paths.setdefault(kid, normalize_key(key.path))
            for value in key.values:
                if value.deleted:
                    values.pop(value.name.casefold(), None)
                else:
                    values[value.name.casefold()] = value
        present = set(self._keys)
        self._roots = [k for k in present if k.rpartition("\\")[0] not in present]
        self._roots.extend(self._absent)

    def values(self, key: str) -> Mapping[str, RegValue] | None:
        found = self._keys.get(key_id(key))
        return None if found is None else {v.name: v for v in found.values()}

    def subkeys(self, key: str) -> list[str] | None:
        kid = key_id(key)
        names = []
        for other in self._keys:
            parent, _, _leaf = other.rpartition("\\")
            if parent == kid:
                names.append(self._paths[other].rpartition("\\")[2])
        if not names and kid not in self._keys:
            return None
        return sorted(names, key=str.casefold)

    def covers(self, key: str) -> bool:
        kid = key_id(key)
        return any(_under(kid, root) for root in self._roots)


_REGIPY_TYPES = {
    "REG_NONE": RegType.NONE,
    "REG_SZ": RegType.SZ,
    "REG_EXPAND_SZ": RegType.EXPAND_SZ,
    "REG_BINARY": RegType.BINARY,
    "REG_DWORD": RegType.DWORD,
    "REG_DWORD_BIG_ENDIAN": RegType.DWORD_BIG_ENDIAN,
    "REG_LINK": RegType.LINK,
    "REG_MULTI_SZ": RegType.MULTI_SZ,
    "REG_QWORD": RegType.QWORD,
}


def _value_bytes(kind: int, value: Any) -> bytes:
    """regipy hands back typed values; turn them into the stored bytes again."""
    if value is None:
        return b""
    if kind in (RegType.SZ, RegType.EXPAND_SZ, RegType.LINK) and isinstance(value, str):
        return encode_sz(value)
    if kind == RegType.DWORD and isinstance(value, int):
        return (value & 0xFFFFFFFF).to_bytes(4, "little")
    if kind == RegType.QWORD and isinstance(value, int):
        return (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
    if kind == RegType.MULTI_SZ and isinstance(value, list):
        return "".join(str(s) + "\0" for s in value).encode("utf-16-le", "surrogatepass") + b"\0\0"
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return bytes.fromhex(value)  # regipy writes REG_BINARY as hex text
        except ValueError:
            return value.encode("utf-8", "surrogatepass")
    return str(value).encode()


class HiveView:
    """An offline SYSTEM or SOFTWARE hive. Only the keys asked for are read (targeted look-ups,
    no walk of the whole hive). CurrentControlSet is the set `Select\\Current` names."""

    def __init__(self, path: str, name: str) -> None:
        self.name = name
        try:
            # Imported as Any: regipy's functions carry no annotations.
            registry: Any = importlib.import_module("regipy.registry")
        except ImportError:
            raise HiveError("reading hive files needs regipy (pip install regipy)") from None
        try:
            self._hive: Any = registry.RegistryHive(path)
            top = {s.name.casefold() for s in self._hive.get_key("\\").iter_subkeys()}
        except Exception as exc:  # regipy raises many kinds on corrupt input
            raise HiveError(f"unreadable hive: {type(exc).__name__}: {exc}") from None
        if "select" in top or any(t.startswith("controlset") for t in top):
            self.prefix = HKLM + "\\SYSTEM"
            current = self._dword("\\Select", "Current") or 1
            self._control_set = f"ControlSet{current:03d}"
        else:
            # SOFTWARE has Microsoft/Policies/Classes at its root (inference: any non-SYSTEM
            # hive is read as SOFTWARE, the only other one the checks need).
            self.prefix = HKLM + "\\SOFTWARE"
            self._control_set = ""

    def _dword(self, key: str, value: str) -> int | None:
        try:
            result = self._hive.get_key(key).get_value(value)
        except Exception:
            return None
        return result if isinstance(result, int) else None

    def _hive_path(self, key: str) -> str | None:
        norm = normalize_key(key)
        if not _under(norm.casefold(), self.prefix.casefold()):
            return None
        rest = norm[len(self.prefix) :]
        if self._control_set and rest.casefold().startswith("\\currentcontrolset"):
            rest = "\\" + self._control_set + rest[len("\\CurrentControlSet") :]
        return rest or "\\"

    def _key(self, key: str) -> Any:
        path = self._hive_path(key)
        if path is None:
            return None
        try:
            return self._hive.get_key(path)
        except Exception:  # RegistryKeyNotFoundException, or a corrupt cell on the way
            return None

    def values(self, key: str) -> Mapping[str, RegValue] | None:
        nk = self._key(key)
        if nk is None:
            return None
        result: dict[str, RegValue] = {}
        try:
            for v in nk.iter_values(as_json=False, max_len=1 << 20, trim_values=False):
                kind = _REGIPY_TYPES.get(str(v.value_type), RegType.NONE)
                name = "" if v.name == "(default)" else str(v.name)
                result[name] = RegValue(name, kind, _value_bytes(kind, v.value))
        except Exception:
            return result
        return result

    def subkeys(self, key: str) -> list[str] | None:
        nk = self._key(key)
        if nk is None:
            return None
        try:
            return sorted((str(s.name) for s in nk.iter_subkeys()), key=str.casefold)
        except Exception:
            return []

    def covers(self, key: str) -> bool:
        return self._hive_path(key) is not None


class LiveView:  # pragma: no cover - Windows only
    """The running system's registry through winreg (server --live)."""

    name = "live registry"

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise OSError("the live registry is only readable on Windows")

    def _open(self, key: str) -> Any:
        winreg: Any = importlib.import_module("winreg")  # Windows only; Any for other platforms

        norm = normalize_key(key)
        if not norm.upper().startswith(HKLM + "\\"):
            return None
        try:
            return winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, norm[len(HKLM) + 1 :])
        except OSError:
            return None

    def values(self, key: str) -> Mapping[str, RegValue] | None:
        winreg: Any = importlib.import_module("winreg")

        handle = self._open(key)
        if handle is None:
            return None
        result: dict[str, RegValue] = {}
        with handle:
            index = 0
            while True:
                try:
                    name, data, kind = winreg.EnumValue(handle, index)
                except OSError:
                    break
                index += 1
                result[name] = RegValue(name, kind, _value_bytes(kind, data))
        return result

    def subkeys(self, key: str) -> list[str] | None:
        winreg: Any = importlib.import_module("winreg")

        handle = self._open(key)
        if handle is None:
            return None
        names = []
        with handle:
            index = 0
            while True:
                try:
                    names.append(winreg.EnumKey(handle, index))
                except OSError:
                    break
                index += 1
        return names

    def covers(self, key: str) -> bool:
        return True
