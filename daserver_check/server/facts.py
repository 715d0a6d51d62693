"""The facts the server checks need, whatever source they came from.

A .reg export, an offline hive, netsh output and PowerShell JSON each fill in what they know;
a field left at None means "not collected" (its check is skipped and says so), an empty list
means "collected, and there is none".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from daserver_check.protocol.collect_status import StepStatus
from daserver_check.protocol.proxy_settings import ProxySettings
from daserver_check.protocol.remote_access import (
    HealthComponent,
    NetAdapter,
    NrptRule,
    RemoteAccessConfig,
    TlsSuite,
)


@dataclass(frozen=True, slots=True)
class Reservation:
    """One HTTP.sys URL reservation (UrlAclInfo value, or a `netsh http show urlacl` block)."""

    url: str
    sddl: str | None  # None when the descriptor could not be read
    error: str | None  # why the descriptor is unreadable (corrupt bytes, bad SDDL)
    source: str
    accounts: tuple[str, ...] = ()  # account names of the ACEs, when known


@dataclass(frozen=True, slots=True)
class Binding:
    """One HTTP.sys SSL binding (SslBindingInfo subkey, or a `netsh http show sslcert` block)."""

    endpoint: str  # "0.0.0.0:443", "203.0.113.10:443", "da.contoso.com:443"
    kind: str  # "ip", "hostname", "ccs"
    cert_hash: str | None  # lower-case hex SHA-1
    app_id: str | None  # "{…}" lower-case
    store: str | None
    ds_mapper: bool | None
    negotiate_client_cert: bool | None
    source: str

    @property
    def port(self) -> int | None:
        _host, _, port = self.endpoint.rpartition(":")
        return int(port) if port.isdigit() else None

    @property
    def host(self) -> str:
        host = self.endpoint.rpartition(":")[0]
        return host.strip("[]")


@dataclass(frozen=True, slots=True)
class Interface:
    """One IP-HTTPS interface as netsh or Get-NetIPHttpsState reports it."""

    name: str
    role: str | None
    url: str | None
    last_error: int | None
    status: str | None
    source: str


@dataclass(frozen=True, slots=True)
class RegistryKeyFacts:
    """A key found under a policy or ProxyMgr location: its path and printable values."""

    path: str
    values: tuple[tuple[str, str], ...]
    source: str


@dataclass(slots=True)
class Facts:
    reservations: list[Reservation] | None = None
    bindings: list[Binding] | None = None
    # DisabledComponents: `ipv6_collected` says a source covered Tcpip6\Parameters; the value
    # stays None when it is absent there (= 0, all components enabled; KB 929852).
    ipv6_collected: bool = False
    disabled_components: int | None = None
    disabled_components_source: str = ""
    policy_collected: bool = False
    policy_keys: list[RegistryKeyFacts] = field(default_factory=list)
    proxymgr_collected: bool = False
    proxymgr: list[RegistryKeyFacts] = field(default_factory=list)
    interfaces: list[Interface] | None = None
    server_urls: list[str] = field(default_factory=list)  # Get-NetIPHttpsConfiguration ServerURL
    # Get-NetIPHttpsConfiguration StrongCRLRequired: every client then enforces the CRL check
    # (KB 2980672), not only Windows 7.
    strong_crl_required: bool = False
    sources: list[tuple[str, str]] = field(default_factory=list)  # (path, kind)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, error)
    ignored: list[str] = field(default_factory=list)
    # Collected but unusable, per input the checks need ("reservations", "bindings", …):
    # (path, why). A check whose input is missing says `error` with these reasons, not `skip`.
    unusable: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # Get-RemoteAccessHealth / Get-RemoteAccess / NRPT / Get-TlsCipherSuite / Get-NetAdapter.
    health: list[HealthComponent] | None = None
    health_source: str = ""
    remote_access: RemoteAccessConfig | None = None
    nrpt: list[NrptRule] | None = None
    nrpt_source: str = ""
    tls_suites: list[TlsSuite] | None = None
    tls_suites_source: str = ""
    adapters: list[NetAdapter] | None = None
    adapters_source: str = ""
    # Schannel: every key under SCHANNEL (path relative to it, lower case) -> its DWORD values
    # (lower-case names). The cipher-suite order policy's `Functions` list (None: not set), and
    # the FIPS policy's `Enabled` (None: not set).
    schannel_collected: bool = False
    schannel: dict[str, dict[str, int | None]] = field(default_factory=dict)
    schannel_source: str = ""
    cipher_order_collected: bool = False
    cipher_order: list[str] | None = None
    cipher_order_source: str = ""
    fips_collected: bool = False
    fips_enabled: bool | None = None
    fips_source: str = ""
    # Client proxies: `netsh winhttp show proxy`, and LocalSystem's DefaultConnectionSettings.
    winhttp_proxy: ProxySettings | None = None
    winhttp_source: str = ""
    localsystem_proxy_collected: bool = False
    localsystem_proxy: ProxySettings | None = None
    localsystem_source: str = ""
    # collect-status.txt: what each step of the collect script did.
    collect_status: list[StepStatus] = field(default_factory=list)
    # Inputs whose cmdlet does not exist where the bundle was collected: input -> why.
    not_available: dict[str, str] = field(default_factory=dict)

    def mark_unusable(self, path: str, why: str, inputs: tuple[str, ...]) -> None:
        for name in inputs:
            self.unusable.setdefault(name, []).append((path, why))

    def add_reservations(self, items: list[Reservation]) -> None:
        if self.reservations is None:
            self.reservations = []
        self.reservations.extend(items)

    def add_bindings(self, items: list[Binding]) -> None:
        if self.bindings is None:
            self.bindings = []
        self.bindings.extend(items)

    def add_interfaces(self, items: list[Interface]) -> None:
        if self.interfaces is None:
            self.interfaces = []
        self.interfaces.extend(items)

    def iphttps_urls(self) -> list[str]:
        urls = [i.url for i in self.interfaces or () if i.url]
        urls.extend(self.server_urls)
        return list(dict.fromkeys(urls))
