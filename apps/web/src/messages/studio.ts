import { defineMessages } from './define.ts';

/** The main page: upload, options, results, review, engines. */
export const studio = defineMessages({
  en: { title: 'Anonymize photos' },
  fr: { title: 'Anonymiser des photos' },
  de: { title: 'Fotos anonymisieren' },
  it: { title: 'Anonimizza foto' },
});
