"""Object identifiers of Kazakh EDS (EDS.md, "Algorithms and OIDs" and "Who signed") and their
names in reports. Data only."""

from __future__ import annotations

# --- digests ------------------------------------------------------------------------------------
SHA1 = "1.3.14.3.2.26"
SHA256 = "2.16.840.1.101.3.4.2.1"
SHA384 = "2.16.840.1.101.3.4.2.2"
SHA512 = "2.16.840.1.101.3.4.2.3"
GOST3411_94 = "1.2.398.3.10.1.3.1"  # GOST 34.311-95
STREEBOG256 = "1.2.398.3.10.1.3.2"
STREEBOG512 = "1.2.398.3.10.1.3.3"
# The same digests under their Russian (TC26 / CryptoPro) numbers, seen in mixed software.
RU_STREEBOG256 = "1.2.643.7.1.1.2.2"
RU_STREEBOG512 = "1.2.643.7.1.1.2.3"

DIGEST_NAMES = {SHA1: "SHA-1", SHA256: "SHA-256", SHA384: "SHA-384", SHA512: "SHA-512",
                GOST3411_94: "GOST34.311-95", STREEBOG256: "Streebog-256", STREEBOG512: "Streebog-512",
                RU_STREEBOG256: "Streebog-256", RU_STREEBOG512: "Streebog-512"}

# --- public keys and signatures -----------------------------------------------------------------
RSA = "1.2.840.113549.1.1.1"
SHA256_RSA = "1.2.840.113549.1.1.11"
SHA384_RSA = "1.2.840.113549.1.1.12"
SHA512_RSA = "1.2.840.113549.1.1.13"
SHA1_RSA = "1.2.840.113549.1.1.5"

GOST2004_KEY = "1.2.398.3.10.1.1.1.1"
GOST2004_SIGNATURE = "1.2.398.3.10.1.1.1.2"
GOST2015_256_KEY = "1.2.398.3.10.1.1.2.1"
GOST2015_512_KEY = "1.2.398.3.10.1.1.2.2"
GOST2015_256_SIGNATURE = "1.2.398.3.10.1.1.2.3.1"
GOST2015_512_SIGNATURE = "1.2.398.3.10.1.1.2.3.2"

# Curves: KZ parameter-set OIDs (and the Russian ones for the same curves) -> gostcrypto's names.
CURVES = {
    "1.2.398.3.10.1.1.1.1.1": "id-tc26-gost-3410-2012-256-paramSetB",  # = CryptoPro-A
    "1.2.643.2.2.35.1": "id-tc26-gost-3410-2012-256-paramSetB",
    "1.2.398.3.10.1.1.2.1.1": "id-tc26-gost-3410-2012-256-paramSetA",
    "1.2.643.7.1.2.1.1.1": "id-tc26-gost-3410-2012-256-paramSetA",
    "1.2.398.3.10.1.1.2.2.1": "id-tc26-gost-3410-12-512-paramSetA",
    "1.2.643.7.1.2.1.2.1": "id-tc26-gost-3410-12-512-paramSetA",
}

# Families: what a signature (or key) OID means, the digest it implies and its name in reports.
RSA_FAMILY, GOST2004, GOST2015_256, GOST2015_512 = "rsa", "gost2004", "gost2015-256", "gost2015-512"
SIGNATURE_FAMILIES: dict[str, tuple[str, str | None]] = {
    RSA: (RSA_FAMILY, None),  # CMS often names the key algorithm; the digest comes from the SignerInfo
    SHA256_RSA: (RSA_FAMILY, SHA256),
    SHA384_RSA: (RSA_FAMILY, SHA384),
    SHA512_RSA: (RSA_FAMILY, SHA512),
    SHA1_RSA: (RSA_FAMILY, SHA1),
    GOST2004_KEY: (GOST2004, GOST3411_94),
    GOST2004_SIGNATURE: (GOST2004, GOST3411_94),
    GOST2015_256_KEY: (GOST2015_256, STREEBOG256),
    GOST2015_256_SIGNATURE: (GOST2015_256, STREEBOG256),
    GOST2015_512_KEY: (GOST2015_512, STREEBOG512),
    GOST2015_512_SIGNATURE: (GOST2015_512, STREEBOG512),
}
ALGORITHM_NAMES = {RSA_FAMILY: "RSA", GOST2004: "GOST34.310-2004", GOST2015_256: "GOST34.10-2015-256",
                   GOST2015_512: "GOST34.10-2015-512"}

# XMLDSig algorithm URIs.
XML_SIGNATURES: dict[str, tuple[str, str]] = {  # URI -> (signature OID, digest OID)
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": (SHA256_RSA, SHA256),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": (SHA384_RSA, SHA384),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": (SHA512_RSA, SHA512),
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": (SHA1_RSA, SHA1),
    "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311": (GOST2004_SIGNATURE, GOST3411_94),
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512":
        (GOST2015_512_SIGNATURE, STREEBOG512),
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-256":
        (GOST2015_256_SIGNATURE, STREEBOG256),
}
XML_DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": SHA384,
    "http://www.w3.org/2001/04/xmlenc#sha512": SHA512,
    "http://www.w3.org/2000/09/xmldsig#sha1": SHA1,
    "http://www.w3.org/2001/04/xmldsig-more#gost34311": GOST3411_94,
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512": STREEBOG512,
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-256": STREEBOG256,
}

# --- extended key usage: roles and purposes -----------------------------------------------------
EKU_INDIVIDUAL = "1.2.398.3.3.4.1.1"
EKU_LEGAL_ENTITY = "1.2.398.3.3.4.1.2"
EKU_FIRST_HEAD = "1.2.398.3.3.4.1.2.1"
EKU_RIGHT_TO_SIGN = "1.2.398.3.3.4.1.2.2"
EKU_FINANCIAL = "1.2.398.3.3.4.1.2.3"
EKU_HR = "1.2.398.3.3.4.1.2.4"
EKU_EMPLOYEE = "1.2.398.3.3.4.1.2.5"
EKU_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
EKU_EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"
EKU_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"

ROLES = {
    EKU_INDIVIDUAL: "individual",
    EKU_LEGAL_ENTITY: "legal_entity",
    EKU_FIRST_HEAD: "first_head",
    EKU_RIGHT_TO_SIGN: "right_to_sign",
    EKU_FINANCIAL: "financial",
    EKU_HR: "hr",
    EKU_EMPLOYEE: "employee",
}
EKU_NAMES = {**ROLES, EKU_CLIENT_AUTH: "client_auth", EKU_EMAIL_PROTECTION: "email_protection",
             EKU_OCSP_SIGNING: "ocsp_signing"}
# What each purpose of a signature requires in the EKU (EDS.md: login keys carry clientAuth,
# signing keys emailProtection).
PURPOSES = {"authentication": EKU_CLIENT_AUTH, "signature": EKU_EMAIL_PROTECTION}

# --- CMS attributes ------------------------------------------------------------------------------
CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SIGNING_TIME = "1.2.840.113549.1.9.5"
DATA = "1.2.840.113549.1.7.1"
SIGNED_DATA = "1.2.840.113549.1.7.2"
