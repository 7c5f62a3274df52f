import type { VerifiedKey } from '@keyward/core'

export {
  type ApiKeyAuthOptions,
  apiKeyAuth,
  type ExpressRejectionContext,
  type RequireScopesOptions,
  requireScopes,
} from './api-key-auth.ts'

declare global {
  namespace Express {
    interface Request {
      /** The API key `apiKeyAuth` verified for this request (absent when skipped or rejected). */
      apiKey?: VerifiedKey
    }
  }
}
