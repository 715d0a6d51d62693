"""Windows Schannel clients as IP-HTTPS meets them: versions, suites, groups, signature algorithms.

One `ClientProfile` per Windows release the probe imitates. Each profile is frozen data taken
from public records, cited in its `source` field:

- Microsoft Learn, "TLS Cipher Suites in Windows 7", "... in Windows 8.1", "... in Windows 10
  v1903, v1909, and v2004", "... in Windows 11": the suites Schannel enables by default, in
  priority order, and the protocol versions each suite can be used with.
- SSL Labs' recorded ClientHellos as kept in testssl.sh's `etc/client-simulation.txt` ("IE 8-10
  Win 7", "IE 11 Win 7", "IE 11 Win 8.1", "IE 11 Win 10", "Edge 15 Win 10"): the named groups
  and signature algorithms, decoded from the recorded handshake bytes, and a cross-check of
  the suite order.

The Learn tables list ECDHE suites once per curve (`..._P256`, `..._P384`); on the wire that is
one code point, so each appears once here, at its first position. Suites that the Learn tables
list as "not enabled by default" are left out.

IP-HTTPS adds the null suites TLS_RSA_WITH_NULL_SHA256 (0x003B) and TLS_RSA_WITH_NULL_SHA (0x0002)
on Windows 8 and later: the traffic inside is IPsec already (R. Hicks,
directaccess.richardhicks.com, 2013-02-15). Learn lists them as "only used when the
application explicitly requests" them, last in the priority order; where the IP-HTTPS client
puts them in its ClientHello is not published — last is inferred. It does not change the
outcome against HTTP.sys, which picks by the server's order (null first on a DirectAccess
server). Windows 7's IP-HTTPS client needs real encryption and offers no null suite.

This module imports nothing heavy: the CLI and the report can read the profiles without OpenSSL.

Over 400 lines because it is a data table: five client profiles with their sources read best
side by side.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class TlsVersion(enum.IntEnum):
    """Wire values (RFC 8446 §4.1.2 legacy_version / supported_versions)."""

    TLS1_0 = 0x0301
    TLS1_1 = 0x0302
    TLS1_2 = 0x0303
    TLS1_3 = 0x0304

    @property
    def label(self) -> str:
        return f"TLS 1.{self.value - 0x0301}"

    @property
    def openssl_name(self) -> str:
        """As OpenSSL's SSL_get_version() prints it."""
        return "TLSv1" if self is TlsVersion.TLS1_0 else f"TLSv1.{self.value - 0x0301}"


@dataclass(frozen=True, slots=True)
class CipherSuite:
    """One TLS cipher suite: IANA name and code point, and how OpenSSL names it.

    `can_offer` is False for suites OpenSSL 3 (as built here and as bundled with the
    `cryptography` wheel) cannot put in a ClientHello: RC4 and 3DES are not in its default
    provider. A profile keeps them so that its data stays the Windows client's; the handshake
    reports them as not offered.
    """

    code: int
    iana: str
    openssl: str
    min_version: TlsVersion = TlsVersion.TLS1_0
    max_version: TlsVersion = TlsVersion.TLS1_2
    can_offer: bool = True

    @property
    def is_null(self) -> bool:
        return "_WITH_NULL_" in self.iana

    @property
    def is_tls13(self) -> bool:
        return self.min_version is TlsVersion.TLS1_3

    def usable_with(self, version: TlsVersion) -> bool:
        return self.min_version <= version <= self.max_version

    @property
    def hex(self) -> str:
        return f"0x{self.code:04X}"


@dataclass(frozen=True, slots=True)
class Named:
    """A named group or signature scheme: wire code, IANA name, OpenSSL's name for it."""

    code: int
    iana: str
    openssl: str


_T10, _T12, _T13 = TlsVersion.TLS1_0, TlsVersion.TLS1_2, TlsVersion.TLS1_3


def _s(code: int, iana: str, openssl: str, since: TlsVersion = _T10, *, offer: bool = True) -> CipherSuite:
    until = _T13 if since is _T13 else _T12
    return CipherSuite(code, iana, openssl, since, until, offer)


# Every suite a profile below uses. Code points and names: IANA "TLS Cipher Suites" registry;
# OpenSSL names: `openssl ciphers -V -stdname`. "since TLS 1.2": the Learn tables' version column.
SUITES: Mapping[str, CipherSuite] = MappingProxyType({
    s.iana: s
    for s in (
        _s(0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", _T13),
        _s(0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", _T13),
        _s(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", _T12),
        _s(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", _T12),
        _s(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", _T12),
        _s(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", _T12),
        _s(0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384", _T12),
        _s(0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", _T12),
        _s(0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384", _T12),
        _s(0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", _T12),
        _s(0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", _T12),
        _s(0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", _T12),
        _s(0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"),
        _s(0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"),
        _s(0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"),
        _s(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"),
        _s(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA"),
        _s(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA"),
        _s(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", _T12),
        _s(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", _T12),
        _s(0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", _T12),
        _s(0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", _T12),
        _s(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"),
        _s(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"),
        _s(0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", "DHE-DSS-AES256-SHA256", _T12),
        _s(0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", "DHE-DSS-AES128-SHA256", _T12),
        _s(0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE-DSS-AES256-SHA"),
        _s(0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE-DSS-AES128-SHA"),
        # Not in OpenSSL 3's default provider (3DES, RC4): listed, never offered by the probe.
        _s(0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", offer=False),
        _s(0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "EDH-DSS-DES-CBC3-SHA", offer=False),
        _s(0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA", offer=False),
        _s(0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RC4-MD5", offer=False),
        _s(0x003B, "TLS_RSA_WITH_NULL_SHA256", "NULL-SHA256", _T12),
        _s(0x0002, "TLS_RSA_WITH_NULL_SHA", "NULL-SHA"),
    )
})

NULL_SUITES: tuple[CipherSuite, ...] = (SUITES["TLS_RSA_WITH_NULL_SHA256"], SUITES["TLS_RSA_WITH_NULL_SHA"])

# Named groups (IANA "TLS Supported Groups"), OpenSSL names for SSL_CTX_set1_groups_list.
X25519 = Named(0x001D, "x25519", "X25519")
SECP256R1 = Named(0x0017, "secp256r1", "P-256")
SECP384R1 = Named(0x0018, "secp384r1", "P-384")

# Signature schemes (RFC 8446 §4.2.3; TLS 1.2 hash/signature pairs of RFC 5246 §7.4.1.4.1).
_SIGALGS: Mapping[int, Named] = MappingProxyType({
    n.code: n
    for n in (
        Named(0x0401, "rsa_pkcs1_sha256", "RSA+SHA256"),
        Named(0x0501, "rsa_pkcs1_sha384", "RSA+SHA384"),
        Named(0x0601, "rsa_pkcs1_sha512", "RSA+SHA512"),
        Named(0x0201, "rsa_pkcs1_sha1", "RSA+SHA1"),
        Named(0x0403, "ecdsa_secp256r1_sha256", "ECDSA+SHA256"),
        Named(0x0503, "ecdsa_secp384r1_sha384", "ECDSA+SHA384"),
        Named(0x0603, "ecdsa_secp521r1_sha512", "ECDSA+SHA512"),
        Named(0x0203, "ecdsa_sha1", "ECDSA+SHA1"),
        Named(0x0202, "dsa_sha1", "DSA+SHA1"),
    )
})


def _sigalgs(*codes: int) -> tuple[Named, ...]:
    return tuple(_SIGALGS[c] for c in codes)


def _suites(*names: str) -> tuple[CipherSuite, ...]:
    return tuple(SUITES[n] for n in names)


@dataclass(frozen=True, slots=True)
class ClientProfile:
    """A Windows IP-HTTPS client.

    `versions`: the TLS versions its IP-HTTPS client offers by default, lowest first.
    `suites`: Schannel's default suites in offer order (encrypted ones; TLS 1.3 suites included
    where Schannel has them). `iphttps_null`: the IP-HTTPS client adds the null suites.
    `also`: other Windows releases with the same Schannel client defaults.
    """

    name: str
    title: str
    versions: tuple[TlsVersion, ...]
    suites: tuple[CipherSuite, ...]
    iphttps_null: bool
    groups: tuple[Named, ...]
    sigalgs: tuple[Named, ...]
    source: str
    notes: tuple[str, ...] = ()
    also: tuple[str, ...] = ()

    @property
    def min_version(self) -> TlsVersion:
        return min(self.versions)

    @property
    def max_version(self) -> TlsVersion:
        return max(self.versions)

    @property
    def offer(self) -> tuple[CipherSuite, ...]:
        """What the IP-HTTPS ClientHello lists, in order: the suites usable with one of the
        offered versions (Schannel leaves out suites no enabled version can use, as the
        TLS 1.0-only "IE 8-10 Win 7" capture shows), then the null suites where added."""
        extra = NULL_SUITES if self.iphttps_null else ()
        return tuple(
            s for s in (*self.suites, *extra)
            if any(s.usable_with(v) for v in self.versions)
        )

    @property
    def sendable(self) -> tuple[CipherSuite, ...]:
        return tuple(s for s in self.offer if s.can_offer)

    @property
    def unsendable(self) -> tuple[CipherSuite, ...]:
        return tuple(s for s in self.offer if not s.can_offer)


# Windows 7 SP1 and Windows 8 after KB 3042058 (Microsoft Security Advisory 3042058), as the
# Learn page "TLS Cipher Suites in Windows 7" lists them; Windows 8.1 / Server 2012 R2 after
# KB 2919355 have the same list in the same order ("TLS Cipher Suites in Windows 8.1"), and the
# "IE 11 Win 8.1" capture matches it suite for suite (without RC4, which IE 11 drops itself).
_WIN7_SUITES = _suites(
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_RC4_128_MD5",
)

# Windows 10 1903-2004 ("TLS Cipher Suites in Windows 10 v1903, v1909, and v2004"); Server
# 2019 shares the Windows 10 Schannel. The "IE 11 Win 10" and "Edge 15 Win 10" captures show
# the same order for the ECDHE and RSA suites (older builds still had DHE-DSS enabled).
_WIN10_SUITES = _suites(
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
)

# Windows 11 ("TLS Cipher Suites in Windows 11"): the Windows 10 list behind the two TLS 1.3
# suites Schannel enables there; Server 2022 shares it.
_WIN11_SUITES = (
    *_suites("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"),
    *_WIN10_SUITES,
)

_T_10_12 = (TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2)
_P256_P384 = (SECP256R1, SECP384R1)

WINDOWS7 = ClientProfile(
    name="windows7",
    title="Windows 7 SP1 (Schannel defaults: TLS 1.0 only)",
    versions=(TlsVersion.TLS1_0,),
    suites=_WIN7_SUITES,
    iphttps_null=False,
    groups=_P256_P384,
    sigalgs=(),  # the signature_algorithms extension exists from TLS 1.2 on (RFC 5246 §7.4.1.4.1)
    source=(
        "Microsoft Learn 'TLS Cipher Suites in Windows 7' (order after KB 3042058); TLS 1.0 only "
        "by default until KB 3140245 and the Schannel registry switches; SSL Labs capture "
        "'IE 8-10 Win 7' (testssl.sh etc/client-simulation.txt) for a TLS 1.0 ClientHello and "
        "its groups secp256r1, secp384r1"
    ),
    notes=(
        "Windows 7's IP-HTTPS client needs real encryption: no null suites "
        "(R. Hicks, directaccess.richardhicks.com, 2013-02-15).",
        "With TLS 1.0 only, the TLS 1.2-only suites of the Learn list are not offered.",
    ),
)

WINDOWS7_TLS12 = ClientProfile(
    name="windows7-tls12",
    title="Windows 7 SP1 with KB 3140245 and TLS 1.1/1.2 enabled for Schannel clients",
    versions=_T_10_12,
    suites=_WIN7_SUITES,
    iphttps_null=False,
    groups=_P256_P384,
    # "IE 11 Win 7" capture, signature_algorithms extension (000d), in order.
    sigalgs=_sigalgs(0x0601, 0x0603, 0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203, 0x0202),
    source=(
        "KB 3140245 plus the SCHANNEL\\Protocols\\TLS 1.1|1.2\\Client registry values; Microsoft "
        "Learn 'TLS Cipher Suites in Windows 7'; SSL Labs capture 'IE 11 Win 7' (testssl.sh "
        "etc/client-simulation.txt) for its groups and signature algorithms"
    ),
    notes=(
        "The 'IE 11 Win 7' capture predates KB 3042058 and lacks the DHE-RSA CBC suites the "
        "Learn list has; the Learn list is used.",
        "Windows 7 has no TLS_ECDHE_RSA_WITH_AES_*_GCM suite: a server with only those fails it.",
    ),
)

WINDOWS8 = ClientProfile(
    name="windows8",
    title="Windows 8.1 / Server 2012 R2 (Schannel defaults, IP-HTTPS with null suites)",
    versions=_T_10_12,
    suites=_WIN7_SUITES,
    iphttps_null=True,
    groups=_P256_P384,
    # "IE 11 Win 8.1" capture, signature_algorithms extension, in order.
    sigalgs=_sigalgs(0x0401, 0x0501, 0x0601, 0x0201, 0x0403, 0x0503, 0x0603, 0x0203, 0x0202),
    source=(
        "Microsoft Learn 'TLS Cipher Suites in Windows 8.1' (order after KB 2919355); SSL Labs "
        "capture 'IE 11 Win 8.1' (testssl.sh etc/client-simulation.txt); null suites for "
        "IP-HTTPS: R. Hicks, 2013-02-15"
    ),
    notes=("Windows 8.1 has no TLS_ECDHE_RSA_WITH_AES_*_GCM suite either.",),
    also=("Windows Server 2012 R2",),
)

WINDOWS10 = ClientProfile(
    name="windows10",
    title="Windows 10 (Schannel defaults, IP-HTTPS with null suites)",
    versions=_T_10_12,
    suites=_WIN10_SUITES,
    iphttps_null=True,
    groups=(X25519, SECP256R1, SECP384R1),  # "Edge 15 Win 10" capture: 001d 0017 0018
    sigalgs=_sigalgs(0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203, 0x0202, 0x0601, 0x0603),
    source=(
        "Microsoft Learn 'TLS Cipher Suites in Windows 10 v1903, v1909, and v2004'; SSL Labs "
        "captures 'IE 11 Win 10' and 'Edge 15 Win 10' (testssl.sh etc/client-simulation.txt) "
        "for groups and signature algorithms; null suites for IP-HTTPS: R. Hicks, 2013-02-15"
    ),
    also=("Windows Server 2016", "Windows Server 2019"),
)

WINDOWS11 = ClientProfile(
    name="windows11",
    title="Windows 11 (Schannel defaults, IP-HTTPS with null suites; TLS 1.2 at most, inferred)",
    versions=_T_10_12,
    suites=_WIN11_SUITES,
    iphttps_null=True,
    # No public capture of a Windows 11 Schannel ClientHello was found (the Edge captures are
    # Chromium's own TLS stack): groups and signature algorithms as Windows 10 (inferred).
    groups=(X25519, SECP256R1, SECP384R1),
    sigalgs=_sigalgs(0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203, 0x0202, 0x0601, 0x0603),
    source=(
        "Microsoft Learn 'TLS Cipher Suites in Windows 11'; TLS 1.3 only through SCH_CREDENTIALS "
        "(Microsoft Learn 'Obtaining Schannel Credentials'); groups and signature algorithms as "
        "the Windows 10 captures (inferred)"
    ),
    notes=(
        "Schannel on Windows 11 enables TLS 1.3 by default, but the IP-HTTPS client is not "
        "known to offer it: TLS 1.3 has no null suites, and Schannel offers TLS 1.3 only to "
        "callers using SCH_CREDENTIALS, while null suites are requested through the legacy "
        "SCHANNEL_CRED algorithm list. TLS 1.2 at most is inferred, not documented.",
        "Microsoft Learn 'TLS/SSL overview (Schannel SSP)': TLS 1.0 and 1.1 are being disabled "
        "starting with Windows 11 Insider Preview builds; builds without them offer TLS 1.2 only.",
    ),
    also=("Windows Server 2022",),
)

PROFILES: Mapping[str, ClientProfile] = MappingProxyType({
    p.name: p for p in (WINDOWS7, WINDOWS7_TLS12, WINDOWS8, WINDOWS10, WINDOWS11)
})

SUITES_BY_CODE: Mapping[int, CipherSuite] = MappingProxyType({s.code: s for s in SUITES.values()})
SUITES_BY_OPENSSL: Mapping[str, CipherSuite] = MappingProxyType({s.openssl: s for s in SUITES.values()})


def profile(name: str) -> ClientProfile:
    """The profile called `name`; KeyError names the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown Windows client {name!r}; known: {', '.join(PROFILES)}") from None
