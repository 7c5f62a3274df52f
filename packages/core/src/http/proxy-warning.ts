/**
 * A framework set to believe every proxy hop takes the client address from the leftmost
 * `X-Forwarded-For` entry — which the client writes itself. Counting failed attempts (or checking
 * `allowedNetworks`) by that address would let one client be a hundred. Adapters that detect such
 * a setting use the socket address instead and call `warnSpoofableClientAddress` once per process,
 * the way express-rate-limit reports `ERR_ERL_PERMISSIVE_TRUST_PROXY` (docs/architecture.md,
 * "Brute-force guard").
 */

export type ProxySetting = 'express' | 'koa'

const MESSAGES: Readonly<Record<ProxySetting, string>> = {
  express:
    "keyward: Express's `trust proxy` is `true`, so req.ip is the leftmost X-Forwarded-For entry, which any client can write. apiKeyAuth counts failed attempts and checks allowedNetworks by the socket address instead. Set `trust proxy` to the number of proxies in front of the app (e.g. `app.set('trust proxy', 1)`) or to their addresses.",
  koa: "keyward: Koa's `app.proxy` is true with `app.maxIpsCount` 0, so ctx.ip is the leftmost X-Forwarded-For entry, which any client can write. apiKeyAuth counts failed attempts and checks allowedNetworks by the socket address instead. Set `app.maxIpsCount` to the number of proxies in front of the app (e.g. 1).",
}

export const PERMISSIVE_PROXY_WARNING = 'KEYWARD_PERMISSIVE_TRUST_PROXY'

const warned = new Set<ProxySetting>()

/** Emits the process warning for `framework`'s permissive proxy setting, once per process. */
export function warnSpoofableClientAddress(framework: ProxySetting): void {
  if (warned.has(framework)) return
  warned.add(framework)
  process.emitWarning(MESSAGES[framework], { type: 'SecurityWarning', code: PERMISSIVE_PROXY_WARNING })
}
