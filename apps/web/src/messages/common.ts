import { defineMessages } from './define.ts';

/** The frame of every page: header, language picker, footer. */
export const common = defineMessages({
  en: {
    appName: 'Nestor',
    tagline: 'Blur faces and licence plates in your photos',
    skipToContent: 'Skip to main content',
    language: 'Language',
    languageName: 'English',
    mainNav: 'Main',
    footer: 'Originals stay in memory and metadata is removed by default. Nothing of your images is logged.',
    loading: 'Loading…',
    retry: 'Try again',
    close: 'Close',
  },
  fr: {
    appName: 'Nestor',
    tagline: 'Floutez les visages et les plaques d’immatriculation de vos photos',
    skipToContent: 'Aller au contenu principal',
    language: 'Langue',
    languageName: 'Français',
    mainNav: 'Principal',
    footer:
      'Les originaux restent en mémoire et les métadonnées sont supprimées par défaut. Rien de vos images n’est journalisé.',
    loading: 'Chargement…',
    retry: 'Réessayer',
    close: 'Fermer',
  },
  de: {
    appName: 'Nestor',
    tagline: 'Gesichter und Kennzeichen in Ihren Fotos unkenntlich machen',
    skipToContent: 'Zum Hauptinhalt springen',
    language: 'Sprache',
    languageName: 'Deutsch',
    mainNav: 'Hauptnavigation',
    footer:
      'Originale bleiben im Arbeitsspeicher, Metadaten werden standardmäßig entfernt. Nichts von Ihren Bildern wird protokolliert.',
    loading: 'Wird geladen…',
    retry: 'Erneut versuchen',
    close: 'Schließen',
  },
  it: {
    appName: 'Nestor',
    tagline: 'Sfoca volti e targhe nelle tue foto',
    skipToContent: 'Vai al contenuto principale',
    language: 'Lingua',
    languageName: 'Italiano',
    mainNav: 'Principale',
    footer:
      'Gli originali restano in memoria e i metadati vengono rimossi per impostazione predefinita. Nulla delle tue immagini viene registrato.',
    loading: 'Caricamento…',
    retry: 'Riprova',
    close: 'Chiudi',
  },
});
