import { toAppError } from './api';
import type { Key } from './i18n/translate';
import type { Translate } from './format';

const KNOWN = new Set([
  'wrong_passphrase',
  'weak_passphrase',
  'guessable_passphrase',
  'no_store',
  'store_exists',
  'locked',
  'no_open_shift',
  'nothing_to_undo',
  'restart',
  'not_found',
  'shift_ended',
  'server_unreachable',
  'bad_code',
  'bad_name',
  'revoked',
  'sync_cut',
  'sync_stopped',
  'already_syncing',
  'not_enrolled',
  'not_a_lead',
  'not_allowed',
  'no_certificate',
  'teammate_unreachable',
  'not_a_teammate',
  'bad_teammate_address',
  'discovery',
  'bad_registration_token',
  'erase_not_confirmed',
  'rank_too_low',
  'last_coordinator',
  'too_many_attempts',
  'antenna_unavailable',
  'server_busy',
  'plain_http',
  'wrong_authority',
  'wrong_pin',
  'weak_pin',
  'pin_exhausted',
  'keystore_lost',
  'no_keystore',
  'no_pin',
  'not_enough_stock',
  'unknown_volunteer',
  'not_on_the_team',
  'reference_data',
  'outside_shift',
  'already_in_detail',
]);

/** What to show for a failed command: our own words for the cases we know,
 * the command's message (which says what to do) for the others. */
export function errorText(e: unknown, t: Translate): string {
  const error = toAppError(e);
  return KNOWN.has(error.code) ? t(`error.${error.code}` as Key) : t('error.other', { message: error.message });
}
