'use client';

import { useT } from '../../lib/i18n.tsx';
import type { MessageKey } from '../../messages/index.ts';

/** The page's one h1, in its language. */
export function Heading({ messageKey }: { messageKey: MessageKey<'account'> }) {
  const t = useT('account');
  return <h1 className="text-2xl font-bold">{t(messageKey)}</h1>;
}
