"""Deployment profiles: TOML, schema 1, loaded strictly into frozen dataclasses.

Strict means: an unknown key, a wrong type or an out-of-range value is a `ProfileError` whose
message names the dotted path (`probe.timeout: expected a number, got a string`).
Built-in profiles live in `profiles/NAME.toml` and are named without the suffix.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daserver_check.errors import DaserverCheckError

SCHEMA = 1
MAX_PROFILE_BYTES = 1 << 20
# Structural limits, far above any real profile (a dozen keys, two parts each).
MAX_DOTS_PER_LINE = 32
MAX_KEYS = 10_000

CLIENT_OS = ("windows7", "windows7-tls12", "windows8", "windows8.1", "windows10", "windows11")
AUTH_MODES = ("none", "certificates")


class ProfileError(DaserverCheckError, ValueError):
    """A profile cannot be used; the message starts with the source and dotted path."""


@dataclass(frozen=True, slots=True)
class DeploymentSection:
    name: str = ""
    urls: tuple[str, ...] = ()
    entry_points: tuple[str, ...] = ()
    client_os: tuple[str, ...] = ("windows10", "windows11")
    auth_mode: str = "none"

    @property
    def has_windows7(self) -> bool:
        return any(name.startswith("windows7") for name in self.client_os)


@dataclass(frozen=True, slots=True)
class DnsSection:
    resolvers: tuple[str, ...] = ()
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class TlsSection:
    require_null_cipher: bool = True


@dataclass(frozen=True, slots=True)
class CertSection:
    ca_file: str = ""
    warn_days: int = 30
    crit_days: int = 7
    check_crl: bool = True
    files: tuple[str, ...] = ()  # certificate files the checklist validates (new certificates)
    # Where an unattended checklist takes the PFX password (never from the profile itself).
    password_env: str = ""
    password_file: str = ""


@dataclass(frozen=True, slots=True)
class IphttpsSection:
    router_discovery: bool = False


@dataclass(frozen=True, slots=True)
class ProxySection:
    url: str = ""  # http://HOST:PORT: probe through this proxy with CONNECT, as clients do


@dataclass(frozen=True, slots=True)
class ProbeSection:
    timeout: float = 10.0
    concurrency: int = 16


@dataclass(frozen=True, slots=True)
class ServerSection:
    bundles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Profile:
    schema: int = SCHEMA
    deployment: DeploymentSection = field(default_factory=DeploymentSection)
    dns: DnsSection = field(default_factory=DnsSection)
    tls: TlsSection = field(default_factory=TlsSection)
    cert: CertSection = field(default_factory=CertSection)
    iphttps: IphttpsSection = field(default_factory=IphttpsSection)
    proxy: ProxySection = field(default_factory=ProxySection)
    probe: ProbeSection = field(default_factory=ProbeSection)
    server: ServerSection = field(default_factory=ServerSection)
    source: str = field(default="<defaults>", compare=False)


def builtin_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    # Installed wheel: profiles/ is force-included into the package; source tree: repo root.
    return [here / "profiles", here.parent / "profiles"]


def builtin_names() -> list[str]:
    names: set[str] = set()
    for d in builtin_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def load_profile(name_or_path: str | None) -> Profile:
    """Load a built-in profile by name, or a TOML file by path; None means `default`."""
    spec = name_or_path or "default"
    path = Path(spec)
    if spec.endswith(".toml") or "/" in spec or "\\" in spec or path.is_file():
        if not path.exists():
            raise ProfileError(f"profile {spec}: no such file")
        return _load_file(path, str(path))
    for d in builtin_dirs():
        candidate = d / f"{spec}.toml"
        if candidate.is_file():
            return _load_file(candidate, spec)
    known = ", ".join(builtin_names()) or "none"
    raise ProfileError(f"profile {spec}: unknown (built-in profiles: {known}; or give a .toml file)")


def _load_file(path: Path, label: str) -> Profile:
    from daserver_check.files import FileReadError, read_bounded

    try:
        raw = read_bounded(str(path), limit=MAX_PROFILE_BYTES)
    except FileReadError as exc:
        reason = str(exc)
        if reason == "is a directory":
            reason = "is a directory, not a TOML file"
        raise ProfileError(f"profile {label}: {reason}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileError(f"profile {label}: not UTF-8 text") from None
    _prescan(text, label)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {label}: not valid TOML: {exc}") from None
    except RecursionError:
        # tomllib recurses once per nesting level; no real profile nests more than two deep.
        raise ProfileError(f"profile {label}: nested too deeply") from None
    return parse_profile(data, label)


# Strings and comments, removed before the structural pre-scan so the dots of a URL or a
# path inside quotes do not count. TOML 1.0: basic, literal and multi-line strings; comments.
_STRINGS_AND_COMMENTS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*'
)


def _prescan(text: str, label: str) -> None:
    """Refuse what makes tomllib slow before it sees it.

    tomllib's time grows with the square of the parts of one dotted key (a 30 000-part key
    takes seconds, 100 000 parts minutes). A key must sit on one line in TOML 1.0, and so must
    an inline table, so the dots on one line outside strings bound the parts of every key on
    it; the keys of this schema have at most two (`cert.files`).
    """
    bare = _STRINGS_AND_COMMENTS.sub('""', text)
    for number, line in enumerate(bare.splitlines(), 1):
        if line.count(".") > MAX_DOTS_PER_LINE:
            raise ProfileError(
                f"profile {label}: line {number}: more than {MAX_DOTS_PER_LINE} dots outside "
                "strings (a key of this schema has at most two parts); refused"
            )
    if bare.count("=") > MAX_KEYS:
        raise ProfileError(f"profile {label}: more than {MAX_KEYS} keys; refused")


def parse_profile(data: dict[str, Any], label: str = "<profile>") -> Profile:
    if "schema" not in data:
        raise ProfileError(f"profile {label}: schema: missing (write `schema = {SCHEMA}`)")
    if data["schema"] != SCHEMA or isinstance(data["schema"], bool):
        raise ProfileError(
            f"profile {label}: schema: unsupported value {data['schema']!r} (expected {SCHEMA})"
        )
    built: Profile = _build(Profile, dict(data), "", label)
    profile = dataclasses.replace(built, source=label)
    _validate(profile, label)
    return profile


def _build(cls: type[Any], data: Any, path: str, label: str) -> Any:
    if not isinstance(data, dict):
        raise ProfileError(f"profile {label}: {path or '<top>'}: expected a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{path}.{key}" if path else key
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            raise ProfileError(f"profile {label}: {dotted}: unknown key (allowed: {allowed})")
        kwargs[key] = _convert(hints[key], value, dotted, label)
    return cls(**kwargs)


def _convert(hint: Any, value: Any, dotted: str, label: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, dotted, label)
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ProfileError(f"profile {label}: {dotted}: expected a list, got {_kind(value)}")
        return tuple(
            _convert(item_type, item, f"{dotted}[{i}]", label) for i, item in enumerate(value)
        )
    if hint is bool:
        if not isinstance(value, bool):
            raise ProfileError(f"profile {label}: {dotted}: expected true or false, got {_kind(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProfileError(f"profile {label}: {dotted}: expected an integer, got {_kind(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProfileError(f"profile {label}: {dotted}: expected a number, got {_kind(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ProfileError(f"profile {label}: {dotted}: expected a string, got {_kind(value)}")
        return value
    raise ProfileError(f"profile {label}: {dotted}: unsupported type")  # pragma: no cover


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _validate(p: Profile, label: str) -> None:
    from daserver_check.target import TargetError, parse_iphttps_url

    def bad(path: str, why: str) -> ProfileError:
        return ProfileError(f"profile {label}: {path}: {why}")

    for i, url in enumerate(p.deployment.urls):
        try:
            parse_iphttps_url(url)
        except TargetError as exc:
            raise bad(f"deployment.urls[{i}]", f"bad URL {url!r}: {exc}") from None
    for i, os_name in enumerate(p.deployment.client_os):
        if os_name not in CLIENT_OS:
            raise bad(f"deployment.client_os[{i}]", f"unknown {os_name!r} (one of {', '.join(CLIENT_OS)})")
    if p.deployment.auth_mode not in AUTH_MODES:
        raise bad("deployment.auth_mode", f"unknown {p.deployment.auth_mode!r} (none or certificates)")
    if not 0 < p.probe.timeout <= 300:
        raise bad("probe.timeout", "must be more than 0 and at most 300 seconds")
    if not 1 <= p.probe.concurrency <= 1024:
        raise bad("probe.concurrency", "must be between 1 and 1024")
    if not 0 <= p.cert.crit_days <= p.cert.warn_days <= 3650:
        raise bad("cert.crit_days", "need 0 <= crit_days <= warn_days <= 3650")
    for i, entry in enumerate(p.deployment.entry_points):
        if not _is_ip_port(entry):
            raise bad(f"deployment.entry_points[{i}]", f"{entry!r} is not IP[:PORT] ([v6]:PORT for IPv6)")
    for i, spec in enumerate(p.dns.resolvers):
        if not _is_ip_port(spec):
            raise bad(f"dns.resolvers[{i}]", f"{spec!r} is not IP[:PORT] ([v6]:PORT for IPv6)")
    if p.proxy.url and not _is_proxy_url(p.proxy.url):
        raise bad("proxy.url", "not an http://HOST[:PORT] proxy URL")  # not echoed: may hold a password
    if p.cert.password_env and p.cert.password_file:
        raise bad("cert.password_env", "give cert.password_env or cert.password_file, not both")
    for section, paths in (("cert.files", p.cert.files), ("server.bundles", p.server.bundles)):
        for i, path in enumerate(paths):
            if not path.strip():
                raise bad(f"{section}[{i}]", "empty path")


def _is_ip_port(text: str) -> bool:
    from daserver_check.hostport import HostPortError, parse_ip_port

    try:
        parse_ip_port(text)
    except HostPortError:
        return False
    return True


def _is_proxy_url(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return parts.scheme == "http" and bool(parts.hostname) and port != 0


def resolve_relative(profile: Profile, path: str) -> str:
    """Paths in a profile file are relative to the file, not to the current directory."""
    if not path or Path(path).is_absolute() or profile.source.startswith("<"):
        return path
    base = Path(profile.source)
    if base.suffix != ".toml":  # a built-in profile by name
        return path
    return str(base.parent / path)
