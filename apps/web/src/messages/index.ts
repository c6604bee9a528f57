import { account } from './account.ts';
import { common } from './common.ts';
import { dashboard } from './dashboard.ts';
import { errors } from './errors.ts';
import { studio } from './studio.ts';
import { video } from './video.ts';

/**
 * Every area of messages. To add one: create `./<area>.ts` exporting `defineMessages({ en, fr, de, it })`
 * and list it here.
 */
export const MESSAGES = { account, common, dashboard, errors, studio, video } as const;

export type Area = keyof typeof MESSAGES;
export type MessageKey<A extends Area> = keyof (typeof MESSAGES)[A]['en'] & string;
