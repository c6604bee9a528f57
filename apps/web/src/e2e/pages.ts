/**
 * Every page of the app, as the path after `/<locale>/`. The axe test of studio.test.ts opens
 * each in every locale (local mode, no account): add a page here when you add one.
 */
export const PAGES = [
  '',
  'video/',
  'login/',
  'register/',
  'credentials/',
  'account/',
  'users/',
  'audit/',
  'dashboard/',
] as const;
