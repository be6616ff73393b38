import { describe, expect, it } from 'vitest';
import { codeRoles, mayRevoke } from './ranks';

describe("the antenna's tablets by rank", () => {
  it('offers a lead volunteers only, a coordinator leads too', () => {
    expect(codeRoles('lead')).toEqual(['volunteer']);
    expect(codeRoles('coordinator')).toEqual(['volunteer', 'lead']);
    expect(mayRevoke('lead', 'volunteer')).toBe(true);
    expect(mayRevoke('lead', 'lead')).toBe(false);
    expect(mayRevoke('lead', 'coordinator')).toBe(false);
    expect(mayRevoke('coordinator', 'lead')).toBe(true);
    expect(mayRevoke('volunteer', 'volunteer')).toBe(false);
  });
});
