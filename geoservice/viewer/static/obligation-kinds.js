// Obligation kinds of cadastre/obligations.toml in kk/ru/en: the licence panel on the map
// (licence-view.js) and the cabinet's obligations section (cabinet-obligations.js) name them alike.
export const KINDS = {
  kk: { minimum_spend: 'Барлаудың ең төменгі жылдық шығыстары', work_report: 'Жылдық жұмыс есебі',
    signature_bonus: 'Қол қою бонусы', expiry: 'Лицензия мерзімінің аяқталуы', extension: 'Мерзімді ұзарту',
    relinquishment: 'Аумақтан бас тарту', rent: 'Жалдау ақысы не алымдар' },
  ru: { minimum_spend: 'Минимальные ежегодные расходы на разведку', work_report: 'Ежегодный отчёт о работах',
    signature_bonus: 'Подписной бонус', expiry: 'Истечение срока лицензии', extension: 'Продление срока',
    relinquishment: 'Возврат территории', rent: 'Арендные платежи или сборы' },
  en: { minimum_spend: 'Minimum annual exploration spend', work_report: 'Annual work report',
    signature_bonus: 'Signature bonus', expiry: 'Licence expiry', extension: 'Extension',
    relinquishment: 'Relinquishment', rent: 'Rent or fees' },
};
