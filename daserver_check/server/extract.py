"""Sources → facts: the registry views, netsh text and PowerShell JSON each add what they hold.

Every fact has one spelling, whatever its source: a reservation's descriptor is normalized to
the SDDL `to_sddl` writes (so the registry bytes and netsh's SDDL line compare equal), hashes and
GUIDs are lower-case, account names come from the SIDs (netsh prints them localized).
"""

from __future__ import annotations

import uuid

from daserver_check.protocol.iphttps_state import IpHttpsJson
from daserver_check.protocol.netsh import SslCertBinding, TunnelInterface, UrlAclEntry
from daserver_check.protocol.proxy_settings import ProxySettingsError, parse_connection_settings
from daserver_check.protocol.reg import RegType, RegValue
from daserver_check.protocol.remote_access import PsDocument
from daserver_check.protocol.security_descriptor import (
    SecurityDescriptor,
    SecurityDescriptorError,
    from_sddl,
    parse_security_descriptor,
)
from daserver_check.server.facts import (
    Binding,
    Facts,
    Interface,
    RegistryKeyFacts,
    Reservation,
)
from daserver_check.server.paths import (
    CIPHER_ORDER_POLICY,
    DISABLED_COMPONENTS,
    FIPS_POLICY,
    IPHTTPS_POLICY_KEYS,
    LOCALSYSTEM_CONNECTIONS,
    PROXYMGR_KEY,
    SCHANNEL_CIPHERS,
    SCHANNEL_KEY,
    SCHANNEL_KEY_EXCHANGE,
    SCHANNEL_PROTOCOLS,
    SSL_BINDING_KEY,
    SSL_SNI_BINDING_KEY,
    TCPIP6_PARAMETERS,
    URLACL_KEY,
)
from daserver_check.server.registry import RegistryView

MAX_WALK = 500  # keys visited under one policy location: a real one has a handful

# HTTP_SERVICE_CONFIG_SSL_FLAG_* (http.h): the DefaultFlags bits netsh prints as
# "DS Mapper Usage" and "Negotiate Client Certificate" (docs/windows-facts.md §5).
_FLAG_DS_MAPPER = 0x1
_FLAG_NEGOTIATE_CLIENT_CERT = 0x2


def _accounts(sd: SecurityDescriptor) -> tuple[str, ...]:
    aces = sd.dacl.aces if sd.dacl else ()
    return tuple(ace.sid.name or str(ace.sid) for ace in aces)


def reservation_from_bytes(url: str, value: RegValue, source: str) -> Reservation:
    if value.type != RegType.BINARY:
        return Reservation(url, None, f"value type {value.type} instead of REG_BINARY", source)
    try:
        sd = parse_security_descriptor(value.data)
        return Reservation(url, sd.to_sddl(), None, source, _accounts(sd))
    except SecurityDescriptorError as exc:
        return Reservation(url, None, f"corrupt security descriptor: {exc}", source)


def reservation_from_netsh(entry: UrlAclEntry, source: str) -> Reservation:
    if entry.incomplete is not None:
        # The URL is known (the conflict checks need it); its descriptor is not judged.
        return Reservation(entry.url, None, None, source)
    if entry.sddl is None:
        return Reservation(entry.url, None, "no SDDL line in the netsh output", source)
    try:
        sd = from_sddl(entry.sddl)
        return Reservation(entry.url, sd.to_sddl(), None, source, _accounts(sd))
    except SecurityDescriptorError as exc:
        return Reservation(entry.url, None, f"unreadable SDDL: {exc}", source)


def binding_from_netsh(b: SslCertBinding, source: str) -> Binding:
    return Binding(b.endpoint, b.kind, b.cert_hash, b.app_id, b.store, b.ds_mapper,
                   b.negotiate_client_cert, source)


def interface_from_netsh(i: TunnelInterface, source: str) -> Interface:
    return Interface(i.name, i.role, i.url, i.last_error, i.status, source)


def add_netsh_urlacl(facts: Facts, entries: list[UrlAclEntry], source: str) -> None:
    facts.add_reservations([reservation_from_netsh(e, source) for e in entries])
    # A pasted list cut off before an SDDL is not a corrupt ACL: the entry's descriptor is
    # skipped, and the reason is listed with the ignored inputs.
    facts.ignored.extend(
        f"{source}: {e.url} ({e.incomplete}; descriptor not checked)"
        for e in entries
        if e.incomplete is not None
    )


def add_netsh_sslcert(facts: Facts, bindings: list[SslCertBinding], source: str) -> None:
    facts.add_bindings([binding_from_netsh(b, source) for b in bindings])


def add_netsh_httpstunnel(facts: Facts, interfaces: list[TunnelInterface], source: str) -> None:
    facts.add_interfaces([interface_from_netsh(i, source) for i in interfaces])


def add_powershell(facts: Facts, doc: IpHttpsJson, source: str) -> None:
    url = next((c.server_url for c in doc.configurations if c.server_url), None)
    facts.server_urls.extend(c.server_url for c in doc.configurations if c.server_url)
    if any(c.strong_crl_required for c in doc.configurations):
        facts.strong_crl_required = True
    if doc.states:
        facts.add_interfaces(
            [
                Interface(s.profile or "IPHTTPSInterface", None, url, s.last_error, s.status, source)
                for s in doc.states
            ]
        )


def add_ps_document(facts: Facts, doc: PsDocument, source: str) -> None:
    """Get-RemoteAccessHealth, Get-RemoteAccess, NRPT, Get-TlsCipherSuite, Get-NetAdapter."""
    if doc.health is not None:
        facts.health = [*(facts.health or []), *doc.health]
        facts.health_source = facts.health_source or source
    if doc.remote_access is not None and facts.remote_access is None:
        facts.remote_access = doc.remote_access
    if doc.nrpt is not None:
        facts.nrpt = [*(facts.nrpt or []), *doc.nrpt]
        facts.nrpt_source = facts.nrpt_source or f"{source} ({doc.nrpt_source})"
    if doc.tls_suites is not None:
        facts.tls_suites = [*(facts.tls_suites or []), *doc.tls_suites]
        facts.tls_suites_source = facts.tls_suites_source or source
    if doc.adapters is not None:
        facts.adapters = [*(facts.adapters or []), *doc.adapters]
        facts.adapters_source = facts.adapters_source or source


# --- registry --------------------------------------------------------------------------------


def _hex(value: RegValue | None) -> str | None:
    if value is None or not value.data:
        return None
    return value.data.hex()


def _guid(value: RegValue | None) -> str | None:
    if value is None or len(value.data) != 16:
        return None
    # A GUID struct as Windows stores it: Data1-3 little-endian (uuid's bytes_le).
    return "{" + str(uuid.UUID(bytes_le=value.data)) + "}"


def _bindings(view: RegistryView, root: str, kind: str) -> list[Binding] | None:
    names = view.subkeys(root)
    if names is None:
        return None
    result = []
    for name in names:
        values = view.values(root + "\\" + name) or {}
        lower = {k.casefold(): v for k, v in values.items()}
        flags_value = lower.get("defaultflags")
        flags = flags_value.as_int() if flags_value else None
        store = lower.get("sslcertstorename")
        result.append(
            Binding(
                endpoint=name,
                kind=kind,
                cert_hash=_hex(lower.get("sslcerthash")),
                app_id=_guid(lower.get("appid")),
                store=store.as_str() if store else None,
                ds_mapper=bool((flags or 0) & _FLAG_DS_MAPPER),
                negotiate_client_cert=bool((flags or 0) & _FLAG_NEGOTIATE_CLIENT_CERT),
                source=view.name,
            )
        )
    return result


def printable(value: RegValue) -> str:
    text = value.as_str()
    if text is not None:
        return text
    number = value.as_int()
    if number is not None:
        return f"0x{number:x}"
    multi = value.as_multi_sz()
    if multi is not None:
        return "; ".join(multi)
    data = value.data[:64].hex(",")
    return f"hex:{data}" + (",…" if len(value.data) > 64 else "")


def _walk(view: RegistryView, root: str) -> list[RegistryKeyFacts]:
    """The key and its subkeys (breadth first, bounded), each with its values."""
    found: list[RegistryKeyFacts] = []
    queue = [root]
    while queue and len(found) < MAX_WALK:
        key = queue.pop(0)
        values = view.values(key)
        if values is None:
            continue
        found.append(
            RegistryKeyFacts(key, tuple(sorted((n, printable(v)) for n, v in values.items())),
                             view.name)
        )
        queue.extend(key + "\\" + s for s in view.subkeys(key) or ())
    return found


def add_registry(facts: Facts, view: RegistryView) -> None:
    """Read every registry fact this view covers."""
    if view.covers(URLACL_KEY):
        values = view.values(URLACL_KEY) or {}
        facts.add_reservations(
            [reservation_from_bytes(name, value, view.name) for name, value in values.items()]
        )
    for root, kind in ((SSL_BINDING_KEY, "ip"), (SSL_SNI_BINDING_KEY, "hostname")):
        if view.covers(root):
            facts.add_bindings(_bindings(view, root, kind) or [])
    if view.covers(TCPIP6_PARAMETERS):
        facts.ipv6_collected = True
        values = view.values(TCPIP6_PARAMETERS) or {}
        lower = {k.casefold(): v for k, v in values.items()}
        value = lower.get(DISABLED_COMPONENTS.casefold())
        if value is not None:
            facts.disabled_components = value.as_int()
            facts.disabled_components_source = view.name
    for key in IPHTTPS_POLICY_KEYS:
        if view.covers(key):
            facts.policy_collected = True
            facts.policy_keys.extend(_walk(view, key))
    if view.covers(PROXYMGR_KEY):
        facts.proxymgr_collected = True
        facts.proxymgr.extend(_walk(view, PROXYMGR_KEY))
    _add_tls_policy(facts, view)
    if view.covers(LOCALSYSTEM_CONNECTIONS):
        facts.localsystem_proxy_collected = True
        facts.localsystem_source = view.name
        lower = {k.casefold(): v for k, v in (view.values(LOCALSYSTEM_CONNECTIONS) or {}).items()}
        blob = lower.get("defaultconnectionsettings")
        if blob is not None:
            try:
                facts.localsystem_proxy = parse_connection_settings(blob.data)
            except ProxySettingsError as exc:
                facts.problems.append((view.name, f"DefaultConnectionSettings: {exc}"))


def _dwords(values: dict[str, RegValue]) -> dict[str, int | None]:
    return {name.casefold(): value.as_int() for name, value in values.items()}


def _add_tls_policy(facts: Facts, view: RegistryView) -> None:
    """SCHANNEL's switches, the suite-order policy and the FIPS policy (docs/windows-facts.md §2)."""
    # The collect script exports all of SCHANNEL; an admin's own export may hold one subkey
    # (`reg export "...\SCHANNEL\Protocols\TLS 1.0\Server"`): read from the highest one covered.
    roots = [SCHANNEL_KEY, SCHANNEL_PROTOCOLS, SCHANNEL_CIPHERS, SCHANNEL_KEY_EXCHANGE]
    roots += [f"{SCHANNEL_PROTOCOLS}\\{v}\\Server" for v in ("TLS 1.0", "TLS 1.1", "TLS 1.2")]
    walked: list[str] = []
    for root in roots:
        if any(root.startswith(w + "\\") for w in walked) or not view.covers(root):
            continue
        walked.append(root)
        facts.schannel_collected = True
        facts.schannel_source = view.name
        base = len(SCHANNEL_KEY) + 1
        for key in _walk(view, root):
            rel = key.path[base:].casefold() if len(key.path) > len(SCHANNEL_KEY) else ""
            facts.schannel[rel] = _dwords(dict(view.values(key.path) or {}))
    if view.covers(CIPHER_ORDER_POLICY):
        facts.cipher_order_collected = True
        facts.cipher_order_source = view.name
        lower = {k.casefold(): v for k, v in (view.values(CIPHER_ORDER_POLICY) or {}).items()}
        functions = lower.get("functions")
        if functions is not None:
            # Group Policy writes one comma-separated REG_SZ; Enable-TlsCipherSuite's local
            # list is a REG_MULTI_SZ. Both spellings are read.
            items = functions.as_multi_sz()
            if items is None:
                items = (functions.as_str() or "").split(",")
            facts.cipher_order = [i.strip() for i in items if i.strip()]
    if view.covers(FIPS_POLICY):
        facts.fips_collected = True
        facts.fips_source = view.name
        lower = {k.casefold(): v for k, v in (view.values(FIPS_POLICY) or {}).items()}
        enabled = lower.get("enabled")
        facts.fips_enabled = None if enabled is None else bool(enabled.as_int())
