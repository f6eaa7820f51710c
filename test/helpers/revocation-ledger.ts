/**
 * What a multi-node near-cache test knows about the revocations and user changes it made, and
 * the rule it checks every answer against: once a revoking call has returned AND a node's feed
 * has delivered the record it made, that node must never answer 200 for the session (nor serve
 * the user as they were before the change). Decided when the request starts, so that no
 * duration is ever asserted.
 */

import type { RevocationRecord } from '../../src/records.js';
import type { CacheNode } from './cache-nodes.js';

/** What the test expects of a user once a change's record is delivered. */
interface UserExpectation {
  seq: number;
  roles?: string[];
  emailVerified?: boolean;
  disabled?: boolean;
}

/** What a request must answer, decided when it starts. */
export interface Expectation {
  /** The session is revoked (or its user disabled) and the node knows it: anything but 200. */
  refuse: boolean;
  /** The roles a 200 must show, when a role change is known to the node. */
  roles?: string[];
  /** Whether a 200 must show the email verified, when known to the node. */
  emailVerified?: boolean;
}

export interface RevocationLedger {
  /** Records what `call` made on `node`, once it has returned (acknowledged). */
  acknowledge<T>(node: CacheNode, call: () => Promise<T>): Promise<T>;
  expectRoles(userId: string, roles: string[]): void;
  expectVerified(userId: string): void;
  expectDisabled(userId: string): void;
  /**
   * What a request of `sessionId` (user `userId`) on `node`, starting now, must answer: what the
   * records the node's feed delivered say, or, with `bypassed` (the node's cache is not live as
   * the request starts, so whatever it answers comes from a store read made after this moment),
   * what every acknowledged call says.
   */
  expectation(node: CacheNode, sessionId: string, userId: string, bypassed?: boolean): Expectation;
  /** Seqs acknowledged so far. */
  acknowledged(): number[];
  /** The last user record a call made (`kind: 'user'`), for the expectations above. */
  lastUserRecord(): RevocationRecord | undefined;
}

/** Creates an empty ledger. */
export function createRevocationLedger(): RevocationLedger {
  const sessions = new Map<string, number>();
  const users = new Map<string, UserExpectation[]>();
  const seqs: number[] = [];
  let lastUser: RevocationRecord | undefined;

  function expectUser(userId: string, expectation: Omit<UserExpectation, 'seq'>): void {
    if (lastUser === undefined || lastUser.subject !== userId) {
      throw new Error('expect a user change right after the call that made it');
    }
    const list = users.get(userId) ?? [];
    list.push({ seq: lastUser.seq, ...expectation });
    users.set(userId, list);
  }

  return {
    async acknowledge(node, call) {
      const from = node.recorded.length;
      const result = await call();
      lastUser = undefined;
      for (const record of node.recorded.slice(from)) {
        seqs.push(record.seq);
        if (record.kind === 'session') sessions.set(record.subject, record.seq);
        if (record.kind === 'user') lastUser = record;
      }
      return result;
    },
    expectRoles: (userId, roles) => expectUser(userId, { roles }),
    expectVerified: (userId) => expectUser(userId, { emailVerified: true }),
    expectDisabled: (userId) => expectUser(userId, { disabled: true }),
    expectation(node, sessionId, userId, bypassed = false) {
      const known = (seq: number | undefined): boolean =>
        seq !== undefined && (bypassed || node.delivered.has(seq));
      const expectation: Expectation = { refuse: known(sessions.get(sessionId)) };
      for (const change of users.get(userId) ?? []) {
        if (!known(change.seq)) continue;
        if (change.disabled === true) expectation.refuse = true;
        if (change.roles !== undefined) expectation.roles = change.roles;
        if (change.emailVerified !== undefined) expectation.emailVerified = change.emailVerified;
      }
      return expectation;
    },
    acknowledged: () => [...seqs],
    lastUserRecord: () => lastUser,
  };
}
