"""The lab's TLS-setting faults as data: protocol ranges, cipher strings, combinations."""

from __future__ import annotations

import pytest

from daserver_check.lab.faults import fault_ciphers, parse_faults, protocol_range
from daserver_check.lab.server import HEALTHY_CIPHERS, cipher_list


def test_protocol_ranges() -> None:
    assert protocol_range([]) == (0x0301, 0x0303)
    assert protocol_range(["tls12-gcm-only"]) == (0x0303, 0x0303)
    assert protocol_range(["no-tls10", "expired"]) == (0x0302, 0x0303)
    assert protocol_range(["tls13-only"]) == (0x0304, 0x0304)


def test_cipher_lists() -> None:
    assert cipher_list(["no-tls10"]) == HEALTHY_CIPHERS
    assert "NULL-SHA256" in cipher_list(["tls12-gcm-only"])
    assert "NULL" not in cipher_list(["fips"])
    # A fault that removes the null suites wins over the hardening's null suite.
    assert fault_ciphers(["tls12-gcm-only", "self-signed"]) is not None
    assert "NULL" not in cipher_list(["tls12-gcm-only", "self-signed"])
    assert fault_ciphers(["expired"]) is None


@pytest.mark.parametrize(
    ("faults", "message"),
    [({"no-tls10", "tls13-only"}, "different protocol versions"),
     ({"fips", "tls12-gcm-only"}, "different cipher suites"),
     ({"null-only", "fips"}, "different cipher suites"),
     ({"null-only", "tls13-only"}, "cannot be combined with tls13-only"),
     ({"null-only", "null-dropped"}, "cannot be combined with null-dropped")],
)
def test_conflicting_faults_are_refused(faults: set[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_faults(faults)


def test_compatible_faults() -> None:
    assert parse_faults({"no-tls10", "null-dropped", "expired"}) == {"no-tls10", "null-dropped", "expired"}
