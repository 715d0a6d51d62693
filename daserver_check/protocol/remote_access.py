"""The Remote Access, NRPT, Schannel-suite and adapter cmdlets' `ConvertTo-Json` output.

Objects are recognised by their properties, as Microsoft Learn's class pages name them, not by
file name:

- `Get-RemoteAccessHealth` → RemoteAccessHealthMonitor (Component, HealthState, TimeStamp,
  Heuristics[] of RemoteAccessHealthHeuristic: Id, Status, OperationStatus, ErrorDesc,
  ErrorCause, ErrorResoln). HealthState is one of OK, Warning, Error, Disabled, Unknown.
- `Get-RemoteAccess` → the DirectAccess server's configuration; the IP-HTTPS public name is its
  ConnectToAddress (Learn: "Get method of the PS_DAServer class": "ConnectTo address").
- `Get-DAClientDnsConfiguration` → DAClientDnsConfiguration (NrptEntry[] of DnsClientNrptRule:
  Namespace[], DirectAccessDnsServers[], DirectAccessEnabled, NameServers[] …;
  NrptGlobalSettings). `Get-DnsClientNrptPolicy` on a client gives the applied rules with the
  same property names (Namespace a single string there).
- `Get-TlsCipherSuite` → Name, CipherSuite (the IANA code point as a number), Cipher, Exchange,
  Hash, Certificate, Protocols (wire versions as numbers: 769 TLS 1.0 … 772 TLS 1.3), in
  Schannel's priority order.
- `Get-NetAdapter -IncludeHidden` → MSFT_NetAdapter (Name, InterfaceDescription, Status,
  InterfaceIndex/ifIndex, Hidden, ComponentID …).

`collect-script` wraps each cmdlet's output in an object named after it
(`{"RemoteAccessHealth": [...]}`), so that an empty result still reads as "collected, none".

Sans-IO: `parse_powershell(data) -> PsDocument`; errors raise `PsJsonError` with the offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from daserver_check.protocol import ps_json
from daserver_check.protocol.ps_json import PsJsonError, boolean, integer, text, texts

__all__ = ["PsDocument", "PsJsonError", "parse_powershell", "read_powershell"]

MAX_ITEMS = 2000  # items of one kind kept from one document


@dataclass(frozen=True, slots=True)
class Heuristic:
    """One monitor of a component (RemoteAccessHealthHeuristic), with Microsoft's own texts."""

    id: int | None
    status: str | None
    operation_status: str | None
    description: str | None
    cause: str | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class HealthComponent:
    component: str
    state: str | None  # OK, Warning, Error, Disabled, Unknown
    server: str | None
    timestamp: str | None
    heuristics: tuple[Heuristic, ...] = ()

    @property
    def healthy(self) -> bool:
        # "OK" is the healthy value (RemoteAccessHealthMonitor); "Disabled" is a component the
        # deployment does not use, not a fault.
        return (self.state or "").casefold() in ("ok", "healthy", "disabled")


@dataclass(frozen=True, slots=True)
class RemoteAccessConfig:
    connect_to: str | None  # the IP-HTTPS public name (ConnectToAddress)
    da_status: str | None
    vpn_status: str | None


@dataclass(frozen=True, slots=True)
class NrptRule:
    namespaces: tuple[str, ...]  # ".corp.contoso.com" (suffix) or "nls.corp.contoso.com" (FQDN)
    # The DNS servers DirectAccess clients ask for these names; empty = an exemption (Learn,
    # "Add-DAClientDnsConfiguration": a suffix without servers is an NRPT exemption entry).
    da_servers: tuple[str, ...]
    da_enabled: bool | None
    name_servers: tuple[str, ...] = ()
    name: str | None = None

    @property
    def exemption(self) -> bool:
        return not self.da_servers and not self.name_servers


@dataclass(frozen=True, slots=True)
class TlsSuite:
    name: str
    code: int | None
    protocols: tuple[int, ...]
    cipher: str | None = None
    exchange: str | None = None


@dataclass(frozen=True, slots=True)
class NetAdapter:
    name: str
    description: str
    status: str | None  # Up, Disconnected, Disabled, Not Present
    index: int | None
    hidden: bool | None
    component_id: str | None = None


@dataclass(frozen=True, slots=True)
class PsDocument:
    """What one JSON document holds; None = that cmdlet's output is not in it."""

    health: tuple[HealthComponent, ...] | None = None
    remote_access: RemoteAccessConfig | None = None
    nrpt: tuple[NrptRule, ...] | None = None
    nrpt_source: str = ""  # "Get-DAClientDnsConfiguration" or "Get-DnsClientNrptPolicy"
    tls_suites: tuple[TlsSuite, ...] | None = None
    adapters: tuple[NetAdapter, ...] | None = None

    @property
    def empty(self) -> bool:
        return all(v is None for v in (self.health, self.remote_access, self.nrpt,
                                       self.tls_suites, self.adapters))


def parse_powershell(data: bytes) -> PsDocument:
    doc = read_powershell(ps_json.load_json(data))
    if doc.empty:
        raise PsJsonError("JSON without Get-RemoteAccessHealth, Get-RemoteAccess, NRPT, "
                          "Get-TlsCipherSuite or Get-NetAdapter objects", 0)
    return doc


def _heuristic(p: dict[str, Any]) -> Heuristic:
    return Heuristic(
        id=integer(p.get("id")),
        status=text(p.get("status")),
        operation_status=text(p.get("operationstatus")),
        description=text(p.get("errordesc", p.get("errordescription"))),
        cause=text(p.get("errorcause")),
        resolution=text(p.get("errorresoln", p.get("errorresolution"))),
    )


def _health(p: dict[str, Any]) -> HealthComponent:
    raw = p.get("heuristics")
    items = raw if isinstance(raw, list) else [raw]
    heuristics = tuple(_heuristic(h) for h in map(ps_json.props, items[:MAX_ITEMS]) if h)
    return HealthComponent(
        component=text(p.get("component")) or "?",
        state=text(p.get("healthstate")),
        server=text(p.get("remoteaccessserver")),
        timestamp=text(p.get("timestamp")),
        heuristics=heuristics,
    )


def _rule(p: dict[str, Any]) -> NrptRule:
    return NrptRule(
        namespaces=texts(p.get("namespace")),
        da_servers=texts(p.get("directaccessdnsservers")),
        da_enabled=boolean(p.get("directaccessenabled")),
        name_servers=texts(p.get("nameservers")),
        name=text(p.get("name")),
    )


def _suite(p: dict[str, Any]) -> TlsSuite:
    return TlsSuite(
        name=(text(p.get("name")) or "").strip(),
        code=integer(p.get("ciphersuite")),
        protocols=tuple(v for v in (integer(x) for x in _list(p.get("protocols"))) if v is not None),
        cipher=text(p.get("cipher")),
        exchange=text(p.get("exchange")),
    )


def _adapter(p: dict[str, Any]) -> NetAdapter:
    return NetAdapter(
        name=text(p.get("name")) or "",
        description=text(p.get("interfacedescription")) or "",
        status=text(p.get("status")),
        index=integer(p.get("interfaceindex", p.get("ifindex"))),
        hidden=boolean(p.get("hidden")),
        component_id=text(p.get("componentid")),
    )


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value[:MAX_ITEMS] if isinstance(value, list) else [value]


def read_powershell(doc: Any) -> PsDocument:
    """Sort the objects of a loaded document by the properties that identify them."""
    health: list[HealthComponent] = []
    rules: list[NrptRule] = []
    suites: list[TlsSuite] = []
    adapters: list[NetAdapter] = []
    remote: RemoteAccessConfig | None = None
    seen = {"health": False, "nrpt": False, "tls": False, "adapters": False}
    nrpt_source = ""
    top = ps_json.props(doc) or {}
    # The collect script's wrappers: present means collected, even with nothing inside.
    for key, kind in (("remoteaccesshealth", "health"), ("tlsciphersuite", "tls"),
                      ("netadapter", "adapters"), ("daclientdnsconfiguration", "nrpt"),
                      ("dnsclientnrptpolicy", "nrpt")):
        if key in top:
            seen[kind] = True
            if kind == "nrpt":
                nrpt_source = ("Get-DnsClientNrptPolicy" if key == "dnsclientnrptpolicy"
                               else "Get-DAClientDnsConfiguration")
    for p in ps_json.objects(doc):
        if "component" in p and "healthstate" in p:
            seen["health"] = True
            if len(health) < MAX_ITEMS:
                health.append(_health(p))
        elif "nrptentry" in p or "nrptglobalsettings" in p:
            seen["nrpt"] = True
            nrpt_source = nrpt_source or "Get-DAClientDnsConfiguration"
        elif "namespace" in p and ("directaccessdnsservers" in p or "nameservers" in p
                                   or "directaccessenabled" in p):
            seen["nrpt"] = True
            nrpt_source = nrpt_source or ("Get-DnsClientNrptPolicy"
                                          if isinstance(p.get("namespace"), str)
                                          else "Get-DAClientDnsConfiguration")
            if len(rules) < MAX_ITEMS:
                rules.append(_rule(p))
        elif "ciphersuite" in p and "name" in p and "protocols" in p:
            seen["tls"] = True
            if len(suites) < MAX_ITEMS:
                suites.append(_suite(p))
        elif "interfacedescription" in p and ("status" in p or "ifindex" in p
                                              or "interfaceindex" in p):
            seen["adapters"] = True
            if len(adapters) < MAX_ITEMS:
                adapters.append(_adapter(p))
        elif remote is None and ("connecttoaddress" in p or "dastatus" in p):
            remote = RemoteAccessConfig(
                connect_to=text(p.get("connecttoaddress")),
                da_status=text(p.get("dastatus")),
                vpn_status=text(p.get("vpnstatus")),
            )
    return PsDocument(
        health=tuple(health) if seen["health"] else None,
        remote_access=remote,
        nrpt=tuple(rules) if seen["nrpt"] else None,
        nrpt_source=nrpt_source,
        tls_suites=tuple(s for s in suites if s.name) if seen["tls"] else None,
        adapters=tuple(adapters) if seen["adapters"] else None,
    )
