/**
 * What a `REDIS_URL` may say: a standalone Redis (`redis://`, `rediss://`, as ioredis reads them)
 * or a Redis Cluster named by some of its nodes (`redis+cluster://host:port,host:port`,
 * `rediss+cluster://` with TLS). Pure: the server's configuration, the Redis store and the SDK's
 * pub/sub feed all read it, and none of them may reach another's folder.
 */

/** The node a Cluster client starts from (it learns the others from `CLUSTER SLOTS`). */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** A parsed `redis+cluster://` or `rediss+cluster://` URL. */
export interface RedisClusterURL {
  /** `rediss+cluster://`: TLS to every node. */
  tls: boolean;
  /** The startup nodes, in the order given. */
  nodes: RedisNodeAddress[];
  /** From `user:password@`, percent-decoded; undefined when absent. */
  username: string | undefined;
  password: string | undefined;
}

const STANDALONE = /^rediss?:\/\//i;
const CLUSTER = /^(rediss?)\+cluster:\/\//i;
/** `host`, `host:port`, `[v6]` or `[v6]:port`. */
const NODE = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+))(?::(\d{1,5}))?$/;

/** Every scheme a `REDIS_URL` may start with, for error messages. */
export const REDIS_URL_SCHEMES = 'redis://, rediss://, redis+cluster:// or rediss+cluster://';

/**
 * Whether `text` starts with one of the schemes of {@link REDIS_URL_SCHEMES}.
 *
 * @example
 * isRedisURL('redis+cluster://10.0.0.1:7000'); // true
 */
export function isRedisURL(text: string): boolean {
  return STANDALONE.test(text) || CLUSTER.test(text);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new TypeError('the user or password of the Redis Cluster URL is not valid percent-encoding');
  }
}

/**
 * Parses a Cluster URL: `redis+cluster://[user[:password]@]host[:port][,host[:port]...][/]`
 * (port 6379 when absent; IPv6 in brackets). Null for any other URL (a standalone one); a
 * `TypeError` that never repeats the URL (it may hold a password) when it is a Cluster URL
 * written wrong. A Cluster has one database: a path other than `/` or `/0`, or a query, is
 * refused.
 *
 * @example
 * parseRedisClusterURL('redis+cluster://:s3cret@10.0.0.1:7000,10.0.0.2:7000');
 * // { tls: false, nodes: [{ host: '10.0.0.1', port: 7000 }, ...], username: undefined, password: 's3cret' }
 */
export function parseRedisClusterURL(text: string): RedisClusterURL | null {
  const scheme = CLUSTER.exec(text);
  if (scheme === null) return null;
  let rest = text.slice(scheme[0].length);
  const query = rest.search(/[?#]/);
  if (query >= 0) throw new TypeError('a Redis Cluster URL takes no query string or fragment');
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    if (!/^\/0?$/.test(rest.slice(slash))) throw new TypeError('a Redis Cluster has only database 0');
    rest = rest.slice(0, slash);
  }
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    username = user === '' ? undefined : decode(user);
    password = colon >= 0 ? decode(userinfo.slice(colon + 1)) : undefined;
  }
  const nodes = rest.split(',').map((item): RedisNodeAddress => {
    const match = NODE.exec(item);
    const port = Number(match?.[3] ?? '6379');
    if (match === null || port < 1 || port > 65_535) {
      throw new TypeError('a Redis Cluster URL lists nodes as host:port, separated by commas');
    }
    return { host: match[1] ?? match[2] ?? '', port };
  });
  return { tls: scheme[1]?.toLowerCase() === 'rediss', nodes, username, password };
}
