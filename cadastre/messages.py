"""Texts of the cabinet: accounts and sign-in, registers, notifications, documents, in kk/ru/en."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # --- the state register file (geoservice registry load) ---
    "registry.bad_header": {
        "en": "The register file must start with the header {expected}; it starts with: {found}.",
        "ru": "Файл реестра должен начинаться с заголовка {expected}; он начинается с: {found}.",
        "kk": "Тізілім файлы {expected} тақырыбымен басталуы керек; ол мынадан басталады: {found}.",
    },
    "registry.bad_columns": {
        "en": "Line {line}: {count} values instead of {expected}.",
        "ru": "Строка {line}: {count} значений вместо {expected}.",
        "kk": "{line}-жол: {expected} мәннің орнына {count} мән.",
    },
    "registry.bad_value": {
        "en": "Line {line}, column {column}: '{value}' is not allowed; allowed: {allowed}.",
        "ru": "Строка {line}, столбец {column}: значение '{value}' недопустимо; допустимо: {allowed}.",
        "kk": "{line}-жол, {column} бағаны: '{value}' мәніне рұқсат жоқ; рұқсат етілгені: {allowed}.",
    },
    "registry.bad_id": {
        "en": "Line {line}, column {column}: '{value}' is not a 12-digit IIN/BIN.",
        "ru": "Строка {line}, столбец {column}: '{value}' не является 12-значным ИИН/БИН.",
        "kk": "{line}-жол, {column} бағаны: '{value}' 12 таңбалы ЖСН/БСН емес.",
    },
    "registry.empty": {
        "en": "Line {line}, column {column}: a value is required.",
        "ru": "Строка {line}, столбец {column}: значение обязательно.",
        "kk": "{line}-жол, {column} бағаны: мән міндетті.",
    },
    "registry.head_of_person": {
        "en": "Line {line}, column {column}: an individual has no head; leave it empty.",
        "ru": "Строка {line}, столбец {column}: у физического лица нет руководителя; оставьте поле пустым.",
        "kk": "{line}-жол, {column} бағаны: жеке тұлғаның басшысы болмайды; бос қалдырыңыз.",
    },
    "registry.duplicate": {
        "en": "Line {line}, column {column}: {value} is already listed on line {first}.",
        "ru": "Строка {line}, столбец {column}: {value} уже указан в строке {first}.",
        "kk": "{line}-жол, {column} бағаны: {value} {first}-жолда бұрыннан көрсетілген.",
    },
    "registry.invalid": {
        "en": "The register file has {count} faults; nothing was loaded.",
        "ru": "В файле реестра ошибок: {count}; ничего не загружено.",
        "kk": "Тізілім файлында {count} қате бар; ештеңе жүктелмеді.",
    },
    "registry.not_utf8": {
        "en": "The register file is not UTF-8 text (byte {offset}).",
        "ru": "Файл реестра не является текстом UTF-8 (байт {offset}).",
        "kk": "Тізілім файлы UTF-8 мәтіні емес ({offset}-байт).",
    },
    # --- people and roles (geoservice users …) ---
    "accounts.bad_number": {
        "en": "{what} must be 12 digits, not '{value}'.",
        "ru": "{what} должен состоять из 12 цифр, а не '{value}'.",
        "kk": "{what} 12 цифрдан тұруы керек, '{value}' емес.",
    },
    "accounts.unknown_role": {
        "en": "Unknown role '{role}'. Known: {known}.",
        "ru": "Неизвестная роль '{role}'. Известные: {known}.",
        "kk": "Белгісіз рөл '{role}'. Белгілілері: {known}.",
    },
    "accounts.officer_needs_authority": {
        "en": "An officer belongs to one authority: name it with --authority ({known}).",
        "ru": "Сотрудник относится к одному органу: укажите его через --authority ({known}).",
        "kk": "Қызметкер бір органға жатады: оны --authority арқылы көрсетіңіз ({known}).",
    },
    "accounts.authority_only_for_officers": {
        "en": "Only officers belong to an authority; the role '{role}' takes no --authority.",
        "ru": "К органу относятся только сотрудники; для роли '{role}' --authority не указывается.",
        "kk": "Органға тек қызметкерлер жатады; '{role}' рөлі үшін --authority көрсетілмейді.",
    },
    # --- sign-in refusals ---
    "signin.bad_cms": {
        "en": "Send the signature as {{\"cms\": base64 of an attached CMS}}.",
        "ru": "Передайте подпись в виде {{\"cms\": base64 присоединённой CMS}}.",
        "kk": "Қолтаңбаны {{\"cms\": біріктірілген CMS-тің base64}} түрінде жіберіңіз.",
    },
    "signin.one_signer": {
        "en": "A sign-in is signed by exactly one person; this signature has {count} signers.",
        "ru": "Вход подписывает ровно один человек; у этой подписи подписантов: {count}.",
        "kk": "Кіруге бір ғана адам қол қояды; бұл қолтаңбада {count} қол қоюшы бар.",
    },
    "signin.bad_signature": {
        "en": "The signature does not match the signed data.",
        "ru": "Подпись не соответствует подписанным данным.",
        "kk": "Қолтаңба қол қойылған деректерге сәйкес келмейді.",
    },
    "signin.unknown_ca": {
        "en": "The certificate was not issued by a trusted certification authority.",
        "ru": "Сертификат выдан не доверенным удостоверяющим центром.",
        "kk": "Сертификатты сенімді куәландырушы орталық бермеген.",
    },
    "signin.expired": {
        "en": "The certificate is not valid now (expired or not yet valid).",
        "ru": "Сертификат сейчас недействителен (истёк или ещё не начал действовать).",
        "kk": "Сертификат қазір жарамсыз (мерзімі өткен немесе әлі басталмаған).",
    },
    "signin.revoked": {
        "en": "The certificate has been revoked.",
        "ru": "Сертификат отозван.",
        "kk": "Сертификат кері қайтарылған.",
    },
    "signin.revocation_unknown": {
        "en": "Whether the certificate is revoked cannot be determined now; try again later.",
        "ru": "Сейчас невозможно установить, отозван ли сертификат; повторите попытку позже.",
        "kk": "Сертификаттың кері қайтарылғанын қазір анықтау мүмкін емес; кейінірек қайталаңыз.",
    },
    "signin.wrong_key_usage": {
        "en": "This key is not for signing in: use the authentication key (AUTH_…).",
        "ru": "Этот ключ не предназначен для входа: используйте ключ аутентификации (AUTH_…).",
        "kk": "Бұл кілт кіруге арналмаған: аутентификация кілтін (AUTH_…) пайдаланыңыз.",
    },
    "signin.no_iin": {
        "en": "The certificate names no IIN: it is not a personal certificate of the NCA.",
        "ru": "В сертификате нет ИИН: это не личный сертификат НУЦ.",
        "kk": "Сертификатта ЖСН жоқ: бұл ҰКО-ның жеке сертификаты емес.",
    },
    "signin.not_the_nonce": {
        "en": "The signed content is not a sign-in challenge of this service.",
        "ru": "Подписанные данные не являются запросом на вход этого сервиса.",
        "kk": "Қол қойылған деректер осы қызметтің кіру сұрауы емес.",
    },
    "signin.nonce_reused": {
        "en": "This sign-in challenge has been used already; request a new one.",
        "ru": "Этот запрос на вход уже использован; получите новый.",
        "kk": "Бұл кіру сұрауы бұрын пайдаланылған; жаңасын алыңыз.",
    },
    "signin.nonce_expired": {
        "en": "This sign-in challenge has expired; request a new one.",
        "ru": "Срок действия запроса на вход истёк; получите новый.",
        "kk": "Кіру сұрауының мерзімі өтті; жаңасын алыңыз.",
    },
    "signin.not_in_register": {
        "en": "IIN {iin} is not in the state register of individuals.",
        "ru": "ИИН {iin} отсутствует в государственном реестре физических лиц.",
        "kk": "{iin} ЖСН жеке тұлғалардың мемлекеттік тізілімінде жоқ.",
    },
    "signin.person_inactive": {
        "en": "IIN {iin} is not active in the state register of individuals.",
        "ru": "ИИН {iin} не действует в государственном реестре физических лиц.",
        "kk": "{iin} ЖСН жеке тұлғалардың мемлекеттік тізілімінде белсенді емес.",
    },
    "signin.company_not_in_register": {
        "en": "BIN {bin} is not in the state register of legal entities.",
        "ru": "БИН {bin} отсутствует в государственном реестре юридических лиц.",
        "kk": "{bin} БСН заңды тұлғалардың мемлекеттік тізілімінде жоқ.",
    },
    "signin.company_liquidated": {
        "en": "{name} (BIN {bin}) is liquidated.",
        "ru": "{name} (БИН {bin}) ликвидировано.",
        "kk": "{name} (БСН {bin}) таратылған.",
    },
    "signin.not_head": {
        "en": "IIN {iin} is neither the head of {name} (BIN {bin}) nor holds the right to sign for it.",
        "ru": "ИИН {iin} не является руководителем {name} (БИН {bin}) и не имеет права подписи.",
        "kk": "{iin} ЖСН {name} (БСН {bin}) басшысы емес және қол қою құқығы жоқ.",
    },
    "signin.demo_link_invalid": {
        "en": "This sign-in link is unknown, used already or expired; print a new one.",
        "ru": "Эта ссылка для входа неизвестна, уже использована или истекла; получите новую.",
        "kk": "Бұл кіру сілтемесі белгісіз, бұрын пайдаланылған немесе мерзімі өткен; жаңасын алыңыз.",
    },
    "signin.demo_off": {
        "en": "Development sign-in is off (GEOSERVICE_DEMO=1 turns it on, never in production).",
        "ru": "Вход для разработки отключён (его включает GEOSERVICE_DEMO=1, никогда в эксплуатации).",
        "kk": "Әзірлеуге арналған кіру өшірулі (оны GEOSERVICE_DEMO=1 қосады, өндірісте ешқашан).",
    },
    # --- the cabinet ---
    "cabinet.bad_contact": {
        "en": "The contact field '{field}' must be text on one line.",
        "ru": "Контактное поле '{field}' должно быть текстом в одну строку.",
        "kk": "'{field}' байланыс өрісі бір жолдағы мәтін болуы керек.",
    },
    "cabinet.bad_email": {
        "en": "'{value}' is not an e-mail address.",
        "ru": "'{value}' не является адресом электронной почты.",
        "kk": "'{value}' электрондық пошта мекенжайы емес.",
    },
    "cabinet.bad_phone": {
        "en": "'{value}' is not a phone number (10 to 15 digits, e.g. +7 701 234 5678).",
        "ru": "'{value}' не является номером телефона (от 10 до 15 цифр, например +7 701 234 5678).",
        "kk": "'{value}' телефон нөмірі емес (10-нан 15-ке дейін цифр, мысалы +7 701 234 5678).",
    },
    "cabinet.bad_address": {
        "en": "The address is longer than {limit} characters.",
        "ru": "Адрес длиннее {limit} символов.",
        "kk": "Мекенжай {limit} таңбадан ұзын.",
    },
    "cabinet.no_notification": {
        "en": "You have no notification #{id}.",
        "ru": "У вас нет уведомления №{id}.",
        "kk": "Сізде №{id} хабарлама жоқ.",
    },
    # --- notifications (rendered in the reader's language) ---
    "notice.welcome": {
        "en": "Welcome to the cabinet, {name}! Your account is registered; keep your contacts current in the profile.",
        "ru": "Добро пожаловать в кабинет, {name}! Ваша учётная запись зарегистрирована; "
              "поддерживайте контакты в профиле актуальными.",
        "kk": "Кабинетке қош келдіңіз, {name}! Есептік жазбаңыз тіркелді; "
              "профильдегі байланыс деректерін өзекті ұстаңыз.",
    },
}

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
    # --- e-applications (cadastre/applications.py) ---
    "applications.not_an_object": {
        "en": "The field 'application' must be a JSON object.",
        "ru": "Поле 'application' должно быть объектом JSON.",
        "kk": "'application' өрісі JSON нысаны болуы керек.",
    },
    "applications.unknown_kind": {
        "en": "Unknown application kind '{kind}'; known kinds: {known}.",
        "ru": "Неизвестный вид заявления '{kind}'; известные виды: {known}.",
        "kk": "'{kind}' өтініш түрі белгісіз; белгілі түрлер: {known}.",
    },
    "applications.bad_applicant": {
        "en": "The applicant must be given as {{\"iin\": \"12 digits\"}} or {{\"bin\": \"12 digits\"}}.",
        "ru": "Заявитель указывается как {{\"iin\": \"12 цифр\"}} или {{\"bin\": \"12 цифр\"}}.",
        "kk": "Өтініш беруші {{\"iin\": \"12 цифр\"}} немесе {{\"bin\": \"12 цифр\"}} түрінде көрсетіледі.",
    },
    "applications.not_your_applicant": {
        "en": "You are signed in for another person or company than the applicant {applicant}: sign in as the "
              "applicant's account to file for them.",
        "ru": "Вы вошли от имени другого лица, чем заявитель {applicant}: войдите в учётную запись заявителя, "
              "чтобы подать от его имени.",
        "kk": "Сіз {applicant} өтініш берушіден басқа тұлға атынан кірдіңіз: оның атынан беру үшін өтініш "
              "берушінің есептік жазбасына кіріңіз.",
    },
    "applications.not_canonical": {
        "en": "The application cannot be written as canonical JSON (RFC 8785): {reason}.",
        "ru": "Заявление невозможно записать в каноническом JSON (RFC 8785): {reason}.",
        "kk": "Өтінішті канондық JSON (RFC 8785) түрінде жазу мүмкін емес: {reason}.",
    },
    "applications.bad_signature": {
        "en": "The field 'signature' must be a detached CMS signature in base64.",
        "ru": "Поле 'signature' должно содержать откреплённую подпись CMS в base64.",
        "kk": "'signature' өрісінде base64 түріндегі бөлек CMS қолтаңбасы болуы керек.",
    },
    "applications.attached_other_content": {
        "en": "The signature carries other content than the application's canonical JSON.",
        "ru": "Подпись содержит не канонический JSON заявления, а другие данные.",
        "kk": "Қолтаңбада өтініштің канондық JSON-ы емес, басқа мазмұн бар.",
    },
    "applications.not_found": {
        "en": "There is no application {number}, or you may not read it.",
        "ru": "Заявления {number} нет, или у вас нет доступа к нему.",
        "kk": "{number} өтініші жоқ немесе оған қолжетімділігіңіз жоқ.",
    },
    "applications.bad_cursor": {
        "en": "The parameter '{parameter}' must be a positive whole number.",
        "ru": "Параметр '{parameter}' должен быть положительным целым числом.",
        "kk": "'{parameter}' параметрі оң бүтін сан болуы керек.",
    },
    # Reasons of a return (incomplete) or a refusal (incorrect data)
    "reason.missing": {
        "en": "The application has no '{field}': it is returned for revision.",
        "ru": "В заявлении нет поля '{field}': оно возвращено на доработку.",
        "kk": "Өтініште '{field}' жоқ: ол пысықтауға қайтарылды.",
    },
    "reason.bad_field": {
        "en": "The field '{field}' has a value of the wrong form.",
        "ru": "Поле '{field}' заполнено в неверной форме.",
        "kk": "'{field}' өрісі қате түрде толтырылған.",
    },
    "reason.signature_check": {
        "en": "The signature failed the check '{check}'.",
        "ru": "Подпись не прошла проверку '{check}'.",
        "kk": "Қолтаңба '{check}' тексерісінен өтпеді.",
    },
    "reason.no_signer": {
        "en": "The signature has no signer.",
        "ru": "В подписи нет подписанта.",
        "kk": "Қолтаңбада қол қоюшы жоқ.",
    },
    "reason.signer_not_applicant": {
        "en": "The application is signed by IIN {signer}, not by the applicant IIN {applicant}.",
        "ru": "Заявление подписано ИИН {signer}, а не заявителем ИИН {applicant}.",
        "kk": "Өтінішке өтініш беруші ЖСН {applicant} емес, ЖСН {signer} қол қойған.",
    },
    "reason.signer_not_company": {
        "en": "The signer's certificate is for BIN {signer}, not for the applicant BIN {applicant}.",
        "ru": "Сертификат подписанта выдан для БИН {signer}, а не для заявителя БИН {applicant}.",
        "kk": "Қол қоюшының сертификаты өтініш беруші БСН {applicant} үшін емес, БСН {signer} үшін берілген.",
    },
    "reason.signer_cannot_sign": {
        "en": "IIN {signer} is neither the head of {name} (BIN {bin}) nor holds the right to sign for it.",
        "ru": "ИИН {signer} не является руководителем {name} (БИН {bin}) и не имеет права подписи.",
        "kk": "ЖСН {signer} {name} (БСН {bin}) басшысы емес және қол қою құқығы жоқ.",
    },
    "reason.company_not_in_register": {
        "en": "BIN {bin} is not in the state register of legal entities.",
        "ru": "БИН {bin} отсутствует в государственном реестре юридических лиц.",
        "kk": "БСН {bin} заңды тұлғалардың мемлекеттік тізілімінде жоқ.",
    },
    "reason.company_liquidated": {
        "en": "{name} (BIN {bin}) is liquidated.",
        "ru": "{name} (БИН {bin}) ликвидировано.",
        "kk": "{name} (БСН {bin}) таратылған.",
    },
    "reason.unknown_mineral": {
        "en": "Unknown mineral '{mineral}'; known: {known}.",
        "ru": "Неизвестное полезное ископаемое '{mineral}'; известные: {known}.",
        "kk": "'{mineral}' пайдалы қазбасы белгісіз; белгілілері: {known}.",
    },
    "reason.mineral_not_for_kind": {
        "en": "An application of kind '{kind}' cannot be filed for '{mineral}'.",
        "ru": "Заявление вида '{kind}' нельзя подать на '{mineral}'.",
        "kk": "'{kind}' түріндегі өтінішті '{mineral}' үшін беруге болмайды.",
    },
    "reason.document_not_found": {
        "en": "Document {id} does not exist or is not yours.",
        "ru": "Документа {id} нет, или он вам не принадлежит.",
        "kk": "{id} құжаты жоқ немесе ол сізге тиесілі емес.",
    },
    "reason.bad_parcel": {
        "en": "The parcel must be {{\"blocks\": list or codes}} or {{\"geometry\": GeoJSON}}.",
        "ru": "Участок указывается как {{\"blocks\": список или коды}} или {{\"geometry\": GeoJSON}}.",
        "kk": "Учаске {{\"blocks\": тізім немесе кодтар}} немесе {{\"geometry\": GeoJSON}} түрінде беріледі.",
    },
    "reason.parcel_form": {
        "en": "An application of kind '{kind}' is filed on a parcel given as '{form}'.",
        "ru": "Заявление вида '{kind}' подаётся на участок, заданный как '{form}'.",
        "kk": "'{kind}' түріндегі өтініш '{form}' ретінде берілген учаскеге беріледі.",
    },
    "reason.bad_block_list": {
        "en": "The block list cannot be read at '{token}' (character {position}).",
        "ru": "Список блоков не читается в месте '{token}' (символ {position}).",
        "kk": "Блоктар тізімі '{token}' жерінде оқылмайды ({position}-таңба).",
    },
    "reason.bad_geometry": {
        "en": "The parcel's geometry must be a valid GeoJSON Polygon or MultiPolygon in degrees.",
        "ru": "Геометрия участка должна быть корректным GeoJSON Polygon или MultiPolygon в градусах.",
        "kk": "Учаске геометриясы градуспен берілген дұрыс GeoJSON Polygon немесе MultiPolygon болуы керек.",
    },
    "reason.too_many_blocks": {
        "en": "The parcel has {count} blocks; at most {limit} are allowed.",
        "ru": "В участке {count} блоков; допускается не более {limit}.",
        "kk": "Учаскеде {count} блок бар; {limit} блоктан аспауы керек.",
    },
    "reason.not_contiguous": {
        "en": "The blocks are not contiguous: they form {parts} separate parts (block {block} is apart).",
        "ru": "Блоки не являются смежными: они образуют {parts} отдельных частей (блок {block} отделён).",
        "kk": "Блоктар шектес емес: олар {parts} бөлек бөлік құрайды ({block} блогы бөлек).",
    },
    "reason.outside_programme": {
        "en": "Block {block} is not in an open area of the state subsoil fund management programme.",
        "ru": "Блок {block} не входит в открытый участок программы управления государственным фондом недр.",
        "kk": "{block} блогы жер қойнауының мемлекеттік қорын басқару бағдарламасының ашық аумағында емес.",
    },
    "reason.block_taken": {
        "en": "Block {block} is already claimed by application {number}, received at {received_at}.",
        "ru": "Блок {block} уже заявлен заявлением {number}, поступившим {received_at}.",
        "kk": "{block} блогына {received_at} түскен {number} өтініші бұрын берілген.",
    },
    "reason.blocks_taken_meanwhile": {
        "en": "Some of the blocks were claimed by an earlier application while this one was filed.",
        "ru": "Часть блоков заявлена более ранним заявлением во время подачи этого.",
        "kk": "Осы өтініш берілген кезде блоктардың бір бөлігіне ертерек өтініш берілді.",
    },
    "notice.application_accepted": {
        "en": "Your application {number} ({kind}) was received at {received_at} and accepted for consideration.",
        "ru": "Ваше заявление {number} ({kind}) поступило {received_at} и принято к рассмотрению.",
        "kk": "Сіздің {number} өтінішіңіз ({kind}) {received_at} түсті және қарауға қабылданды.",
    },
    "notice.application_returned": {
        "en": "Your application {number} ({kind}), received at {received_at}, is returned for revision; "
              "the reasons are in the application.",
        "ru": "Ваше заявление {number} ({kind}), поступившее {received_at}, возвращено на доработку; "
              "причины указаны в заявлении.",
        "kk": "{received_at} түскен {number} өтінішіңіз ({kind}) пысықтауға қайтарылды; себептері өтініште "
              "көрсетілген.",
    },
    "notice.application_refused": {
        "en": "Your application {number} ({kind}), received at {received_at}, is refused; the reasons are in the "
              "application.",
        "ru": "По вашему заявлению {number} ({kind}), поступившему {received_at}, отказано; причины указаны в "
              "заявлении.",
        "kk": "{received_at} түскен {number} өтінішіңіз ({kind}) бойынша бас тартылды; себептері өтініште "
              "көрсетілген.",
    },
})

# --- working days and procedures (issue 9: cadastre/calendar.py, cadastre/procedures.py) ---
MESSAGES.update({
    "calendar.year_not_covered": {
        "en": "The holidays of {year} are not in the calendar (it holds {years}): the operator adds them "
              "with 'geoservice holidays add' before deadlines can be counted into that year.",
        "ru": "Праздники {year} года не внесены в календарь (в нём: {years}): оператор добавляет их командой "
              "'geoservice holidays add', иначе сроки в этом году не считаются.",
        "kk": "{year} жылдың мерекелері күнтізбеге енгізілмеген (онда: {years}): оператор оларды "
              "'geoservice holidays add' командасымен қосады, әйтпесе бұл жылдағы мерзімдер есептелмейді.",
    },
    "calendar.bad_unit": {
        "en": "'{unit}' is not a deadline unit; units: {units}.",
        "ru": "'{unit}' не единица срока; единицы: {units}.",
        "kk": "'{unit}' мерзім бірлігі емес; бірліктер: {units}.",
    },
    "calendar.bad_amount": {
        "en": "A deadline cannot be negative ({amount}).",
        "ru": "Срок не может быть отрицательным ({amount}).",
        "kk": "Мерзім теріс бола алмайды ({amount}).",
    },
    "calendar.bad_kind": {
        "en": "'{kind}' is not a kind of calendar day; kinds: {kinds}.",
        "ru": "'{kind}' не вид дня календаря; виды: {kinds}.",
        "kk": "'{kind}' күнтізбе күнінің түрі емес; түрлері: {kinds}.",
    },
    "calendar.working_day_on_weekday": {
        "en": "{day} is a weekday: only a Saturday or Sunday can be made a working day.",
        "ru": "{day} и так будний день: рабочим можно сделать только субботу или воскресенье.",
        "kk": "{day} жұмыс күні: тек сенбіні немесе жексенбіні жұмыс күні етуге болады.",
    },
    "calendar.day_off_on_weekend": {
        "en": "{day} is a Saturday or Sunday already: a moved day off falls on a weekday.",
        "ru": "{day} и так суббота или воскресенье: перенесённый выходной приходится на будний день.",
        "kk": "{day} онсыз да сенбі немесе жексенбі: ауыстырылған демалыс жұмыс күніне түседі.",
    },
    "calendar.day_exists": {
        "en": "{day} is in the calendar already (as {kind}).",
        "ru": "{day} уже есть в календаре (как {kind}).",
        "kk": "{day} күнтізбеде бар ({kind} ретінде).",
    },
    "procedures.unknown": {
        "en": "There is no procedure '{procedure}'; procedures: {known}.",
        "ru": "Процедуры '{procedure}' нет; процедуры: {known}.",
        "kk": "'{procedure}' рәсімі жоқ; рәсімдер: {known}.",
    },
    "procedures.unknown_stage": {
        "en": "Procedure '{procedure}' has no stage '{stage}'.",
        "ru": "В процедуре '{procedure}' нет этапа '{stage}'.",
        "kk": "'{procedure}' рәсімінде '{stage}' кезеңі жоқ.",
    },
    "procedures.finished": {
        "en": "This '{procedure}' procedure is finished: nothing more can be done in it.",
        "ru": "Эта процедура '{procedure}' завершена: действий в ней больше нет.",
        "kk": "Бұл '{procedure}' рәсімі аяқталды: онда енді әрекет жоқ.",
    },
    "procedures.not_current": {
        "en": "Stage '{stage}' is not the current one; the application is at stage '{current}'.",
        "ru": "Этап '{stage}' не текущий; заявка находится на этапе '{current}'.",
        "kk": "'{stage}' кезеңі ағымдағы емес; өтінім '{current}' кезеңінде.",
    },
    "procedures.role_not_allowed": {
        "en": "The role '{role}' does not act at stage '{stage}'; it is the {allowed}'s.",
        "ru": "Роль '{role}' не действует на этапе '{stage}'; это этап роли '{allowed}'.",
        "kk": "'{role}' рөлі '{stage}' кезеңінде әрекет етпейді; бұл '{allowed}' рөлінің кезеңі.",
    },
    "procedures.action_not_allowed": {
        "en": "'{action}' is not allowed at stage '{stage}'; allowed: {allowed}.",
        "ru": "Действие '{action}' на этапе '{stage}' не допускается; допустимо: {allowed}.",
        "kk": "'{stage}' кезеңінде '{action}' әрекетіне рұқсат жоқ; рұқсат етілгені: {allowed}.",
    },
    "procedures.reason_required": {
        "en": "'{action}' needs a reason the applicant can read.",
        "ru": "Для действия '{action}' нужна причина, понятная заявителю.",
        "kk": "'{action}' әрекеті үшін өтініш беруші түсінетін себеп қажет.",
    },
    "procedures.not_a_member": {
        "en": "Not a member of the commission: {who}.",
        "ru": "Не член комиссии: {who}.",
        "kk": "Комиссия мүшесі емес: {who}.",
    },
    "procedures.tie_without_chair": {
        "en": "The votes are tied and the chair ({chair}) has not voted: the chair's vote decides a tie.",
        "ru": "Голоса разделились поровну, а председатель ({chair}) не голосовал: при равенстве решает "
              "голос председателя.",
        "kk": "Дауыстар тең, ал төраға ({chair}) дауыс бермеді: дауыстар тең болғанда төрағаның дауысы "
              "шешеді.",
    },
})

# --- parcels and the programme (cadastre/parcels.py, geoservice/api/parcels.py) ---
MESSAGES.update({
    "parcel.one_of": {
        "en": "'{field}' must be an object with exactly one of 'blocks' (a block list or an array of codes "
              "and lists), 'geometry' (a GeoJSON Polygon or MultiPolygon) and 'corners' (a corner-point "
              "table).",
        "ru": "'{field}' должен быть объектом ровно с одним из полей 'blocks' (список блоков или массив кодов "
              "и списков), 'geometry' (GeoJSON Polygon или MultiPolygon) и 'corners' (таблица угловых точек).",
        "kk": "'{field}' өрісі 'blocks' (блоктар тізімі немесе кодтар мен тізімдер массиві), 'geometry' "
              "(GeoJSON Polygon немесе MultiPolygon) және 'corners' (бұрыштық нүктелер кестесі) өрістерінің "
              "дәл біреуі бар нысан болуы керек.",
    },
    "parcel.blocks_type": {
        "en": "'{field}' must be a block list text or an array of block codes and list texts.",
        "ru": "'{field}' должен быть текстом списка блоков или массивом кодов блоков и списков.",
        "kk": "'{field}' блоктар тізімінің мәтіні немесе блок кодтары мен тізімдер массиві болуы керек.",
    },
    "parcel.bad_blocks": {
        "en": "'{field}': cannot read the block list at “{token}” (character {position}).",
        "ru": "'{field}': не удалось разобрать список блоков на «{token}» (позиция {position}).",
        "kk": "'{field}': блоктар тізімін {position}-позициядағы «{token}» жерінде оқу мүмкін болмады.",
    },
    "parcel.too_many_blocks": {
        "en": "'{field}' names more than {limit} blocks.",
        "ru": "'{field}' содержит больше {limit} блоков.",
        "kk": "'{field}' ішінде {limit} блоктан артық бар.",
    },
    "parcel.no_blocks": {
        "en": "'{field}' names no block.",
        "ru": "'{field}' не содержит ни одного блока.",
        "kk": "'{field}' ішінде бірде-бір блок жоқ.",
    },
    "parcel.blocks_outside_country": {
        "en": "'{field}': {count} block(s) lie outside Kazakhstan: {blocks}.",
        "ru": "'{field}': блоки вне Казахстана ({count}): {blocks}.",
        "kk": "'{field}': Қазақстаннан тыс блоктар ({count}): {blocks}.",
    },
    "parcel.geometry_type": {
        "en": "'{field}' must be a GeoJSON Polygon or MultiPolygon, not {found}.",
        "ru": "'{field}' должен быть GeoJSON Polygon или MultiPolygon, а не {found}.",
        "kk": "'{field}' {found} емес, GeoJSON Polygon немесе MultiPolygon болуы керек.",
    },
    "parcel.geometry_crs": {
        "en": "'{field}' must be in CRS84 (longitude, latitude in WGS 84 degrees), as GeoJSON is.",
        "ru": "'{field}' должен быть в CRS84 (долгота, широта в градусах WGS 84), как принято в GeoJSON.",
        "kk": "'{field}' GeoJSON-дағыдай CRS84 жүйесінде (WGS 84 градусындағы бойлық, ендік) болуы керек.",
    },
    "parcel.geometry_unreadable": {
        "en": "'{field}': the coordinates cannot be read as a polygon.",
        "ru": "'{field}': координаты не читаются как полигон.",
        "kk": "'{field}': координаттарды көпбұрыш ретінде оқу мүмкін емес.",
    },
    "parcel.geometry_empty": {
        "en": "'{field}' has no area.",
        "ru": "'{field}' не имеет площади.",
        "kk": "'{field}' ауданы жоқ.",
    },
    "parcel.geometry_invalid": {
        "en": "'{field}' is not a valid polygon ({reason}); repairing it would change its area by {change} %.",
        "ru": "'{field}' — некорректный полигон ({reason}); исправление изменило бы площадь на {change} %.",
        "kk": "'{field}' — жарамсыз көпбұрыш ({reason}); түзету ауданын {change} %-ға өзгертер еді.",
    },
    "parcel.outside_country": {
        "en": "'{field}' lies, at least in part, outside Kazakhstan.",
        "ru": "'{field}' хотя бы частично лежит за пределами Казахстана.",
        "kk": "'{field}' кем дегенде ішінара Қазақстаннан тыс жатыр.",
    },
    "parcel.too_large": {
        "en": "'{field}' spans {cells} one-minute cells; at most {limit} can be checked at once.",
        "ru": "'{field}' охватывает {cells} минутных ячеек; проверить за раз можно не более {limit}.",
        "kk": "'{field}' {cells} минуттық ұяшықты қамтиды; бір рет ең көбі {limit} ұяшықты тексеруге болады.",
    },
    "parcel.zone_prohibited": {
        "en": "The parcel overlaps the restriction zone “{name}” ({id}), where subsoil use is prohibited: "
              "{area_km2} km², {count} block(s).",
        "ru": "Участок пересекает зону ограничений «{name}» ({id}), где недропользование запрещено: "
              "{area_km2} км², блоков: {count}.",
        "kk": "Учаске жер қойнауын пайдалануға тыйым салынған «{name}» ({id}) шектеу аймағымен қиылысады: "
              "{area_km2} км², блоктар саны: {count}.",
    },
    "parcel.zone_conditional": {
        "en": "The parcel overlaps the restriction zone “{name}” ({id}), where subsoil use needs the "
              "zone's conditions to be met: {area_km2} km², {count} block(s).",
        "ru": "Участок пересекает зону ограничений «{name}» ({id}), где недропользование допускается на "
              "условиях режима зоны: {area_km2} км², блоков: {count}.",
        "kk": "Учаске жер қойнауын пайдалануға аймақ режимінің шарттарымен рұқсат етілетін «{name}» ({id}) "
              "шектеу аймағымен қиылысады: {area_km2} км², блоктар саны: {count}.",
    },
    "parcel.outside_programme": {
        "en": "{area_km2} km² of the parcel ({count} block(s)) lie outside the open areas of the state "
              "subsoil fund programme; an exploration application is possible only inside them.",
        "ru": "{area_km2} км² участка (блоков: {count}) лежат вне открытых участков программы управления "
              "государственным фондом недр; заявка на разведку возможна только внутри них.",
        "kk": "Учаскенің {area_km2} км² бөлігі (блоктар саны: {count}) жер қойнауының мемлекеттік қорын "
              "басқару бағдарламасының ашық аумақтарынан тыс жатыр; барлауға өтінім тек солардың ішінде "
              "беріледі.",
    },
    "parcel.body": {
        "en": "Send the parcel as a JSON object {{\"parcel\": {{\"blocks\": ...}} or {{\"geometry\": ...}}}}.",
        "ru": "Передайте участок JSON-объектом {{\"parcel\": {{\"blocks\": ...}} или {{\"geometry\": ...}}}}.",
        "kk": "Учаскені JSON нысаны ретінде жіберіңіз: {{\"parcel\": {{\"blocks\": ...}} немесе "
              "{{\"geometry\": ...}}}}.",
    },
    "programme.bad_parameter": {
        "en": "Parameter '{parameter}': '{value}' is not allowed ({expected}).",
        "ru": "Параметр '{parameter}': значение '{value}' недопустимо ({expected}).",
        "kk": "'{parameter}' параметрі: '{value}' мәніне рұқсат жоқ ({expected}).",
    },
})

# --- procedure runs and the officer's workbench (issue 9: cadastre/workbench.py) ---
MESSAGES.update({
    "workbench.not_found": {
        "en": "Application {number} has no procedure run you may see or act on.",
        "ru": "У заявления {number} нет процедуры, которую вы можете видеть или вести.",
        "kk": "{number} өтінішінде сіз көре алатын немесе жүргізе алатын рәсім жоқ.",
    },
    "workbench.bad_decision": {
        "en": "The decision must be {{\"stage\", \"action\", \"reason\"}} with texts; '{field}' is not right.",
        "ru": "Решение задаётся как {{\"stage\", \"action\", \"reason\"}} с текстами; поле '{field}' неверно.",
        "kk": "Шешім мәтіндері бар {{\"stage\", \"action\", \"reason\"}} түрінде беріледі; '{field}' өрісі дұрыс емес.",
    },
    "workbench.bad_signature": {
        "en": "The decision's signature must be a base64 detached CMS over the RFC 8785 JSON of "
              "{{\"application\", \"stage\", \"action\", \"reason\"}}.",
        "ru": "Подпись решения: отсоединённая CMS в base64 над JSON RFC 8785 объекта "
              "{{\"application\", \"stage\", \"action\", \"reason\"}}.",
        "kk": "Шешімнің қолтаңбасы: {{\"application\", \"stage\", \"action\", \"reason\"}} объектісінің RFC 8785 "
              "JSON-ына жасалған base64 ажыратылған CMS.",
    },
    "workbench.signature_invalid": {
        "en": "The decision's signature does not verify ({problems}): nothing was decided.",
        "ru": "Подпись решения не прошла проверку ({problems}): решение не принято.",
        "kk": "Шешімнің қолтаңбасы тексеруден өтпеді ({problems}): шешім қабылданбады.",
    },
    "workbench.signer_not_caller": {
        "en": "The decision is signed by {signer}, not by you ({caller}): an officer signs their own decisions.",
        "ru": "Решение подписано {signer}, а не вами ({caller}): сотрудник подписывает свои решения сам.",
        "kk": "Шешімге сіз ({caller}) емес, {signer} қол қойған: қызметкер өз шешімдеріне өзі қол қояды.",
    },
    "workbench.blocks_contested": {
        "en": "Application {number} cannot be granted yet: other applicants of the same window want blocks "
              "{blocks}, which go to auction.",
        "ru": "Заявление {number} пока нельзя удовлетворить: блоки {blocks} нужны и другим заявителям того же "
              "окна, они выставляются на аукцион.",
        "kk": "{number} өтінішін әзірге қанағаттандыруға болмайды: {blocks} блоктарын сол терезенің басқа "
              "өтініш берушілері де сұрайды, олар аукционға шығарылады.",
    },
    "reason.refused_in_procedure": {
        "en": "Refused at stage '{stage}': {reason}",
        "ru": "Отказано на этапе '{stage}': {reason}",
        "kk": "'{stage}' кезеңінде бас тартылды: {reason}",
    },
    "notice.run_returned": {
        "en": "Your application {number} is returned for revision at stage '{stage}': {reason}",
        "ru": "Ваше заявление {number} возвращено на доработку на этапе '{stage}': {reason}",
        "kk": "{number} өтінішіңіз '{stage}' кезеңінде пысықтауға қайтарылды: {reason}",
    },
    "notice.run_refused": {
        "en": "Your application {number} ({kind}) is refused: {reason}",
        "ru": "По вашему заявлению {number} ({kind}) отказано: {reason}",
        "kk": "{number} өтінішіңіз ({kind}) бойынша бас тартылды: {reason}",
    },
    "notice.run_granted": {
        "en": "Your application {number} ({kind}) is approved.",
        "ru": "Ваше заявление {number} ({kind}) одобрено.",
        "kk": "{number} өтінішіңіз ({kind}) мақұлданды.",
    },
    "notice.stage_overdue": {
        "en": "Application {number}: stage '{stage}' was due at {due_at} and is overdue.",
        "ru": "Заявление {number}: срок этапа '{stage}' истёк {due_at}.",
        "kk": "{number} өтінімі: '{stage}' кезеңінің мерзімі {due_at} өтті.",
    },
    "notice.run_resubmitted": {
        "en": "Application {number} came back from the applicant's revision to stage '{stage}'.",
        "ru": "Заявление {number} вернулось после доработки заявителем на этап '{stage}'.",
        "kk": "{number} өтінімі өтініш берушінің пысықтауынан кейін '{stage}' кезеңіне қайтып келді.",
    },
})

# --- the licence registry (cadastre/licences.py, geoservice/api/licences.py) ---
MESSAGES.update({
    "licences.bad_value": {
        "en": "The value '{value}' of {field} is not allowed; allowed: {allowed}.",
        "ru": "Значение '{value}' поля {field} недопустимо; допустимо: {allowed}.",
        "kk": "{field} өрісінің '{value}' мәніне рұқсат жоқ; рұқсат етілгені: {allowed}.",
    },
    "licences.bad_holder": {
        "en": 'The holder ({field}) must have exactly one of iin and bin, of 12 digits.',
        "ru": 'У владельца ({field}) должен быть ровно один из iin и bin, из 12 цифр.',
        "kk": 'Ұстаушыда ({field}) iin немесе bin біреуі ғана болуы керек, 12 цифрдан.',
    },
    "licences.missing": {
        "en": '{field} is required.',
        "ru": 'Поле {field} обязательно.',
        "kk": '{field} өрісі міндетті.',
    },
    "licences.bad_geometry": {
        "en": 'The geometry ({field}) is not a valid polygon in EPSG:4326: {reason}.',
        "ru": 'Геометрия ({field}) не является корректным полигоном в EPSG:4326: {reason}.',
        "kk": 'Геометрия ({field}) EPSG:4326 жүйесіндегі дұрыс көпбұрыш емес: {reason}.',
    },
    "licences.blocks_or_geometry": {
        "en": "A licence's parcel is either blocks or a geometry, exactly one of them ({field}).",
        "ru": 'Участок лицензии задаётся либо блоками, либо геометрией, ровно одним из них ({field}).',
        "kk": 'Лицензия учаскесі блоктармен не геометриямен беріледі, тек біреуімен ({field}).',
    },
    "licences.basis_unknown": {
        "en": 'The basis ({field}) names document {document}, which does not exist.',
        "ru": 'Основание ({field}) ссылается на документ {document}, которого нет.',
        "kk": 'Негіздеме ({field}) жоқ {document} құжатына сілтейді.',
    },
    "licences.term_before_issue": {
        "en": 'The term ({field}) ends before the licence is issued.',
        "ru": 'Срок ({field}) заканчивается раньше даты выдачи лицензии.',
        "kk": 'Мерзім ({field}) лицензия берілген күннен бұрын аяқталады.',
    },
    "licences.exists": {
        "en": 'Licence {number} is already in the registry.',
        "ru": 'Лицензия {number} уже есть в реестре.',
        "kk": '{number} лицензиясы тізілімде бар.',
    },
    "licences.not_found": {
        "en": 'There is no licence {number} in the registry on that date.',
        "ru": 'В реестре нет лицензии {number} на эту дату.',
        "kk": 'Тізілімде бұл күнге {number} лицензиясы жоқ.',
    },
    "licences.terminated": {
        "en": 'Licence {number} is terminated and can no longer change.',
        "ru": 'Лицензия {number} прекращена и больше не меняется.',
        "kk": '{number} лицензиясы тоқтатылған, оны өзгертуге болмайды.',
    },
    "licences.bad_effective_date": {
        "en": ('A change takes effect ({field}) between {since} (when the current state began) and today, '
               'not on {value}.'),
        "ru": ('Изменение вступает в силу ({field}) между {since} (начало текущего состояния) и сегодняшним '
               'днём, а не {value}.'),
        "kk": 'Өзгеріс ({field}) {since} (қазіргі күйдің басы) мен бүгін аралығында күшіне енеді, {value} емес.',
    },
    "licences.no_change": {
        "en": 'The change leaves licence {number} as it is.',
        "ru": 'Изменение оставляет лицензию {number} без изменений.',
        "kk": 'Өзгеріс {number} лицензиясын өзгертпейді.',
    },
    "licences.import_header": {
        "en": ('The licence file must have the columns {expected} (holder_iin or holder_bin, blocks or wkt); '
               'it has: {found}.'),
        "ru": ('Файл лицензий должен иметь столбцы {expected} (holder_iin или holder_bin, blocks или wkt); '
               'в нём: {found}.'),
        "kk": ('Лицензия файлында {expected} бағандары болуы керек (holder_iin не holder_bin, blocks не wkt); '
               'онда: {found}.'),
    },
    "licences.import_columns": {
        "en": 'Row {line}, column {column}: {count} values instead of {expected}.',
        "ru": 'Строка {line}, столбец {column}: {count} значений вместо {expected}.',
        "kk": '{line}-жол, {column} бағаны: {expected} мәннің орнына {count} мән.',
    },
    "licences.import_empty": {
        "en": 'Row {line}, column {column}: the value is required.',
        "ru": 'Строка {line}, столбец {column}: значение обязательно.',
        "kk": '{line}-жол, {column} бағаны: мән міндетті.',
    },
    "licences.import_duplicate": {
        "en": 'Row {line}, column {column}: licence {value} is already on row {first}.',
        "ru": 'Строка {line}, столбец {column}: лицензия {value} уже есть в строке {first}.',
        "kk": '{line}-жол, {column} бағаны: {value} лицензиясы {first}-жолда бар.',
    },
    "licences.import_holder": {
        "en": "Row {line}, column {column}: give exactly one of the holder's IIN and BIN.",
        "ru": 'Строка {line}, столбец {column}: укажите ровно одно из ИИН и БИН владельца.',
        "kk": '{line}-жол, {column} бағаны: ұстаушының ЖСН немесе БСН біреуін ғана көрсетіңіз.',
    },
    "licences.import_bad_id": {
        "en": "Row {line}, column {column}: '{value}' is not 12 digits.",
        "ru": "Строка {line}, столбец {column}: '{value}' не 12 цифр.",
        "kk": "{line}-жол, {column} бағаны: '{value}' 12 цифр емес.",
    },
    "licences.import_value": {
        "en": "Row {line}, column {column}: '{value}' is not allowed; allowed: {allowed}.",
        "ru": "Строка {line}, столбец {column}: значение '{value}' недопустимо; допустимо: {allowed}.",
        "kk": "{line}-жол, {column} бағаны: '{value}' мәніне рұқсат жоқ; рұқсат етілгені: {allowed}.",
    },
    "licences.import_date": {
        "en": "Row {line}, column {column}: '{value}' is not a date (YYYY-MM-DD).",
        "ru": "Строка {line}, столбец {column}: '{value}' не дата (ГГГГ-ММ-ДД).",
        "kk": "{line}-жол, {column} бағаны: '{value}' күн емес (ЖЖЖЖ-АА-КК).",
    },
    "licences.import_term": {
        "en": 'Row {line}, column {column}: the term ends before the issue date.',
        "ru": 'Строка {line}, столбец {column}: срок заканчивается раньше даты выдачи.',
        "kk": '{line}-жол, {column} бағаны: мерзім берілген күннен бұрын аяқталады.',
    },
    "licences.import_parcel": {
        "en": 'Row {line}, column {column}: give either a block list or a WKT polygon, exactly one.',
        "ru": 'Строка {line}, столбец {column}: укажите либо список блоков, либо полигон WKT, ровно одно.',
        "kk": '{line}-жол, {column} бағаны: блоктар тізімін не WKT көпбұрышын, тек біреуін көрсетіңіз.',
    },
    "licences.import_blocks": {
        "en": "Row {line}, column {column}: the block list cannot be read at '{token}' (character {position}).",
        "ru": "Строка {line}, столбец {column}: список блоков не читается на '{token}' (символ {position}).",
        "kk": "{line}-жол, {column} бағаны: блоктар тізімі '{token}' жерінде оқылмайды ({position}-таңба).",
    },
    "licences.import_wkt": {
        "en": 'Row {line}, column {column}: not a valid polygon: {reason}.',
        "ru": 'Строка {line}, столбец {column}: некорректный полигон: {reason}.',
        "kk": '{line}-жол, {column} бағаны: дұрыс емес көпбұрыш: {reason}.',
    },
    "licences.import_exists": {
        "en": 'Row {line}, column {column}: licence {value} is already in the registry.',
        "ru": 'Строка {line}, столбец {column}: лицензия {value} уже есть в реестре.',
        "kk": '{line}-жол, {column} бағаны: {value} лицензиясы тізілімде бар.',
    },
    "licences.import_no_rows": {
        "en": 'The licence file has no rows.',
        "ru": 'В файле лицензий нет строк.',
        "kk": 'Лицензия файлында жолдар жоқ.',
    },
    "licences.import_invalid": {
        "en": 'The licence file was not imported: {count} faults; nothing was changed.',
        "ru": 'Файл лицензий не импортирован: ошибок {count}; ничего не изменено.',
        "kk": 'Лицензия файлы импортталмады: {count} қате; ештеңе өзгермеді.',
    },
    "licences.import_not_utf8": {
        "en": 'The licence file is not UTF-8 (byte {offset}).',
        "ru": 'Файл лицензий не в UTF-8 (байт {offset}).',
        "kk": 'Лицензия файлы UTF-8 емес ({offset}-байт).',
    },
    "licences.bad_param": {
        "en": "The parameter {parameter} cannot be '{value}'.",
        "ru": "Параметр {parameter} не может быть '{value}'.",
        "kk": "{parameter} параметрі '{value}' бола алмайды.",
    },
    "licences.feed_title": {
        "en": "Licence registry: changes",
        "ru": "Реестр лицензий: изменения",
        "kk": "Лицензиялар тізілімі: өзгерістер",
    },
    "licences.feed_issue": {
        "en": "Licence {number} issued",
        "ru": "Выдана лицензия {number}",
        "kk": "{number} лицензиясы берілді",
    },
    "licences.feed_change": {
        "en": "Licence {number} changed",
        "ru": "Изменена лицензия {number}",
        "kk": "{number} лицензиясы өзгертілді",
    },
})

# --- what a parcel overlaps beyond the layers (cadastre/parcel_conflicts.py) ---
MESSAGES.update({
    "parcel.overlaps_licence": {
        "en": "The parcel overlaps licence {number}, which is in force.",
        "ru": "Участок пересекает действующую лицензию {number}.",
        "kk": "Учаске күшіндегі {number} лицензиясымен қиылысады.",
    },
    "parcel.overlaps_application": {
        "en": "Blocks of the parcel are claimed by application {number}, received {received_at}, which is "
              "being decided.",
        "ru": "Блоки участка заявлены в заявлении {number}, поступившем {received_at}, которое рассматривается.",
        "kk": "Учаскенің блоктарына {received_at} түскен, қаралып жатқан {number} өтініші берілген.",
    },
    "parcel.overlaps_lot": {
        "en": "Blocks of the parcel are in lot {lot}, which goes to auction.",
        "ru": "Блоки участка входят в лот {lot}, выставляемый на аукцион.",
        "kk": "Учаскенің блоктары аукционға шығарылатын {lot} лотына кіреді.",
    },
})

# --- auctions: lots and registration (cadastre/auctions.py, cadastre/payments.py) ---
MESSAGES.update({
    "auctions.not_found": {
        "en": "There is no auction {auction}.",
        "ru": "Аукциона {auction} нет.",
        "kk": "{auction} аукционы жоқ.",
    },
    "auctions.bad_request": {
        "en": "The request must be an object with either 'lot' (a lot of the first-month window) or 'parcel' "
              "(with 'kind', 'mineral' and 'name'), and 'starting_bonus' and 'starts_at'.",
        "ru": "Запрос должен быть объектом либо с 'lot' (лот первого месяца), либо с 'parcel' (с 'kind', "
              "'mineral' и 'name'), а также с 'starting_bonus' и 'starts_at'.",
        "kk": "Сұрау 'lot' (бірінші айдың лоты) немесе 'parcel' ('kind', 'mineral' және 'name' бар) өрісі, "
              "сондай-ақ 'starting_bonus' пен 'starts_at' бар объект болуы керек.",
    },
    "auctions.bad_field": {
        "en": "The field '{field}' has a wrong value.",
        "ru": "Поле '{field}' имеет неверное значение.",
        "kk": "'{field}' өрісінің мәні қате.",
    },
    "auctions.bad_amount": {
        "en": "The field '{field}' must be an amount in tenge (a positive number with at most two decimals).",
        "ru": "Поле '{field}' должно быть суммой в тенге (положительное число, не более двух знаков после запятой).",
        "kk": "'{field}' өрісі теңгедегі сома болуы керек (оң сан, үтірден кейін екі таңбадан аспайды).",
    },
    "auctions.bad_minutes": {
        "en": "The field '{field}' must be a number of minutes (at most 30 days).",
        "ru": "Поле '{field}' должно быть числом минут (не более 30 суток).",
        "kk": "'{field}' өрісі минут саны болуы керек (30 тәуліктен аспайды).",
    },
    "auctions.bad_time": {
        "en": "The field '{field}' must be a time with its offset (RFC 3339), e.g. 2026-12-01T10:00:00+05:00.",
        "ru": "Поле '{field}' должно быть временем со смещением (RFC 3339), например 2026-12-01T10:00:00+05:00.",
        "kk": "'{field}' өрісі ығысуы бар уақыт болуы керек (RFC 3339), мысалы 2026-12-01T10:00:00+05:00.",
    },
    "auctions.starts_in_past": {
        "en": "The auction's start ('{field}') must be in the future.",
        "ru": "Начало аукциона ('{field}') должно быть в будущем.",
        "kk": "Аукционның басталуы ('{field}') болашақта болуы керек.",
    },
    "auctions.lot_not_found": {
        "en": "There is no lot {lot}.",
        "ru": "Лота {lot} нет.",
        "kk": "{lot} лоты жоқ.",
    },
    "auctions.lot_not_forming": {
        "en": "Lot {lot} cannot be put up for auction: it is {state}.",
        "ru": "Лот {lot} нельзя выставить на аукцион: его статус {state}.",
        "kk": "{lot} лотын аукционға шығаруға болмайды: оның мәртебесі {state}.",
    },
    "auctions.window_open": {
        "en": "Lot {lot} can be put up for auction once its first-month window closes ({ends}): until then "
              "new applications still change it.",
        "ru": "Лот {lot} можно выставить на аукцион после закрытия окна первого месяца ({ends}): до тех пор "
              "новые заявления ещё меняют его.",
        "kk": "{lot} лотын бірінші айдың терезесі жабылғаннан кейін ({ends}) аукционға шығаруға болады: оған "
              "дейін жаңа өтініштер оны әлі өзгертеді.",
    },
    "auctions.unknown_kind": {
        "en": "'{kind}' is not a licence kind with a parcel that can be put up for auction.",
        "ru": "'{kind}' не является видом лицензии с участком, который можно выставить на аукцион.",
        "kk": "'{kind}' аукционға шығаруға болатын учаскесі бар лицензия түрі емес.",
    },
    "auctions.unknown_mineral": {
        "en": "'{mineral}' is not a mineral of the kind {kind}.",
        "ru": "'{mineral}' не является полезным ископаемым для вида {kind}.",
        "kk": "'{mineral}' {kind} түрінің пайдалы қазбасы емес.",
    },
    "auctions.not_competent": {
        "en": "Only an officer of the competent authority ({authority}) may put this lot up for auction.",
        "ru": "Выставить этот лот на аукцион может только сотрудник компетентного органа ({authority}).",
        "kk": "Бұл лотты аукционға тек құзыретті органның ({authority}) қызметкері шығара алады.",
    },
    "auctions.bad_status": {
        "en": "Unknown auction status '{value}'; known: {known}.",
        "ru": "Неизвестный статус аукциона '{value}'; известные: {known}.",
        "kk": "Аукционның белгісіз мәртебесі '{value}'; белгілілері: {known}.",
    },
    "auctions.bad_cursor": {
        "en": "The parameter '{parameter}' must be a positive whole number.",
        "ru": "Параметр '{parameter}' должен быть положительным целым числом.",
        "kk": "'{parameter}' параметрі оң бүтін сан болуы керек.",
    },
    "auctions.bad_registration": {
        "en": "The request must have 'registration' (with exactly 'auction', the auction's number, and "
              "'applicant', an IIN or a BIN) and 'signature' (a detached CMS in base64).",
        "ru": "Запрос должен содержать 'registration' (ровно 'auction', номер аукциона, и 'applicant', ИИН "
              "или БИН) и 'signature' (откреплённая подпись CMS в base64).",
        "kk": "Сұрауда 'registration' (дәл 'auction', аукцион нөмірі, және 'applicant', ЖСН немесе БСН) және "
              "'signature' (base64 түріндегі бөлек CMS қолтаңбасы) болуы керек.",
    },
    "auctions.wrong_auction": {
        "en": "The signed registration must name this auction, {auction}.",
        "ru": "Подписанная регистрация должна указывать этот аукцион, {auction}.",
        "kk": "Қол қойылған тіркеу осы аукционды, {auction}, көрсетуі керек.",
    },
    "auctions.bad_applicant": {
        "en": "The applicant must be given as an IIN or a BIN of twelve digits.",
        "ru": "Заявитель указывается как ИИН или БИН из двенадцати цифр.",
        "kk": "Өтініш беруші он екі цифрлы ЖСН немесе БСН ретінде көрсетіледі.",
    },
    "auctions.not_your_applicant": {
        "en": "You are signed in for another person or company than {applicant}.",
        "ru": "Вы вошли от имени другого лица или компании, не {applicant}.",
        "kk": "Сіз {applicant} емес, басқа тұлғаның немесе компанияның атынан кірдіңіз.",
    },
    "auctions.registration_closed": {
        "en": "Registration for auction {auction} is closed (status: {state}).",
        "ru": "Регистрация на аукцион {auction} закрыта (статус: {state}).",
        "kk": "{auction} аукционына тіркеу жабық (мәртебесі: {state}).",
    },
    "auctions.bad_signature": {
        "en": "The field 'signature' must be a detached CMS signature in base64.",
        "ru": "Поле 'signature' должно содержать откреплённую подпись CMS в base64.",
        "kk": "'signature' өрісінде base64 түріндегі бөлек CMS қолтаңбасы болуы керек.",
    },
    "auctions.attached_other_content": {
        "en": "The signature carries other content than the registration.",
        "ru": "Подпись содержит иное содержимое, чем регистрация.",
        "kk": "Қолтаңбада тіркеуден басқа мазмұн бар.",
    },
    "auctions.signature_refused": {
        "en": "The registration's signature is not valid, or not the applicant's own; nothing was registered.",
        "ru": "Подпись регистрации недействительна или не принадлежит заявителю; регистрация не выполнена.",
        "kk": "Тіркеудің қолтаңбасы жарамсыз немесе өтініш берушінікі емес; ештеңе тіркелмеді.",
    },
    "auctions.reason.not_in_register": {
        "en": "{id} is not in the state register.",
        "ru": "{id} нет в государственном реестре.",
        "kk": "{id} мемлекеттік тізілімде жоқ.",
    },
    "auctions.reason.inactive": {
        "en": "{name} ({id}) is not active in the state register.",
        "ru": "{name} ({id}) не является действующим по государственному реестру.",
        "kk": "{name} ({id}) мемлекеттік тізілім бойынша әрекет етпейді.",
    },
    "auctions.reason.tax_debt": {
        "en": "{name} ({id}) has a tax debt.",
        "ru": "У {name} ({id}) есть налоговая задолженность.",
        "kk": "{name} ({id}) салық берешегі бар.",
    },
    "auctions.reason.not_paid": {
        "en": "The participation fee and the guarantee deposit were not both paid before the auction started.",
        "ru": "Взнос за участие и гарантийный взнос не были оплачены до начала аукциона.",
        "kk": "Қатысу жарнасы мен кепілдік жарна аукцион басталғанға дейін төленбеді.",
    },
    "notice.auction_registered": {
        "en": "You are registered for auction {auction} as participant {participant}.",
        "ru": "Вы зарегистрированы на аукцион {auction} как участник {participant}.",
        "kk": "Сіз {auction} аукционына {participant} қатысушы ретінде тіркелдіңіз.",
    },
    "notice.auction_admitted": {
        "en": "You are admitted to auction {auction} as participant {participant}.",
        "ru": "Вы допущены к аукциону {auction} как участник {participant}.",
        "kk": "Сіз {auction} аукционына {participant} қатысушы ретінде жіберілдіңіз.",
    },
    "notice.auction_refused": {
        "en": "Participant {participant} is not admitted to auction {auction}; the reasons are in the auction's page.",
        "ru": "Участник {participant} не допущен к аукциону {auction}; причины указаны на странице аукциона.",
        "kk": "{participant} қатысушысы {auction} аукционына жіберілмеді; себептері аукцион бетінде.",
    },
    "notice.auction_opened": {
        "en": "Auction {auction} is open; you bid as participant {participant}.",
        "ru": "Аукцион {auction} открыт; вы участвуете как участник {participant}.",
        "kk": "{auction} аукционы ашылды; сіз {participant} қатысушы ретінде қатысасыз.",
    },
    "notice.auction_granted_single": {
        "en": "Auction {auction} is cancelled: you are its only participant and asked for it; the right is "
              "granted to you at the starting signature bonus of {bonus} KZT.",
        "ru": "Аукцион {auction} отменён: вы его единственный участник и инициатор; право предоставляется вам "
              "по стартовому подписному бонусу {bonus} тенге.",
        "kk": "{auction} аукционы тоқтатылды: сіз оның жалғыз қатысушысы және бастамашысысыз; құқық сізге "
              "{bonus} теңге бастапқы қол қою бонусы бойынша беріледі.",
    },
    "auctions.payments_confirmed": {
        "en": "Auction {auction}, payer {payer}: confirmed {confirmed}; participant status: {status}.",
        "ru": "Аукцион {auction}, плательщик {payer}: подтверждено {confirmed}; статус участника: {status}.",
        "kk": "{auction} аукционы, төлеуші {payer}: расталды {confirmed}; қатысушы мәртебесі: {status}.",
    },
    "auctions.parcel_taken": {
        "en": "The parcel cannot be put up for auction: it meets rights in force, applications being decided or "
              "lots being sold (see the errors).",
        "ru": "Участок нельзя выставить на аукцион: он пересекается с действующими правами, рассматриваемыми "
              "заявлениями или выставленными лотами (см. ошибки).",
        "kk": "Учаскені аукционға шығаруға болмайды: ол күшіндегі құқықтармен, қаралып жатқан өтініштермен немесе "
              "сатылып жатқан лоттармен қиылысады (қателерді қараңыз).",
    },
    "parcel.overlaps_auction": {
        "en": "The parcel overlaps lot {number}, which is put up for auction.",
        "ru": "Участок пересекает лот {number}, выставленный на аукцион.",
        "kk": "Учаске аукционға шығарылған {number} лотымен қиылысады.",
    },
})
# --- commissions: the roster and members' signed votes (cadastre/commission.py) ---
MESSAGES.update({
    "workbench.commission_votes": {
        "en": "Stage '{stage}' of application {number} is decided by the commission's vote: members vote, "
              "the chair closes the vote.",
        "ru": "Этап '{stage}' заявления {number} решается голосованием комиссии: члены голосуют, "
              "председатель закрывает голосование.",
        "kk": "{number} өтінішінің '{stage}' кезеңі комиссияның дауыс беруімен шешіледі: мүшелер дауыс береді, "
              "төраға дауыс беруді жабады.",
    },
    "commission.unknown": {
        "en": "There is no commission '{commission}'; the procedures name: {known}.",
        "ru": "Комиссии '{commission}' нет; в процедурах названы: {known}.",
        "kk": "'{commission}' комиссиясы жоқ; рәсімдерде аталғандары: {known}.",
    },
    "commission.bad_seat": {
        "en": "Unknown seat '{seat}'; known: {known}.",
        "ru": "Неизвестное место в комиссии '{seat}'; допустимо: {known}.",
        "kk": "Комиссиядағы белгісіз орын '{seat}'; рұқсат етілгені: {known}.",
    },
    "commission.seat_taken": {
        "en": "The seat '{seat}' of commission '{commission}' is held by IIN {iin}; remove them first.",
        "ru": "Место '{seat}' в комиссии '{commission}' занято ИИН {iin}; сначала исключите его.",
        "kk": "'{commission}' комиссиясындағы '{seat}' орнын ЖСН {iin} иеленген; алдымен оны шығарыңыз.",
    },
    "commission.bad_vote": {
        "en": "The vote is malformed at '{field}': send {{\"vote\": {{\"stage\", \"vote\": \"approve\" or "
              "\"refuse\", \"reason\"}}, \"signature\"}}.",
        "ru": "Голос составлен неверно в поле '{field}': отправьте {{\"vote\": {{\"stage\", \"vote\": \"approve\" "
              "или \"refuse\", \"reason\"}}, \"signature\"}}.",
        "kk": "Дауыс '{field}' өрісінде қате құрылған: {{\"vote\": {{\"stage\", \"vote\": \"approve\" немесе "
              "\"refuse\", \"reason\"}}, \"signature\"}} жіберіңіз.",
    },
    "commission.not_a_vote": {
        "en": "Stage '{stage}' is not decided by a commission's vote.",
        "ru": "Этап '{stage}' не решается голосованием комиссии.",
        "kk": "'{stage}' кезеңі комиссияның дауыс беруімен шешілмейді.",
    },
    "commission.not_a_member": {
        "en": "Only members of commission '{commission}' vote.",
        "ru": "Голосуют только члены комиссии '{commission}'.",
        "kk": "'{commission}' комиссиясының мүшелері ғана дауыс береді.",
    },
    "commission.already_voted": {
        "en": "You have already voted at stage '{stage}' of application {number}; each member votes once.",
        "ru": "Вы уже голосовали на этапе '{stage}' заявления {number}; каждый член голосует один раз.",
        "kk": "Сіз {number} өтінішінің '{stage}' кезеңінде дауыс бердіңіз; әр мүше бір рет дауыс береді.",
    },
    "commission.no_chair": {
        "en": "Commission '{commission}' has no chair: seat one before the vote is closed.",
        "ru": "У комиссии '{commission}' нет председателя: назначьте его до закрытия голосования.",
        "kk": "'{commission}' комиссиясының төрағасы жоқ: дауыс беру жабылғанға дейін тағайындаңыз.",
    },
    "commission.not_the_chair": {
        "en": "Only the chair or the deputy chair of commission '{commission}' closes the vote.",
        "ru": "Закрыть голосование может только председатель или заместитель председателя комиссии "
              "'{commission}'.",
        "kk": "Дауыс беруді '{commission}' комиссиясының төрағасы немесе төрағаның орынбасары ғана жабады.",
    },
    "commission.no_quorum": {
        "en": "No quorum: {present} of {members} members voted; at least half must take part. Nothing was "
              "decided.",
        "ru": "Нет кворума: проголосовали {present} из {members} членов; нужно участие не менее половины. "
              "Решение не принято.",
        "kk": "Кворум жоқ: {members} мүшенің {present}-і дауыс берді; кемінде жартысы қатысуы керек. Шешім "
              "қабылданған жоқ.",
    },
})

# --- the corner-point form of a parcel (cadastre/corners.py) ---
MESSAGES.update({
    "parcel.corners_form": {
        "en": "'{field}' must be a corner-point table as text, or {{\"table\": text}} or {{\"points\": "
              "[{{\"lat\", \"lon\"}}, ...]}}, with an optional \"crs\".",
        "ru": "'{field}' должен быть таблицей угловых точек в виде текста, либо {{\"table\": текст}} или "
              "{{\"points\": [{{\"lat\", \"lon\"}}, ...]}}, с необязательным \"crs\".",
        "kk": "'{field}' бұрыштық нүктелер кестесі мәтін түрінде, не {{\"table\": мәтін}} немесе "
              "{{\"points\": [{{\"lat\", \"lon\"}}, ...]}} болуы керек, \"crs\" міндетті емес.",
    },
    "parcel.corners_crs": {
        "en": "'{field}': the coordinate system {crs} is not accepted; accepted: {known}.",
        "ru": "'{field}': система координат {crs} не принимается; допустимы: {known}.",
        "kk": "'{field}': {crs} координаттар жүйесі қабылданбайды; рұқсат етілгені: {known}.",
    },
    "parcel.corners_empty": {
        "en": "'{field}' has no corner points.",
        "ru": "В '{field}' нет угловых точек.",
        "kk": "'{field}' ішінде бұрыштық нүктелер жоқ.",
    },
    "parcel.corners_too_many": {
        "en": "'{field}' has more than {limit} corner points.",
        "ru": "В '{field}' больше {limit} угловых точек.",
        "kk": "'{field}' ішінде {limit}-ден артық бұрыштық нүкте бар.",
    },
    "parcel.corners_columns": {
        "en": "'{field}': no latitude and longitude columns (such as Широта/Долгота, ендік/бойлық, lat/lon, "
              "x/y) among: {columns}.",
        "ru": "'{field}': нет столбцов широты и долготы (например Широта/Долгота, ендік/бойлық, lat/lon, x/y) "
              "среди: {columns}.",
        "kk": "'{field}': ендік пен бойлық бағандары (мысалы Широта/Долгота, ендік/бойлық, lat/lon, x/y) жоқ, "
              "бар бағандар: {columns}.",
    },
    "parcel.corners_bad_coordinate": {
        "en": "Line {line}, column '{column}': '{value}' is not a coordinate ('{field}').",
        "ru": "Строка {line}, столбец '{column}': '{value}' не является координатой ('{field}').",
        "kk": "{line}-жол, '{column}' бағаны: '{value}' координата емес ('{field}').",
    },
    "parcel.corners_dms_range": {
        "en": "Line {line}, column '{column}': '{value}' has minutes or seconds of 60 or more ('{field}').",
        "ru": "Строка {line}, столбец '{column}': в '{value}' минуты или секунды не меньше 60 ('{field}').",
        "kk": "{line}-жол, '{column}' бағаны: '{value}' ішінде минут не секунд 60-тан кем емес ('{field}').",
    },
    "parcel.corners_out_of_range": {
        "en": "Line {line}, column '{column}': '{value}' is beyond ±{limit}° ('{field}').",
        "ru": "Строка {line}, столбец '{column}': '{value}' выходит за ±{limit}° ('{field}').",
        "kk": "{line}-жол, '{column}' бағаны: '{value}' ±{limit}° шегінен шығады ('{field}').",
    },
    "parcel.corners_point_number": {
        "en": "Line {line}, column '{column}': '{value}' is not a point number ('{field}').",
        "ru": "Строка {line}, столбец '{column}': '{value}' не является номером точки ('{field}').",
        "kk": "{line}-жол, '{column}' бағаны: '{value}' нүкте нөмірі емес ('{field}').",
    },
    "parcel.corners_missing_plot": {
        "en": "Line {line}, column '{column}': the first row gives no plot number ('{field}').",
        "ru": "Строка {line}, столбец '{column}': в первой строке не указан номер участка ('{field}').",
        "kk": "{line}-жол, '{column}' бағаны: бірінші жолда учаске нөмірі жоқ ('{field}').",
    },
    "parcel.corners_point": {
        "en": "'{field}' must be an object with exactly the keys {keys}.",
        "ru": "'{field}' должен быть объектом ровно с ключами {keys}.",
        "kk": "'{field}' дәл {keys} кілттері бар нысан болуы керек.",
    },
    "parcel.corners_duplicate_number": {
        "en": "Plot {plot}: point {number} is given twice with different coordinates ('{field}').",
        "ru": "Участок {plot}: точка {number} указана дважды с разными координатами ('{field}').",
        "kk": "{plot} учаскесі: {number} нүктесі әртүрлі координаттармен екі рет берілген ('{field}').",
    },
    "parcel.corners_too_few": {
        "en": "Plot {plot} has {count} distinct corner points; a polygon needs at least 3 ('{field}').",
        "ru": "У участка {plot} {count} различных угловых точек; для полигона нужно не менее 3 ('{field}').",
        "kk": "{plot} учаскесінде {count} әртүрлі бұрыштық нүкте бар; көпбұрышқа кемінде 3 керек ('{field}').",
    },
    "parcel.corners_out_of_crs": {
        "en": "The corner points cannot be brought from {crs} to WGS 84 ('{field}'): are they in that system?",
        "ru": "Угловые точки нельзя перевести из {crs} в WGS 84 ('{field}'): они точно в этой системе?",
        "kk": "Бұрыштық нүктелерді {crs} жүйесінен WGS 84-ке келтіру мүмкін емес ('{field}'): олар сол "
              "жүйеде ме?",
    },
})
# --- auction protocols (cadastre/auction_protocol.py): the document, verification, notices ---
MESSAGES.update({
    "protocol.title": {
        "en": "Protocol of electronic auction {number}",
        "ru": "Протокол электронного аукциона {number}",
        "kk": "{number} электрондық аукционының хаттамасы",
    },
    "protocol.lot": {"en": "Plot", "ru": "Участок", "kk": "Учаске"},
    "protocol.number": {"en": "Auction number", "ru": "Номер аукциона", "kk": "Аукцион нөмірі"},
    "protocol.blocks": {"en": "Blocks", "ru": "Блоки", "kk": "Блоктар"},
    "protocol.starting_bonus": {
        "en": "Starting signature bonus, KZT", "ru": "Стартовый подписной бонус, тенге",
        "kk": "Бастапқы қол қою бонусы, теңге",
    },
    "protocol.step": {"en": "Bid step, KZT", "ru": "Шаг аукциона, тенге", "kk": "Аукцион қадамы, теңге"},
    "protocol.outcome": {"en": "Outcome", "ru": "Итог", "kk": "Нәтиже"},
    "protocol.outcome_closed": {"en": "held", "ru": "состоялся", "kk": "өтті"},
    "protocol.outcome_cancelled": {"en": "cancelled", "ru": "отменён", "kk": "күші жойылды"},
    "protocol.outcome_failed": {"en": "failed", "ru": "не состоялся", "kk": "өтпеді"},
    "protocol.opened_at": {"en": "Opened (UTC)", "ru": "Открыт (UTC)", "kk": "Ашылды (UTC)"},
    "protocol.closed_at": {"en": "Closed (UTC)", "ru": "Закрыт (UTC)", "kk": "Жабылды (UTC)"},
    "protocol.participants": {"en": "Participants admitted", "ru": "Допущено участников",
                              "kk": "Жіберілген қатысушылар"},
    "protocol.winner": {"en": "Winner (participant number)", "ru": "Победитель (номер участника)",
                        "kk": "Жеңімпаз (қатысушы нөмірі)"},
    "protocol.final_bonus": {"en": "Final signature bonus, KZT", "ru": "Итоговый подписной бонус, тенге",
                             "kk": "Қорытынды қол қою бонусы, теңге"},
    "protocol.rejected": {"en": "Rejected bid attempts", "ru": "Отклонённых попыток ставок",
                          "kk": "Қабылданбаған ұсыныс әрекеттері"},
    "protocol.last_seq": {"en": "Last journal entry", "ru": "Последняя запись журнала",
                          "kk": "Журналдың соңғы жазбасы"},
    "protocol.last_hash": {"en": "Journal hash (SHA-256)", "ru": "Хеш журнала (SHA-256)",
                           "kk": "Журнал хэші (SHA-256)"},
    "protocol.sha256": {"en": "Protocol hash (SHA-256)", "ru": "Хеш протокола (SHA-256)",
                        "kk": "Хаттама хэші (SHA-256)"},
    "protocol.bids": {"en": "Accepted bids", "ru": "Принятые ставки", "kk": "Қабылданған ұсыныстар"},
    "protocol.withdrawn": {"en": "Withdrawn bids", "ru": "Отозванные ставки", "kk": "Кері қайтарылған ұсыныстар"},
    "protocol.changed": {"en": "Changed bids", "ru": "Изменённые ставки", "kk": "Өзгертілген ұсыныстар"},
    "protocol.extensions": {"en": "Extensions", "ru": "Продления", "kk": "Ұзартулар"},
    "protocol.seq": {"en": "No. in journal", "ru": "№ в журнале", "kk": "Журналдағы №"},
    "protocol.time": {"en": "Time (UTC)", "ru": "Время (UTC)", "kk": "Уақыт (UTC)"},
    "protocol.participant": {"en": "Participant", "ru": "Участник", "kk": "Қатысушы"},
    "protocol.amount": {"en": "Amount, KZT", "ru": "Сумма, тенге", "kk": "Сомасы, теңге"},
    "protocol.old_end": {"en": "End before", "ru": "Окончание до", "kk": "Бұрынғы аяқталуы"},
    "protocol.new_end": {"en": "New end", "ru": "Новое окончание", "kk": "Жаңа аяқталуы"},
    "protocol.signed_note": {
        "en": "Generated from the auction's event journal alone and signed by the operator's EDS (detached CMS "
              "over the protocol's canonical JSON, RFC 8785).",
        "ru": "Сформирован только по журналу событий аукциона и подписан ЭЦП оператора (открепленная CMS над "
              "каноническим JSON протокола, RFC 8785).",
        "kk": "Тек аукцион оқиғаларының журналы бойынша жасалды және оператордың ЭЦҚ-сымен қол қойылды "
              "(хаттаманың канондық JSON-ына ажыратылған CMS, RFC 8785).",
    },
    "protocol.deal_differs": {
        "en": "The concluded deal ({deal}) differs from the highest accepted bid ({bids}).",
        "ru": "Заключённая сделка ({deal}) расходится с наибольшей принятой ставкой ({bids}).",
        "kk": "Жасалған мәміле ({deal}) қабылданған ең жоғары ұсыныспен ({bids}) сәйкес келмейді.",
    },
    "protocol.no_deal": {
        "en": "The auction closed with bids ({bids}) but the journal has no concluded deal ({deal}).",
        "ru": "Аукцион закрыт со ставками ({bids}), но в журнале нет заключённой сделки ({deal}).",
        "kk": "Аукцион ұсыныстармен ({bids}) жабылды, бірақ журналда жасалған мәміле жоқ ({deal}).",
    },
    "protocol.missing": {
        "en": "Not in the journal: {what}.",
        "ru": "Нет в журнале: {what}.",
        "kk": "Журналда жоқ: {what}.",
    },
    "protocol.no_auction": {
        "en": "No auction {auction}.",
        "ru": "Аукцион {auction} не найден.",
        "kk": "{auction} аукционы табылмады.",
    },
    "protocol.not_final": {
        "en": "Auction {auction} is {state}: a protocol is made once it is closed.",
        "ru": "Аукцион {auction} в статусе {state}: протокол формируется после его закрытия.",
        "kk": "{auction} аукционы {state} күйінде: хаттама ол жабылғаннан кейін жасалады.",
    },
    "protocol.not_yet": {
        "en": "Auction {auction} has no protocol yet.",
        "ru": "У аукциона {auction} ещё нет протокола.",
        "kk": "{auction} аукционының әлі хаттамасы жоқ.",
    },
    "protocol.bad_format": {
        "en": "Unknown format {value}: json, html or pdf.",
        "ru": "Неизвестный формат {value}: json, html или pdf.",
        "kk": "Белгісіз пішім {value}: json, html немесе pdf.",
    },
    "protocol.missing_protocol": {
        "en": "The auction ({state}) has no stored protocol.",
        "ru": "У аукциона ({state}) нет сохранённого протокола.",
        "kk": "Аукционның ({state}) сақталған хаттамасы жоқ.",
    },
    "protocol.chain_broken": {
        "en": "The auction's journal is broken: {detail}.",
        "ru": "Журнал аукциона нарушен: {detail}.",
        "kk": "Аукцион журналы бұзылған: {detail}.",
    },
    "protocol.hash_differs": {
        "en": "The stored SHA-256 is not the hash of the stored protocol.",
        "ru": "Сохранённый SHA-256 не совпадает с хешем сохранённого протокола.",
        "kk": "Сақталған SHA-256 сақталған хаттаманың хэшімен сәйкес емес.",
    },
    "protocol.json_differs": {
        "en": "The protocol recomputed from the journal differs from the stored one (first in: {part}).",
        "ru": "Протокол, пересчитанный по журналу, отличается от сохранённого (впервые в: {part}).",
        "kk": "Журнал бойынша қайта есептелген хаттама сақталғанынан өзгеше (алғаш: {part}).",
    },
    "protocol.html_differs": {
        "en": "The stored document ({language}) is not the one the journal gives.",
        "ru": "Сохранённый документ ({language}) не соответствует журналу.",
        "kk": "Сақталған құжат ({language}) журналға сәйкес емес.",
    },
    "protocol.signature_invalid": {
        "en": "The operator's signature on the protocol does not verify (signer: {signer}).",
        "ru": "Подпись оператора под протоколом не проходит проверку (подписант: {signer}).",
        "kk": "Хаттамадағы оператор қолы тексеруден өтпейді (қол қоюшы: {signer}).",
    },
    "protocol.verified": {
        "en": "Auction {auction}: the protocol, its SHA-256 {sha256}, the operator's signature and the journal "
              "(last entry {last_seq}) agree.",
        "ru": "Аукцион {auction}: протокол, его SHA-256 {sha256}, подпись оператора и журнал (последняя запись "
              "{last_seq}) согласуются.",
        "kk": "{auction} аукционы: хаттама, оның SHA-256 {sha256}, оператор қолы және журнал (соңғы жазба "
              "{last_seq}) сәйкес келеді.",
    },
    "protocol.broken": {
        "en": "Auction {auction}: verification FAILED ({count} problems):",
        "ru": "Аукцион {auction}: проверка НЕ ПРОЙДЕНА (проблем: {count}):",
        "kk": "{auction} аукционы: тексеру ӨТПЕДІ (мәселелер: {count}):",
    },
    "notice.auction_won": {
        "en": "You (participant {participant}) won auction {auction} with a signature bonus of {bonus} KZT. "
              "Pay the bonus to continue the licence procedure.",
        "ru": "Вы (участник {participant}) победили в аукционе {auction} с подписным бонусом {bonus} тенге. "
              "Оплатите бонус, чтобы продолжить процедуру выдачи лицензии.",
        "kk": "Сіз ({participant} қатысушы) {auction} аукционында {bonus} теңге қол қою бонусымен жеңдіңіз. "
              "Лицензия беру рәсімін жалғастыру үшін бонусты төлеңіз.",
    },
    "notice.auction_lost": {
        "en": "Auction {auction} is over: participant {winner} won with {bonus} KZT (you were participant "
              "{participant}).",
        "ru": "Аукцион {auction} завершён: победил участник {winner} с бонусом {bonus} тенге (ваш номер "
              "{participant}).",
        "kk": "{auction} аукционы аяқталды: {winner} қатысушы {bonus} теңгемен жеңді (сіздің нөміріңіз "
              "{participant}).",
    },
    "notice.auction_no_winner": {
        "en": "Auction {auction} ended without a winner (you were participant {participant}).",
        "ru": "Аукцион {auction} завершён без победителя (ваш номер {participant}).",
        "kk": "{auction} аукционы жеңімпазсыз аяқталды (сіздің нөміріңіз {participant}).",
    },
    "notice.auction_unpaid": {
        "en": "The signature bonus of auction {auction} was not paid in time: participant {participant} is no "
              "longer the winner.",
        "ru": "Подписной бонус по аукциону {auction} не оплачен в срок: участник {participant} больше не "
              "является победителем.",
        "kk": "{auction} аукционы бойынша қол қою бонусы мерзімінде төленбеді: {participant} қатысушы енді "
              "жеңімпаз емес.",
    },
})
MESSAGES.update({
    "protocol.bad_lang": {
        "en": "The document exists in kk and ru, not {value}.",
        "ru": "Документ есть на kk и ru, но не на {value}.",
        "kk": "Құжат kk және ru тілдерінде бар, {value} тілінде жоқ.",
    },
})
# --- bids in the auction hall (cadastre/bidding.py, geoservice/api/auction_live.py) ---
MESSAGES.update({
    "bidding.malformed": {
        "en": "A bid is an object with exactly these fields: {expected}.",
        "ru": "Ставка — объект ровно с такими полями: {expected}.",
        "kk": "Ұсыныс дәл осы өрістері бар объект болуы керек: {expected}.",
    },
    "bidding.other_auction": {
        "en": "The bid names another auction; this hall is auction {auction}.",
        "ru": "Ставка указывает другой аукцион; это зал аукциона {auction}.",
        "kk": "Ұсыныста басқа аукцион көрсетілген; бұл {auction} аукционының залы.",
    },
    "bidding.bad_key": {
        "en": "The idempotency key must be a text of 1 to 100 characters.",
        "ru": "Ключ идемпотентности должен быть строкой от 1 до 100 символов.",
        "kk": "Идемпотенттік кілті 1-ден 100 таңбаға дейінгі мәтін болуы керек.",
    },
    "bidding.bad_amount": {
        "en": "The amount \"{amount}\" is not a decimal number of tenge written as text.",
        "ru": "Сумма «{amount}» не является десятичным числом тенге, записанным строкой.",
        "kk": "«{amount}» сомасы мәтінмен жазылған теңгенің ондық саны емес.",
    },
    "bidding.unknown_auction": {
        "en": "There is no auction {auction}.",
        "ru": "Аукциона {auction} нет.",
        "kk": "{auction} аукционы жоқ.",
    },
    "bidding.not_a_participant": {
        "en": "You are not registered for this auction; you may watch it but not bid.",
        "ru": "Вы не зарегистрированы на этот аукцион: наблюдать можно, делать ставки нельзя.",
        "kk": "Сіз бұл аукционға тіркелмегенсіз: бақылауға болады, ұсыныс беруге болмайды.",
    },
    "bidding.bad_signature": {
        "en": "The signature must be a detached CMS in base64.",
        "ru": "Подпись должна быть отсоединённой CMS в base64.",
        "kk": "Қолтаңба base64 түріндегі бөлек CMS болуы керек.",
    },
    "bidding.attached_other_content": {
        "en": "The signature carries other content than the bid.",
        "ru": "Подпись содержит иные данные, чем ставка.",
        "kk": "Қолтаңбада ұсыныстан басқа деректер бар.",
    },
    "bidding.not_admitted": {
        "en": "Your registration is not admitted to bidding (the fee, the deposit or the registers' check).",
        "ru": "Ваша регистрация не допущена к торгам (взнос, гарантийный взнос или проверка по реестрам).",
        "kk": "Тіркеуіңіз сауда-саттыққа жіберілмеген (жарна, кепілдік жарнасы немесе тізілімдер бойынша тексеру).",
    },
    "bidding.not_open": {
        "en": "Auction {number} is not open for bids (status: {status}).",
        "ru": "Аукцион {number} не принимает ставки (статус: {status}).",
        "kk": "{number} аукционы ұсыныстар қабылдамайды (мәртебесі: {status}).",
    },
    "bidding.ended": {
        "en": "The auction has ended: the bid came after its end by the server's clock.",
        "ru": "Аукцион завершён: ставка поступила после его окончания по часам сервера.",
        "kk": "Аукцион аяқталды: ұсыныс сервер сағаты бойынша аяқталғаннан кейін түсті.",
    },
    "bidding.amount_precision": {
        "en": "The amount {amount} has more than two decimal places.",
        "ru": "В сумме {amount} больше двух знаков после запятой.",
        "kk": "{amount} сомасында үтірден кейін екі таңбадан артық.",
    },
    "bidding.too_low": {
        "en": "The bid {amount} is below the minimum {minimum} (the current bonus plus one step, or the starting "
              "bonus).",
        "ru": "Ставка {amount} ниже минимальной {minimum} (текущий бонус плюс шаг или стартовый бонус).",
        "kk": "{amount} ұсынысы ең төменгі {minimum} сомасынан аз (ағымдағы бонус пен бір қадам немесе бастапқы "
              "бонус).",
    },
    "bidding.rejected": {
        "en": "The bid was rejected.",
        "ru": "Ставка отклонена.",
        "kk": "Ұсыныс қабылданбады.",
    },
    "bidding.not_json": {
        "en": "The message is not a JSON object.",
        "ru": "Сообщение не является объектом JSON.",
        "kk": "Хабарлама JSON объектісі емес.",
    },
    "bidding.unknown_type": {
        "en": "Unknown message type; the hall takes {known}.",
        "ru": "Неизвестный тип сообщения; зал принимает {known}.",
        "kk": "Хабарламаның белгісіз түрі; зал {known} қабылдайды.",
    },
    "bidding.bad_target": {
        "en": "A withdrawal or change names the journal number (seq) of your earlier bid.",
        "ru": "Отзыв или изменение указывает номер в журнале (seq) вашей прежней ставки.",
        "kk": "Қайтарып алу немесе өзгерту бұрынғы ұсынысыңыздың журналдағы нөмірін (seq) көрсетеді.",
    },
    "bidding.changes_off": {
        "en": "Bids cannot be withdrawn or changed in auction {number}.",
        "ru": "В аукционе {number} ставки нельзя отзывать или изменять.",
        "kk": "{number} аукционында ұсыныстарды қайтарып алуға немесе өзгертуге болмайды.",
    },
    "bidding.no_such_bid": {
        "en": "Journal entry {seq} is not a standing bid of yours.",
        "ru": "Запись журнала {seq} не является вашей действующей ставкой.",
        "kk": "Журналдың {seq} жазбасы сіздің күшіндегі ұсынысыңыз емес.",
    },
    "bidding.watch_only": {
        "en": "You are watching this auction; only admitted participants may bid.",
        "ru": "Вы наблюдаете за аукционом; ставки делают только допущенные участники.",
        "kk": "Сіз аукционды бақылап отырсыз; ұсынысты тек жіберілген қатысушылар береді.",
    },
})

# --- mail of notifications (cadastre/notifications.py: one mail in all three languages) ---
MESSAGES.update({
    "mail.notice_subject": {
        "en": "New notification in your subsoil cabinet",
        "ru": "Новое уведомление в кабинете недропользователя",
        "kk": "Жер қойнауын пайдаланушы кабинетіндегі жаңа хабарлама",
    },
    "mail.notice_footer": {
        "en": "This notification is also in your cabinet. Do not reply to this message.",
        "ru": "Это уведомление есть и в вашем кабинете. Не отвечайте на это письмо.",
        "kk": "Бұл хабарлама кабинетіңізде де бар. Бұл хатқа жауап бермеңіз.",
    },
})

# --- holders' reports of work and spend (cadastre/reports.py, issue 11) ---
MESSAGES.update({
    "reports.licence_not_found": {
        "en": "There is no licence {licence}.",
        "ru": "Лицензии {licence} нет.",
        "kk": "{licence} лицензиясы жоқ.",
    },
    "reports.not_holder": {
        "en": "Only the holder of licence {licence} may report on it; sign in as the holder (or for the holder's "
              "company).",
        "ru": "Отчитываться по лицензии {licence} может только её владелец; войдите как владелец (или от имени "
              "его организации).",
        "kk": "{licence} лицензиясы бойынша тек оның иесі есеп бере алады; иесі ретінде (немесе оның ұйымы "
              "атынан) кіріңіз.",
    },
    "reports.forbidden": {
        "en": "The reports on licence {licence} are for its holder and the officers of its authority.",
        "ru": "Отчёты по лицензии {licence} доступны её владельцу и сотрудникам уполномоченного органа.",
        "kk": "{licence} лицензиясы бойынша есептер оның иесіне және уәкілетті орган қызметкерлеріне ғана "
              "қолжетімді.",
    },
    "reports.already_filed": {
        "en": "A report on licence {licence} for {year} is already {state} ({number}).",
        "ru": "Отчёт по лицензии {licence} за {year} год уже имеет статус «{state}» ({number}).",
        "kk": "{licence} лицензиясы бойынша {year} жылғы есептің мәртебесі қазірдің өзінде «{state}» "
              "({number}).",
    },
    "reason.report_year": {
        "en": "The report's year must be a year from {first} to {last}.",
        "ru": "Год отчёта должен быть годом с {first} по {last}.",
        "kk": "Есеп жылы {first} мен {last} аралығындағы жыл болуы керек.",
    },
    "reason.report_spend": {
        "en": "The spend must be an amount in tenge, not negative, with at most two decimals.",
        "ru": "Затраты указываются суммой в тенге, не отрицательной, не более двух знаков после запятой.",
        "kk": "Шығындар теңгемен, теріс емес, үтірден кейін екі таңбадан аспайтын сомамен көрсетіледі.",
    },
    "reason.report_works": {
        "en": "The works must have a summary (up to {limit} characters) and, optionally, figures as numbers.",
        "ru": "В описании работ нужна сводка (до {limit} знаков) и, по желанию, показатели числами.",
        "kk": "Жұмыстарда қысқаша сипаттама ({limit} таңбаға дейін) және қаласаңыз, сандық көрсеткіштер болуы "
              "керек.",
    },
})

# --- the obligation checker (cadastre/checker.py): findings notified to holders and authorities ---
MESSAGES.update({
    "notice.obligation_due": {
        "en": "Licence {number}: obligation {obligation} is due on {due_on} ({days} days left).",
        "ru": "Лицензия {number}: срок обязательства {obligation} — {due_on} (осталось дней: {days}).",
        "kk": "{number} лицензиясы: {obligation} міндеттемесінің мерзімі — {due_on} (қалған күн: {days}).",
    },
    "notice.obligation_overdue": {
        "en": "Licence {number}: obligation {obligation} was due on {due_on} and is overdue ({days} days).",
        "ru": "Лицензия {number}: обязательство {obligation} не исполнено в срок {due_on} (просрочка, дней: {days}).",
        "kk": "{number} лицензиясы: {obligation} міндеттемесі {due_on} мерзімінде орындалмады "
              "(кешіктірілген күн: {days}).",
    },
    "notice.obligation_spend_below_minimum": {
        "en": "Licence {number}: the spend reported for {year} ({spend_kzt} KZT) is below the minimum "
              "of {minimum_kzt} KZT (report {report}).",
        "ru": "Лицензия {number}: заявленные за {year} год расходы ({spend_kzt} тенге) ниже минимума "
              "{minimum_kzt} тенге (отчёт {report}).",
        "kk": "{number} лицензиясы: {year} жылға көрсетілген шығыстар ({spend_kzt} теңге) ең төменгі "
              "{minimum_kzt} теңгеден аз (есеп {report}).",
    },
    "notice.obligation_report_outside_licence": {
        "en": "Licence {number}: the report for {year} names blocks outside the licence: {blocks} (report {report}).",
        "ru": "Лицензия {number}: в отчёте за {year} год указаны блоки вне лицензии: {blocks} (отчёт {report}).",
        "kk": "{number} лицензиясы: {year} жылғы есепте лицензиядан тыс блоктар көрсетілген: {blocks} "
              "(есеп {report}).",
    },
})

# --- obligation kinds by name (cadastre/obligations.toml kinds; {period}: the part of the key after ":") ---
MESSAGES.update({
    "obligation.minimum_spend": {
        "en": "minimum exploration spend, licence year {period}",
        "ru": "минимальные расходы на разведку, {period}-й год лицензии",
        "kk": "барлаудың ең төменгі шығыстары, лицензияның {period}-жылы",
    },
    "obligation.work_report": {
        "en": "annual work report for {period}",
        "ru": "ежегодный отчёт о работах за {period} год",
        "kk": "{period} жылғы жұмыстар туралы жылдық есеп",
    },
    "obligation.signature_bonus": {
        "en": "payment of the signature bonus",
        "ru": "уплата подписного бонуса",
        "kk": "қол қою бонусын төлеу",
    },
    "obligation.expiry": {
        "en": "end of the licence's term",
        "ru": "окончание срока лицензии",
        "kk": "лицензия мерзімінің аяқталуы",
    },
    "obligation.extension": {
        "en": "application for the extension of the licence",
        "ru": "заявление о продлении лицензии",
        "kk": "лицензияны ұзарту туралы өтініш",
    },
    "obligation.relinquishment": {
        "en": "relinquishment of part of the area",
        "ru": "возврат части территории",
        "kk": "аумақтың бір бөлігін қайтару",
    },
    "obligation.rent": {
        "en": "rent and fees for {period}",
        "ru": "арендные платежи и сборы за {period} год",
        "kk": "{period} жылғы жалдау төлемдері мен алымдар",
    },
})

# Analytics for the authorities (issue 11, cadastre/analytics.py): charts, columns, value names.
MESSAGES.update({
    "analytics.none": {
        "en": "(not set)",
        "ru": "(не указано)",
        "kk": "(көрсетілмеген)",
    },
    "analytics.no_region": {
        "en": "Outside the regions",
        "ru": "Вне областей",
        "kk": "Облыстардан тыс",
    },
    "analytics.status.active": {
        "en": "Active",
        "ru": "Действует",
        "kk": "Қолданыста",
    },
    "analytics.status.suspended": {
        "en": "Suspended",
        "ru": "Приостановлена",
        "kk": "Тоқтатыла тұрған",
    },
    "analytics.status.terminated": {
        "en": "Terminated",
        "ru": "Прекращена",
        "kk": "Тоқтатылған",
    },
    "analytics.status.expired": {
        "en": "Expired",
        "ru": "Истекла",
        "kk": "Мерзімі өткен",
    },
    "analytics.obligation.minimum_spend": {
        "en": "Minimum annual exploration spend",
        "ru": "Минимальные расходы на разведку",
        "kk": "Барлаудың ең төменгі шығыстары",
    },
    "analytics.obligation.work_report": {
        "en": "Annual work report",
        "ru": "Ежегодный отчёт о работах",
        "kk": "Жұмыстар туралы жылдық есеп",
    },
    "analytics.obligation.signature_bonus": {
        "en": "Signature bonus payment",
        "ru": "Уплата подписного бонуса",
        "kk": "Қол қою бонусын төлеу",
    },
    "analytics.obligation.expiry": {
        "en": "Licence expiry",
        "ru": "Истечение срока лицензии",
        "kk": "Лицензия мерзімінің аяқталуы",
    },
    "analytics.obligation.extension": {
        "en": "Extension",
        "ru": "Продление",
        "kk": "Ұзарту",
    },
    "analytics.obligation.relinquishment": {
        "en": "Relinquishment",
        "ru": "Возврат территории",
        "kk": "Аумақты қайтару",
    },
    "analytics.obligation.rent": {
        "en": "Rent and fees",
        "ru": "Арендные платежи и сборы",
        "kk": "Жалдау төлемі және алымдар",
    },
    "analytics.grain.month": {
        "en": "by month",
        "ru": "по месяцам",
        "kk": "ай бойынша",
    },
    "analytics.grain.year": {
        "en": "by year",
        "ru": "по годам",
        "kk": "жыл бойынша",
    },
    "analytics.chart.licences_by_authority": {
        "en": "Licences by competent authority",
        "ru": "Лицензии по уполномоченным органам",
        "kk": "Лицензиялар уәкілетті органдар бойынша",
    },
    "analytics.chart.licences_by_mineral": {
        "en": "Licences by mineral",
        "ru": "Лицензии по видам полезных ископаемых",
        "kk": "Лицензиялар пайдалы қазба түрлері бойынша",
    },
    "analytics.chart.licences_by_region": {
        "en": "Licences by region",
        "ru": "Лицензии по регионам",
        "kk": "Лицензиялар өңірлер бойынша",
    },
    "analytics.chart.licences_by_status": {
        "en": "Licences by status",
        "ru": "Лицензии по статусу",
        "kk": "Лицензиялар мәртебесі бойынша",
    },
    "analytics.chart.licences_by_year": {
        "en": "Licences by year of issue",
        "ru": "Лицензии по году выдачи",
        "kk": "Лицензиялар берілген жылы бойынша",
    },
    "analytics.chart.blocks_over_time": {
        "en": "Blocks under licence over time",
        "ru": "Блоки под лицензиями во времени",
        "kk": "Лицензиядағы блоктар уақыт бойынша",
    },
    "analytics.chart.applications": {
        "en": "Applications received and decided",
        "ru": "Заявления поступившие и рассмотренные",
        "kk": "Түскен және қаралған өтініштер",
    },
    "analytics.chart.stages_on_time": {
        "en": "Procedure stages finished within their deadline",
        "ru": "Этапы процедур, завершённые в срок",
        "kk": "Мерзімінде аяқталған рәсім кезеңдері",
    },
    "analytics.chart.obligations": {
        "en": "Open obligations and violations",
        "ru": "Открытые обязательства и нарушения",
        "kk": "Ашық міндеттемелер және бұзушылықтар",
    },
    "analytics.chart.auction_revenue": {
        "en": "Auction revenue (signature bonuses) by year",
        "ru": "Доходы от аукционов (подписные бонусы) по годам",
        "kk": "Аукциондардан түскен кіріс (қол қою бонустары) жылдар бойынша",
    },
    "analytics.range.issued": {
        "en": "The dates are the licences' issue dates.",
        "ru": "Даты — даты выдачи лицензий.",
        "kk": "Күндер — лицензиялардың берілген күндері.",
    },
    "analytics.range.periods": {
        "en": "The dates bound the periods shown.",
        "ru": "Даты ограничивают показанные периоды.",
        "kk": "Күндер көрсетілген кезеңдерді шектейді.",
    },
    "analytics.range.finished": {
        "en": "The dates are when the stages finished.",
        "ru": "Даты — даты завершения этапов.",
        "kk": "Күндер — кезеңдердің аяқталған күндері.",
    },
    "analytics.range.due": {
        "en": "The dates are the obligations' due dates.",
        "ru": "Даты — сроки исполнения обязательств.",
        "kk": "Күндер — міндеттемелердің орындалу мерзімдері.",
    },
    "analytics.range.closed": {
        "en": "The dates are when the auctions closed.",
        "ru": "Даты — даты завершения аукционов.",
        "kk": "Күндер — аукциондардың аяқталған күндері.",
    },
    "analytics.col.authority": {
        "en": "Authority",
        "ru": "Орган",
        "kk": "Орган",
    },
    "analytics.col.name": {
        "en": "Name",
        "ru": "Наименование",
        "kk": "Атауы",
    },
    "analytics.col.licences": {
        "en": "Licences",
        "ru": "Лицензии",
        "kk": "Лицензиялар",
    },
    "analytics.col.blocks": {
        "en": "Blocks",
        "ru": "Блоки",
        "kk": "Блоктар",
    },
    "analytics.col.mineral": {
        "en": "Mineral",
        "ru": "Полезное ископаемое",
        "kk": "Пайдалы қазба",
    },
    "analytics.col.region": {
        "en": "Region",
        "ru": "Регион",
        "kk": "Өңір",
    },
    "analytics.col.status": {
        "en": "Status",
        "ru": "Статус",
        "kk": "Мәртебесі",
    },
    "analytics.col.year": {
        "en": "Year",
        "ru": "Год",
        "kk": "Жыл",
    },
    "analytics.col.period": {
        "en": "Period",
        "ru": "Период",
        "kk": "Кезең",
    },
    "analytics.col.received": {
        "en": "Received",
        "ru": "Поступило",
        "kk": "Түсті",
    },
    "analytics.col.granted": {
        "en": "Granted",
        "ru": "Одобрено",
        "kk": "Мақұлданды",
    },
    "analytics.col.refused": {
        "en": "Refused",
        "ru": "Отказано",
        "kk": "Бас тартылды",
    },
    "analytics.col.stage": {
        "en": "Stage",
        "ru": "Этап",
        "kk": "Кезең",
    },
    "analytics.col.finished": {
        "en": "Finished",
        "ru": "Завершено",
        "kk": "Аяқталды",
    },
    "analytics.col.on_time": {
        "en": "Within the deadline",
        "ru": "В срок",
        "kk": "Мерзімінде",
    },
    "analytics.col.on_time_pct": {
        "en": "Within the deadline, %",
        "ru": "В срок, %",
        "kk": "Мерзімінде, %",
    },
    "analytics.col.overdue_now": {
        "en": "Overdue, not finished",
        "ru": "Просрочено, не завершено",
        "kk": "Мерзімі өтті, аяқталмаған",
    },
    "analytics.col.kind": {
        "en": "Obligation",
        "ru": "Обязательство",
        "kk": "Міндеттеме",
    },
    "analytics.col.open": {
        "en": "Open",
        "ru": "Открыто",
        "kk": "Ашық",
    },
    "analytics.col.overdue": {
        "en": "Violations (overdue)",
        "ru": "Нарушения (просрочено)",
        "kk": "Бұзушылықтар (мерзімі өткен)",
    },
    "analytics.col.auctions": {
        "en": "Auctions concluded",
        "ru": "Состоявшиеся аукционы",
        "kk": "Өткен аукциондар",
    },
    "analytics.col.bonus": {
        "en": "Signature bonuses, KZT",
        "ru": "Подписные бонусы, тенге",
        "kk": "Қол қою бонустары, теңге",
    },
    "analytics.col.paid": {
        "en": "Paid, KZT",
        "ru": "Оплачено, тенге",
        "kk": "Төленді, теңге",
    },
})

# --- officers' signed decisions on obligations (cadastre/obligation_decisions.py) ---
MESSAGES.update({
    "obligation_decisions.bad_decision": {
        "en": "The decision on the obligation is not valid: check the field \"{field}\".",
        "ru": "Решение по обязательству некорректно: проверьте поле «{field}».",
        "kk": "Міндеттеме бойынша шешім дұрыс емес: «{field}» өрісін тексеріңіз.",
    },
    "obligation_decisions.future_date": {
        "en": "A decision cannot take effect on {day}, after today ({today}).",
        "ru": "Решение не может вступать в силу {day}, позже сегодняшнего дня ({today}).",
        "kk": "Шешім бүгінгі күннен ({today}) кейін, {day} күні күшіне ене алмайды.",
    },
    "obligation_decisions.before_state": {
        "en": "The decision's date {day} is before the obligation's current state began ({since}).",
        "ru": "Дата решения {day} раньше начала текущего состояния обязательства ({since}).",
        "kk": "Шешім күні {day} міндеттеменің ағымдағы күйі басталған күннен ({since}) ерте.",
    },
    "obligation_decisions.not_your_authority": {
        "en": "Only an officer of the competent authority of licence {licence} may decide on its obligations.",
        "ru": "Решать по обязательствам лицензии {licence} может только сотрудник её уполномоченного органа.",
        "kk": "{licence} лицензиясының міндеттемелері бойынша тек оның уәкілетті органының қызметкері шеше алады.",
    },
    "obligation_decisions.not_found": {
        "en": "Licence {licence} has no open obligation {obligation}.",
        "ru": "У лицензии {licence} нет действующего обязательства {obligation}.",
        "kk": "{licence} лицензиясында {obligation} ашық міндеттемесі жоқ.",
    },
    "obligation_decisions.same_status": {
        "en": "Obligation {obligation} already has the status \"{state}\".",
        "ru": "Обязательство {obligation} уже имеет статус «{state}».",
        "kk": "{obligation} міндеттемесінің мәртебесі қазірдің өзінде «{state}».",
    },
    "obligation.status.met": {"en": "met", "ru": "исполнено", "kk": "орындалды"},
    "obligation.status.waived": {"en": "waived", "ru": "снято", "kk": "алынып тасталды"},
    "obligation.status.open": {"en": "open", "ru": "открыто", "kk": "ашық"},
    "obligation.status.overdue": {"en": "overdue", "ru": "просрочено", "kk": "мерзімі өтті"},
    "notice.obligation_decided": {
        "en": "Licence {number}: obligation \"{obligation}\" is now {status} ({basis}).",
        "ru": "Лицензия {number}: обязательство «{obligation}» теперь: {status} ({basis}).",
        "kk": "{number} лицензиясы: «{obligation}» міндеттемесі енді: {status} ({basis}).",
    },
})

# --- geological reports (cadastre/geo_reports.py, /api/geoinfo) ---
MESSAGES.update({
    "geoinfo.field_required": {
        "en": "The field '{field}' is required.",
        "ru": "Поле «{field}» обязательно.",
        "kk": "«{field}» өрісі міндетті.",
    },
    "geoinfo.bad_field": {
        "en": "The field '{field}' has a value that is not allowed (at most {limit}).",
        "ru": "Поле «{field}» содержит недопустимое значение (не более {limit}).",
        "kk": "«{field}» өрісінде рұқсат етілмеген мән бар (ең көбі {limit}).",
    },
    "geoinfo.bad_level": {
        "en": "Access level '{level}' is unknown; known: {known}.",
        "ru": "Уровень доступа «{level}» неизвестен; допустимы: {known}.",
        "kk": "«{level}» қолжетімділік деңгейі белгісіз; рұқсат етілгендері: {known}.",
    },
    "geoinfo.bad_mineral": {
        "en": "Mineral '{mineral}' is unknown; known: {known}.",
        "ru": "Полезное ископаемое «{mineral}» неизвестно; допустимы: {known}.",
        "kk": "«{mineral}» пайдалы қазбасы белгісіз; рұқсат етілгендері: {known}.",
    },
    "geoinfo.forbidden_write": {
        "en": "Authority '{authority}' may not add reports of geological studies.",
        "ru": "Орган «{authority}» не может добавлять отчёты о геологической изученности.",
        "kk": "«{authority}» органы геологиялық зерттеулер есептерін қоса алмайды.",
    },
    "geoinfo.unknown_study": {
        "en": "There is no geological study '{study}' in the layer's current version.",
        "ru": "В текущей версии слоя нет геологической работы «{study}».",
        "kk": "Қабаттың ағымдағы нұсқасында «{study}» геологиялық зерттеуі жоқ.",
    },
    "geoinfo.duplicate_inventory": {
        "en": "A report with inventory number '{inventory}' already exists.",
        "ru": "Отчёт с инвентарным номером «{inventory}» уже существует.",
        "kk": "«{inventory}» түгендеу нөмірлі есеп бұрыннан бар.",
    },
    "geoinfo.bad_bbox": {
        "en": "bbox must be four numbers west,south,east,north in degrees.",
        "ru": "bbox должен состоять из четырёх чисел: запад,юг,восток,север в градусах.",
        "kk": "bbox градуспен төрт саннан тұруы керек: батыс,оңтүстік,шығыс,солтүстік.",
    },
    "geoinfo.bad_point": {
        "en": "point must be two numbers lon,lat in degrees.",
        "ru": "point должен состоять из двух чисел: долгота,широта в градусах.",
        "kk": "point градуспен екі саннан тұруы керек: бойлық,ендік.",
    },
    "geoinfo.bad_blocks": {
        "en": "The block list cannot be read at '{token}' (position {position}).",
        "ru": "Список блоков не читается на «{token}» (позиция {position}).",
        "kk": "Блоктар тізімі «{token}» жерінде оқылмайды ({position}-позиция).",
    },
    "geoinfo.bad_parcel": {
        "en": "parcel must be a valid GeoJSON Polygon or MultiPolygon in lon/lat.",
        "ru": "parcel должен быть корректным GeoJSON Polygon или MultiPolygon в долготе/широте.",
        "kk": "parcel бойлық/ендіктегі дұрыс GeoJSON Polygon немесе MultiPolygon болуы керек.",
    },
    "geoinfo.query_too_long": {
        "en": "The search text is longer than {limit} characters.",
        "ru": "Текст поиска длиннее {limit} символов.",
        "kk": "Іздеу мәтіні {limit} таңбадан ұзын.",
    },
    "geoinfo.bad_paging": {
        "en": "limit must be 1 to {max} and offset 0 to {max_offset}.",
        "ru": "limit должен быть от 1 до {max}, offset — от 0 до {max_offset}.",
        "kk": "limit 1-ден {max}-ға дейін, offset 0-ден {max_offset}-ға дейін болуы керек.",
    },
    "geoinfo.not_found": {
        "en": "There is no report '{inventory}', or you may not see it.",
        "ru": "Отчёта «{inventory}» нет, или у вас нет доступа к нему.",
        "kk": "«{inventory}» есебі жоқ немесе оған қолжетімділігіңіз жоқ.",
    },
    "geoinfo.file_forbidden": {
        "en": "Report '{inventory}' is '{level}': its files are for authorities and for holders of a licence "
              "overlapping the study (confidential: the operator and the owning authority only).",
        "ru": "Отчёт «{inventory}» имеет уровень «{level}»: его файлы доступны органам и владельцам лицензий, "
              "пересекающих участок работ (конфиденциальные — только оператору и органу-владельцу).",
        "kk": "«{inventory}» есебінің деңгейі «{level}»: оның файлдары органдарға және зерттеу аумағымен "
              "қиылысатын лицензия ұстаушыларына ғана (құпия — тек операторға және иелік етуші органға).",
    },
    "geoinfo.file_not_found": {
        "en": "Report '{inventory}' has no file {id}.",
        "ru": "У отчёта «{inventory}» нет файла {id}.",
        "kk": "«{inventory}» есебінде {id} файлы жоқ.",
    },
})
# --- auction protocols as PDF (cadastre/auction_protocol.py render_pdf, verify) ---
MESSAGES.update({
    "protocol.pdf_verify": {
        "en": "To verify: geoservice auction verify {number}, or take GET /api/auctions/{number}/protocol and "
              "check the canonical JSON's SHA-256 (below) and the operator's detached CMS over it.",
        "ru": "Проверка: geoservice auction verify {number} или GET /api/auctions/{number}/protocol — сверьте "
              "SHA-256 канонического JSON (ниже) и открепленную CMS оператора над ним.",
        "kk": "Тексеру: geoservice auction verify {number} немесе GET /api/auctions/{number}/protocol — "
              "канондық JSON-ның SHA-256 (төменде) және оған оператордың ажыратылған CMS-ін салыстырыңыз.",
    },
    "protocol.pdf_differs": {
        "en": "The stored PDF document ({language}) is not the one made with the protocol.",
        "ru": "Сохранённый PDF-документ ({language}) не тот, что был сформирован с протоколом.",
        "kk": "Сақталған PDF құжаты ({language}) хаттамамен бірге жасалған құжат емес.",
    },
})
