"""Texts of the cabinet: accounts and sign-in, registers, notifications, documents, in kk/ru/en."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {}

MESSAGES.update({
    # --- signed documents (cadastre/documents.py) ---
    "documents.too_large": {
        "en": "The file '{file}' is larger than the limit of {limit_mb} MB for a document.",
        "ru": "Файл '{file}' больше допустимых для документа {limit_mb} МБ.",
        "kk": "'{file}' файлы құжатқа рұқсат етілген {limit_mb} МБ-тан үлкен.",
    },
    "documents.signature_too_large": {
        "en": "The signature file '{file}' is larger than the limit of {limit_kb} KB.",
        "ru": "Файл подписи '{file}' больше допустимых {limit_kb} КБ.",
        "kk": "'{file}' қолтаңба файлы рұқсат етілген {limit_kb} КБ-тан үлкен.",
    },
    "documents.empty": {
        "en": "The file '{file}' is empty.",
        "ru": "Файл '{file}' пуст.",
        "kk": "'{file}' файлы бос.",
    },
    "documents.bad_level": {
        "en": "Unknown access level '{level}' in the field access_level; use one of: {known}.",
        "ru": "Неизвестный уровень доступа '{level}' в поле access_level; допустимы: {known}.",
        "kk": "access_level өрісіндегі '{level}' қолжетімділік деңгейі белгісіз; рұқсат етілгендері: {known}.",
    },
    "documents.bad_reference": {
        "en": "The field reference must be at most 200 characters of text.",
        "ru": "Поле reference должно содержать текст длиной не более 200 символов.",
        "kk": "reference өрісі 200 таңбадан аспайтын мәтін болуы керек.",
    },
    "documents.reference_forbidden": {
        "en": "Only an authority that writes the geological studies, or an administrator, may link a "
              "document to features (the field reference).",
        "ru": "Связать документ с объектами слоя (поле reference) может только орган, ведущий слой "
              "геологической изученности, или администратор.",
        "kk": "Құжатты қабат нысандарымен байланыстыруға (reference өрісі) тек геологиялық зерттеулер "
              "қабатын жүргізетін орган немесе әкімші құқылы.",
    },
    "documents.too_many_signatures": {
        "en": "{count} signature files were sent; at most {limit} are accepted at once (the field signature).",
        "ru": "Передано файлов подписи: {count}; за один раз принимается не более {limit} (поле signature).",
        "kk": "{count} қолтаңба файлы жіберілді; бір рет {limit}-ден артық қабылданбайды (signature өрісі).",
    },
    "documents.no_signature": {
        "en": "Send at least one signature file in the multipart field 'signature'.",
        "ru": "Передайте хотя бы один файл подписи в поле формы 'signature'.",
        "kk": "'signature' өрісінде кемінде бір қолтаңба файлын жіберіңіз.",
    },
    "documents.bad_archive": {
        "en": "The file '{file}' looks like a ZIP archive but cannot be read as one.",
        "ru": "Файл '{file}' похож на ZIP-архив, но не читается как архив.",
        "kk": "'{file}' файлы ZIP мұрағатына ұқсайды, бірақ мұрағат ретінде оқылмайды.",
    },
    "documents.archive_too_many_members": {
        "en": "The archive '{file}' has {count} entries; at most {limit} are accepted.",
        "ru": "В архиве '{file}' {count} элементов; допускается не более {limit}.",
        "kk": "'{file}' мұрағатында {count} элемент бар; {limit}-ден артық болмауы керек.",
    },
    "documents.archive_unsafe_path": {
        "en": "The archive '{file}' contains the unsafe path '{member}' (absolute or with '..').",
        "ru": "Архив '{file}' содержит небезопасный путь '{member}' (абсолютный или с '..').",
        "kk": "'{file}' мұрағатында қауіпті '{member}' жолы бар (абсолютті немесе '..' бар).",
    },
    "documents.archive_symlink": {
        "en": "The archive '{file}' contains a symbolic link '{member}'; links are not accepted.",
        "ru": "Архив '{file}' содержит символическую ссылку '{member}'; ссылки не принимаются.",
        "kk": "'{file}' мұрағатында '{member}' символдық сілтемесі бар; сілтемелер қабылданбайды.",
    },
    "documents.archive_bomb": {
        "en": "The archive '{file}' unpacks '{member}' {ratio} times larger than it is packed: refused "
              "as a zip bomb.",
        "ru": "В архиве '{file}' элемент '{member}' распаковывается в {ratio} раз больше упакованного: "
              "отклонён как zip-бомба.",
        "kk": "'{file}' мұрағатындағы '{member}' буып-түйілгенінен {ratio} есе үлкен болып ашылады: zip-бомба "
              "ретінде қабылданбады.",
    },
    "documents.archive_too_large": {
        "en": "The archive '{file}' would unpack to more than {limit_mb} MB.",
        "ru": "Архив '{file}' распаковывается более чем в {limit_mb} МБ.",
        "kk": "'{file}' мұрағаты {limit_mb} МБ-тан астам көлемге ашылады.",
    },
    "documents.xml_entities": {
        "en": "The XML file '{file}' declares a DOCTYPE or entities; they are refused (they can read "
              "files or expand without bound).",
        "ru": "XML-файл '{file}' объявляет DOCTYPE или сущности; они не принимаются (могут читать файлы "
              "или разрастаться без предела).",
        "kk": "'{file}' XML файлында DOCTYPE немесе entity жарияланған; олар қабылданбайды (файлдарды оқуы "
              "немесе шексіз ұлғаюы мүмкін).",
    },
    "documents.bad_xml": {
        "en": "The file '{file}' declares itself XML but is not well-formed: {reason}.",
        "ru": "Файл '{file}' объявлен как XML, но содержит ошибку разметки: {reason}.",
        "kk": "'{file}' файлы XML деп жарияланған, бірақ белгілеуінде қате бар: {reason}.",
    },
    "documents.signature_xml_separate": {
        "en": "The signature file '{file}' is XML: an enveloped XML signature signs the XML it is in, so "
              "upload that signed XML as the document.",
        "ru": "Файл подписи '{file}' — это XML: встроенная XML-подпись подписывает содержащий её XML, "
              "загрузите этот подписанный XML как документ.",
        "kk": "'{file}' қолтаңба файлы — XML: кірістірілген XML қолтаңбасы өзі тұрған XML-ге қойылады, сол "
              "қол қойылған XML-ді құжат ретінде жүктеңіз.",
    },
    "documents.signature_unreadable": {
        "en": "The signature file '{file}' is not a CMS signature (DER, PEM or base64).",
        "ru": "Файл подписи '{file}' не является подписью CMS (DER, PEM или base64).",
        "kk": "'{file}' қолтаңба файлы CMS қолтаңбасы емес (DER, PEM немесе base64).",
    },
    "documents.signature_other_content": {
        "en": "The signature '{file}' carries other content than the stored file: it does not sign this "
              "document.",
        "ru": "Подпись '{file}' содержит не тот файл, что сохранён: она не относится к этому документу.",
        "kk": "'{file}' қолтаңбасында сақталған файлдан басқа мазмұн бар: ол бұл құжатқа қойылмаған.",
    },
    "documents.sign_forbidden": {
        "en": "Only the owner of document {id}, or an officer, commission member or administrator, may "
              "add a signature to it.",
        "ru": "Добавить подпись к документу {id} может только его владелец, сотрудник органа, член "
              "комиссии или администратор.",
        "kk": "{id} құжатына қолтаңбаны тек оның иесі, орган қызметкері, комиссия мүшесі немесе әкімші "
              "қоса алады.",
    },
    "documents.not_found": {
        "en": "There is no document {id}, or you may not read it.",
        "ru": "Документа {id} нет, или у вас нет доступа к нему.",
        "kk": "{id} құжаты жоқ немесе оған қолжетімділігіңіз жоқ.",
    },
})
