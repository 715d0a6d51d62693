"""Self-relative security descriptors ([MS-DTYP] 2.4.6) → ACE list and SDDL, and back.

HTTP.sys stores each URL reservation as one REG_BINARY value under
`HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters\\UrlAclInfo`: the value name is the URL,
the data a self-relative security descriptor (docs/windows-facts.md §5). KB 2980660 names
corrupt reservations as a cause of the server-side IP-HTTPS creation failure 0x643/0x34, so the
parser must tell "corrupt" apart from "valid", with the offset of the first inconsistency, and
never fail any other way: every length and offset below is checked against the buffer.

`to_sddl` writes what `ConvertSecurityDescriptorToStringSecurityDescriptor` and
`netsh http show urlacl` print (well-known SIDs abbreviated, rights as letters when every bit
has one); `from_sddl` builds the bytes back, for tests and fixtures.

Over 400 lines because the binary reader, the SID table and the SDDL writer and reader are one
format (MS-DTYP 2.4.6, 2.5.1) and are tested as a round trip.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from daserver_check.errors import DaserverCheckError

MAX_DESCRIPTOR = 64 * 1024  # an ACL is at most 64 KiB (AclSize is 16 bits, MS-DTYP 2.4.5)

# Control flags, MS-DTYP 2.4.6.
SE_OWNER_DEFAULTED = 0x0001
SE_GROUP_DEFAULTED = 0x0002
SE_DACL_PRESENT = 0x0004
SE_DACL_DEFAULTED = 0x0008
SE_SACL_PRESENT = 0x0010
SE_DACL_AUTO_INHERIT_REQ = 0x0100
SE_SACL_AUTO_INHERIT_REQ = 0x0200
SE_DACL_AUTO_INHERITED = 0x0400
SE_SACL_AUTO_INHERITED = 0x0800
SE_DACL_PROTECTED = 0x1000
SE_SACL_PROTECTED = 0x2000
SE_SELF_RELATIVE = 0x8000

# HTTP.sys URL ACL rights (docs/windows-facts.md §5; netsh prints Listen/Delegate).
GENERIC_ALL = 0x10000000
GENERIC_EXECUTE = 0x20000000  # Listen
GENERIC_WRITE = 0x40000000  # Delegate
GENERIC_READ = 0x80000000


class SecurityDescriptorError(DaserverCheckError, ValueError):
    """Corrupt or unsupported descriptor (or SDDL string). `offset` points into the input."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (offset {offset})")
        self.offset = offset


# --- SIDs (MS-DTYP 2.4.2) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sid:
    authority: int
    sub_authorities: tuple[int, ...]
    revision: int = 1

    def __str__(self) -> str:
        # MS-DTYP 2.4.2.1: authorities below 2^32 in decimal, larger ones in hex.
        auth = str(self.authority) if self.authority < 2**32 else f"0x{self.authority:012X}"
        return "S-1-" + auth + "".join(f"-{s}" for s in self.sub_authorities)

    def to_bytes(self) -> bytes:
        return (
            bytes([self.revision, len(self.sub_authorities)])
            + self.authority.to_bytes(6, "big")
            + b"".join(s.to_bytes(4, "little") for s in self.sub_authorities)
        )

    @property
    def name(self) -> str | None:
        """Account name for well-known and service SIDs, else None."""
        text = str(self)
        known = _WELL_KNOWN_NAMES.get(text)
        if known:
            return known
        return _SERVICE_SIDS.get(text)


def service_sid(service: str) -> Sid:
    """The per-service SID `NT SERVICE\\<name>`: S-1-5-80- followed by the SHA-1 of the
    upper-cased service name in UTF-16LE, read as five little-endian 32-bit numbers
    (documented with `sc showsid`; MS-DTYP 2.4.2.4 lists the S-1-5-80 prefix)."""
    digest = hashlib.sha1(service.upper().encode("utf-16-le")).digest()
    return Sid(5, (80, *struct.unpack("<5I", digest)))


# (SDDL alias, SID string, account name), MS-DTYP 2.4.2.4 and 2.5.1.1.
_WELL_KNOWN: tuple[tuple[str, str, str], ...] = (
    ("WD", "S-1-1-0", "Everyone"),
    ("CO", "S-1-3-0", "CREATOR OWNER"),
    ("CG", "S-1-3-1", "CREATOR GROUP"),
    ("NU", "S-1-5-2", "NT AUTHORITY\\NETWORK"),
    ("IU", "S-1-5-4", "NT AUTHORITY\\INTERACTIVE"),
    ("SU", "S-1-5-6", "NT AUTHORITY\\SERVICE"),
    ("AN", "S-1-5-7", "NT AUTHORITY\\ANONYMOUS LOGON"),
    ("ED", "S-1-5-9", "NT AUTHORITY\\ENTERPRISE DOMAIN CONTROLLERS"),
    ("PS", "S-1-5-10", "NT AUTHORITY\\SELF"),
    ("AU", "S-1-5-11", "NT AUTHORITY\\Authenticated Users"),
    ("RC", "S-1-5-12", "NT AUTHORITY\\RESTRICTED"),
    ("SY", "S-1-5-18", "NT AUTHORITY\\SYSTEM"),
    ("LS", "S-1-5-19", "NT AUTHORITY\\LOCAL SERVICE"),
    ("NS", "S-1-5-20", "NT AUTHORITY\\NETWORK SERVICE"),
    ("BA", "S-1-5-32-544", "BUILTIN\\Administrators"),
    ("BU", "S-1-5-32-545", "BUILTIN\\Users"),
    ("BG", "S-1-5-32-546", "BUILTIN\\Guests"),
    ("PU", "S-1-5-32-547", "BUILTIN\\Power Users"),
    ("AO", "S-1-5-32-548", "BUILTIN\\Account Operators"),
    ("SO", "S-1-5-32-549", "BUILTIN\\Server Operators"),
    ("PO", "S-1-5-32-550", "BUILTIN\\Print Operators"),
    ("BO", "S-1-5-32-551", "BUILTIN\\Backup Operators"),
    ("RE", "S-1-5-32-552", "BUILTIN\\Replicator"),
    ("RU", "S-1-5-32-554", "BUILTIN\\Pre-Windows 2000 Compatible Access"),
    ("RD", "S-1-5-32-555", "BUILTIN\\Remote Desktop Users"),
    ("NO", "S-1-5-32-556", "BUILTIN\\Network Configuration Operators"),
    ("MU", "S-1-5-32-558", "BUILTIN\\Performance Monitor Users"),
    ("LU", "S-1-5-32-559", "BUILTIN\\Performance Log Users"),
    ("IS", "S-1-5-32-568", "BUILTIN\\IIS_IUSRS"),
    ("CY", "S-1-5-32-569", "BUILTIN\\Cryptographic Operators"),
    ("ER", "S-1-5-32-573", "BUILTIN\\Event Log Readers"),
    ("AC", "S-1-15-2-1", "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES"),
    ("LW", "S-1-16-4096", "Mandatory Label\\Low Mandatory Level"),
    ("ME", "S-1-16-8192", "Mandatory Label\\Medium Mandatory Level"),
    ("HI", "S-1-16-12288", "Mandatory Label\\High Mandatory Level"),
    ("SI", "S-1-16-16384", "Mandatory Label\\System Mandatory Level"),
)
_ALIAS_TO_SID: Mapping[str, str] = {a: s for a, s, _n in _WELL_KNOWN}
_SID_TO_ALIAS: Mapping[str, str] = {s: a for a, s, _n in _WELL_KNOWN}
_WELL_KNOWN_NAMES: Mapping[str, str] = {s: n for _a, s, n in _WELL_KNOWN}

# Services that reserve URLs on a DirectAccess server (docs/windows-facts.md §5): SSTP (SstpSvc) owns the
# sra_{BA195980…} reservation, BranchCache (PeerDistSvc) the C574AC30… one; IP-HTTPS runs in the
# IP Helper service (iphlpsvc).
_SERVICES = ("SstpSvc", "PeerDistSvc", "iphlpsvc", "RemoteAccess", "RaMgmtSvc", "HTTP", "W3SVC",
             "WinRM", "WMSVC")
_SERVICE_SIDS: Mapping[str, str] = {str(service_sid(s)): f"NT SERVICE\\{s}" for s in _SERVICES}


def parse_sid(data: bytes, offset: int, limit: int | None = None) -> tuple[Sid, int]:
    """Parse a SID at data[offset:]; return it and its length. Bounded by `limit`."""
    end_limit = len(data) if limit is None else min(limit, len(data))
    if offset + 8 > end_limit:
        raise SecurityDescriptorError("SID header runs past the end", offset)
    revision = data[offset]
    count = data[offset + 1]
    if revision != 1:
        raise SecurityDescriptorError(f"SID revision {revision}, expected 1", offset)
    if count > 15:  # SID_MAX_SUB_AUTHORITIES, MS-DTYP 2.4.2.2
        raise SecurityDescriptorError(f"SID with {count} sub-authorities (max 15)", offset + 1)
    length = 8 + 4 * count
    if offset + length > end_limit:
        raise SecurityDescriptorError("SID runs past the end", offset)
    authority = int.from_bytes(data[offset + 2 : offset + 8], "big")
    subs = struct.unpack_from(f"<{count}I", data, offset + 8)
    return Sid(authority, tuple(subs), revision), length


# --- ACEs and ACLs (MS-DTYP 2.4.4, 2.4.5) ---------------------------------------------------

ACE_TYPES: Mapping[int, str] = {
    0x00: "A",  # ACCESS_ALLOWED_ACE_TYPE
    0x01: "D",  # ACCESS_DENIED_ACE_TYPE
    0x02: "AU",  # SYSTEM_AUDIT_ACE_TYPE
    0x03: "AL",  # SYSTEM_ALARM_ACE_TYPE
    0x11: "ML",  # SYSTEM_MANDATORY_LABEL_ACE_TYPE
}
_ACE_TYPE_CODES: Mapping[str, int] = {v: k for k, v in ACE_TYPES.items()}

ACE_FLAGS: tuple[tuple[str, int], ...] = (
    ("OI", 0x01),
    ("CI", 0x02),
    ("NP", 0x04),
    ("IO", 0x08),
    ("ID", 0x10),
    ("SA", 0x40),
    ("FA", 0x80),
)

# Whole-mask aliases first (SDDL prints them only on an exact match), then single bits.
_MASK_ALIASES: tuple[tuple[str, int], ...] = (
    ("FA", 0x001F01FF),
    ("KA", 0x000F003F),
)
# Ascending bit order, as Windows writes them (e.g. AD's "CCDCLCSWRPWPDTLOCRSDRCWDWO").
_RIGHT_BITS: tuple[tuple[str, int], ...] = (
    ("CC", 0x00000001),
    ("DC", 0x00000002),
    ("LC", 0x00000004),
    ("SW", 0x00000008),
    ("RP", 0x00000010),
    ("WP", 0x00000020),
    ("DT", 0x00000040),
    ("LO", 0x00000080),
    ("CR", 0x00000100),
    ("SD", 0x00010000),
    ("RC", 0x00020000),
    ("WD", 0x00040000),
    ("WO", 0x00080000),
    ("GA", GENERIC_ALL),
    ("GX", GENERIC_EXECUTE),
    ("GW", GENERIC_WRITE),
    ("GR", GENERIC_READ),
)
_RIGHT_CODES: Mapping[str, int] = dict((*_RIGHT_BITS, *_MASK_ALIASES))


@dataclass(frozen=True, slots=True)
class Ace:
    type: int
    flags: int
    mask: int
    sid: Sid

    @property
    def allows_listen(self) -> bool:
        return self.type == 0 and bool(self.mask & (GENERIC_EXECUTE | GENERIC_ALL))

    @property
    def allows_delegate(self) -> bool:
        return self.type == 0 and bool(self.mask & (GENERIC_WRITE | GENERIC_ALL))

    def to_sddl(self) -> str:
        flags = "".join(code for code, bit in ACE_FLAGS if self.flags & bit)
        return f"({ACE_TYPES[self.type]};{flags};{_rights(self.mask)};;;{_sid_sddl(self.sid)})"


@dataclass(frozen=True, slots=True)
class Acl:
    revision: int
    aces: tuple[Ace, ...]


@dataclass(frozen=True, slots=True)
class SecurityDescriptor:
    control: int
    owner: Sid | None
    group: Sid | None
    sacl: Acl | None
    dacl: Acl | None
    revision: int = 1

    def to_sddl(self) -> str:
        parts = []
        if self.owner is not None:
            parts.append("O:" + _sid_sddl(self.owner))
        if self.group is not None:
            parts.append("G:" + _sid_sddl(self.group))
        if self.control & SE_DACL_PRESENT:
            parts.append("D:" + _acl_sddl(self.dacl, self.control, dacl=True))
        if self.control & SE_SACL_PRESENT:
            parts.append("S:" + _acl_sddl(self.sacl, self.control, dacl=False))
        return "".join(parts)

    def to_bytes(self) -> bytes:
        """Self-relative form, laid out like Windows does: header, SACL, DACL, owner, group."""
        body = bytearray(20)
        offsets = [0, 0, 0, 0]  # owner, group, sacl, dacl
        control = self.control | SE_SELF_RELATIVE
        if self.sacl is not None:
            offsets[2] = len(body)
            body += _acl_bytes(self.sacl)
        if self.dacl is not None:
            offsets[3] = len(body)
            body += _acl_bytes(self.dacl)
        if self.owner is not None:
            offsets[0] = len(body)
            body += self.owner.to_bytes()
        if self.group is not None:
            offsets[1] = len(body)
            body += self.group.to_bytes()
        struct.pack_into("<BBHIIII", body, 0, self.revision, 0, control, *offsets)
        return bytes(body)


def _acl_bytes(acl: Acl) -> bytes:
    aces = b""
    for ace in acl.aces:
        sid = ace.sid.to_bytes()
        aces += struct.pack("<BBHI", ace.type, ace.flags, 8 + len(sid), ace.mask) + sid
    return struct.pack("<BBHHH", acl.revision, 0, 8 + len(aces), len(acl.aces), 0) + aces


def _sid_sddl(sid: Sid) -> str:
    text = str(sid)
    return _SID_TO_ALIAS.get(text, text)


def _rights(mask: int) -> str:
    for code, value in _MASK_ALIASES:
        if mask == value:
            return code
    letters = []
    rest = mask
    for code, bit in _RIGHT_BITS:
        if rest & bit:
            letters.append(code)
            rest &= ~bit
    if rest or not letters:
        return f"0x{mask:x}"
    return "".join(letters)


def _acl_sddl(acl: Acl | None, control: int, *, dacl: bool) -> str:
    flags = ""
    if dacl:
        flags += "P" if control & SE_DACL_PROTECTED else ""
        flags += "AR" if control & SE_DACL_AUTO_INHERIT_REQ else ""
        flags += "AI" if control & SE_DACL_AUTO_INHERITED else ""
    else:
        flags += "P" if control & SE_SACL_PROTECTED else ""
        flags += "AR" if control & SE_SACL_AUTO_INHERIT_REQ else ""
        flags += "AI" if control & SE_SACL_AUTO_INHERITED else ""
    if acl is None:  # present flag without an ACL: a NULL DACL grants everyone everything
        return flags + "NO_ACCESS_CONTROL"
    return flags + "".join(ace.to_sddl() for ace in acl.aces)


def _parse_acl(data: bytes, offset: int) -> Acl:
    if offset + 8 > len(data):
        raise SecurityDescriptorError("ACL header runs past the end", offset)
    revision, _sbz1, size, count, _sbz2 = struct.unpack_from("<BBHHH", data, offset)
    if revision not in (2, 4):  # ACL_REVISION, ACL_REVISION_DS (MS-DTYP 2.4.5)
        raise SecurityDescriptorError(f"ACL revision {revision}, expected 2 or 4", offset)
    if size < 8 or offset + size > len(data):
        raise SecurityDescriptorError(f"ACL size {size} does not fit the descriptor", offset + 2)
    end = offset + size
    pos = offset + 8
    aces = []
    for index in range(count):
        if pos + 8 > end:
            raise SecurityDescriptorError(f"ACE {index} runs past the ACL", pos)
        ace_type, ace_flags, ace_size, mask = struct.unpack_from("<BBHI", data, pos)
        # AceSize MUST be a multiple of 4 (MS-DTYP 2.4.4.1) and cover header, mask and a SID.
        if ace_size < 16 or ace_size % 4 or pos + ace_size > end:
            raise SecurityDescriptorError(f"ACE {index} has an inconsistent size {ace_size}", pos + 2)
        if ace_type not in ACE_TYPES:
            raise SecurityDescriptorError(f"ACE {index} has unsupported type 0x{ace_type:x}", pos)
        sid, _len = parse_sid(data, pos + 8, pos + ace_size)
        aces.append(Ace(ace_type, ace_flags, mask, sid))
        pos += ace_size
    return Acl(revision, tuple(aces))


def parse_security_descriptor(data: bytes) -> SecurityDescriptor:
    """Parse a self-relative descriptor; raise SecurityDescriptorError for anything corrupt."""
    if len(data) > MAX_DESCRIPTOR:
        raise SecurityDescriptorError(f"descriptor larger than {MAX_DESCRIPTOR} bytes", 0)
    if len(data) < 20:
        raise SecurityDescriptorError(f"descriptor of {len(data)} bytes (header needs 20)", 0)
    revision, _sbz1, control, o_owner, o_group, o_sacl, o_dacl = struct.unpack_from(
        "<BBHIIII", data, 0
    )
    if revision != 1:
        raise SecurityDescriptorError(f"descriptor revision {revision}, expected 1", 0)
    if not control & SE_SELF_RELATIVE:
        raise SecurityDescriptorError("descriptor is not self-relative (SE_SELF_RELATIVE unset)", 2)
    for name, off, pos in (("owner", o_owner, 4), ("group", o_group, 8), ("SACL", o_sacl, 12),
                           ("DACL", o_dacl, 16)):
        if off and (off < 20 or off >= len(data)):
            raise SecurityDescriptorError(f"{name} offset {off} outside the descriptor", pos)
    owner = parse_sid(data, o_owner)[0] if o_owner else None
    group = parse_sid(data, o_group)[0] if o_group else None
    sacl = _parse_acl(data, o_sacl) if (control & SE_SACL_PRESENT and o_sacl) else None
    dacl = _parse_acl(data, o_dacl) if (control & SE_DACL_PRESENT and o_dacl) else None
    return SecurityDescriptor(control, owner, group, sacl, dacl, revision)


# --- SDDL → descriptor (MS-DTYP 2.5.1) -------------------------------------------------------

_TOKEN = re.compile(r"\(|\)|([OGDS]):", re.ASCII)
_ACE = re.compile(r"\(([^()]*)\)")
_SID_TEXT = re.compile(r"S-1-(\d{1,15}|0x[0-9a-fA-F]{1,12})((?:-\d{1,10}){0,15})", re.ASCII)
MAX_SDDL = 64 * 1024


def parse_sid_string(text: str, offset: int = 0) -> Sid:
    alias = _ALIAS_TO_SID.get(text.upper()) if len(text) == 2 else None
    if alias:
        text = alias
    match = _SID_TEXT.fullmatch(text)
    if not match:
        raise SecurityDescriptorError(f"bad SID {text[:40]!r}", offset)
    auth_text = match.group(1)
    authority = int(auth_text, 16) if auth_text.startswith("0x") else int(auth_text)
    subs = tuple(int(s) for s in match.group(2).split("-")[1:])
    if authority >= 2**48 or any(s >= 2**32 for s in subs):
        raise SecurityDescriptorError(f"SID value out of range {text[:40]!r}", offset)
    return Sid(authority, subs)


def _parse_rights(text: str, offset: int) -> int:
    if text.lower().startswith("0x"):
        try:
            value = int(text, 16)
        except ValueError:
            raise SecurityDescriptorError(f"bad rights {text[:20]!r}", offset) from None
        if value >= 2**32:
            raise SecurityDescriptorError("rights out of range", offset)
        return value
    if len(text) % 2:
        raise SecurityDescriptorError(f"bad rights {text[:20]!r}", offset)
    mask = 0
    for i in range(0, len(text), 2):
        code = text[i : i + 2].upper()
        if code not in _RIGHT_CODES:
            raise SecurityDescriptorError(f"unknown right {code!r}", offset + i)
        mask |= _RIGHT_CODES[code]
    return mask


def _parse_ace_string(body: str, offset: int) -> Ace:
    fields = body.split(";")
    if len(fields) != 6:
        raise SecurityDescriptorError("ACE string needs 6 fields", offset)
    type_text, flag_text, rights, obj, inh, sid_text = fields
    if type_text.upper() not in _ACE_TYPE_CODES:
        raise SecurityDescriptorError(f"unsupported ACE type {type_text[:8]!r}", offset)
    if obj or inh:
        raise SecurityDescriptorError("object ACEs are not supported", offset)
    flags = 0
    flag_codes = dict(ACE_FLAGS)
    if len(flag_text) % 2:
        raise SecurityDescriptorError(f"bad ACE flags {flag_text[:20]!r}", offset)
    for i in range(0, len(flag_text), 2):
        code = flag_text[i : i + 2].upper()
        if code not in flag_codes:
            raise SecurityDescriptorError(f"unknown ACE flag {code!r}", offset)
        flags |= flag_codes[code]
    return Ace(
        _ACE_TYPE_CODES[type_text.upper()], flags, _parse_rights(rights, offset),
        parse_sid_string(sid_text, offset),
    )


def from_sddl(sddl: str) -> SecurityDescriptor:
    """Parse an SDDL string (owner, group, DACL, SACL; no object ACEs, no conditional ACEs)."""
    if len(sddl) > MAX_SDDL:
        raise SecurityDescriptorError("SDDL string too long", MAX_SDDL)
    text = "".join(sddl.split())
    # Components start at "X:" positions outside an ACE's parentheses: one pass, tracking depth.
    spans: list[tuple[str, int, int]] = []
    depth_ok = []
    depth = 0
    for m in _TOKEN.finditer(text):
        if m.group() == "(":
            depth += 1
        elif m.group() == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:
            depth_ok.append(m)
    if not depth_ok or depth_ok[0].start() != 0:
        raise SecurityDescriptorError("SDDL must start with O:, G:, D: or S:", 0)
    for i, m in enumerate(depth_ok):
        end = depth_ok[i + 1].start() if i + 1 < len(depth_ok) else len(text)
        spans.append((m.group(1), m.end(), end))
    control = SE_SELF_RELATIVE
    owner = group = None
    dacl = sacl = None
    seen: set[str] = set()
    for kind, start, end in spans:
        if kind in seen:
            raise SecurityDescriptorError(f"component {kind}: given twice", start)
        seen.add(kind)
        value = text[start:end]
        if kind in "OG":
            sid = parse_sid_string(value, start)
            owner, group = (sid, group) if kind == "O" else (owner, sid)
            continue
        first = value.find("(")
        flag_text = value if first < 0 else value[:first]
        aces_text = "" if first < 0 else value[first:]
        is_dacl = kind == "D"
        control |= SE_DACL_PRESENT if is_dacl else SE_SACL_PRESENT
        null_acl = False
        if flag_text.endswith("NO_ACCESS_CONTROL"):
            flag_text = flag_text[: -len("NO_ACCESS_CONTROL")]
            null_acl = True
        while flag_text:
            if flag_text.startswith("AR"):
                control |= SE_DACL_AUTO_INHERIT_REQ if is_dacl else SE_SACL_AUTO_INHERIT_REQ
                flag_text = flag_text[2:]
            elif flag_text.startswith("AI"):
                control |= SE_DACL_AUTO_INHERITED if is_dacl else SE_SACL_AUTO_INHERITED
                flag_text = flag_text[2:]
            elif flag_text.startswith("P"):
                control |= SE_DACL_PROTECTED if is_dacl else SE_SACL_PROTECTED
                flag_text = flag_text[1:]
            else:
                raise SecurityDescriptorError(f"bad ACL flags {flag_text[:20]!r}", start)
        aces = []
        pos = 0
        for m in _ACE.finditer(aces_text):
            if m.start() != pos:
                raise SecurityDescriptorError("text between ACEs", start + first + pos)
            aces.append(_parse_ace_string(m.group(1), start + first + m.start()))
            pos = m.end()
        if pos != len(aces_text):
            raise SecurityDescriptorError("unterminated ACE", start + max(first, 0) + pos)
        if null_acl and aces:
            raise SecurityDescriptorError("NO_ACCESS_CONTROL with ACEs", start)
        acl = None if null_acl else Acl(2, tuple(aces))
        if is_dacl:
            dacl = acl
        else:
            sacl = acl
    return SecurityDescriptor(control, owner, group, sacl, dacl)


def sddl_to_bytes(sddl: str) -> bytes:
    return from_sddl(sddl).to_bytes()


def bytes_to_sddl(data: bytes) -> str:
    return parse_security_descriptor(data).to_sddl()
