"""The HTTP.sys SSL binding of the IP-HTTPS port: which certificate clients are served."""

from __future__ import annotations

from urllib.parse import urlsplit

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.server.common import (
    CERT_CODES,
    RESTART_IPHLPSVC,
    Options,
    backup_step,
    iphttps_port,
    not_collected,
)
from daserver_check.server.facts import Binding, Facts
from daserver_check.server.paths import IPHTTPS_APP_ID, SSL_BINDING_KEY


def _unique_bindings(bindings: list[Binding]) -> list[Binding]:
    seen: dict[tuple[str, str], Binding] = {}
    for b in bindings:
        seen.setdefault((b.kind, b.endpoint.casefold()), b)
    return list(seen.values())


def check_sslcert_binding(facts: Facts, opts: Options) -> Finding:
    """Which certificate HTTP.sys serves on the IP-HTTPS port.

    HTTP.sys uses an `IP:port` binding for its own address and `0.0.0.0:port` for the others
    (inferred from HTTP.sys's binding order). `Add-NetIPHttpsCertBinding` (Learn) binds IP-HTTPS
    at a specific `IP:443` with an app id of the admin's choice, and KB 973982 describes the
    `0.0.0.0:443` binding with app id {5d8e2743-...}: either is a valid IP-HTTPS binding, so
    the app id is evidence, and what matters is the certificate each binding carries.
    """
    fid = FindingId.SERVER_SSLCERT_BINDING
    if facts.bindings is None:
        return not_collected(fid, "HTTP.sys SSL binding of the IP-HTTPS port", facts, "bindings",
                             "`netsh http show sslcert` output or an SslBindingInfo export/hive")
    port = iphttps_port(facts)
    bindings = _unique_bindings(facts.bindings)
    on_port = [b for b in bindings if b.kind == "ip" and b.port == port]
    wildcard = [b for b in on_port if b.host in ("0.0.0.0", "::")]
    specific = [b for b in on_port if b not in wildcard]
    evidence: dict[str, object] = {
        "key": SSL_BINDING_KEY,
        "bindings": [
            {"endpoint": b.endpoint, "cert_hash": b.cert_hash, "app_id": b.app_id,
             "store": b.store, "source": b.source}
            for b in on_port
        ],
        "port": port,
    }
    want = opts.cert_thumbprint
    other_apps = [f"{b.endpoint} has app id {b.app_id}" for b in on_port
                  if b.app_id and b.app_id != IPHTTPS_APP_ID]
    app_note = (" App ids (evidence only: Add-NetIPHttpsCertBinding lets the admin choose one): "
                + "; ".join(other_apps) + ".") if other_apps else ""
    rebind = (f"bind the IP-HTTPS certificate: `netsh http add sslcert ipport=0.0.0.0:{port} "
              f"certhash={want or 'THUMBPRINT'} appid=\"{IPHTTPS_APP_ID}\" dsmapperusage=enable` "
              "(or `Set-RemoteAccess -SslCertificate`)")
    if not on_port:
        return Finding(fid, Status.FAIL, f"No SSL binding on port {port}: HTTP.sys has no "
                       "certificate for IP-HTTPS",
                       detail=f"no 0.0.0.0:{port} binding and no IP:{port} binding was found.",
                       predicts=CERT_CODES,
                       remediation_steps=(rebind, RESTART_IPHLPSVC), evidence=evidence)
    certs = {b.cert_hash for b in on_port}
    if want:
        right = [b for b in on_port if b.cert_hash == want]
        wrong = [b for b in on_port if b.cert_hash != want]
        listed = "; ".join(f"{b.endpoint} serves {b.cert_hash or 'no readable certificate'}"
                           for b in wrong)
        if not right:
            steps = [backup_step(SSL_BINDING_KEY, "sslbindinginfo-backup.reg")]
            steps += [f"re-create {b.endpoint}: `netsh http delete sslcert ipport={b.endpoint}`, "
                      f"then `netsh http add sslcert ipport={b.endpoint} certhash={want} "
                      f"appid=\"{b.app_id or IPHTTPS_APP_ID}\" dsmapperusage=enable`" for b in wrong]
            steps.append(RESTART_IPHLPSVC)
            return Finding(fid, Status.FAIL, f"No binding on port {port} carries "
                           f"{opts.cert_label}",
                           detail=f"{listed}; expected {want} ({opts.cert_label}).{app_note}",
                           predicts=CERT_CODES, remediation_steps=tuple(steps), evidence=evidence)
        if wrong:
            return Finding(fid, Status.WARN, "Some addresses are bound to another certificate",
                           detail=f"{listed}. Clients reaching those addresses get that "
                           f"certificate; {', '.join(b.endpoint for b in right)} carries "
                           f"{opts.cert_label}.{app_note}",
                           predicts=CERT_CODES,
                           remediation="If a listed address is the public (or NAT target) "
                           "address, re-create its binding with the IP-HTTPS certificate: "
                           f"`netsh http delete sslcert ipport=ENDPOINT`, then `netsh http add "
                           f"sslcert ipport=ENDPOINT certhash={want} appid=\"{IPHTTPS_APP_ID}\" "
                           "dsmapperusage=enable`.",
                           evidence=evidence)
        return Finding(fid, Status.PASS, f"Port {port} is bound to {opts.cert_label}",
                       detail=", ".join(b.endpoint for b in right) + f" -> {want}.{app_note}",
                       evidence=evidence)
    if len(certs) > 1:
        return Finding(fid, Status.WARN, f"Bindings on port {port} carry different certificates",
                       detail="; ".join(f"{b.endpoint} -> {b.cert_hash}" for b in on_port)
                       + ". Which one a client gets depends on the address it reaches (give "
                       "--cert FILE or --url to say which is the IP-HTTPS certificate)."
                       + app_note,
                       predicts=CERT_CODES, evidence=evidence)
    hosts = {(urlsplit(u).hostname or "").casefold() for u in facts.iphttps_urls()}
    reference = next(iter(certs))
    sni = [b for b in bindings if b.kind == "hostname" and b.port == port
           and b.host.casefold() in hosts and b.cert_hash != reference]
    if sni:
        return Finding(fid, Status.WARN, "An SNI binding may serve another certificate",
                       detail="; ".join(f"SNI binding {b.endpoint} serves certificate "
                                        f"{b.cert_hash} (inferred: clients sending that name "
                                        "get it)" for b in sni),
                       predicts=CERT_CODES, evidence=evidence)
    shown = ", ".join(b.endpoint for b in (wildcard or specific))
    return Finding(fid, Status.PASS, f"{shown} bound for IP-HTTPS",
                   detail=f"{shown} -> {reference} (give --cert FILE to compare it with the "
                   f"intended certificate).{app_note}",
                   evidence=evidence)
