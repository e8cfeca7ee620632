"""Texts of signature verification: every check's problem, in kk/ru/en."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "eds.malformed": {
        "en": "The signature cannot be read: {reason}",
        "ru": "Подпись не удаётся прочитать: {reason}",
        "kk": "Қолтаңбаны оқу мүмкін емес: {reason}",
    },
    "eds.input_required": {
        "en": "Give exactly one of 'cms' (base64) and 'xml'",
        "ru": "Передайте ровно одно из полей 'cms' (base64) и 'xml'",
        "kk": "'cms' (base64) және 'xml' өрістерінің дәл біреуін беріңіз",
    },
    "eds.signature_invalid": {
        "en": "The signature does not match the signed data and the certificate's key",
        "ru": "Подпись не соответствует подписанным данным и ключу сертификата",
        "kk": "Қолтаңба қол қойылған деректерге және сертификат кілтіне сәйкес келмейді",
    },
    "eds.content_mismatch": {
        "en": "The signed content is not the content given: it was changed after signing",
        "ru": "Подписанное содержимое не совпадает с переданным: его изменили после подписания",
        "kk": "Қол қойылған мазмұн берілгенмен сәйкес емес: ол қол қойылғаннан кейін өзгертілген",
    },
    "eds.signer_not_found": {
        "en": "The signer's certificate is not in the signature",
        "ru": "Сертификата подписанта нет в подписи",
        "kk": "Қол қоюшының сертификаты қолтаңбада жоқ",
    },
    "eds.unsupported_algorithm": {
        "en": "Unsupported signature algorithm: {algorithm}",
        "ru": "Алгоритм подписи не поддерживается: {algorithm}",
        "kk": "Қолтаңба алгоритміне қолдау көрсетілмейді: {algorithm}",
    },
    "eds.unknown_ca": {
        "en": "The certificate was issued by a certification authority that is not trusted: {name}",
        "ru": "Сертификат выдан недоверенным удостоверяющим центром: {name}",
        "kk": "Сертификатты сенімсіз куәландырушы орталық берген: {name}",
    },
    "eds.chain_bad_signature": {
        "en": "The certification authority's signature on the certificate is not valid: {name}",
        "ru": "Подпись удостоверяющего центра на сертификате недействительна: {name}",
        "kk": "Куәландырушы орталықтың сертификаттағы қолтаңбасы жарамсыз: {name}",
    },
    "eds.issuer_not_ca": {
        "en": "The certificate's issuer is not a certification authority: {name}",
        "ru": "Издатель сертификата не является удостоверяющим центром: {name}",
        "kk": "Сертификатты берген тарап куәландырушы орталық емес: {name}",
    },
    "eds.expired_at_signing": {
        "en": "The certificate was not valid when signing ({time}): it expired on {not_after}",
        "ru": "Сертификат не действовал в момент подписания ({time}): срок истёк {not_after}",
        "kk": "Қол қойылған сәтте ({time}) сертификат жарамсыз болды: мерзімі {not_after} аяқталған",
    },
    "eds.expired_now": {
        "en": "The certificate is not valid at the time checked ({time}): it expired on {not_after}",
        "ru": "Сертификат не действует на момент проверки ({time}): срок истёк {not_after}",
        "kk": "Тексеру сәтінде ({time}) сертификат жарамсыз: мерзімі {not_after} аяқталған",
    },
    "eds.not_yet_valid": {
        "en": "The certificate was not yet valid at {time}: it is valid from {not_before}",
        "ru": "Сертификат ещё не действовал на {time}: он действует с {not_before}",
        "kk": "{time} кезінде сертификат әлі күшіне енбеген: ол {not_before} бастап жарамды",
    },
    "eds.revoked": {
        "en": "The certificate is revoked (since {time}, reason: {reason})",
        "ru": "Сертификат отозван (с {time}, причина: {reason})",
        "kk": "Сертификат кері қайтарылған ({time} бастап, себебі: {reason})",
    },
    "eds.revocation_unknown": {
        "en": "Whether the certificate is revoked could not be determined ({detail}); it is not taken as not revoked",
        "ru": "Не удалось установить, отозван ли сертификат ({detail}); это не считается подтверждением",
        "kk": "Сертификаттың кері қайтарылғаны анықталмады ({detail}); бұл растау ретінде саналмайды",
    },
    "eds.key_usage": {
        "en": "The certificate's key is not meant for signing (key usage: {usage})",
        "ru": "Ключ сертификата не предназначен для подписи (назначение ключа: {usage})",
        "kk": "Сертификат кілті қол қоюға арналмаған (кілттің мақсаты: {usage})",
    },
    "eds.wrong_purpose": {
        "en": "The certificate is not meant for {purpose}: it lacks the extended key usage {eku}",
        "ru": "Сертификат не предназначен для цели «{purpose}»: нет расширенного назначения {eku}",
        "kk": "Сертификат «{purpose}» мақсатына арналмаған: {eku} кеңейтілген мақсаты жоқ",
    },
    "eds.not_a_ca": {
        "en": "This certificate is not a certification authority's (no CA flag): {name}",
        "ru": "Это не сертификат удостоверяющего центра (нет признака CA): {name}",
        "kk": "Бұл куәландырушы орталықтың сертификаты емес (CA белгісі жоқ): {name}",
    },
    "eds.crl_not_trusted": {
        "en": "The CRL is not signed by a trusted certification authority: {name}",
        "ru": "Список отзыва не подписан доверенным удостоверяющим центром: {name}",
        "kk": "Кері қайтарылған сертификаттар тізіміне сенімді куәландырушы орталық қол қоймаған: {name}",
    },
    "eds.not_readable": {
        "en": "The file is neither a certificate nor a CRL in DER or PEM: {reason}",
        "ru": "Файл не является сертификатом или списком отзыва в DER или PEM: {reason}",
        "kk": "Файл DER немесе PEM пішіміндегі сертификат не тізім емес: {reason}",
    },
    "eds.at_invalid": {
        "en": "'at' must be an RFC 3339 time with a time zone, e.g. 2022-09-27T21:18:00Z",
        "ru": "'at' должно быть временем RFC 3339 с часовым поясом, например 2022-09-27T21:18:00Z",
        "kk": "'at' уақыт белдеуі бар RFC 3339 уақыты болуы керек, мысалы 2022-09-27T21:18:00Z",
    },
}

# Journal actions (what the auditor reads next to the row).
MESSAGES.update({
    "eds.trust.add": {
        "en": "A certification authority's certificate added to the trusted ones",
        "ru": "Сертификат удостоверяющего центра добавлен в доверенные",
        "kk": "Куәландырушы орталықтың сертификаты сенімділер қатарына қосылды",
    },
    "eds.crl.add": {
        "en": "A certificate revocation list added",
        "ru": "Добавлен список отозванных сертификатов",
        "kk": "Кері қайтарылған сертификаттар тізімі қосылды",
    },
})
