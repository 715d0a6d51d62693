"""What the fuzzers found in modules outside the fuzz suite's first remit, fixed since, and
kept as regression tests:

- certs/trust.py (--ca-file) and commands/server.py (--cert) catch ValueError around
  `x509.load_*_certificate`, but cryptography raises `x509.InvalidVersion` (not a ValueError)
  for a certificate whose version field is not v1-v3: the CLI then ends with "internal
  error" instead of one input-error line. (The probe's TLS stage had the same hole for a
  served certificate; fixed in probe/tls.py and kept in tests/hostile.)
- certs/trust.py (--ca-file): a PKCS#7 file whose content type is not signedData makes
  cryptography raise `UnsupportedAlgorithm`, which escapes the same way.
- profile.py: tomllib recurses once per nesting level, so a profile nesting arrays or
  inline tables a thousand deep raises RecursionError, which `_load_file` does not catch
  (found by atheris). iphttps_state.py bounds JSON depth before parsing; profiles need the same.
- probe/router_discovery.py accepts a Prefix Information option with a prefix length above
  128 (RFC 4861 §4.6.2 bounds it to 0-128) and reports it as a prefix.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from daserver_check.cli import main
from daserver_check.probe.router_discovery import (
    check_router_advertisement,
    dissect_router_advertisement,
)
from daserver_check.protocol.ipv6_stream import build_packet, icmpv6_checksum
from tests.hostile import servers as hs


def version_4_ca(tmp_path: Path, pem: bool) -> Path:
    der = hs.with_x509_version(hs.lab_pki().ca_cert.public_bytes(serialization.Encoding.DER), 3)
    path = tmp_path / ("ca.pem" if pem else "ca.der")
    if pem:
        path.write_bytes(b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der)
                         + b"-----END CERTIFICATE-----\n")
    else:
        path.write_bytes(der)
    return path



@pytest.mark.parametrize("pem", [True, False], ids=["pem", "der"])
def test_ca_file_with_an_invalid_version_is_one_input_error(
    tmp_path: Path, pem: bool, capsys: pytest.CaptureFixture[str], unused_tcp_port: int
) -> None:
    code = main(["probe", f"https://da.lab.test:{unused_tcp_port}/IPHTTPS", "--connect",
                 "127.0.0.1", "--ca-file", str(version_4_ca(tmp_path, pem))])
    assert code == 3
    assert "internal error" not in capsys.readouterr().err



def test_ca_file_with_an_odd_pkcs7_is_one_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], unused_tcp_port: int
) -> None:
    bundle = (Path(__file__).parent / "corpus" / "certs" / "bundle.p7b").read_bytes()
    signed_data = bytes.fromhex("06092a864886f70d010702")  # OID 1.2.840.113549.1.7.2
    odd = bundle.replace(signed_data, bytes.fromhex("060900864886f70d010702"), 1)
    path = tmp_path / "ca.p7b"
    path.write_bytes(odd)
    code = main(["probe", f"https://da.lab.test:{unused_tcp_port}/IPHTTPS", "--connect",
                 "127.0.0.1", "--ca-file", str(path)])
    assert code == 3
    assert "internal error" not in capsys.readouterr().err



def test_server_cert_with_an_invalid_version_is_one_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "server" / "healthy"
    code = main(["server", str(fixtures), "--cert", str(version_4_ca(tmp_path, False))])
    assert code == 3
    assert "internal error" not in capsys.readouterr().err


# Found by test_fuzz_parsers.test_router_advertisements_pass_the_check_or_dissect.
_RA_PREFIX_255 = bytes.fromhex(
    "8600d217400807080000000000000000" "0304ffc00001518000003840000000002001"
    "0db8000100000000000000000000" "0501000000000500" "010100155d000001"
)



def test_router_advertisement_prefix_length_above_128_is_discarded() -> None:
    zeroed = _RA_PREFIX_255[:2] + b"\x00\x00" + _RA_PREFIX_255[4:]
    checksum = icmpv6_checksum("fe80::1", "fe80::2", zeroed)
    message = _RA_PREFIX_255[:2] + checksum.to_bytes(2, "big") + _RA_PREFIX_255[4:]
    packet = build_packet("fe80::1", "fe80::2", 58, message, hop_limit=255)
    if check_router_advertisement(packet) is None:
        ra = dissect_router_advertisement(packet)
        assert all(0 <= prefix.length <= 128 for prefix in ra.prefixes), ra.prefixes



def test_deeply_nested_profile_is_one_profile_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], unused_tcp_port: int
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("schema = 1\nx = " + "[" * 5000 + "1" + "]" * 5000 + "\n")
    code = main(["probe", f"https://da.lab.test:{unused_tcp_port}/IPHTTPS", "--connect",
                 "127.0.0.1", "--profile", str(path)])
    assert code == 3
    assert "internal error" not in capsys.readouterr().err
