"""Electronic digital signatures of Kazakhstan's National Certification Authority (NCA): reading
and verifying CMS (CAdES, attached and detached) and enveloped XMLDSig in RSA, GOST 34.310-2004
and GOST 34.10-2015; chains to the trusted NCA roots, validity, revocation (CRL, OCSP) and key
usage, each checked and reported separately; the signer's identity (IIN, BIN, roles from the
EKU). Pure code over bytes: trust material and revocation sources are passed in."""
