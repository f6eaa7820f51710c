/**
 * Nodes with the near session cache on one shared store, for the multi-node cache tests: each
 * node is a full core and HTTP server in this process with its own store connection, its own
 * feed on the real channel (`openSessionCacheFeed`: Redis pub/sub or Postgres LISTEN) and its
 * own publisher, exactly as `latchkey serve` wires them. The feed is observed: the test sees
 * which revocation seqs each node's feed has delivered (after the cache applied them) and each
 * state it reported, so that it can state its rule as "once the node's feed delivered that
 * record", never as a duration.
 */

import { openSessionCacheFeed } from '../../src/app/channels.js';
import type { ManualClock } from '../../src/clock.js';
import type { LatchkeyConfig } from '../../src/config/config.js';
import { defaultConfig } from '../../src/config/config.js';
import type { RevocationRecord } from '../../src/records.js';
import { attachRevocationPublisher, type RevocationPublisher } from '../../src/revocation/publishers.js';
import type { Store } from '../../src/store.js';
import { createPostgresRevocationPublisher } from '../../src/stores/postgres/publisher.js';
import { createRedisRevocationPublisher } from '../../src/stores/redis/publisher.js';
import type { RevocationFeed, RevocationFeedState } from '../../src/verify/feed.js';
import { createTestApp, type TestApp } from './app.js';

/** Store methods that read a session or a user: what the near cache saves. */
const READS = new Set(['getSession', 'getSessionWithUser', 'getUserById']);

/** A store whose session and user reads are counted. */
export function countReads(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || !READS.has(property) || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        reads++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: counted, reads: () => reads };
}

export interface CacheNode {
  name: string;
  node: TestApp;
  /** Session and user reads this node made from the store. */
  reads: () => number;
  /** Seqs this node's feed delivered, each after the node's cache applied it. */
  delivered: Set<number>;
  /** Every state the feed reported, in order. */
  states: RevocationFeedState['status'][];
  /** Called with each state before the node's cache sees it. */
  onState: ((state: RevocationFeedState) => void) | undefined;
  /** Records this node recorded itself (its revocations), in order. */
  recorded: RevocationRecord[];
  /**
   * Holds the feed's catch-up: its snapshot reads wait until the returned function is called
   * (a held read ends in the feed's timeout, and the feed tries again), so that a node whose
   * feed was cut stays subscribed-but-not-caught-up, i.e. not live, for as long as a test needs.
   */
  holdSnapshots(): () => void;
}

/** `store`, whose `listRevocations` (the feed's snapshot) waits while `held()` says so. */
function gatedSnapshots(store: Store, held: () => Promise<void> | null): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'listRevocations') return Reflect.get(target, property, receiver) as unknown;
      return async (...args: Parameters<Store['listRevocations']>) => {
        for (let gate = held(); gate !== null; gate = held()) await gate;
        return target.listRevocations(...args);
      };
    },
  });
}

/** Wraps a feed so that `observer` sees what it delivers and reports. */
function observe(feed: RevocationFeed, observer: CacheNode): RevocationFeed {
  return {
    start(apply, onState) {
      feed.start(
        (record) => {
          apply(record);
          observer.delivered.add(record.seq);
        },
        (state) => {
          observer.states.push(state.status);
          observer.onState?.(state);
          onState(state);
        },
      );
    },
    close: () => feed.close(),
  };
}

/** Where the nodes' channel runs: the store's own server, or one of the test's own. */
export interface ChannelSettings {
  transport: 'redis' | 'postgres';
  /** The channel's server: `REDIS_URL` or `DATABASE_URL` of the nodes' configuration. */
  url: string;
  channel: string;
}

/**
 * Starts one node over `store` (a connection of its own) with the default near cache (`auto`,
 * unless `config` says otherwise), its feed and its publisher on `settings`.
 */
export async function startCacheNode(
  name: string,
  store: Store,
  clock: ManualClock,
  settings: ChannelSettings,
  publishers: RevocationPublisher[],
  config: Partial<LatchkeyConfig> = {},
): Promise<CacheNode> {
  const full = defaultConfig({
    redisURL: settings.transport === 'redis' ? settings.url : null,
    databaseURL: settings.transport === 'postgres' ? settings.url : null,
    ...config,
  });
  const counted = countReads(store);
  let gate: { promise: Promise<void>; open: () => void } | null = null;
  const feedStore = gatedSnapshots(counted.store, () => gate?.promise ?? null);
  const feed = await openSessionCacheFeed(full, feedStore, settings.channel);
  if (feed === undefined) throw new Error('the default configuration opened no feed on a shared store');
  const observer: CacheNode = {
    name,
    node: undefined as unknown as TestApp,
    reads: counted.reads,
    delivered: new Set(),
    states: [],
    onState: undefined,
    recorded: [],
    holdSnapshots() {
      let open = (): void => undefined;
      const promise = new Promise<void>((resolve) => (open = resolve));
      const current = { promise, open };
      gate = current;
      return () => {
        if (gate === current) gate = null;
        current.open();
      };
    },
  };
  observer.node = await createTestApp({
    store: counted.store,
    clock,
    config: { logLevel: 'warn', ...config },
    sessionCacheFeed: observe(feed, observer),
  });
  observer.node.latchkey.revocations.onRevocation((record) => observer.recorded.push(record));
  const publisher =
    settings.transport === 'redis'
      ? createRedisRevocationPublisher({ url: settings.url, channel: settings.channel })
      : createPostgresRevocationPublisher({ url: settings.url, channel: settings.channel });
  attachRevocationPublisher(observer.node.latchkey, publisher);
  publishers.push(publisher);
  return observer;
}

/** Resolves once `condition()` is true; fails after `ms` (a hang guard, not a measure). */
export async function waitUntil(condition: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
