import type { VerifiedKey } from '@keyward/core'

export {
  type ApiKeyAuthOptions,
  apiKeyAuth,
  type KeywardEnv,
  nodeClientAddress,
  type RequireScopesOptions,
  requireScopes,
  type Variables,
} from './api-key-auth.ts'

declare module 'hono' {
  interface ContextVariableMap {
    /** The API key `apiKeyAuth` verified (undefined on routes it does not guard or skipped). */
    apiKey: VerifiedKey | undefined
  }
}
