import { describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));

import { invoke } from '@tauri-apps/api/core';
import { api, AppError, toAppError } from './api';
import { errorText } from './errors';
import { translate, type Key, type Params } from './i18n/translate';

const en = (key: Key, params?: Params) => translate('en', key, params);

describe('the bridge to Rust', () => {
  it('turns a command error into an AppError with its code', async () => {
    vi.mocked(invoke).mockRejectedValueOnce({ code: 'wrong_passphrase', message: 'wrong passphrase' });
    await expect(api.unlock('nope')).rejects.toEqual(new AppError('wrong_passphrase', 'wrong passphrase'));
  });

  it('names the arguments as the Rust commands expect them', async () => {
    const noOne = { men: 0, women: 0, children: 0, minors_alone: 0 };
    vi.mocked(invoke).mockResolvedValueOnce({});
    await api.logEntry('s1', 'Jo', { kind: 'distribution', item: 'blanket', quantity: 1, composition: noOne, place: 'gare' });
    expect(invoke).toHaveBeenLastCalledWith('log_entry', {
      shift: 's1',
      by: 'Jo',
      entry: { kind: 'distribution', item: 'blanket', quantity: 1, composition: noOne, place: 'gare' },
    });
  });

  it('sends enrolment and erasure arguments under the names Tauri maps to the commands', async () => {
    vi.mocked(invoke).mockResolvedValue({});
    await api.enrol('http://10.0.0.2:8470', true, 'K3MZ-Q7WA', 'Van 2');
    expect(invoke).toHaveBeenLastCalledWith('enrol', {
      server: 'http://10.0.0.2:8470',
      plainHttp: true,
      code: 'K3MZ-Q7WA',
      deviceName: 'Van 2',
    });
    await api.eraseCase('c1', 'Mira');
    expect(invoke).toHaveBeenLastCalledWith('erase_case', { case: 'c1', by: 'Mira' });
  });

  it('shows our own words for known errors, and the message for the others', () => {
    expect(errorText(new AppError('nothing_to_undo', 'x'), en)).toBe(
      'Nothing to undo: this tablet has logged nothing in this shift yet.',
    );
    expect(errorText('invalid args `by` for command `log_entry`: nickname is empty', en)).toBe(
      'It did not work: invalid args `by` for command `log_entry`: nickname is empty',
    );
    expect(toAppError(new Error('boom')).code).toBe('other');
  });
});
