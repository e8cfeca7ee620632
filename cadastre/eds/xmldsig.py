"""Enveloped XMLDSig as NCALayer's ``signXml`` makes it: every ``ds:Signature`` of a document,
its references digested and SignedInfo canonicalised (C14N 1.0 or exclusive, with or without
comments) with lxml, the signature mathematics left to algorithms.py. One path for RSA and GOST.

The document is parsed without entities, DTDs or network (lxml: resolve_entities=False,
no_network=True, load_dtd=False); a document with a DOCTYPE is refused outright."""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass, field

from lxml import etree

from . import algorithms, oids
from .certificates import Certificate, Malformed

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS}
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
}
MAX_BYTES = 16 * 1024 * 1024


@dataclass
class XmlSigner:
    """One ds:Signature: what signature.py needs to report on it."""

    certificate: Certificate | None
    certificates: list[Certificate]
    signature_algorithm: str  # OID
    digest_algorithm: str  # OID of the SignedInfo signature's digest
    signed_info: bytes  # canonicalised
    signature: bytes
    references_ok: bool
    reference_problem: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False)


def parse(xml: str | bytes) -> tuple[etree._ElementTree, list[XmlSigner]]:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if len(data) > MAX_BYTES:
        raise Malformed("XML document too large")
    if isinstance(xml, str) and data.lstrip().startswith(b"<?xml"):
        # A str was already decoded: drop a declared encoding that would now lie.
        end = data.find(b"?>")
        data = data[end + 2:] if end > 0 else data
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise Malformed(f"not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise Malformed("XML with a DOCTYPE is not accepted")
    signatures = root.xpath("//ds:Signature", namespaces=NS)
    if not signatures:
        raise Malformed("no ds:Signature in the XML document")
    return tree, [_signer(tree, sig) for sig in signatures]


def _one(parent: etree._Element, path: str, what: str) -> etree._Element:
    found = parent.xpath(path, namespaces=NS)
    if len(found) != 1:
        raise Malformed(f"ds:Signature needs exactly one {what}")
    return found[0]


def _b64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise Malformed(f"{what} is not base64") from None


def _c14n(node: etree._Element | etree._ElementTree, algorithm: str) -> bytes:
    if algorithm not in C14N:
        raise Malformed(f"unsupported canonicalisation {algorithm}")
    exclusive, comments = C14N[algorithm]
    return etree.tostring(node, method="c14n", exclusive=exclusive, with_comments=comments)


def _signer(tree: etree._ElementTree, sig: etree._Element) -> XmlSigner:
    signed_info = _one(sig, "ds:SignedInfo", "ds:SignedInfo")
    c14n_method = _one(signed_info, "ds:CanonicalizationMethod", "ds:CanonicalizationMethod").get("Algorithm", "")
    method = _one(signed_info, "ds:SignatureMethod", "ds:SignatureMethod").get("Algorithm", "")
    if method not in oids.XML_SIGNATURES:
        raise Malformed(f"unsupported signature method {method}")
    signature_oid, digest_oid = oids.XML_SIGNATURES[method]
    value = _b64(_one(sig, "ds:SignatureValue", "ds:SignatureValue").text, "ds:SignatureValue")
    certs = [Certificate(_b64(node.text, "ds:X509Certificate"))
             for node in sig.xpath("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS)]
    references = signed_info.xpath("ds:Reference", namespaces=NS)
    if not references:
        raise Malformed("ds:SignedInfo without a ds:Reference")
    problem = None
    for ref in references:
        found = _check_reference(tree, sig, ref)
        if found is not None:
            # Co-signing appends a signature after the ones already there, each made over the
            # document as it was (NCALayer's two-signer vector): without the later signatures.
            found = _check_reference(tree, sig, ref, without_later=True)
        problem = problem or found
    # The certificate that signed: the first one (NCALayer puts the signer's alone).
    return XmlSigner(certs[0] if certs else None, certs, signature_oid, digest_oid,
                     _c14n(signed_info, c14n_method), value, problem is None, problem)


def _check_reference(tree: etree._ElementTree, sig: etree._Element, ref: etree._Element,
                     without_later: bool = False) -> str | None:
    """None when the reference's digest matches, else what differs (a check failure, not malformed)."""
    uri = ref.get("URI")
    digest_method = _one(ref, "ds:DigestMethod", "ds:DigestMethod").get("Algorithm", "")
    if digest_method not in oids.XML_DIGESTS:
        raise Malformed(f"unsupported digest method {digest_method}")
    expected = _b64(_one(ref, "ds:DigestValue", "ds:DigestValue").text, "ds:DigestValue")
    transforms = [t.get("Algorithm", "") for t in ref.xpath("ds:Transforms/ds:Transform", namespaces=NS)]
    # Work on a copy: the enveloped transform removes this very signature.
    doc = copy.deepcopy(tree.getroot()).getroottree()
    if uri == "" or uri is None:
        target = doc.getroot()
    elif uri.startswith("#") and "'" not in uri:
        found = doc.xpath(f"//*[@Id='{uri[1:]}' or @ID='{uri[1:]}' or @id='{uri[1:]}']")
        if len(found) != 1:
            raise Malformed(f"reference {uri} does not name one element")
        target = found[0]
    else:
        raise Malformed(f"unsupported reference URI {uri}")
    # The same ds:Signature in the copy: by its position among the document's elements.
    position = list(tree.getroot().iter()).index(sig)
    mine = list(doc.getroot().iter())[position]
    if without_later:
        for later in [e for e in mine.itersiblings() if e.tag == f"{{{DS}}}Signature"]:
            _remove_keeping_tail(later)
    c14n_method = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"  # the default for node sets
    for transform in transforms:
        if transform == ENVELOPED:
            parent = mine.getparent()
            if parent is not None:
                # lxml keeps the text after an element in its tail: give it back to the document.
                _remove_keeping_tail(mine)
        elif transform in C14N:
            c14n_method = transform
        else:
            raise Malformed(f"unsupported transform {transform}")
    if uri in ("", None):
        # A same-document reference selects the document without comments (XMLDSig 4.3.3.3).
        exclusive, _ = C14N[c14n_method]
        octets = etree.tostring(target, method="c14n", exclusive=exclusive, with_comments=False)
    else:
        octets = _c14n(target, c14n_method)
    if algorithms.digest(oids.XML_DIGESTS[digest_method], octets) != expected:
        return "eds.content_mismatch"
    return None


def _remove_keeping_tail(node: etree._Element) -> None:
    parent = node.getparent()
    tail = node.tail
    if tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(node)
