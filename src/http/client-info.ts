import type { FastifyRequest } from 'fastify';

/** What a session records of the client: its user agent (bounded) and address. */
export function clientInfo(request: FastifyRequest): { userAgent: string | null; ip: string } {
  const agent = request.headers['user-agent'];
  return { userAgent: typeof agent === 'string' ? agent.slice(0, 256) : null, ip: request.ip };
}
