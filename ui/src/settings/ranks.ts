// What this tablet's role may do with the antenna's tablets: the core's
// rules (maraude_core::access::check_may_enrol, check_may_revoke), so that
// only the buttons the server will honour are shown. The server still
// decides, and says why when it refuses (the last coordinator, say).

export type Role = 'volunteer' | 'lead' | 'coordinator';

/** The roles this tablet may make enrolment codes for. */
export function codeRoles(mine: Role): ('volunteer' | 'lead')[] {
  return mine === 'coordinator' ? ['volunteer', 'lead'] : ['volunteer'];
}

/** Whether this tablet may revoke a tablet of role `theirs`. */
export function mayRevoke(mine: Role, theirs: Role): boolean {
  return mine === 'coordinator' || (mine === 'lead' && theirs === 'volunteer');
}
