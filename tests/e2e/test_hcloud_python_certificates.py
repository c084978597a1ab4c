"""hcloud-python 2.27: certificates, uploaded and managed (client.certificates, BoundCertificate).

Managed certificates are signed by the CA given to `stratus serve --local-ca DIR` (`ca.pem`
and a PKCS#8 `ca.key`); the session's server has none, so there issuance fails.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone

import pytest
from conftest import api_error, check_type_actions, finished, make_client, make_pem, unique
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hcloud.actions import ActionFailedException
from hcloud.certificates import BoundCertificate

from stratus_proc import StratusServer


@pytest.fixture(scope="module")
def local_ca():
    """(CA certificate PEM, directory with ca.pem and ca.key) for `serve --local-ca`."""
    ca_pem, ca_key = make_pem(["Stratus e2e CA"], ca=True, days=365)
    tmp = tempfile.mkdtemp(prefix="stratus-ca-")
    for name, text in (("ca.pem", ca_pem), ("ca.key", ca_key)):
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    yield ca_pem, tmp
    for name in ("ca.pem", "ca.key"):
        os.remove(os.path.join(tmp, name))
    os.rmdir(tmp)


@pytest.fixture(scope="module")
def ca_client(local_ca):
    """A client of a server whose managed certificates the local CA signs."""
    srv = StratusServer(timing="instant", extra_args=["--local-ca", local_ca[1], "--rate-limit", "0"],
                        name="stratus-py-ca")
    srv.start()
    yield make_client(srv, srv.token())
    srv.cleanup()


def sha256_fingerprint(cert: x509.Certificate) -> str:
    return ":".join(f"{b:02x}" for b in cert.fingerprint(hashes.SHA256()))


def test_uploaded_certificate_lifecycle(client):
    pem, key = make_pem(["example.com", "www.example.com"])
    parsed = x509.load_pem_x509_certificate(pem.encode())
    name = unique("cert")
    cert = client.certificates.create(name=name, certificate=pem, private_key=key, labels={"suite": "cert"})
    assert isinstance(cert, BoundCertificate)
    assert cert.name == name and cert.type == "uploaded" and cert.labels == {"suite": "cert"}
    assert cert.domain_names == ["example.com", "www.example.com"]
    assert cert.fingerprint == sha256_fingerprint(parsed)
    assert cert.not_valid_before == parsed.not_valid_before_utc.replace(microsecond=0)
    assert cert.not_valid_after == parsed.not_valid_after_utc.replace(microsecond=0)
    assert isinstance(cert.created, datetime) and cert.status is None
    assert x509.load_pem_x509_certificate(cert.certificate.encode()) == parsed

    assert client.certificates.get_by_id(cert.id).fingerprint == cert.fingerprint
    assert client.certificates.get_by_name(name).id == cert.id
    assert client.certificates.get_by_name(unique("no-such-cert")) is None
    assert [c.id for c in client.certificates.get_all(label_selector="suite=cert")] == [cert.id]
    assert [c.id for c in client.certificates.get_all(name=name)] == [cert.id]
    assert [c.id for c in client.certificates.get_list(name=name, per_page=1).certificates] == [cert.id]

    new_name = unique("cert-renamed")
    upd = cert.update(name=new_name, labels={"suite": "cert", "v": "2"})
    assert upd.name == new_name and upd.labels == {"suite": "cert", "v": "2"}
    assert client.certificates.update(cert, labels={"suite": "cert"}).labels == {"suite": "cert"}

    # an uploaded certificate has no actions, and only a failed managed one is retried
    assert cert.get_actions() == [] and client.certificates.get_actions_list(cert).actions == []
    assert api_error(cert.retry_issuance).code == "invalid_input"
    assert api_error(client.certificates.create, name=new_name, certificate=pem, private_key=key).code \
        == "uniqueness_error"

    assert cert.delete() is True
    assert api_error(client.certificates.get_by_id, cert.id).code == "not_found"


def test_uploaded_certificate_refused(client):
    pem, key = make_pem(["bad.example.com"])
    _, other_key = make_pem(["other.example.com"])
    for certificate, private_key, field in (("not a pem", key, "certificate"),
                                            (pem, "not a key", "private_key"),
                                            (pem, other_key, "private_key")):
        err = api_error(client.certificates.create, name=unique("cert-bad"), certificate=certificate,
                        private_key=private_key)
        assert err.code == "invalid_input", err
        assert [f["name"] for f in err.details["fields"]] == [field], err.details


def test_managed_certificate_without_a_ca_fails(client):
    resp = client.certificates.create_managed(name=unique("managed-noca"), domain_names=["noca.example.com"])
    # a managed certificate always has a status; with instant timing its issuance may be
    # over (here: failed) by the time the create answers
    assert resp.certificate.type == "managed" and resp.certificate.status.issuance in ("pending", "failed")
    assert resp.action.command == "create_certificate"
    # hcloud-python raises once the action ends in error
    with pytest.raises(ActionFailedException):
        resp.action.wait_until_finished()
    assert resp.action.error["code"] == "certificate_authority_unavailable"
    cert = client.certificates.get_by_id(resp.certificate.id)
    assert cert.status.issuance == "failed" and cert.status.renewal == "unavailable"
    assert cert.status.error.code == "certificate_authority_unavailable" and cert.status.error.message
    assert cert.certificate is None and cert.fingerprint is None

    retry = cert.retry_issuance()
    assert retry.command == "issue_certificate"
    with pytest.raises(ActionFailedException):
        retry.wait_until_finished()
    assert [a.command for a in cert.get_actions(sort=["id:asc"])] == ["create_certificate", "issue_certificate"]
    assert [a.status for a in client.certificates.get_actions(cert, status=["error"])] == ["error", "error"]
    assert cert.delete() is True


def test_managed_certificate_signed_by_the_local_ca(ca_client, local_ca):
    ca = x509.load_pem_x509_certificate(local_ca[0].encode())
    domains = ["shop.example.com", "*.shop.example.com"]
    name = unique("managed")
    resp = ca_client.certificates.create_managed(name=name, domain_names=domains, labels={"suite": "managed"})
    assert resp.certificate.type == "managed" and resp.certificate.labels == {"suite": "managed"}
    finished(resp.action, "create_certificate")
    cert = ca_client.certificates.get_by_id(resp.certificate.id)
    assert cert.status.issuance == "completed" and cert.status.error is None
    assert cert.domain_names == domains

    issued = x509.load_pem_x509_certificate(cert.certificate.encode())
    assert issued.issuer == ca.subject
    ca.public_key().verify(issued.signature, issued.tbs_certificate_bytes, ec.ECDSA(issued.signature_hash_algorithm))
    san = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == domains
    assert cert.fingerprint == sha256_fingerprint(issued)
    now = datetime.now(timezone.utc)
    assert cert.not_valid_before <= now + timedelta(minutes=1) < cert.not_valid_after

    assert ca_client.certificates.get_by_name(name).id == cert.id
    assert [c.id for c in ca_client.certificates.get_all(label_selector="suite=managed")] == [cert.id]
    # issued fine: nothing to retry
    assert api_error(cert.retry_issuance).code == "invalid_input"
    assert [a.command for a in cert.get_actions()] == ["create_certificate"]
    check_type_actions(ca_client.certificates.actions, resp.action)

    err = api_error(ca_client.certificates.create_managed, name=unique("managed-bad"), domain_names=["not a name"])
    assert err.code == "invalid_input" and err.details["fields"][0]["name"] == "domain_names", err.details
    assert api_error(ca_client.certificates.create_managed, name=name, domain_names=domains).code \
        == "uniqueness_error"
    assert cert.delete() is True


def test_certificate_pagination(client):
    ids = []
    for i in range(3):
        pem, key = make_pem([f"page{i}.example.com"])
        ids.append(client.certificates.create(name=unique(f"cert-page{i}"), certificate=pem, private_key=key,
                                              labels={"batch": "cert-page"}).id)
    page = client.certificates.get_list(label_selector="batch=cert-page", page=1, per_page=2)
    p = page.meta.pagination
    assert (p.page, p.per_page, p.previous_page, p.next_page, p.last_page, p.total_entries) == (1, 2, None, 2, 2, 3)
    assert sorted(c.id for c in client.certificates.get_all(label_selector="batch=cert-page")) == sorted(ids)
    assert api_error(client.certificates.get_by_id, 987654321).code == "not_found"
