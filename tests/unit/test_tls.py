"""The local stack's certificates (``truyvet.devstack.tls``), made with the real openssl and
keytool. CI once drew a store password starting with ``-J``, which keytool's launcher took for
a JVM option ("Could not find or load main class …"): the password now goes to the tools in
the environment, never as an argument, so no password can be read as an option."""

from __future__ import annotations

import shutil
import ssl
import stat
import subprocess
from pathlib import Path

import pytest

from truyvet.devstack import tls

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None or shutil.which("keytool") is None,
    reason="openssl and keytool are installed by deploy/setup.sh",
)


@pytest.mark.parametrize("password", ["-JY0ZPZJF72zPMDLw9IVUAGZUcs_vMyu", "-storepass", "plain-password"])
def test_any_password_makes_a_keystore_keytool_opens(tmp_path: Path, password: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls.secrets, "token_hex", lambda n: password)
    certs = tls.make_certificates(tmp_path / "tls")
    assert certs.password == password
    listed = subprocess.run(
        ["keytool", "-list", "-keystore", str(certs.keystore), "-storetype", "PKCS12",
         "-storepass:env", "P"], capture_output=True, text=True, env={"P": password,
                                                                      "PATH": "/usr/bin:/bin"})
    assert listed.returncode == 0, listed.stderr
    assert "broker" in listed.stdout and "ca" in listed.stdout
    # the PEM pair redis-server reads is the broker's identity, signed by the CA
    context = ssl.create_default_context(cafile=str(certs.ca))
    context.load_cert_chain(str(certs.server_cert), str(certs.server_key))
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(certs.ca), str(certs.server_cert)],
                              capture_output=True, text=True)
    assert verified.returncode == 0 and "OK" in verified.stdout, verified.stderr


def test_passwords_and_keys_are_private_and_not_on_the_command_line(tmp_path: Path) -> None:
    seen: list[tuple[str, ...]] = []
    real = subprocess.run

    def spy(argv, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(tuple(argv))
        return real(argv, *args, **kwargs)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(tls.subprocess, "run", spy)
        certs = tls.make_certificates(tmp_path / "tls")
    assert seen, "the certificates were made without openssl or keytool"
    assert not [argv for argv in seen if any(certs.password in a for a in argv)]
    for private in ("store-password", "ca.key", "server.key", "broker.p12"):
        assert stat.S_IMODE((certs.dir / private).stat().st_mode) == 0o600, private
